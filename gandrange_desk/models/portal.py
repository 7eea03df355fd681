"""The families' portal: failed sign-in attempts, counted per typed login and per address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import AwareDateTime, Base


class PortalThrottle(Base):
    """Failures of one key ("login:<typed login>" or "ip:<address>") since `first_at`.

    Kept in the database, not in a worker's memory, so every uvicorn worker counts together.
    Keys are what was typed, whether or not such a login exists: a lockout says nothing."""

    __tablename__ = "portal_throttle"

    key: Mapped[str] = mapped_column(String(220), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(AwareDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)


class OnlinePayment(Base):
    """A family's card payment of one invoice through the online provider (PayFiP).

    Created when the family clicks "Payer" (status "pending"), its provider operation id
    (`idop`) stored once the provider answered; the notification turns it into one `Payment`
    exactly once (`payment_id`), however many times the provider or the family's browser
    reports it."""

    __tablename__ = "online_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    refdet: Mapped[str] = mapped_column(String(30), unique=True)
    idop: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    email: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|paid|refused|abandoned
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    numauto: Mapped[str] = mapped_column(String(64), default="")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), nullable=True)
