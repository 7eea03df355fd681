"""Deciding once: locking the requests of a round, and the conditional update of each decision.

A round locks its requests first (PostgreSQL `FOR UPDATE` in id order, so two workstations never
deadlock; SQLite's `BEGIN IMMEDIATE` serialises units of work), reports those another workstation
decided meanwhile, and decides the rest with a conditional UPDATE (`status = pending`) that is the
last guard.
"""

from __future__ import annotations

from collections import namedtuple

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gandrange_desk.errors import AlreadyDecided, DeskError, NotFound
from gandrange_desk.models import Request, RequestKind, RequestStatus
from gandrange_desk.services.reservations.rules import already_decided_message

CHUNK = 900
# What "everything" in the queue means: a document is looked at one by one, never accepted wholesale.
DECIDABLE = (RequestKind.BOOKING, RequestKind.CANCELLATION, RequestKind.REGISTRATION, RequestKind.FAMILY_CHANGE)

_LOCK_NAMES = ("id", "kind", "ref", "family_id", "child_id", "unit_id", "day", "status", "decided_by",
               "decided_at", "late", "proposed_billing", "billing", "billing_override_reason", "capacity_override")
_LOCK_COLUMNS = [Request.__table__.c[name] for name in _LOCK_NAMES]
# Plain named tuples: a round reads these fields tens of thousands of times.
LockedRequest = namedtuple("LockedRequest", _LOCK_NAMES)


def lock_rows(s: Session, desk, ids: list[int] | None) -> tuple[list[LockedRequest], list[str]]:
    """The still-pending requests among `ids` (None: all pending), locked, and who took the others."""
    table = Request.__table__
    base = select(*_LOCK_COLUMNS).order_by(table.c.id)
    if desk.backend == "postgresql":
        base = base.with_for_update()
    if ids is None:
        return [LockedRequest(*r) for r in s.execute(base.where(
            table.c.status == RequestStatus.PENDING, table.c.kind.in_(DECIDABLE)))], []
    wanted = sorted(set(ids))
    found = []
    for start in range(0, len(wanted), CHUNK):
        found.extend(LockedRequest(*r) for r in s.execute(base.where(table.c.id.in_(wanted[start:start + CHUNK]))))
    seen = {r.id for r in found}
    missing = [i for i in ids if i not in seen]
    if missing:
        raise NotFound(f"Demande introuvable : n° {', '.join(str(i) for i in missing[:20])}.")
    pending, already = [], []
    for r in found:
        if r.status == RequestStatus.PENDING:
            pending.append(r)
        else:
            message = already_decided_message(desk, r.decided_by, r.decided_at, r.status)
            already.append(message.replace("Demande ", f"Demande n° {r.id} ", 1))
    return pending, already


def claim(s: Session, desk, r: Request, status: str, reason: str = "", **extra) -> None:
    """Decide a registration or family change exactly once (cell requests: the cell writer)."""
    values = {"status": status, "decided_by": desk.actor.login, "decided_at": desk.now(),
              "reason": reason, **extra}
    done = s.execute(update(Request).where(Request.id == r.id, Request.status == RequestStatus.PENDING)
                     .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        row = s.execute(select(Request.decided_by, Request.decided_at, Request.status)
                        .where(Request.id == r.id)).one()
        raise AlreadyDecided(already_decided_message(desk, *row))
    for key, value in values.items():
        setattr(r, key, value)


def load_in(s: Session, stmt, column, values, chunk: int = CHUNK) -> list:
    values = sorted(values)
    out = []
    for start in range(0, len(values), chunk):
        out.extend(s.execute(stmt.where(column.in_(values[start:start + chunk]))).scalars().unique())
    return out


def with_retries(fn):
    """Run a round again when PostgreSQL picks its transaction as a deadlock victim."""
    for attempt in range(3):
        try:
            return fn()
        except OperationalError as exc:
            code = getattr(getattr(exc, "orig", None), "sqlstate", None)
            if code in ("40P01", "40001") and attempt < 2:
                continue
            raise DeskError("La base de données a refusé l'opération (conflit avec un autre poste) : "
                            "rien n'a été enregistré, recommencez.") from exc


__all__ = ["DECIDABLE", "LockedRequest", "claim", "load_in", "lock_rows", "with_retries"]
