"""Small figures for the status bar and empty states: counts, never heavy queries.

On SQLAlchemy Core (`services.first_screen`), not the models: the status bar is counted with
the first tab, before the ORM loads (issue 14, start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from gandrange_desk.roles import OutboxStatus, RequestStatus
from gandrange_desk.services.context import Desk

# SQLAlchemy is imported by the statements' functions: on SQLite these counts are read through the
# bare driver before it loads (`Desk.first_reader`), with the SQL text compiled from them.

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


def structure_statement():
    from sqlalchemy import select

    from gandrange_desk.services.first_screen import structure

    return (select(structure.c.name, structure.c.school_zone, structure.c.holiday_subdivision)
            .order_by(structure.c.id).limit(1))


def families_statement():
    from sqlalchemy import func, select

    from gandrange_desk.services.first_screen import family

    return select(func.count(family.c.id)).where(family.c.archived.is_(False))


def pending_statement():
    from sqlalchemy import func, select

    from gandrange_desk.services.first_screen import request

    return select(func.count(request.c.id)).where(request.c.status == RequestStatus.PENDING)


def outbox_statement():
    from sqlalchemy import func, select

    from gandrange_desk.services.first_screen import outbox_message

    return (select(outbox_message.c.status, func.count())
            .where(outbox_message.c.status != OutboxStatus.SENT)
            .group_by(outbox_message.c.status))


def overview(desk: Desk) -> Overview:
    reader = desk.first_reader()
    if reader is not None:  # before SQLAlchemy loads: the same statements' SQLite text
        row, families, pending = reader.structure(), reader.families_active(), reader.pending()
    else:
        with desk.read_core() as conn:
            row = conn.execute(structure_statement()).first()
            families = conn.execute(families_statement()).scalar_one()
            pending = conn.execute(pending_statement()).scalar_one()
    if row is None:
        return Overview(False, "", families, pending)
    name, school_zone, subdivision = row
    return Overview(True, name or "", families, pending, school_zone or "B",
                    "57" if subdivision is None else subdivision)


def pending_requests(desk: Desk) -> int:
    """The status bar's count of pending requests alone (after an operation): one count on
    the status index, nothing read that an operation on cells cannot change."""
    reader = desk.first_reader()
    if reader is not None:
        return reader.pending()
    with desk.read_core() as conn:
        return conn.execute(pending_statement()).scalar_one()


def outbox_counts(desk: Desk) -> tuple[int, int]:
    """(waiting, failed): what the status bar shows as "n courriels en attente / n en échec"."""
    reader = desk.first_reader()
    if reader is not None:
        rows = dict(reader.outbox())
    else:
        with desk.read_core() as conn:
            rows = dict(conn.execute(outbox_statement()).all())
    waiting = sum(rows.get(str(st), 0) for st in WAITING_STATUSES)
    return waiting, rows.get(str(OutboxStatus.FAILED), 0)
