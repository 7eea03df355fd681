"""What a family sees and asks in "Mes réservations" and "Réservations sur période".

Reads are limited to the signed-in family's children. Every ask goes through the one rules
engine exactly as the portal feed does (`intake.feed.ask_cell` on a `CellBatch`, source PORTAL,
submitted now): a white cell becomes DR, an R becomes DA, the family's own DR is withdrawn;
lateness (hors délai), closed days and states are the rules' to judge, never this module's.
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from gandrange_desk import formats
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import (
    Activity, Booking, CellState, Child, Request, RequestKind, RequestStatus, Unit,
)
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk
from gandrange_desk.services.intake.feed import ask_cell
from gandrange_desk.services.reservations.engine import CellBatch, Step
from gandrange_desk.services.reservations.periods import (
    WEEK_TYPES, plan_for, preview_period, validate_period,
)
from gandrange_desk.services.reservations.rules import Refusal, nothing_changed

PORTAL_REF = "portail"
NOT_YOURS = "Page introuvable."

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")
WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")


@dataclass(frozen=True)
class ChildChoice:
    id: int
    name: str


@dataclass(frozen=True)
class ActivityChoice:
    id: int
    name: str
    booking_deadline: str
    cancellation_deadline: str


@dataclass
class DayRow:
    day: date
    label: str  # "Lundi 2"
    closed: str | None
    cells: list[tuple[int, str | None, bool]] = field(default_factory=list)  # (unit id, state, late)


@dataclass
class MonthGrid:
    child: ChildChoice
    activity: ActivityChoice
    month: date
    title: str  # "novembre 2026"
    units: list[tuple[int, str]]
    rows: list[DayRow]
    previous: date
    next: date


def deadline_text(days: int, hhmm: str, what: str) -> str:
    if days <= 0:
        return f"{what} : jusqu'au jour même, {hhmm.replace(':', ' h ')}."
    return (f"{what} : au plus tard {formats.count(days, 'jour ouvré', 'jours ouvrés')} avant, "
            f"à {hhmm.replace(':', ' h ')}.")


def _activity_choice(a: Activity) -> ActivityChoice:
    return ActivityChoice(a.id, a.name,
                          deadline_text(a.booking_deadline_days, a.booking_deadline_time, "Réservation"),
                          deadline_text(a.cancellation_deadline_days, a.cancellation_deadline_time,
                                        "Annulation"))


def children(desk: Desk, family_id: int) -> list[ChildChoice]:
    with desk.read() as s:
        return [ChildChoice(c.id, c.full_name) for c in s.execute(
            select(Child).where(Child.family_id == family_id, Child.archived.is_(False))
            .order_by(Child.birth_date, Child.id)).scalars()]


def activities(desk: Desk) -> list[ActivityChoice]:
    with desk.read() as s:
        return [_activity_choice(a) for a in s.execute(select(Activity).order_by(Activity.position, Activity.id)).scalars()]


def units(desk: Desk) -> list[tuple[int, str]]:
    """Every unit as "Activité — Unité", for the period form's Structure choice."""
    with desk.read() as s:
        return [(u.id, f"{a.name} — {u.name}") for u, a in s.execute(
            select(Unit, Activity).join(Activity).order_by(Activity.position, Activity.id, Unit.position, Unit.id))]


def _own_children(s, family_id: int, child_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(child_ids))
    found = {cid for (cid,) in s.execute(select(Child.id).where(
        Child.id.in_(wanted), Child.family_id == family_id, Child.archived.is_(False)))} if wanted else set()
    if not wanted or found != set(wanted):
        raise NotFound(NOT_YOURS)
    return wanted


