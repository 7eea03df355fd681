"""Small figures for the status bar and empty states: counts, never heavy queries.

On SQLAlchemy Core (`services.first_screen`), not the models: the status bar is counted with
the first tab, before the ORM loads (issue 14, start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from gandrange_desk.roles import OutboxStatus, RequestStatus
from gandrange_desk.services.context import Desk
from gandrange_desk.services.first_screen import family, outbox_message, request, structure

# The e-mails the status bar counts as waiting (the sender will still try them).
WAITING_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.TEMP_FAILED)


@dataclass(frozen=True)
class Overview:
    configured: bool
    structure_name: str
    families: int
    pending_requests: int
    school_zone: str = "B"
    holiday_subdivision: str = "57"


def _pending(conn) -> int:
    return conn.execute(
        select(func.count(request.c.id)).where(request.c.status == RequestStatus.PENDING)
    ).scalar_one()


def overview(desk: Desk) -> Overview:
    with desk.read_core() as conn:
        row = conn.execute(select(structure.c.name, structure.c.school_zone, structure.c.holiday_subdivision)
                           .order_by(structure.c.id).limit(1)).first()
        families = conn.execute(
            select(func.count(family.c.id)).where(family.c.archived.is_(False))).scalar_one()
        pending = _pending(conn)
    if row is None:
        return Overview(False, "", families, pending)
    return Overview(True, row.name or "", families, pending, row.school_zone or "B",
                    "57" if row.holiday_subdivision is None else row.holiday_subdivision)


def pending_requests(desk: Desk) -> int:
    """The status bar's count of pending requests alone (after an operation): one count on
    the status index, nothing read that an operation on cells cannot change."""
    with desk.read_core() as conn:
        return _pending(conn)


def outbox_counts(desk: Desk) -> tuple[int, int]:
    """(waiting, failed): what the status bar shows as "n courriels en attente / n en échec"."""
    with desk.read_core() as conn:
        rows = dict(conn.execute(select(outbox_message.c.status, func.count())
                                 .where(outbox_message.c.status != OutboxStatus.SENT)
                                 .group_by(outbox_message.c.status)).all())
    waiting = sum(rows.get(str(st), 0) for st in WAITING_STATUSES)
    return waiting, rows.get(str(OutboxStatus.FAILED), 0)
