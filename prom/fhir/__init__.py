"""HL7 FHIR views of prom's data: pure mappings, no Flask, no SQL.

- `questionnaire`: an instrument definition → ``Questionnaire``;
- `response`: a stored response → ``QuestionnaireResponse``, and a ``QuestionnaireResponse`` →
  the native submission body of ``POST /responses``, with errors keyed by FHIR path;
- `observation`: a response's scores → ``Observation`` resources derived from its QR, standing
  alone or contained in it;
- `bundle`: a participant's QRs and Observations → a ``searchset`` ``Bundle``.

Every resource is written with FHIR R4 (4.0.1) semantics. The tests validate them with the
``fhir.resources.R4B`` models: R4B differs from R4 only in resources prom does not produce
(medication definitions, subscriptions, citations, evidence), and the elements of Questionnaire,
QuestionnaireResponse, Observation and Bundle are the same in both.

Two kinds of URL appear in the resources:

- *canonical* URLs of prom's own content (``Questionnaire.url``, the CodeSystems of answer and
  score codes) are under a per-deployment ``base`` (``FHIR_BASE_URL``, by default the API's own
  ``…/api/v1/fhir`` root): the instruments a site serves (with its overlays) are its content;
- the URLs of prom's *extensions* (`PROM_EXTENSION`) are fixed, the same for every deployment,
  so that a consumer recognises them whichever prom produced the resource.
"""

from __future__ import annotations

#: Root of prom's StructureDefinitions (extensions); fixed for every deployment.
PROM_STRUCTURE = "https://prom.dev/fhir/StructureDefinition/"

#: Extensions prom defines.
SCALE_EXTENSION = PROM_STRUCTURE + "scale"
DEFINITION_EXTENSION = PROM_STRUCTURE + "definition"
HIDDEN_VALUE_EXTENSION = PROM_STRUCTURE + "hidden-value"
TIMEPOINT_EXTENSION = PROM_STRUCTURE + "timepoint"
SCORE_STATUS_EXTENSION = PROM_STRUCTURE + "score-status"
ITEMS_ANSWERED_EXTENSION = PROM_STRUCTURE + "items-answered"

#: Core and SDC extensions.
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ENTRY_FORMAT = "http://hl7.org/fhir/StructureDefinition/entryFormat"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
SLIDER_STEP = "http://hl7.org/fhir/StructureDefinition/questionnaire-sliderStepValue"
ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression")

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def fhir_id(text: str) -> str:
    """`text` as a FHIR id (``[A-Za-z0-9\\-.]{1,64}``): prom's ids may hold underscores."""
    return text.replace("_", "-")[:64]


def questionnaire_url(base: str, instrument_id: str) -> str:
    return f"{base}/Questionnaire/{instrument_id}"


def answer_system(base: str, instrument_id: str, format_name: str) -> str:
    """The CodeSystem of one response format's option codes.

    Per format, not per instrument: the same code means different things in different formats
    of one instrument (PHQ-9's ``0`` is "Not at all" for items 1–9, "Not difficult at all" for
    item 10), and a CodeSystem gives each code one meaning. `format_name` is the response set's
    name, or the item's id for an inline response."""
    return f"{base}/CodeSystem/{instrument_id}-{format_name}"


def scale_system(base: str, instrument_id: str) -> str:
    """The CodeSystem of an instrument's scale ids (Observation codes without a LOINC code)."""
    return f"{base}/CodeSystem/{instrument_id}-scales"


def band_system(base: str, instrument_id: str, scale_id: str) -> str:
    return f"{base}/CodeSystem/{instrument_id}-{scale_id}-bands"


#: LOINC codes verified against loinc.org (the panel a Questionnaire is, the total score an
#: Observation is). Instruments and scales not listed here use prom's own CodeSystems.
LOINC_PANELS = {
    "phq9": ("44249-1", "PHQ-9 quick depression assessment panel [Reported.PHQ]"),
    "gad7": ("69737-5", "Generalized anxiety disorder 7 item (GAD-7)"),
}
LOINC_SCALES = {
    ("phq9", "phq9"): ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score "
                                  "[Reported]"),
    ("gad7", "gad7"): ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score "
                                  "[Reported.PHQ]"),
}