def month_grid(desk: Desk, family_id: int, child_id: int, activity_id: int, month: date) -> MonthGrid:
    month = month.replace(day=1)
    last = month.replace(day=pycalendar.monthrange(month.year, month.month)[1])
    with desk.read() as s:
        # The child only if it is the family's own (one read for the check and the name).
        child = s.execute(select(Child).where(
            Child.id == child_id, Child.family_id == family_id, Child.archived.is_(False))).scalar_one_or_none()
        if child is None:
            raise NotFound(NOT_YOURS)
        activity = s.execute(select(Activity).where(Activity.id == activity_id)
                             .options(joinedload(Activity.units))).unique().scalar_one_or_none()
        if activity is None:
            raise NotFound(NOT_YOURS)
        units = [(u.id, u.name) for u in activity.units]
        unit_ids = [uid for uid, _name in units]
        # Closed days by the desk's own calendar, its year table computed once per process.
        closed = Calendar.load_shared(s).closed_days(activity, month, last)
        states = dict(((unit_id, day), state) for unit_id, day, state in s.execute(
            select(Booking.unit_id, Booking.day, Booking.state).where(
                Booking.child_id == child_id, Booking.unit_id.in_(unit_ids),
                Booking.day >= month, Booking.day <= last))) if unit_ids else {}
        late = set(s.execute(select(Request.unit_id, Request.day).where(
            Request.child_id == child_id, Request.status == RequestStatus.PENDING,
            Request.late.is_(True), Request.day >= month, Request.day <= last)).tuples()) if unit_ids else set()
        choice = _activity_choice(activity)
    rows = []
    for n in range(1, last.day + 1):
        day = month.replace(day=n)
        row = DayRow(day, f"{WEEKDAYS[day.weekday()]} {n}", closed.get(day))
        row.cells = [(uid, states.get((uid, day)), (uid, day) in late) for uid in unit_ids]
        rows.append(row)
    previous = (month - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    return MonthGrid(ChildChoice(child.id, child.full_name), choice, month,
                     f"{MONTHS[month.month - 1]} {month.year}", units, rows, previous, following)


@dataclass
class AskResult:
    asked: int = 0  # DR created
    cancellations: int = 0  # DA created
    withdrawn: int = 0
    late: int = 0
    skipped: list[str] = field(default_factory=list)  # French sentences of cells left alone

    def summary(self) -> str:
        parts = []
        if self.asked:
            parts.append(formats.count(self.asked, "demande de réservation envoyée",
                                       "demandes de réservation envoyées"))
        if self.cancellations:
            parts.append(formats.count(self.cancellations, "demande d'annulation envoyée",
                                       "demandes d'annulation envoyées"))
        if self.withdrawn:
            parts.append(formats.count(self.withdrawn, "demande retirée", "demandes retirées"))
        text = ", ".join(parts) + "." if parts else ""
        if self.asked or self.cancellations:
            text += " La structure doit valider."
        if self.late:
            text += " " + formats.count(self.late, "demande est hors délai", "demandes sont hors délai") + \
                " : la structure en décidera selon le règlement intérieur."
        return text.strip()


def _ask(desk: Desk, family_id: int, cells: list[tuple[int, int, date, str]] | None, only_white: bool,
         period: "PeriodForm | None" = None) -> AskResult:
    """cells: (child, unit, day, kind) with kind "booking", "cancellation" or None (by the cell's
    state: white → booking, else cancellation); or, with `period`,
    the white cells of that period, worked out in the same transaction (one check of the
    children, one calendar for the period's days and the rules)."""
    result = AskResult()
    with desk.unit_of_work() as s:
        cal = None
        if period is not None:
            _own_children(s, family_id, period.child_ids)
            # The calendar as stored now; its closed days of the year worked out once per process.
            cal = Calendar.load_shared(s)
            plan = plan_for(s, cal, period.unit_id, period.first, period.last, period.week_type, period.weekdays)
            if not plan.days:
                raise ValidationFailed(["Aucun jour d'ouverture dans cette période pour ces choix."])
            cells = [(cid, period.unit_id, day, "booking") for cid in period.child_ids for day in plan.days]
        else:
            _own_children(s, family_id, [c[0] for c in cells])
        batch = CellBatch(s, desk, cal).load([c[:3] for c in cells], pending=True)
        refusals: list[tuple[tuple, Refusal]] = []
        for child_id, unit_id, day, kind in cells:
            cell = (child_id, unit_id, day)
            state = batch.rules.state(cell)
            if only_white and state is not None:
                continue  # a period only asks for the white cells, as its total counts them
            if kind is None:  # a click: a white cell is asked for, any other is cancelled
                kind = "booking" if state is None else "cancellation"
            outcome = ask_cell(batch, kind, cell, batch.now, PORTAL_REF)
            if isinstance(outcome, Refusal):
                refusals.append((cell, outcome))
                result.skipped.append(outcome.sentence(batch.label(cell)))
                continue
            if outcome.status == RequestStatus.WITHDRAWN:
                result.withdrawn += 1
            elif outcome.kind == RequestKind.BOOKING:
                result.asked += 1
            else:
                result.cancellations += 1
            result.late += bool(outcome.late and outcome.status == RequestStatus.PENDING)
        if not (result.asked or result.cancellations or result.withdrawn):
            if refusals:
                cell, refusal = refusals[0]
                raise nothing_changed(batch.label(cell), refusal.reason, len(refusals) - 1)
            raise ValidationFailed(["Aucune case à demander : elles sont déjà réservées ou demandées."])
        steps: list[Step] = batch.flush()
        desk.audit(s, "portal.cells", "request", None, family_id=family_id, after={
            "requests": [step.request_id for step in steps], "asked": result.asked,
            "cancellations": result.cancellations, "withdrawn": result.withdrawn})
    return result


def click_cell(desk: Desk, family_id: int, child_id: int, unit_id: int, day: date) -> AskResult:
    """One click on the grid: white → DR, R → DA, the family's own DR → withdrawn (which of
    them, from the cell's state as the rules read it in the same transaction)."""
    return _ask(desk, family_id, [(child_id, unit_id, day, None)], only_white=False)


@dataclass(frozen=True)
class PeriodForm:
    child_ids: list[int]
    unit_id: int
    first: date | None
    last: date | None
    week_type: str
    weekdays: list[int]

    def problems(self) -> list[str]:
        problems = validate_period(self.first, self.last, self.week_type, self.weekdays)
        if not self.child_ids:
            problems.append("Cochez au moins un enfant.")
        return problems


def period_total(desk: Desk, family_id: int, form: PeriodForm) -> int:
    """The white cells RÉSERVER would ask for (the number shown as "Total : N")."""
    problems = form.problems()
    if problems:
        raise ValidationFailed(problems)
    with desk.read() as s:
        _own_children(s, family_id, form.child_ids)
    return preview_period(desk, form.child_ids, form.unit_id, form.first, form.last, form.week_type,
                          form.weekdays).total


def book_period(desk: Desk, family_id: int, form: PeriodForm) -> AskResult:
    problems = form.problems()
    if problems:
        raise ValidationFailed(problems)
    return _ask(desk, family_id, None, only_white=True, period=form)


LEGEND = [("", "Case blanche : cliquez pour demander une réservation"),
          (CellState.DR, "Demande de réservation : la structure doit valider"),
          (CellState.R, "Réservé : cliquez pour demander une annulation"),
          (CellState.DA, "Demande d'annulation : la structure doit valider"),
          (CellState.AF, "Annulation facturée"),
          ("closed", "Fermé")]

__all__ = ["AskResult", "ActivityChoice", "ChildChoice", "LEGEND", "MONTHS", "MonthGrid", "PeriodForm",
           "WEEKDAYS", "WEEK_TYPES", "activities", "book_period", "children", "click_cell",
           "month_grid", "period_total", "units"]
