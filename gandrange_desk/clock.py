"""Time in one place: every instant is aware and in Europe/Paris."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    return datetime.now(PARIS)


def today() -> date:
    return now().date()


def to_paris(value: datetime) -> datetime:
    if value.tzinfo is PARIS:  # the common case (desk.now()): astimezone would return it as is, slowly
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime: instants must carry their time zone")
    return value.astimezone(PARIS)


def utc(value: datetime) -> datetime:
    return to_paris(value).astimezone(timezone.utc)
