"""Schemas of the instrument endpoints: query arguments and the localised definitions served."""

import marshmallow as ma

from prom.schemas.fields import InputSchema

LANGUAGE = ma.validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z]{2})?$",
                              error="must be a language tag such as en or pt-BR")


class LanguageArgsSchema(InputSchema):
    class Meta:
        unknown = ma.RAISE

    lang = ma.fields.String(validate=LANGUAGE, metadata={
        "description": "language of the text; overrides Accept-Language; English when the "
                       "instrument has no text in it"})


class AnchorSchema(ma.Schema):
    value = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True)


class OptionSchema(ma.Schema):
    code = ma.fields.Raw(required=True, metadata={"description": "integer or text code"})
    label = ma.fields.String(required=True)


class ResponseFormatSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(
        ["integer", "single_choice", "multiple_choice", "boolean", "date", "text"]))
    min = ma.fields.Integer()
    max = ma.fields.Integer()
    widget = ma.fields.String(allow_none=True)
    anchors = ma.fields.List(ma.fields.Nested(AnchorSchema))
    options = ma.fields.List(ma.fields.Nested(OptionSchema))
    exclusive = ma.fields.List(ma.fields.Raw())
    labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(allow_none=True))
    max_length = ma.fields.Integer()


class ItemSchema(ma.Schema):
    id = ma.fields.String(required=True)
    label = ma.fields.String(required=True, metadata={
        "description": "short neutral label; show it when text is null"})
    text = ma.fields.String(allow_none=True, metadata={
        "description": "item wording, null where the licence keeps it out of prom"})
    required = ma.fields.Boolean(required=True)
    response = ma.fields.Nested(ResponseFormatSchema, required=True)
    show_if = ma.fields.Dict(allow_none=True, metadata={
        "description": "skip condition in the definition format; the item is shown only when true"})


class BandSchema(ma.Schema):
    code = ma.fields.String(required=True)
    min = ma.fields.Float(required=True)
    label = ma.fields.String(allow_none=True)


class McidSchema(ma.Schema):
    absolute = ma.fields.Float(allow_none=True)
    percent = ma.fields.Float(allow_none=True)
    source = ma.fields.String(required=True)


class ScaleSchema(ma.Schema):
    id = ma.fields.String(required=True)
    label = ma.fields.String(allow_none=True)
    description = ma.fields.String(allow_none=True)
    method = ma.fields.String(required=True)
    items = ma.fields.List(ma.fields.String(), required=True)
    range = ma.fields.List(ma.fields.Float(), required=True)
    higher_is = ma.fields.String(required=True)
    bands = ma.fields.List(ma.fields.Nested(BandSchema), required=True)
    mcid = ma.fields.Nested(McidSchema, allow_none=True)


class AlertRuleSchema(ma.Schema):
    id = ma.fields.String(required=True)
    severity = ma.fields.String(required=True)
    message = ma.fields.String(allow_none=True)
    when = ma.fields.Dict(required=True, allow_none=True, metadata={
        "description": "the condition on answers and scores; null for a worsening rule"})
    worsening = ma.fields.Dict(required=True, allow_none=True, metadata={
        "description": "{scale}: raised when the scale is worse than the participant's baseline "
                       "by at least its MCID; null for a condition rule"})


class RecallPeriodSchema(ma.Schema):
    days = ma.fields.Integer(allow_none=True)
    text = ma.fields.String(allow_none=True)


class LicenseSchema(ma.Schema):
    holder = ma.fields.String(required=True)
    terms = ma.fields.String(required=True)
    citation = ma.fields.String(required=True)
    url = ma.fields.String(allow_none=True)
    attribution = ma.fields.String(allow_none=True)


class InstrumentSummarySchema(ma.Schema):
    id = ma.fields.String(required=True)
    version = ma.fields.String(required=True, metadata={"description": "latest version"})
    versions = ma.fields.List(ma.fields.String(), required=True)
    title = ma.fields.String(required=True)
    domains = ma.fields.List(ma.fields.String(), required=True)
    languages = ma.fields.List(ma.fields.String(), required=True)
    text_included = ma.fields.Boolean(required=True)
    n_items = ma.fields.Integer(required=True)
    scales = ma.fields.List(ma.fields.String(), required=True)


class InstrumentListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InstrumentSummarySchema), required=True)


class InstrumentSchema(ma.Schema):
    id = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    language = ma.fields.String(required=True, metadata={"description": "language of the text"})
    languages = ma.fields.List(ma.fields.String(), required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    instructions = ma.fields.String(allow_none=True)
    domains = ma.fields.List(ma.fields.String(), required=True)
    recall_period = ma.fields.Nested(RecallPeriodSchema, required=True)
    license = ma.fields.Nested(LicenseSchema, required=True)
    text_source = ma.fields.String(required=True, metadata={
        "description": "bundled (shipped with prom), overlay (supplied by this site) or none"})
    items = ma.fields.List(ma.fields.Nested(ItemSchema), required=True)
    scales = ma.fields.List(ma.fields.Nested(ScaleSchema), required=True)
    alerts = ma.fields.List(ma.fields.Nested(AlertRuleSchema), required=True)
