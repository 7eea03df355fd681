"""Set-based decisions for big rounds ("Tout accepter" on thousands of requests).

`bookings.apply_decision` decides one request with a handful of statements; for 5,000 requests
that is tens of thousands of round trips. This module applies the very same rules and writes
the very same rows (request, cell, audit) with one statement per kind of change, using the
checks and texts of `bookings` (cell labels, state names, the already-decided sentence).
`tests/test_queue_bulk.py` decides identical queues both ways and compares every row.

The caller has already locked the requests (queue._lock_requests), so the conditional update
here only confirms what the lock guarantees.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.errors import AlreadyDecided
from gandrange_desk.models import (
    AuditEntry, Billing, Booking, CellState, Invoice, InvoiceStatus, Request, RequestKind,
    RequestStatus, Unit,
)
from gandrange_desk.services.reservations import bookings
from gandrange_desk.services.context import Desk, audit_text as _dump

_CHUNK = 900
_READ_BACK = ("status", "reason", "billing", "decided_by", "decided_at")


def decide_cells(s: Session, desk: Desk, requests: list, accept: bool, *, reason: str,
                 billing: str | None, overrides: dict[int, tuple[str, str]], capacity_override: bool,
                 names: dict[int, str], units: dict[int, Unit], cal) -> tuple[list[tuple], list[str]]:
    """Decide pending DR/DA requests (plain rows, locked by the caller) at once.

    Returns ([(row, new values)], problems); with problems, nothing is written."""
    reason = (reason or "").strip()
    cells = _cells(s, [r.id for r in requests])
    invoiced = _invoiced_months(s, {r.family_id for r in requests})
    families = {r.child_id: r.family_id for r in requests}
    left = _capacity_left(s, {(r.unit_id, r.day) for r in requests
                              if accept and r.kind == RequestKind.BOOKING}, units)
    now, login = desk.now(), desk.actor.login
    problems: list[str] = []
    plans = []  # (request, values, booking_id, cell change)
    for r in requests:
        unit = units[r.unit_id]
        label = _Label(names[r.child_id], unit, r.day)
        booking_id, state = cells.get(r.id, (None, None))
        is_booking = r.kind == RequestKind.BOOKING
        expected = CellState.DR if is_booking else CellState.DA
        if state != expected:
            problems.append(f"Demande n° {r.id} : {label} : la case est {bookings.STATE_LABELS[state]}, "
                            "la demande ne peut plus être décidée.")
            continue
        values = {"decided_by": login, "decided_at": now, "reason": reason,
                  "status": RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED,
                  "billing": r.billing, "billing_override_reason": r.billing_override_reason,
                  "capacity_override": r.capacity_override}
        locked = bool(invoiced) and (families[r.child_id], r.day.replace(day=1)) in invoiced
        lock_text = "" if not locked else (
            f"Demande n° {r.id} : {label} : les factures {formats.of_month(r.day)} sont émises, "
            "ce mois est verrouillé (une correction passe en régularisation sur la facture suivante).")
        if is_booking and accept:
            closed = cal.closed_reason(unit.activity, r.day)
            if closed:
                problems.append(f"Demande n° {r.id} : {label} : jour fermé ({closed}).")
                continue
            if locked:
                problems.append(lock_text)
                continue
            key = (r.unit_id, r.day)
            if left.get(key) is not None:
                if left[key] <= 0 and not capacity_override:
                    problems.append(
                        f"Demande n° {r.id} : {label} : complet ({formats.count(unit.capacity, 'place', 'places')}). "
                        "Dépasser la capacité demande une confirmation explicite.")
                    continue
                left[key] -= 1
            values.update(to_state=CellState.R, capacity_override=bool(capacity_override))
            change = ("state", CellState.R)
        elif is_booking:
            values["to_state"] = None
            change = ("delete", None)
        elif accept:
            if locked:
                problems.append(lock_text)
                continue
            chosen, why = _billing_choice(r.id, billing, overrides)
            chosen = chosen or r.proposed_billing or Billing.EXCUSED
            values["billing"] = chosen
            if r.proposed_billing and chosen != r.proposed_billing:
                values["billing_override_reason"] = why.strip() or "Choix du bureau"
            values["to_state"] = CellState.AF if chosen == Billing.BILLED else None
            change = ("state", CellState.AF) if chosen == Billing.BILLED else ("delete", None)
        else:
            values["to_state"] = CellState.R
            change = ("state", CellState.R)
        plans.append((r, values, booking_id, change, expected))
    if problems:
        return [], problems
    _write(s, desk, plans, capacity_override, accept)
    return [(p[0], p[1]) for p in plans], []


class _Label:
    """The cell's French label, formatted only when a problem needs it."""

    __slots__ = ("child", "unit", "day")

    def __init__(self, child, unit, day):
        self.child, self.unit, self.day = child, unit, day

    def __str__(self) -> str:
        return bookings.cell_label(self.child, self.unit.name, self.day)

    __format__ = lambda self, spec: format(str(self), spec)  # noqa: E731


