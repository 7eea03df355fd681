"""One cell at a time, inside the caller's transaction: the one-cell case of `engine.CellBatch`.

    blank → DR   ask_booking (portal, or the desk for the family)
    blank → R    ask_booking(source=DESK_OFFICE) (the office books directly)
    DR → R/blank apply_decision(accept / refuse)      DR → blank  withdraw
    R → DA       ask_cancellation
    R → blank/AF ask_cancellation(source=DESK_OFFICE, billing=…) (the office cancels directly)
    DA → blank/AF/R apply_decision(accept excusée / facturée, refuse)

Each raises `BookingRefused` with the rules' sentence when the rules say no, and writes nothing
then. Also the reads of one cell: its state, its history in words, the places left.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.errors import AlreadyDecided, DeskError, NotFound
from gandrange_desk.models import (
    Booking, Child, Request, RequestKind, RequestSource, RequestStatus, Unit,
)
from gandrange_desk.services.calendar import Calendar

from .engine import CellBatch, Step
from .rules import (
    OCCUPYING, BookingRefused, CapacityExceeded, PendingInfo, Refusal, already_decided_message, cell_label,
    month_start,
)


def _done(batch: CellBatch, cell, outcome: Step | Refusal) -> Request:
    if isinstance(outcome, Refusal):
        raise outcome.error(batch.label(cell))
    batch.flush()
    request = batch.s.get(Request, outcome.request_id)
    batch.s.refresh(request)  # the writer wrote through Core: the identity map may be stale
    return request


def ask_booking(s: Session, desk, cal: Calendar, child: Child, unit: Unit, day: date, *,
                source: str, submitted_at: datetime, ref: str | None = None,
                family_id: int | None = None, capacity_override: bool = False) -> Request:
    """blank → DR (portal / desk for the family), or blank → R when source is DESK_OFFICE."""
    cell = (child.id, unit.id, day)
    direct = source == RequestSource.DESK_OFFICE
    batch = CellBatch(s, desk, cal).load([cell], places=direct)
    if direct:
        outcome = batch.book(cell, capacity_override=capacity_override, ref=ref, submitted_at=submitted_at,
                             family_id=family_id)
    else:
        outcome = batch.ask_booking(cell, source=source, submitted_at=submitted_at, ref=ref,
                                    family_id=family_id)
    return _done(batch, cell, outcome)


def ask_cancellation(s: Session, desk, cal: Calendar, child: Child, unit: Unit, day: date, *,
                     source: str, submitted_at: datetime, ref: str | None = None,
                     family_id: int | None = None, billing: str | None = None,
                     billing_reason: str = "") -> Request:
    """R → DA; with source DESK_OFFICE the office cancels directly: R → blank (excusée) or AF."""
    cell = (child.id, unit.id, day)
    batch = CellBatch(s, desk, cal).load([cell])
    if source == RequestSource.DESK_OFFICE:
        outcome = batch.cancel(cell, billing=billing, billing_reason=billing_reason,
                               submitted_at=submitted_at)
    else:
        if billing is not None:
            raise ValueError("billing is chosen when the cancellation is decided")
        outcome = batch.ask_cancellation(cell, source=source, submitted_at=submitted_at, ref=ref,
                                         family_id=family_id)
    return _done(batch, cell, outcome)


def _pending_request(s: Session, desk, request: Request | int) -> Request:
    if isinstance(request, int):
        found = s.get(Request, request)
        if found is None:
            raise NotFound(f"Demande n° {request} introuvable.")
        request = found
    if request.kind not in (RequestKind.BOOKING, RequestKind.CANCELLATION):
        raise DeskError("Cette demande ne concerne pas une case du planning.")
    if request.status != RequestStatus.PENDING:
        raise AlreadyDecided(already_decided_message(desk, request.decided_by, request.decided_at,
                                                     request.status))
    return request


def apply_decision(s: Session, desk, request: Request | int, accept: bool, *, reason: str = "",
                   billing: str | None = None, billing_reason: str = "",
                   capacity_override: bool = False, cal: Calendar | None = None) -> Request:
    """Decide a pending DR or DA request: DR → R / blank, DA → blank / AF / R."""
    request = _pending_request(s, desk, request)
    cell = (request.child_id, request.unit_id, request.day)
    batch = CellBatch(s, desk, cal).load([cell], places=accept)
    batch.rules.add_pending(cell, PendingInfo(request.id, request.kind, bool(request.late),
                                              request.proposed_billing))
    outcome = batch.decide(cell, accept, reason=reason, billing=billing, billing_reason=billing_reason,
                           capacity_override=capacity_override, request_id=request.id)
    if isinstance(outcome, Refusal) and outcome.code == "undecidable":
        # The cell moved because another workstation decided this very request meanwhile.
        row = s.execute(select(Request.decided_by, Request.decided_at, Request.status)
                        .where(Request.id == request.id)).one()
        if row.status != RequestStatus.PENDING:
            raise AlreadyDecided(already_decided_message(desk, *row))
    return _done(batch, cell, outcome)


def withdraw(s: Session, desk, request: Request | int, *, reason: str = "") -> Request:
    """DR → blank: the family withdraws its pending booking request."""
    if isinstance(request, int):
        request = s.get(Request, request)
        if request is None:
            raise NotFound("Demande introuvable.")
    cell = (request.child_id, request.unit_id, request.day)
    batch = CellBatch(s, desk).load([cell], pending=True)
    return _done(batch, cell, batch.withdraw(cell, reason=reason))


# --- reads ---------------------------------------------------------------------------------

def cell_state(s: Session, child_id: int, unit_id: int, day: date) -> str | None:
    return s.execute(select(Booking.state).where(
        Booking.child_id == child_id, Booking.unit_id == unit_id, Booking.day == day)).scalar()


def cell_history(s: Session, child_id: int, unit_id: int, day: date) -> list[Request]:
    return list(s.execute(select(Request).where(
        Request.child_id == child_id, Request.unit_id == unit_id, Request.day == day,
    ).order_by(Request.id)).scalars())


def capacity_left(s: Session, unit_id: int, day: date) -> int | None:
    """Places left on that unit and day (None: no limit). R and DA cells hold a place."""
    capacity = s.execute(select(Unit.capacity).where(Unit.id == unit_id)).scalar()
    if capacity is None:
        return None
    used = s.execute(select(func.count()).select_from(Booking).where(
        Booking.unit_id == unit_id, Booking.day == day, Booking.state.in_(OCCUPYING))).scalar()
    return capacity - used


def pending_request(s: Session, child_id: int, unit_id: int, day: date) -> Request | None:
    return s.execute(select(Request).where(
        Request.child_id == child_id, Request.unit_id == unit_id, Request.day == day,
        Request.status == RequestStatus.PENDING).order_by(Request.id.desc()).limit(1)).scalar()


def history_text(requests: list[Request]) -> str:
    """The cell's tooltip: one line per request, who / when / source / decision / reason."""
    lines = []
    for r in requests:
        line = f"{RequestKind(r.kind).label} — {RequestSource(r.source).label}, {formats.instant(r.submitted_at)}"
        if r.submitted_by:
            line += f" ({r.submitted_by})"
        if r.late:
            line += ", hors délai"
        status = RequestStatus(r.status).phrase
        if r.status != RequestStatus.PENDING and r.decided_at:
            line += f" : {status} par {r.decided_by} le {formats.instant(r.decided_at)}"
        else:
            line += f" : {status}"
        if r.billing:
            from gandrange_desk.models import Billing

            line += f", {Billing(r.billing).phrase}"
        if r.billing_override_reason:
            line += f" (motif : {r.billing_override_reason})"
        if r.capacity_override:
            line += ", au-delà de la capacité"
        if r.reason:
            line += f" — « {r.reason} »"
        lines.append(line)
    return "\n".join(lines) or "Aucune demande sur cette case."


__all__ = [
    "BookingRefused", "CapacityExceeded", "OCCUPYING", "already_decided_message", "apply_decision",
    "ask_booking", "ask_cancellation", "capacity_left", "cell_history", "cell_label", "cell_state",
    "history_text", "month_start", "pending_request", "withdraw",
]
