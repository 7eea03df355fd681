"""The reservation cell state machine of DESIGN §2: session-level primitives.

A cell is (child, unit, day); a blank cell has no Booking row. The transitions, and only those:

    blank → DR   ask_booking (portal, or the desk for the family)
    DR → R       apply_decision(accept)          DR → blank  apply_decision(refuse) / withdraw
    blank → R    ask_booking(source=DESK_OFFICE) (the office books directly)
    R → DA       ask_cancellation
    DA → blank   apply_decision(accept, excused) DA → AF     apply_decision(accept, billed)
    DA → R       apply_decision(refuse)
    R → blank/AF ask_cancellation(source=DESK_OFFICE, billing=…) (the office cancels directly)

Each transition writes or decides one Request row. `from_state` is the cell before the request
was made, `to_state` the cell as the request leaves it (updated by the decision), so a cell's
history is its requests in order and the last one's `to_state` is the cell.

These functions work inside the caller's transaction (the validation queue calls them in its
own); user-level operations over many cells, one transaction each, are in `cells.py`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gandrange_desk import formats
from gandrange_desk.clock import to_paris
from gandrange_desk.errors import AlreadyDecided, DeskError, NotFound, ValidationFailed
from gandrange_desk.models import (
    Activity, Billing, Booking, CellState, Child, Invoice, InvoiceStatus, Request, RequestKind,
    RequestSource, RequestStatus, Unit,
)

from gandrange_desk.services.calendar import Calendar

# States that hold a place: a DR is not yet accepted, an AF child does not come.
OCCUPYING = (CellState.R, CellState.DA)

STATE_LABELS = {
    None: "vide",
    CellState.DR: "demande de réservation en attente",
    CellState.R: "réservée",
    CellState.DA: "demande d'annulation en attente",
    CellState.AF: "annulée et facturée",
}
BILLING_LABELS = {Billing.EXCUSED: "excusée", Billing.BILLED: "facturée"}
STATUS_LABELS = {
    RequestStatus.PENDING: "en attente",
    RequestStatus.ACCEPTED: "acceptée",
    RequestStatus.REFUSED: "refusée",
    RequestStatus.WITHDRAWN: "retirée",
}

# Every (from, to) a cell may take, for the property tests and for checks.
TRANSITIONS = {
    (None, CellState.DR), (CellState.DR, CellState.R), (CellState.DR, None), (None, CellState.R),
    (CellState.R, CellState.DA), (CellState.DA, None), (CellState.DA, CellState.AF),
    (CellState.DA, CellState.R), (CellState.R, None), (CellState.R, CellState.AF),
}


class BookingRefused(DeskError):
    """A cell change that the rules forbid; nothing was written."""


class CapacityExceeded(BookingRefused):
    """Over capacity without the explicit override: the UI asks, then retries with it."""


def cell_label(child_name: str, unit_name: str, day: date) -> str:
    return f"{child_name} — {unit_name} du {formats.WEEKDAYS_FR[day.weekday()]} {formats.ddmmyyyy(day)}"


def month_start(day: date) -> date:
    return day.replace(day=1)


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


def month_invoiced(s: Session, family_id: int, day: date) -> bool:
    return s.execute(select(Invoice.id).where(
        Invoice.family_id == family_id, Invoice.month == month_start(day),
        Invoice.status == InvoiceStatus.ISSUED)).first() is not None


def pending_request(s: Session, child_id: int, unit_id: int, day: date) -> Request | None:
    return s.execute(select(Request).where(
        Request.child_id == child_id, Request.unit_id == unit_id, Request.day == day,
        Request.status == RequestStatus.PENDING).order_by(Request.id.desc()).limit(1)).scalar()


# --- checks shared by the primitives -------------------------------------------------------

def _activity(s: Session, unit: Unit) -> Activity:
    activity = unit.activity if "activity" in unit.__dict__ else None
    return activity or s.get(Activity, unit.activity_id)


def _check_child(child: Child, family_id: int | None, label: str) -> None:
    if family_id is not None and child.family_id != family_id:
        raise BookingRefused(f"{label} : cet enfant n'est pas de cette famille.")
    if child.archived:
        raise BookingRefused(f"{label} : la fiche de cet enfant est archivée.")


def _check_open(cal: Calendar, activity: Activity, day: date, label: str) -> None:
    reason = cal.closed_reason(activity, day)
    if reason:
        raise BookingRefused(f"{label} : jour fermé ({reason}).")


def _check_unlocked(s: Session, family_id: int, day: date, label: str) -> None:
    if month_invoiced(s, family_id, day):
        raise BookingRefused(
            f"{label} : les factures {formats.of_month(day)} sont émises, ce mois est verrouillé "
            "(une correction passe en régularisation sur la facture suivante).")


def _check_capacity(s: Session, unit: Unit, day: date, override: bool, label: str) -> None:
    left = capacity_left(s, unit.id, day)
    if left is not None and left <= 0 and not override:
        raise CapacityExceeded(
            f"{label} : complet ({formats.count(unit.capacity, 'place', 'places')}). "
            "Dépasser la capacité demande une confirmation explicite.")


def _state_refusal(state: str | None, label: str, wanted: str) -> BookingRefused:
    if state in (CellState.DR, CellState.DA):
        return BookingRefused(f"{label} : une demande est déjà en attente sur cette case "
                              f"({STATE_LABELS[state]}).")
    return BookingRefused(f"{label} : impossible {wanted}, la case est {STATE_LABELS[state]}.")


def _desk_login(desk, source: str) -> str | None:
    return None if source == RequestSource.PORTAL else desk.actor.login


# --- the transitions -----------------------------------------------------------------------

def ask_booking(s: Session, desk, cal: Calendar, child: Child, unit: Unit, day: date, *,
                source: str, submitted_at: datetime, ref: str | None = None,
                family_id: int | None = None, capacity_override: bool = False) -> Request:
    """blank → DR (portal / desk for the family), or blank → R when source is DESK_OFFICE."""
    activity = _activity(s, unit)
    label = cell_label(child.full_name, unit.name, day)
    _check_child(child, family_id, label)
    _check_open(cal, activity, day, label)
    state = cell_state(s, child.id, unit.id, day)
    if state is not None:
        raise _state_refusal(state, label, "de réserver")
    _check_unlocked(s, child.family_id, day, label)
    late = cal.is_late(submitted_at, day, activity.booking_deadline_days,
                       activity.booking_deadline_time)
    direct = source == RequestSource.DESK_OFFICE
    if direct:
        _check_capacity(s, unit, day, capacity_override, label)
    now = desk.now()
    new_state = CellState.R if direct else CellState.DR
    s.execute(insert(Booking).values(
        child_id=child.id, unit_id=unit.id, day=day, state=new_state, late=late,
        updated_at=now, updated_by=desk.actor.login))
    request = Request(
        kind=RequestKind.BOOKING, source=source, ref=ref, family_id=child.family_id,
        child_id=child.id, unit_id=unit.id, day=day, from_state=None, to_state=new_state,
        submitted_at=to_paris(submitted_at), submitted_by=_desk_login(desk, source),
        status=RequestStatus.ACCEPTED if direct else RequestStatus.PENDING,
        decided_by=desk.actor.login if direct else None, decided_at=now if direct else None,
        late=late, capacity_override=bool(direct and capacity_override),
    )
    s.add(request)
    s.flush()
    if direct and capacity_override:
        desk.audit(s, "capacity_override", "request", request.id, family_id=child.family_id,
                   after={"unit": unit.name, "day": day})
    return request


def ask_cancellation(s: Session, desk, cal: Calendar, child: Child, unit: Unit, day: date, *,
                     source: str, submitted_at: datetime, ref: str | None = None,
                     family_id: int | None = None, billing: str | None = None,
                     billing_reason: str = "") -> Request:
    """R → DA; with source DESK_OFFICE the office cancels directly: R → blank (excusée) or AF."""
    activity = _activity(s, unit)
    label = cell_label(child.full_name, unit.name, day)
    _check_child(child, family_id, label)
    state = cell_state(s, child.id, unit.id, day)
    if state != CellState.R:
        raise _state_refusal(state, label, "d'annuler")
    _check_unlocked(s, child.family_id, day, label)
    late = cal.is_late(submitted_at, day, activity.cancellation_deadline_days,
                       activity.cancellation_deadline_time)
    proposed = Billing.BILLED if late else Billing.EXCUSED
    now = desk.now()
    request = Request(
        kind=RequestKind.CANCELLATION, source=source, ref=ref, family_id=child.family_id,
        child_id=child.id, unit_id=unit.id, day=day, from_state=CellState.R,
        submitted_at=to_paris(submitted_at), submitted_by=_desk_login(desk, source),
        late=late, proposed_billing=proposed,
    )
    where = (Booking.child_id == child.id, Booking.unit_id == unit.id, Booking.day == day)
    if source == RequestSource.DESK_OFFICE:
        chosen = billing or proposed
        _validate_billing(chosen)
        request.status = RequestStatus.ACCEPTED
        request.decided_by, request.decided_at = desk.actor.login, now
        request.billing = chosen
        if chosen != proposed:
            request.billing_override_reason = billing_reason.strip() or "Choix du bureau"
        if chosen == Billing.BILLED:
            request.to_state = CellState.AF
            s.execute(update(Booking).where(*where).values(
                state=CellState.AF, updated_at=now, updated_by=desk.actor.login))
        else:
            request.to_state = None
            s.execute(delete(Booking).where(*where))
    else:
        if billing is not None:
            raise ValueError("billing is chosen when the cancellation is decided")
        request.status = RequestStatus.PENDING
        request.to_state = CellState.DA
        s.execute(update(Booking).where(*where).values(
            state=CellState.DA, updated_at=now, updated_by=desk.actor.login))
    s.add(request)
    s.flush()
    if request.billing:
        desk.audit(s, "cancel_direct", "request", request.id, family_id=child.family_id,
                   after={"billing": request.billing, "proposed": proposed,
                          "reason": request.billing_override_reason})
    return request


def _validate_billing(billing: str) -> None:
    if billing not in (Billing.EXCUSED, Billing.BILLED):
        raise ValidationFailed([f"Facturation inconnue : « {billing} » (excusée ou facturée)."])


def already_decided_message(desk, decided_by: str | None, decided_at: datetime | None,
                            status: str | None = None) -> str:
    who = decided_by or "un autre poste"
    if status == RequestStatus.WITHDRAWN:
        return "Demande déjà retirée par la famille."
    if decided_at is None:
        return f"Demande déjà traitée par {who}."
    at = to_paris(decided_at)
    if at.date() == desk.today():
        return f"Demande déjà traitée par {who} à {at:%H:%M}."
    return f"Demande déjà traitée par {who} le {formats.ddmmyyyy(at.date())} à {at:%H:%M}."


def _claim(s: Session, desk, request: Request, values: dict) -> None:
    """Decide exactly once: the conditional UPDATE is the lock between workstations."""
    result = s.execute(
        update(Request).where(Request.id == request.id, Request.status == RequestStatus.PENDING)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        row = s.execute(select(Request.decided_by, Request.decided_at, Request.status)
                        .where(Request.id == request.id)).one()
        raise AlreadyDecided(already_decided_message(desk, *row))
    for key, value in values.items():
        set_committed_value(request, key, value)


def apply_decision(s: Session, desk, request: Request | int, accept: bool, *, reason: str = "",
                   billing: str | None = None, billing_reason: str = "",
                   capacity_override: bool = False, cal: Calendar | None = None) -> Request:
    """Decide a pending DR or DA request: DR → R / blank, DA → blank / AF / R."""
    if isinstance(request, int):
        found = s.get(Request, request)
        if found is None:
            raise NotFound(f"Demande n° {request} introuvable.")
        request = found
    if request.kind not in (RequestKind.BOOKING, RequestKind.CANCELLATION):
        raise DeskError("Cette demande ne concerne pas une case du planning.")
    if request.status != RequestStatus.PENDING:
        raise AlreadyDecided(already_decided_message(
            desk, request.decided_by, request.decided_at, request.status))
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ValidationFailed(["Un refus doit être motivé : indiquez la raison, elle est envoyée "
                                "à la famille."])
    child = s.get(Child, request.child_id)
    unit = s.get(Unit, request.unit_id)
    day = request.day
    label = cell_label(child.full_name, unit.name, day)
    state = cell_state(s, child.id, unit.id, day)
    booking = request.kind == RequestKind.BOOKING
    expected = CellState.DR if booking else CellState.DA
    if state != expected:
        row = s.execute(select(Request.decided_by, Request.decided_at, Request.status)
                        .where(Request.id == request.id)).one()
        if row.status != RequestStatus.PENDING:
            raise AlreadyDecided(already_decided_message(desk, *row))
        raise BookingRefused(f"{label} : la case est {STATE_LABELS[state]}, la demande ne peut "
                             "plus être décidée.")
    now = desk.now()
    values = {"decided_by": desk.actor.login, "decided_at": now, "reason": reason,
              "status": RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED}
    where = (Booking.child_id == child.id, Booking.unit_id == unit.id, Booking.day == day)
    stamp_values = {"updated_at": now, "updated_by": desk.actor.login}
    if booking and accept:
        cal = cal or Calendar.load(s)
        _check_open(cal, _activity(s, unit), day, label)
        _check_unlocked(s, child.family_id, day, label)
        _check_capacity(s, unit, day, capacity_override, label)
        values.update(to_state=CellState.R, capacity_override=bool(capacity_override))
        _claim(s, desk, request, values)
        s.execute(update(Booking).where(*where).values(
            state=CellState.R, late=request.late, **stamp_values))
    elif booking:
        values.update(to_state=None)
        _claim(s, desk, request, values)
        s.execute(delete(Booking).where(*where))
    elif accept:
        _check_unlocked(s, child.family_id, day, label)
        chosen = billing or request.proposed_billing or Billing.EXCUSED
        _validate_billing(chosen)
        values["billing"] = chosen
        if request.proposed_billing and chosen != request.proposed_billing:
            values["billing_override_reason"] = billing_reason.strip() or "Choix du bureau"
        values["to_state"] = CellState.AF if chosen == Billing.BILLED else None
        _claim(s, desk, request, values)
        if chosen == Billing.BILLED:
            s.execute(update(Booking).where(*where).values(state=CellState.AF, **stamp_values))
        else:
            s.execute(delete(Booking).where(*where))
    else:
        values.update(to_state=CellState.R)
        _claim(s, desk, request, values)
        s.execute(update(Booking).where(*where).values(state=CellState.R, **stamp_values))
    desk.audit(s, "decide", "request", request.id, family_id=request.family_id,
               before={"state": expected},
               after={"status": values["status"], "state": values.get("to_state"),
                      "billing": values.get("billing"), "reason": reason,
                      "billing_override_reason": values.get("billing_override_reason"),
                      "capacity_override": bool(capacity_override and booking and accept)})
    return request


def withdraw(s: Session, desk, request: Request | int, *, reason: str = "") -> Request:
    """DR → blank: the family withdraws its pending booking request."""
    if isinstance(request, int):
        request = s.get(Request, request)
        if request is None:
            raise NotFound("Demande introuvable.")
    if request.kind != RequestKind.BOOKING or request.status != RequestStatus.PENDING:
        raise BookingRefused("Seule une demande de réservation en attente peut être retirée.")
    _claim(s, desk, request, {"status": RequestStatus.WITHDRAWN, "to_state": None,
                              "decided_by": desk.actor.login, "decided_at": desk.now(),
                              "reason": (reason or "").strip() or "Retirée par la famille"})
    s.execute(delete(Booking).where(Booking.child_id == request.child_id,
                                    Booking.unit_id == request.unit_id, Booking.day == request.day))
    return request


def history_text(requests: list[Request]) -> str:
    """The cell's tooltip: one line per request, who / when / source / decision / reason."""
    from gandrange_desk.models import SOURCE_LABELS

    lines = []
    for r in requests:
        what = "Réservation" if r.kind == RequestKind.BOOKING else "Annulation"
        source = SOURCE_LABELS.get(r.source, r.source)
        line = f"{what} — {source}, {formats.instant(r.submitted_at)}"
        if r.submitted_by:
            line += f" ({r.submitted_by})"
        if r.late:
            line += ", hors délai"
        status = STATUS_LABELS.get(r.status, r.status)
        if r.status != RequestStatus.PENDING and r.decided_at:
            line += f" : {status} par {r.decided_by} le {formats.instant(r.decided_at)}"
        else:
            line += f" : {status}"
        if r.billing:
            line += f", {BILLING_LABELS.get(r.billing, r.billing)}"
        if r.billing_override_reason:
            line += f" (motif : {r.billing_override_reason})"
        if r.capacity_override:
            line += ", au-delà de la capacité"
        if r.reason:
            line += f" — « {r.reason} »"
        lines.append(line)
    return "\n".join(lines) or "Aucune demande sur cette case."


__all__ = [
    "BookingRefused", "CapacityExceeded", "OCCUPYING", "STATE_LABELS", "TRANSITIONS", "already_decided_message",
    "apply_decision", "ask_booking", "ask_cancellation", "capacity_left", "cell_history",
    "cell_label", "cell_state", "history_text", "month_invoiced", "pending_request", "withdraw",
]