def _billing_choice(rid: int, billing: str | None, overrides: dict) -> tuple[str | None, str]:
    """The clerk's per-date choice wins; a round-wide choice is recorded as such."""
    if rid in overrides:
        return overrides[rid]
    return billing, ("Choix du bureau (décision groupée)" if billing else "")


def _write(s: Session, desk: Desk, plans, capacity_override: bool, accept: bool) -> None:
    conn = s.connection()
    now, login = desk.now(), desk.actor.login
    if not plans:
        return
    # The lock is held already: this conditional update is the same guard apply_decision uses.
    # Rows sharing their new values are updated together, a few statements for the whole round.
    rq = Request.__table__
    groups = defaultdict(list)
    for r, v, *_ in plans:
        groups[(v["status"], v["reason"], v["to_state"], v["billing"], v["billing_override_reason"],
                v["capacity_override"])].append(r.id)
    done = 0
    for (status, reason, to_state, billing, override, capacity), ids in groups.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            done += conn.execute(update(rq).where(rq.c.id.in_(chunk), rq.c.status == RequestStatus.PENDING).values(
                status=status, decided_by=login, decided_at=now, reason=reason, to_state=to_state,
                billing=billing, billing_override_reason=override, capacity_override=capacity)).rowcount
    if done != len(plans):
        raise AlreadyDecided("Certaines demandes ont été traitées sur un autre poste entre-temps : "
                             "rien n'a été enregistré, actualisez la file.")
    cell_groups = defaultdict(list)
    deletes = []
    for r, v, booking_id, (what, state), _ in plans:
        if what == "delete":
            deletes.append(booking_id)
        else:
            cell_groups[(state, r.late if state == CellState.R and accept else None)].append(booking_id)
    table = Booking.__table__
    for (state, late), ids in cell_groups.items():
        values = {"state": state, "updated_at": now, "updated_by": login}
        if late is not None:
            values["late"] = late
        for start in range(0, len(ids), _CHUNK):
            conn.execute(update(table).where(table.c.id.in_(ids[start:start + _CHUNK])).values(**values))
    for start in range(0, len(deletes), _CHUNK):
        conn.execute(delete(table).where(table.c.id.in_(deletes[start:start + _CHUNK])))
    audit = []
    texts: dict = {}  # the same before/after JSON for most rows: dump each once
    for r, v, _bid, _change, expected in plans:
        is_booking = r.kind == RequestKind.BOOKING
        cancel_accepted = r.kind == RequestKind.CANCELLATION and accept
        key = (expected, v["status"], v["to_state"], v["billing"] if cancel_accepted else None, v["reason"],
               v["billing_override_reason"] if cancel_accepted and v["billing_override_reason"] else None,
               bool(capacity_override and is_booking and accept))
        dumped = texts.get(key)
        if dumped is None:
            dumped = texts[key] = (_dump({"state": key[0]}), _dump({
                "status": key[1], "state": key[2], "billing": key[3], "reason": key[4],
                "billing_override_reason": key[5], "capacity_override": key[6]}))
        audit.append({"at": now, "user_login": login, "action": "decide", "entity": "request",
                      "entity_id": r.id, "family_id": r.family_id, "before": dumped[0], "after": dumped[1]})
    conn.execute(insert(AuditEntry.__table__), audit)


def _cells(s: Session, ids: list[int]) -> dict[int, tuple[int, str]]:
    """request id -> (booking id, state) of its cell."""
    out = {}
    join = and_(Booking.child_id == Request.child_id, Booking.unit_id == Request.unit_id, Booking.day == Request.day)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for rid, bid, state in s.execute(select(Request.id, Booking.id, Booking.state).join(Booking, join)
                                         .where(Request.id.in_(chunk))):
            out[rid] = (bid, state)
    return out


def _invoiced_months(s: Session, family_ids: set[int]) -> set[tuple[int, date]]:
    out = set()
    ids = sorted(i for i in family_ids if i is not None)
    for start in range(0, len(ids), _CHUNK):
        out |= set(s.execute(select(Invoice.family_id, Invoice.month).where(
            Invoice.family_id.in_(ids[start:start + _CHUNK]), Invoice.status == InvoiceStatus.ISSUED)).all())
    return out


def _capacity_left(s: Session, keys: set[tuple[int, date]], units: dict[int, Unit]) -> dict:
    """(unit, day) -> places left now (None: no limit), counted as bookings.capacity_left does."""
    from sqlalchemy import func

    left: dict = {}
    limited = [(u, d) for u, d in keys if units[u].capacity is not None]
    for u, d in keys:
        left[(u, d)] = None
    if not limited:
        return left
    days = sorted({d for _, d in limited})
    unit_ids = sorted({u for u, _ in limited})
    used = dict(((u, d), n) for u, d, n in s.execute(
        select(Booking.unit_id, Booking.day, func.count()).where(
            Booking.unit_id.in_(unit_ids), Booking.day.between(days[0], days[-1]),
            Booking.state.in_(bookings.OCCUPYING)).group_by(Booking.unit_id, Booking.day)))
    for key in limited:
        left[key] = units[key[0]].capacity - used.get(key, 0)
    return left
