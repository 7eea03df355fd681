"""The families' portal: failed sign-in attempts, counted per typed login and per address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
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
