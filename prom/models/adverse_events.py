"""Adverse events: what a participant reported on the `adverse_event` form, and the clinicians'
reviews of it.

A report in which something happened (`occurred` is yes) opens an `AdverseEvent`, in the same
transaction as the response. What the patient said stays in the response and its versions;
what the clinic concluded is in the reviews. Reviews are never changed: a new review is a new
row, numbered from 1, and the event's `review_count` points at the current (latest) one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from prom.db import Base, JSONDocument, utcnow

#: ICH E2A seriousness criteria (the codes of the adverse_event form's seriousness item).
SERIOUSNESS_CRITERIA = ("death", "life_threatening", "hospitalisation", "disability",
                        "congenital_anomaly", "medically_important")
#: The investigator's causality assessment, least to most likely.
RELATEDNESS = ("not_related", "unlikely", "possible", "probable", "definite")
#: What was done about the programme because of the event.
ACTIONS = ("none", "programme_interrupted", "programme_withdrawn", "not_applicable", "unknown")
#: The event's outcome (the ICH E2B vocabulary).
OUTCOMES = ("recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal",
            "unknown")


class AdverseEvent(Base):
    __tablename__ = "adverse_events"
    __table_args__ = (
        # A study's list, newest first.
        Index("ix_adverse_events_study_reported", "study_id", "reported_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    response_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("responses.id"), unique=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    study_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("studies.id"))
    reported_at: Mapped[datetime]  # when the form was filled in (the response's collected_at)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)  # when prom received it
    review_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    reviews: Mapped[list[AdverseEventReview]] = relationship(
        lazy="selectin", order_by="AdverseEventReview.number")


class AdverseEventReview(Base):
    """One clinician's assessment of an event; the latest is the event's current one."""

    __tablename__ = "adverse_event_reviews"
    __table_args__ = (
        CheckConstraint("severity_grade BETWEEN 1 AND 5", name="ctcae_grade"),
    )

    adverse_event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("adverse_events.id"),
                                                        primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, … in review order
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    serious: Mapped[bool] = mapped_column(Boolean)
    seriousness_criteria: Mapped[list[str]] = mapped_column(JSONDocument)  # SERIOUSNESS_CRITERIA
    severity_grade: Mapped[int] = mapped_column(Integer)  # CTCAE grade 1–5
    relatedness: Mapped[str] = mapped_column(String(16))  # RELATEDNESS
    expected: Mapped[bool] = mapped_column(Boolean)
    action_taken: Mapped[str] = mapped_column(String(32))  # ACTIONS
    outcome: Mapped[str] = mapped_column(String(32))  # OUTCOMES
    note: Mapped[str | None] = mapped_column(String(4000))
