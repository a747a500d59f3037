"""Schemas of the sign-in endpoints."""

import marshmallow as ma

from prom.schemas.fields import InputSchema
from prom.services.passwords import MAX_LENGTH, MIN_LENGTH

PASSWORD = ma.validate.Length(min=MIN_LENGTH, max=MAX_LENGTH)


class LoginSchema(ma.Schema):
    """Staff sign in with `email`, participants with `username`: exactly one of them."""
    # Not an InputSchema: a name or password no database can store matches no account, and is
    # answered like any failed sign-in (401), so a sign-in form learns nothing more from it.

    email = ma.fields.String(validate=ma.validate.Length(min=1, max=254))
    username = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_LENGTH),
                                load_only=True)

    @ma.validates_schema
    def one_identifier(self, data: dict, **_: object) -> None:
        given = [field for field in ("email", "username") if field in data]
        if len(given) != 1:
            raise ma.ValidationError("give exactly one of email (staff) or username "
                                     "(participants)", field_name=given[-1] if given else "email")


class ActivateSchema(InputSchema):
    activation_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, validate=PASSWORD, load_only=True, metadata={
        "description": f"at least {MIN_LENGTH} characters"})


class TokensSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True, metadata={
        "description": "send as Authorization: Bearer to /auth/refresh; single use"})
    token_type = ma.fields.String(required=True, metadata={"description": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={
        "description": "seconds until the access token expires"})


class ActivatedSchema(TokensSchema):
    username = ma.fields.String(required=True, metadata={
        "description": "the participant's sign-in name from now on"})
