"""Attendance (pointage): whether a child was there, per child, unit and day, and who said so."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import AwareDateTime, Base, Labelled


class Presence(Labelled):
    """What the door saw. A booked child nobody marked has no row ("non pointé")."""

    PRESENT = "present", "Présent", "présent"
    ABSENT = "absent", "Absent", "absent"
    EXCUSED = "excused", "Absent excusé", "absent excusé"
    WALK_IN = "walk_in", "Présent sans réservation", "présent sans réservation"


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("child_id", "unit_id", "day"),
        # The door's sheet and the month's reports read one unit's days.
        Index("ix_attendance_unit_day", "unit_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    presence: Mapped[str] = mapped_column(String(10))
    # When the family came late to collect the child (evening), "HH:MM"; empty otherwise.
    late_time: Mapped[str] = mapped_column(String(5), default="")
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())
    recorded_by: Mapped[str] = mapped_column(String(64))
