"""Small figures for the status bar and empty states: counts, never heavy queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from gandrange_desk.models import Family, Request, RequestStatus, Structure
from gandrange_desk.services.context import Desk


@dataclass(frozen=True)
class Overview:
    configured: bool
    structure_name: str
    families: int
    pending_requests: int
    school_zone: str = "B"
    holiday_subdivision: str = "57"


def overview(desk: Desk) -> Overview:
    with desk.read() as s:
        row = s.execute(select(Structure.name, Structure.school_zone, Structure.holiday_subdivision)
                        .order_by(Structure.id).limit(1)).first()
        families = s.execute(select(func.count(Family.id)).where(Family.archived.is_(False))).scalar_one()
        pending = s.execute(
            select(func.count(Request.id)).where(Request.status == RequestStatus.PENDING)
        ).scalar_one()
    if row is None:
        return Overview(False, "", families, pending)
    return Overview(True, row.name or "", families, pending, row.school_zone or "B",
                    "57" if row.holiday_subdivision is None else row.holiday_subdivision)


def pending_requests(desk: Desk) -> int:
    """The status bar's count of pending requests alone (after an operation): one count on
    the status index, nothing read that an operation on cells cannot change."""
    with desk.read() as s:
        return s.execute(
            select(func.count(Request.id)).where(Request.status == RequestStatus.PENDING)
        ).scalar_one()
