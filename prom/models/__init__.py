"""SQLAlchemy models, one module per aggregate.

An aggregate is a cluster of rows that is always loaded and changed together through its root
(a response with its answers and scores; a study with its arms and timepoints). Each aggregate
gets its own module here, named after the resource (``responses.py``, ``studies.py``), and is
imported below so that importing ``prom.models`` registers every table on ``Base.metadata`` --
which is what Alembic's autogenerate and the model/migration drift check compare against.
"""

from prom.models.accounts import ActivationCode, RefreshToken, RevokedSession, Site, User, UserSite
from prom.models.adverse_events import AdverseEvent, AdverseEventReview
from prom.models.audit import AuditEvent
from prom.models.participants import Participant
from prom.models.responses import Alert, Response, ResponseVersion, Score
from prom.models.studies import Arm, Study, StudyMember, Timepoint

__all__ = ["ActivationCode", "AdverseEvent", "AdverseEventReview", "Alert", "Arm",
           "AuditEvent", "Participant", "RefreshToken", "Response", "ResponseVersion",
           "RevokedSession", "Score", "Site", "Study", "StudyMember", "Timepoint", "User",
           "UserSite"]
