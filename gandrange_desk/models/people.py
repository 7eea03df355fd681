"""Desk users, the audit trail, and September appointments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gandrange_desk.roles import Role  # noqa: F401 - re-exported: the window reads it before the ORM loads

from .base import AwareDateTime, Base, Versioned, Labelled


class DeskUser(Versioned, Base):
    __tablename__ = "desk_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.AGENT)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Wrong passwords in a row, and the lock they led to (see services.system.users.authenticate).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)


class AuditEntry(Base):
    """Who did what, when, with the values before and after (JSON text)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    user_login: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    family_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")


class AppointmentStatus(Labelled):
    FREE = "free", "Libre"
    BOOKED = "booked", "Réservé"
    DONE = "done", "Terminé"
    MISSED = "missed", "Absent"
    CANCELLED = "cancelled", "Retiré"


class Appointment(Versioned, Base):
    """A slot of the September help sessions; free until a family is placed in it."""

    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    minutes: Mapped[int] = mapped_column(Integer, default=30)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("desk_user.id"), nullable=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id", ondelete="SET NULL"), nullable=True)
    # A family not yet registered comes with only a name and a phone number.
    visitor_name: Mapped[str] = mapped_column(String(200), default="")
    visitor_phone: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(12), default=AppointmentStatus.FREE)
    notes: Mapped[str] = mapped_column(Text, default="")
