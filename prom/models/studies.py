"""Studies: arms, the schedule of timepoints, and the researchers granted access.

A timepoint's target day counts from the participant's anchor date (enrolment, or randomisation
when recorded); `window_before`/`window_after` bound the days around it in which a response counts
for that timepoint. A repeating timepoint (weekly during treatment, say) is one row with `every`
(days between occurrences) and `count`; `prom.schedule.expand` turns it into `week1`, `week2`…
Instruments are referred to by id and must exist in the instrument library.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from prom.db import Base, JSONDocument, utcnow
from prom.schedule import TimepointSpec


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The key of the study's pseudonymised participant codes (HMAC-SHA256, hex). Never shown by
    # the API: with it, a code can be traced back to a participant id.
    export_key: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(32))

    arms: Mapped[list[Arm]] = relationship(back_populates="study", lazy="selectin",
                                           order_by="Arm.position", cascade="all")
    schedule: Mapped[list[Timepoint]] = relationship(back_populates="study", lazy="selectin",
                                                     order_by="Timepoint.position",
                                                     cascade="all")

    def arm(self, code: str) -> Arm | None:
        return next((arm for arm in self.arms if arm.code == code), None)


class Arm(Base):
    """A trial arm: intervention, usual care, active control…"""

    __tablename__ = "arms"
    __table_args__ = (UniqueConstraint("study_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    study_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("studies.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)  # order as declared

    study: Mapped[Study] = relationship(back_populates="arms")


class Timepoint(Base):
    __tablename__ = "timepoints"
    __table_args__ = (
        UniqueConstraint("study_id", "code"),
        CheckConstraint("window_before >= 0 AND window_after >= 0", name="windows_not_negative"),
        CheckConstraint("count >= 1 AND (every IS NULL OR every >= 1) "
                        "AND (count = 1 OR every IS NOT NULL)", name="repeats_have_an_interval"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    study_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("studies.id"))
    code: Mapped[str] = mapped_column(String(64))  # free text: baseline, week4, post, fu3m…
    day: Mapped[int] = mapped_column(Integer)  # target day after the anchor; may be negative
    window_before: Mapped[int] = mapped_column(Integer)  # days before `day` still counted
    window_after: Mapped[int] = mapped_column(Integer)  # days after `day` still counted
    instruments: Mapped[list[str]] = mapped_column(JSONDocument)  # instrument ids, in order
    every: Mapped[int | None] = mapped_column(Integer)  # days between occurrences, if repeating
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # occurrences
    position: Mapped[int] = mapped_column(Integer)

    def spec(self) -> TimepointSpec:
        """This row as the schedule package declares a timepoint."""
        return TimepointSpec(code=self.code, day=self.day, window_before=self.window_before,
                             window_after=self.window_after, instruments=tuple(self.instruments),
                             every=self.every, count=self.count)

    study: Mapped[Study] = relationship(back_populates="schedule")


class StudyMember(Base):
    """A researcher's access to a study."""

    __tablename__ = "study_members"

    study_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("studies.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
