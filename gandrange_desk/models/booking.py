"""Grid cells (bookings) and the requests that move them, plus the portal feed's seen refs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import AwareDateTime, Base, Labelled
from gandrange_desk.roles import RequestStatus  # noqa: F401 - re-exported


class CellState(Labelled):
    """A cell's code; a blank cell has no Booking row."""

    DR = "DR", "Demande de réservation", "demande de réservation en attente"
    R = "R", "Réservé", "réservée"
    DA = "DA", "Demande d'annulation", "demande d'annulation en attente"
    AF = "AF", "Annulation facturée", "annulée et facturée"


class Booking(Base):
    __tablename__ = "booking"
    __table_args__ = (
        UniqueConstraint("child_id", "unit_id", "day"),
        # Every read by unit and day (no (unit, day) index of its own: this one's prefix, 0014).
        # Covers the grid's places-used count per unit and day (no table lookups on SQLite), and
        # the monthly run's reads of a month's cells (child and late flag included).
        Index("ix_booking_unit_day_state", "unit_id", "day", "state", "child_id", "late"),
        # Issuing a month counts the cells changed since its drafts were prepared: the few rows
        # written since, not the whole month (`invoicing._refuse_stale`).
        Index("ix_booking_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(4))
    # Accepted after the booking deadline: the tariff's hors-délai surcharge may apply.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RequestKind(Labelled):
    BOOKING = "booking", "Réservation"
    CANCELLATION = "cancellation", "Annulation"
    REGISTRATION = "registration", "Inscription"
    FAMILY_CHANGE = "family_change", "Modification"
    DOCUMENT = "document", "Document"


class RequestSource(Labelled):
    PORTAL = "portal", "Portail"  # the portal feed
    DESK_FAMILY = "desk_family", "Bureau (pour la famille)"  # entered at the desk on the family's behalf (help sessions)
    DESK_OFFICE = "desk_office", "Bureau"  # the office's own decision, nothing to validate




class Billing(Labelled):
    EXCUSED = "excused", "Excusée"
    BILLED = "billed", "Facturée"


class Request(Base):
    """One asked or decided change of one cell, or a registration / family change / document.

    Every cell transition writes one row, so a cell's history is its requests in order.
    """

    __tablename__ = "request"
    __table_args__ = (
        Index("ix_request_status_family", "status", "family_id"),
        Index("ix_request_cell", "child_id", "unit_id", "day"),
        Index("ix_request_decided_at", "decided_at"),  # the same for requests decided since
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default=RequestSource.PORTAL)
    # Shown, never searched (the feed's refs are deduplicated on feed_entry.ref): no index (0014).
    ref: Mapped[str | None] = mapped_column(String(40), nullable=True)
    family_id: Mapped[int | None] = mapped_column(
        ForeignKey("family.id", ondelete="CASCADE"), nullable=True
    )
    child_id: Mapped[int | None] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), nullable=True
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), nullable=True)
    day: Mapped[date | None] = mapped_column(Date, nullable=True)
    from_state: Mapped[str | None] = mapped_column(String(4), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(4), nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(AwareDateTime())
    submitted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=RequestStatus.PENDING)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed_billing: Mapped[str | None] = mapped_column(String(10), nullable=True)
    billing: Mapped[str | None] = mapped_column(String(10), nullable=True)
    billing_override_reason: Mapped[str] = mapped_column(Text, default="")
    capacity_override: Mapped[bool] = mapped_column(Boolean, default=False)
    # Registration and family-change contents, as JSON text.
    payload: Mapped[str] = mapped_column(Text, default="")

    unit = relationship("Unit", lazy="joined", viewonly=True)


class FeedHold(Labelled):
    NONE = "", "Importée"
    WAITING = "waiting", "En attente de l'inscription"
    REPLAYED = "replayed", "Reprise après l'inscription"
    DROPPED = "dropped", "Abandonnée (inscription refusée)"


class FeedEntry(Base):
    """Every portal feed `ref` ever taken, so importing a feed twice changes nothing."""

    __tablename__ = "feed_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[datetime] = mapped_column(AwareDateTime())
    imported_at: Mapped[datetime] = mapped_column(AwareDateTime())
    imported_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The entry as the portal sent it (JSON).
    payload: Mapped[str] = mapped_column(Text, default="")
    # A cell request or family change from a family whose registration was still waiting: the
    # entry is held for that family's ref until the registration is decided.
    held_for: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    hold: Mapped[str] = mapped_column(String(12), default=FeedHold.NONE)
