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


def overview(desk: Desk) -> Overview:
    with desk.read() as s:
        structure = s.execute(select(Structure.name)).scalar_one_or_none()
        families = s.execute(select(func.count(Family.id)).where(Family.archived.is_(False))).scalar_one()
        pending = s.execute(
            select(func.count(Request.id)).where(Request.status == RequestStatus.PENDING)
        ).scalar_one()
    return Overview(structure is not None, structure or "", families, pending)
