"""Schema of the health check's answer."""

import marshmallow as ma


class HealthSchema(ma.Schema):
    status = ma.fields.String(
        required=True, metadata={"description": "ok when the service can serve requests"}
    )
    database = ma.fields.String(required=True, metadata={"description": "ok when SELECT 1 works"})
