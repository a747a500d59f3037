"""Clinic reports: one participant's outcomes over time, for the clinician in the room.

- `clinic.py` builds the report as plain data (the JSON the API returns);
- `html.py` renders that data as a printable page, with one chart per outcome (`charts.py`,
  matplotlib, inline SVG).

The report's shape (every key is always present; values may be null). `prom.schemas.reports`
documents it field by field for the OpenAPI document, and a test holds the two together:

    participant: {id, study: {id, code, name}, arm: {code, name}, enrolled_on, randomised_on,
                  anchor, timezone}
    generated_at: ISO datetime (UTC)
    adherence: {completed, open, missed, due_so_far, rate}
    outcomes: [{
        instrument, instrument_title, scale, label, range: [min, max], higher_is: better|worse,
        bands: [{code, min, label}],
        mcid: {absolute, percent, source} | null,
        series: [{response_id, timepoint, date (local YYYY-MM-DD), study_day, value, band,
                  status, flags: [...]}],               # every stored response, oldest first
        baseline: {response_id, timepoint, date, study_day, value, band} | null,
        latest:   {response_id, timepoint, date, study_day, value, band} | null,
        change, percent_change,                         # latest − baseline; null without both
        responder: {category, label, rule} | null,      # see clinic.responder
    }]
    alerts: [{id, rule, severity, message, created_at, instrument, response_id}]   # open ones
    adverse_events: [...]       # as the adverse-event API shows them (AdverseEventSchema):
                                # the patient's answers under `reported`, the current review
                                # under `review`, every review under `reviews`
    negative_effects: [{response_id, date, timepoint, scores: {scale: {label, value, band}}}]
"""
