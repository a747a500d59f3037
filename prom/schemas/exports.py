"""Query parameters of research exports and summaries, and the summary's JSON shape.

Repeatable parameters are given once per value: `?layout=wide&layout=summary&arm=icbt`.
"""

from __future__ import annotations

import marshmallow as ma

from prom.export.selection import DEFAULT_RULE, RULES
from prom.export.summary import variables as summary_variables
from prom.export.writers import FORMATS
from prom.schemas.fields import InputSchema
from prom.services.exports import DEFAULT_FORMAT, DEFAULT_LAYOUTS, LAYOUTS

_CODE = ma.validate.Length(min=1, max=64)
_MAX_VALUES = ma.validate.Length(max=50)


class _Selection(InputSchema):
    duplicates = ma.fields.String(
        load_default=DEFAULT_RULE, validate=ma.validate.OneOf(tuple(RULES)),
        metadata={"description": "How repeated responses at one timepoint are resolved: "
                  + "; ".join(f"`{k}`: {v}" for k, v in RULES.items())})
    arm = ma.fields.List(ma.fields.String(validate=_CODE), load_default=list,
                         validate=_MAX_VALUES,
                         metadata={"description": "Only these arms (repeat for several)"})
    comparator = ma.fields.String(
        load_default=None, validate=_CODE,
        metadata={"description": "Arm that the others are compared with; default an arm coded "
                                 "usual_care, else the last arm"})


class ExportArgsSchema(_Selection):
    layout = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(LAYOUTS)), load_default=lambda: list(
            DEFAULT_LAYOUTS), validate=ma.validate.Length(min=1, max=len(LAYOUTS)),
        metadata={"description": f"Datasets to include (repeat for several); default "
                                 f"{', '.join(DEFAULT_LAYOUTS)}"})
    format = ma.fields.String(load_default=DEFAULT_FORMAT,
                              validate=ma.validate.OneOf(tuple(FORMATS)),
                              metadata={"description": "File format of the datasets"})
    identified = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Include participant ids, dates, sites and free text (roles "
                                 "allowed by PROM_IDENTIFIED_EXPORT_ROLES only)"})
    instrument = ma.fields.List(ma.fields.String(validate=_CODE), load_default=list,
                                validate=_MAX_VALUES,
                                metadata={"description": "Only these instruments"})
    timepoint = ma.fields.List(ma.fields.String(validate=_CODE), load_default=list,
                               validate=_MAX_VALUES,
                               metadata={"description": "Only these timepoints"})


class SummaryArgsSchema(_Selection):
    pass


def _table(name: str) -> type[ma.Schema]:
    fields = {}
    for variable in summary_variables()[name]:
        kind = {"string": ma.fields.String, "integer": ma.fields.Integer,
                "number": ma.fields.Float}[variable.type]
        fields[variable.name] = kind(allow_none=True, metadata={"description": variable.label})
    return ma.Schema.from_dict(fields, name=f"{name.title().replace('_', '')}Row")


class SummarySchema(ma.Schema):
    study = ma.fields.Dict(metadata={"description": "id, code and name"})
    comparator = ma.fields.String(allow_none=True)
    duplicates = ma.fields.Dict(metadata={"description": "rule, description, dropped"})
    summary_arms = ma.fields.List(ma.fields.Nested(_table("summary_arms")))
    summary_comparisons = ma.fields.List(ma.fields.Nested(_table("summary_comparisons")))
    summary_adverse_events = ma.fields.List(ma.fields.Nested(_table("summary_adverse_events")))
