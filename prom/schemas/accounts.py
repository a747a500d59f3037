"""Schemas of sites, users and the caller's own account (`/me`)."""

import marshmallow as ma

from prom.models.accounts import STAFF_ROLES
from prom.schemas.auth import PASSWORD
from prom.schemas.fields import InputSchema


class SiteSchema(InputSchema):
    id = ma.fields.UUID(dump_only=True)
    code = ma.fields.String(required=True, validate=[
        ma.validate.Length(min=1, max=64),
        ma.validate.Regexp(r"^[A-Za-z0-9_.-]+$", error="letters, digits, '.', '_' or '-'")])
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class SiteListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SiteSchema), required=True)


class UserCreateSchema(InputSchema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    password = ma.fields.String(required=True, validate=PASSWORD, load_only=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(STAFF_ROLES))
    site_ids = ma.fields.List(ma.fields.UUID(), load_default=list,
                              validate=ma.validate.Length(max=1000))


class UserSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    role = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    username = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean(required=True)
    site_ids = ma.fields.List(ma.fields.UUID(), required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class UserListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(UserSchema), required=True)


class MeSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    role = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    username = ma.fields.String(allow_none=True)
    site_ids = ma.fields.List(ma.fields.UUID(), required=True)
