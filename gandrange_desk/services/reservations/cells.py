"""User-level operations of the reservation grid: one transaction each, over many cells at once.

A cell is `(child_id, unit_id, day)`. Each operation reads everything it needs in a handful of
queries (children, units, current states, issued invoices, places used), then writes its
bookings and requests in bulk, so a 1,000-cell rectangle costs a few statements, not thousands.

Cells the action does not apply to (a closed day, a cell in another state, a locked month) are
skipped with their reason; when no cell at all could change, the operation is refused with the
first reason, so a single click gets the precise French sentence. Going over capacity refuses
the whole operation unless the override is given.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from sqlalchemy import delete, func, insert, select, tuple_, update

from gandrange_desk import formats
from gandrange_desk.services.changes import Changes
from gandrange_desk.errors import AlreadyDecided, DeskError, ValidationFailed
from gandrange_desk.models import (
    Activity, Billing, Booking, CellState, Child, Family, Invoice, InvoiceStatus, Request,
    RequestKind, RequestSource, RequestStatus, Structure, Unit,
)

from gandrange_desk.services.reservations import bookings
from gandrange_desk.services.reservations.bookings import (
    OCCUPYING, STATE_LABELS, BookingRefused, CapacityExceeded, cell_label, month_start,
)
from gandrange_desk.services.calendar import Calendar

Cell = tuple[int, int, date]


@dataclass
class CellsResult:
    changed: dict[Cell, str | None] = field(default_factory=dict)  # cell -> its new state
    skipped: dict[Cell, str] = field(default_factory=dict)  # cell -> why it was left alone
    request_ids: list[int] = field(default_factory=list)

    @property
    def changes(self) -> Changes:
        return Changes(cells=set(self.changed), requests=set(self.request_ids))

    def summary(self, verb: tuple[str, str]) -> str:
        text = formats.count(len(self.changed), "case", "cases") + " " + formats.plural(
            len(self.changed), *verb)
        if self.skipped:
            text += f", {formats.count(len(self.skipped), 'case ignorée', 'cases ignorées')}"
        return text + "."


@dataclass
class _Context:
    children: dict[int, tuple[str, int, bool]]  # id -> (full name, family_id, archived)
    units: dict[int, Unit]
    activities: dict[int, Activity]
    states: dict[Cell, tuple[int, str]]  # cell -> (booking id, state)
    locked: set[tuple[int, date]]  # (family_id, first of month) with issued invoices
    used: Counter  # (unit_id, day) -> places held

    def label(self, cell: Cell) -> str:
        child_id, unit_id, day = cell
        name = self.children[child_id][0] if child_id in self.children else f"Enfant {child_id}"
        unit = self.units[unit_id].name if unit_id in self.units else f"Unité {unit_id}"
        return cell_label(name, unit, day)


def _load(s, cells: list[Cell], *, with_used: bool = False) -> _Context:
    child_ids = sorted({c[0] for c in cells})
    unit_ids = sorted({c[1] for c in cells})
    first = min(c[2] for c in cells)
    last = max(c[2] for c in cells)
    children = {
        cid: (f"{fn} {ln}".strip(), fam, archived)
        for cid, fn, ln, fam, archived in s.execute(
            select(Child.id, Child.first_name, Child.last_name, Child.family_id, Child.archived)
            .where(Child.id.in_(child_ids)))
    }
    units = {u.id: u for u in s.execute(select(Unit).where(Unit.id.in_(unit_ids))).scalars()}
    activities = {a.id: a for a in s.execute(select(Activity).where(
        Activity.id.in_({u.activity_id for u in units.values()}))).scalars()}
    wanted = set(cells)
    states = {}
    for bid, cid, uid, day, state in s.execute(
            select(Booking.id, Booking.child_id, Booking.unit_id, Booking.day, Booking.state)
            .where(Booking.child_id.in_(child_ids), Booking.unit_id.in_(unit_ids),
                   Booking.day >= first, Booking.day <= last)):
        if (cid, uid, day) in wanted:
            states[(cid, uid, day)] = (bid, state)
    families = sorted({v[1] for v in children.values()})
    locked = {
        (fam, month) for fam, month in s.execute(
            select(Invoice.family_id, Invoice.month).where(
                Invoice.family_id.in_(families), Invoice.status == InvoiceStatus.ISSUED,
                Invoice.month >= month_start(first), Invoice.month <= month_start(last)))
    }
    used: Counter = Counter()
    if with_used:
        for uid, day, n in s.execute(
                select(Booking.unit_id, Booking.day, func.count()).where(
                    Booking.unit_id.in_(unit_ids), Booking.day >= first, Booking.day <= last,
                    Booking.state.in_(OCCUPYING)).group_by(Booking.unit_id, Booking.day)):
            used[(uid, day)] = n
    return _Context(children, units, activities, states, locked, used)


def _common_skip(ctx: _Context, cell: Cell) -> str | None:
    child_id, unit_id, day = cell
    child = ctx.children.get(child_id)
    if child is None or unit_id not in ctx.units:
        return "enfant ou unité introuvable"
    if child[2]:
        return "la fiche de cet enfant est archivée"
    if (child[1], month_start(day)) in ctx.locked:
        return (f"les factures {formats.of_month(day)} sont émises, ce mois est verrouillé")
    return None


def _refuse_if_empty(result: CellsResult, ctx: _Context, todo: list) -> None:
    if todo:
        return
    if not result.skipped:
        raise BookingRefused("Aucune case sélectionnée.")
    cell, reason = next(iter(result.skipped.items()))
    more = len(result.skipped) - 1
    tail = f" (et {formats.count(more, 'autre case', 'autres cases')})" if more else ""
    raise BookingRefused(f"{ctx.label(cell)} : {reason}{tail}.")


def _unique(cells: Iterable[Cell]) -> list[Cell]:
    return sorted(set(cells), key=lambda c: (c[0], c[1], c[2]))


# --- booking ------------------------------------------------------------------------------

def book_cells(desk, cells: Iterable[Cell], *, for_family: bool = False,
               capacity_override: bool = False, cal: Calendar | None = None) -> CellsResult:
    """Blank cells → R (the office books), or → DR "pour la famille" (help sessions)."""
    cells = _unique(cells)
    result = CellsResult()
    if not cells:
        raise BookingRefused("Aucune case sélectionnée.")
    with desk.unit_of_work() as s:
        cal = cal or Calendar.load(s)
        ctx = _load(s, cells, with_used=not for_family)
        now = desk.now()
        deadlines: dict[tuple[int, date], bool] = {}
        todo: list[tuple[Cell, bool]] = []
        for cell in cells:
            reason = _common_skip(ctx, cell)
            if reason is None:
                activity = ctx.activities[ctx.units[cell[1]].activity_id]
                closed = cal.closed_reason(activity, cell[2])
                if closed:
                    reason = f"jour fermé ({closed})"
                elif cell in ctx.states:
                    state = ctx.states[cell][1]
                    reason = ("une demande est déjà en attente sur cette case"
                              if state in (CellState.DR, CellState.DA)
                              else f"la case est déjà {STATE_LABELS[state]}")
            if reason:
                result.skipped[cell] = reason
                continue
            key = (activity.id, cell[2])
            if key not in deadlines:
                deadlines[key] = cal.is_late(now, cell[2], activity.booking_deadline_days,
                                             activity.booking_deadline_time)
            todo.append((cell, deadlines[key]))
        _refuse_if_empty(result, ctx, todo)
        if not for_family:
            _check_capacity(ctx, [c for c, _ in todo], capacity_override)
        state = CellState.DR if for_family else CellState.R
        source = RequestSource.DESK_FAMILY if for_family else RequestSource.DESK_OFFICE
        login = desk.actor.login
        s.execute(insert(Booking), [
            {"child_id": c[0], "unit_id": c[1], "day": c[2], "state": state, "late": late,
             "updated_at": now, "updated_by": login} for c, late in todo])
        s.execute(insert(Request), [
            {"kind": RequestKind.BOOKING, "source": source, "family_id": ctx.children[c[0]][1],
             "child_id": c[0], "unit_id": c[1], "day": c[2], "from_state": None, "to_state": state,
             "submitted_at": now, "submitted_by": login,
             "status": RequestStatus.PENDING if for_family else RequestStatus.ACCEPTED,
             "decided_by": None if for_family else login, "decided_at": None if for_family else now,
             "late": late, "capacity_override": bool(capacity_override and not for_family),
             "reason": "", "billing_override_reason": "", "payload": ""}
            for c, late in todo])
        for c, _ in todo:
            result.changed[c] = state
        if capacity_override and not for_family:
            desk.audit(s, "capacity_override", "booking", None,
                       after={"cells": len(todo), "units": sorted({c[1] for c, _ in todo})})
    return result


def _check_capacity(ctx: _Context, cells: list[Cell], override: bool) -> None:
    adding = Counter((c[1], c[2]) for c in cells)
    full = []
    for (unit_id, day), n in sorted(adding.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        capacity = ctx.units[unit_id].capacity
        if capacity is not None and ctx.used[(unit_id, day)] + n > capacity:
            full.append(f"{ctx.units[unit_id].name} le {formats.ddmm(day)} "
                        f"({ctx.used[(unit_id, day)] + n}/{capacity})")
    if full and not override:
        shown = ", ".join(full[:5]) + (" …" if len(full) > 5 else "")
        raise CapacityExceeded(f"Capacité dépassée : {shown}. Confirmez le dépassement pour "
                             "réserver quand même.")


# --- cancelling ---------------------------------------------------------------------------

def cancel_cells(desk, cells: Iterable[Cell], *, billing: str, reason: str = "",
                 cal: Calendar | None = None) -> CellsResult:
    """R cells cancelled by the office: → blank (excusée) or → AF (facturée).

    Choosing against what the cancellation deadline proposes needs a reason, which is kept.
    """
    if billing not in (Billing.EXCUSED, Billing.BILLED):
        raise ValidationFailed([f"Facturation inconnue : « {billing} » (excusée ou facturée)."])
    cells = _unique(cells)
    result = CellsResult()
    if not cells:
        raise BookingRefused("Aucune case sélectionnée.")
    reason = (reason or "").strip()
    with desk.unit_of_work() as s:
        cal = cal or Calendar.load(s)
        ctx = _load(s, cells)
        now = desk.now()
        todo = []
        for cell in cells:
            why = _common_skip(ctx, cell)
            state = ctx.states.get(cell, (None, None))[1]
            if why is None and state != CellState.R:
                why = f"seule une case réservée peut être annulée (la case est {STATE_LABELS[state]})"
            if why:
                result.skipped[cell] = why
                continue
            activity = ctx.activities[ctx.units[cell[1]].activity_id]
            late = cal.is_late(now, cell[2], activity.cancellation_deadline_days,
                               activity.cancellation_deadline_time)
            todo.append((cell, late, Billing.BILLED if late else Billing.EXCUSED))
        _refuse_if_empty(result, ctx, todo)
        overrides = sum(1 for _, _, proposed in todo if proposed != billing)
        if overrides and not reason:
            chosen = "excusée" if billing == Billing.EXCUSED else "facturée"
            raise ValidationFailed([
                f"Motif obligatoire : {formats.count(overrides, 'annulation', 'annulations')} "
                f"{chosen}{'s' if overrides > 1 else ''} contre la règle du délai "
                "(par exemple « certificat médical »)."])
        login = desk.actor.login
        new_state = CellState.AF if billing == Billing.BILLED else None
        ids = [ctx.states[c][0] for c, _, _ in todo]
        if new_state is None:
            s.execute(delete(Booking).where(Booking.id.in_(ids)))
        else:
            s.execute(update(Booking).where(Booking.id.in_(ids)).values(
                state=new_state, updated_at=now, updated_by=login))
        s.execute(insert(Request), [
            {"kind": RequestKind.CANCELLATION, "source": RequestSource.DESK_OFFICE,
             "family_id": ctx.children[c[0]][1], "child_id": c[0], "unit_id": c[1], "day": c[2],
             "from_state": CellState.R, "to_state": new_state, "submitted_at": now,
             "submitted_by": login, "status": RequestStatus.ACCEPTED, "decided_by": login,
             "decided_at": now, "late": late, "proposed_billing": proposed, "billing": billing,
             "billing_override_reason": (reason if proposed != billing else ""),
             "capacity_override": False, "reason": "", "payload": ""}
            for c, late, proposed in todo])
        for c, _, _ in todo:
            result.changed[c] = new_state
        desk.audit(s, "cancel_direct", "booking", None, after={
            "cells": len(todo), "billing": billing, "overrides": overrides, "reason": reason})
    return result


def ask_cancel_cells(desk, cells: Iterable[Cell], *, cal: Calendar | None = None) -> CellsResult:
    """R → DA entered at the desk for the family ("pour la famille")."""
    return _per_cell(desk, cells, cal, lambda s, cal, child, unit, day: bookings.ask_cancellation(
        s, desk, cal, child, unit, day, source=RequestSource.DESK_FAMILY,
        submitted_at=desk.now()), "DA")


def withdraw_cells(desk, cells: Iterable[Cell]) -> CellsResult:
    """DR → blank: the family withdraws its pending requests."""
    def one(s, cal, child, unit, day):
        request = bookings.pending_request(s, child.id, unit.id, day)
        if request is None or request.kind != RequestKind.BOOKING:
            raise BookingRefused(f"{cell_label(child.full_name, unit.name, day)} : aucune demande "
                                 "de réservation en attente.")
        return bookings.withdraw(s, desk, request)
    return _per_cell(desk, cells, None, one, None)


def _per_cell(desk, cells, cal, fn, new_state) -> CellsResult:
    """Cell by cell through the primitives, for the small actions of help sessions."""
    cells = _unique(cells)
    result = CellsResult()
    with desk.unit_of_work() as s:
        cal = cal or Calendar.load(s)
        for cell in cells:
            child = s.get(Child, cell[0])
            unit = s.get(Unit, cell[1])
            try:
                with s.begin_nested():
                    request = fn(s, cal, child, unit, cell[2])
            except (BookingRefused, AlreadyDecided) as exc:
                result.skipped[cell] = str(exc)
                continue
            result.changed[cell] = new_state
            result.request_ids.append(request.id)
        if not result.changed:
            raise BookingRefused(next(iter(result.skipped.values()), "Aucune case sélectionnée."))
    return result


# --- deciding -----------------------------------------------------------------------------

def decide_cells(desk, cells: Iterable[Cell], accept: bool, *, reason: str = "",
                 billing: str | None = None, billing_reason: str = "",
                 capacity_override: bool = False, notify: bool = True) -> CellsResult:
    """Decide the pending requests of DR / DA cells; families get one e-mail per activity."""
    cells = _unique(cells)
    if not accept and not (reason or "").strip():
        raise ValidationFailed(["Un refus doit être motivé : indiquez la raison, elle est envoyée "
                                "à la famille."])
    result = CellsResult()
    if not cells:
        raise BookingRefused("Aucune case sélectionnée.")
    with desk.unit_of_work() as s:
        cal = Calendar.load(s)
        first, last = min(c[2] for c in cells), max(c[2] for c in cells)
        wanted = set(cells)
        pending = {}
        for r in s.execute(select(Request).where(
                Request.status == RequestStatus.PENDING,
                Request.child_id.in_({c[0] for c in cells}),
                Request.unit_id.in_({c[1] for c in cells}),
                Request.day >= first, Request.day <= last)).scalars():
            if (r.child_id, r.unit_id, r.day) in wanted:
                pending[(r.child_id, r.unit_id, r.day)] = r
        decided = []
        for cell in cells:
            request = pending.get(cell)
            if request is None:
                result.skipped[cell] = "aucune demande en attente sur cette case"
                continue
            try:
                with s.begin_nested():
                    bookings.apply_decision(
                        s, desk, request, accept, reason=reason, billing=billing,
                        billing_reason=billing_reason, capacity_override=capacity_override,
                        cal=cal)
            except (BookingRefused, AlreadyDecided) as exc:
                result.skipped[cell] = str(exc)
                continue
            result.changed[cell] = request.to_state
            result.request_ids.append(request.id)
            decided.append(request)
        if not result.changed:
            raise BookingRefused(next(iter(result.skipped.values()), "Aucune case sélectionnée."))
        if notify:
            notify_decisions(s, desk, decided)
    return result


def notify_decisions(s, desk, requests: list[Request]) -> int:
    """Queue one e-mail per family and activity for decided cell requests; returns how many."""
    from gandrange_desk.services.mail import texts as mail_texts
    from gandrange_desk.services.mail import outbox

    if not requests:
        return 0
    structure = s.execute(select(Structure).limit(1)).scalar()
    sender = mail_texts.Sender(structure=structure.name if structure else "",
                               phone=structure.phone if structure else "",
                               email=structure.email if structure else "",
                               portal_url=structure.portal_url if structure else "")
    units = {u.id: u for u in s.execute(select(Unit).where(
        Unit.id.in_({r.unit_id for r in requests}))).scalars()}
    activities = {a.id: a for a in s.execute(select(Activity).where(
        Activity.id.in_({u.activity_id for u in units.values()}))).scalars()}
    groups: dict[tuple[int, int], list[Request]] = defaultdict(list)
    for r in requests:
        if r.source == RequestSource.DESK_OFFICE:
            continue
        groups[(r.family_id, units[r.unit_id].activity_id)].append(r)
    sent = 0
    for (family_id, activity_id), items in sorted(groups.items()):
        family = s.get(Family, family_id)
        recipients = outbox.family_recipients(family)
        if not recipients:
            continue
        lines = [mail_texts.CellLine(
            kind=mail_texts.BOOKING if r.kind == RequestKind.BOOKING else mail_texts.CANCELLATION,
            accepted=r.status == RequestStatus.ACCEPTED, unit=units[r.unit_id].name, day=r.day,
            unit_position=units[r.unit_id].position, billing=r.billing, reason=r.reason)
            for r in items]
        mail = mail_texts.cell_decisions_mail(sender, activities[activity_id].name, lines)
        outbox.enqueue(s, desk, recipients=recipients, subject=mail.subject, body_text=mail.text,
                       body_html=mail.html, family_id=family_id, kind="decision",
                       related_requests=[r.id for r in items])
        sent += 1
    return sent


__all__ = ["CapacityExceeded", "Cell", "CellsResult", "ask_cancel_cells", "book_cells", "cancel_cells",
           "decide_cells", "notify_decisions", "withdraw_cells"]
