"""Participants: a person enrolled in one study, at one site, in one arm.

The participant's sign-in is a `User` with role participant (linked by `user_id`); the record here
carries what the research needs and nothing identifying: no name, no contact details.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from prom.db import Base, utcnow
from prom.models.studies import Arm


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (
        # keyset pagination within a study: (created_at, id)
        Index("ix_participants_study_created", "study_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    study_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("studies.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    arm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("arms.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    enrolled_on: Mapped[date]  # the anchor date of the schedule, unless randomised_on is set
    randomised_on: Mapped[date | None]  # when recorded, the anchor date instead
    language: Mapped[str] = mapped_column(String(16))  # questionnaire language, e.g. en, pt-BR
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name; windows are local days
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    arm: Mapped[Arm] = relationship(lazy="joined")

    @property
    def anchor(self) -> date:
        """Day 0 of the participant's schedule: randomisation when recorded, else enrolment."""
        return self.randomised_on or self.enrolled_on

    @property
    def arm_code(self) -> str:
        return self.arm.code
