"""A demo study for trying prom locally (`prom demo`, run by `make run`): loaded once.

It creates a demo admin and clinician, a site, an online-CBT trial with three arms and the
timepoints trials report (baseline, weekly during treatment, post, 3/6/12-month follow-up), and
three enrolled participants whose activation codes are printed. Passwords are printed too: this
is for a laptop, never for real data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from prom.extensions import db
from prom.models.accounts import User
from prom.models.studies import Study
from prom.services import accounts, participants, studies

DEMO_STUDY = "DEMO-ICBT"
ADMIN = ("admin@demo.prom.local", "demo-admin-password")
CLINICIAN = ("clinician@demo.prom.local", "demo-clinician-password")
CORE = ["nrs_pain", "bpi_sf", "phq9", "gad7", "eq5d5l"]


def load_demo() -> dict[str, Any] | None:
    """Create the demo once; None when it is already there."""
    if db.session.scalar(select(Study).where(Study.code == DEMO_STUDY)) is not None:
        return None
    admin = accounts.create_user(*ADMIN, "admin")
    site = accounts.create_site("DEMO-LDN", "Demo pain clinic", actor=admin.id)
    clinician = accounts.create_user(*CLINICIAN, "clinician", [site.id], actor=admin.id)
    weekly = [{"code": f"week{n}", "day": 7 * n, "window_before": 3, "window_after": 3,
               "instruments": ["nrs_pain", "peg"]} for n in range(1, 8)]
    schedule = [
        {"code": "baseline", "day": 0, "window_before": 14, "window_after": 7,
         "instruments": [*CORE, "pcs", "pseq"]},
        *weekly,
        {"code": "post", "day": 56, "window_before": 7, "window_after": 21,
         "instruments": [*CORE, "pgic", "neq", "adverse_event"]},
        *({"code": f"fu{m}m", "day": 56 + 30 * m, "window_before": 14, "window_after": 28,
           "instruments": [*CORE, "pgic"]} for m in (3, 6, 12)),
    ]
    study = studies.create_study({
        "code": DEMO_STUDY, "name": "Demo: internet-delivered CBT for chronic pain",
        "arms": [{"code": "icbt", "name": "Internet CBT"},
                 {"code": "education", "name": "Pain education (active control)"},
                 {"code": "usual_care", "name": "Usual care"}],
        "schedule": schedule,
    }, actor=admin.id)
    clinician_user = db.session.get(User, clinician.id)
    enrolled = []
    for arm in ("icbt", "education", "usual_care"):
        enrolment = participants.enrol(study.id, {
            "site_id": site.id, "arm": arm, "enrolled_on": datetime.now(UTC).date(),
            "language": "en", "timezone": "Europe/London"}, actor=clinician_user)
        enrolled.append((arm, str(enrolment.participant.id), enrolment.activation_code))
    return {"admin": ADMIN, "clinician": CLINICIAN, "study": str(study.id),
            "participants": enrolled}
