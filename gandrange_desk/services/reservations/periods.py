"""Period booking ("Réservations sur période"): from, to, week type, weekdays → open days.

Week parity is the ISO week number's. A 53-week ISO year makes week 53 and the next week 1
both odd (two odd weeks running) and leaves two even-less weeks; the plan says so in French
instead of booking silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

from sqlalchemy import select

from gandrange_desk import formats
from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Activity, Booking, Child, Unit

from gandrange_desk.services.calendar import Calendar

WEEK_TYPES = {"all": "Toutes les semaines", "even": "Semaines paires", "odd": "Semaines impaires"}
MAX_DAYS = 400


@dataclass
class PeriodPlan:
    days: list[date]  # open days matching week type and weekdays, ascending
    notes: list[str] = field(default_factory=list)  # French remarks (ISO week 53…)
    closed: dict[date, str] = field(default_factory=dict)  # matching days skipped as closed


@dataclass
class PeriodPreview:
    plan: PeriodPlan
    to_book: int  # cells that will change (blank)
    already: int  # cells already booked or asked
    children: int

    @property
    def total(self) -> int:
        return self.to_book

    def text(self) -> str:
        line = f"Total : {self.to_book}"
        if self.already:
            line += f" ({formats.count(self.already, 'case déjà réservée ou demandée', 'cases déjà réservées ou demandées')})"
        return line


def validate_period(first: date | None, last: date | None, week_type: str,
                    weekdays: Iterable[int]) -> list[str]:
    problems = []
    if first is None or last is None:
        problems.append("Indiquez la date de début et la date de fin.")
    elif last < first:
        problems.append("La date de fin précède la date de début.")
    elif (last - first).days > MAX_DAYS:
        problems.append(f"Période trop longue : {MAX_DAYS} jours au plus.")
    if week_type not in WEEK_TYPES:
        problems.append(f"Type de semaine inconnu : « {week_type} » (all, even ou odd).")
    if not set(weekdays):
        problems.append("Cochez au moins un jour de la semaine.")
    return problems


def week_matches(day: date, week_type: str) -> bool:
    if week_type == "all":
        return True
    odd = day.isocalendar()[1] % 2 == 1
    return odd if week_type == "odd" else not odd


def iso_weeks_in_year(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


def expand_period(cal: Calendar, activity, first: date, last: date, week_type: str,
                  weekdays: Iterable[int]) -> PeriodPlan:
    """The open days of the period for the activity, matching the week type and weekdays."""
    weekdays = set(weekdays)
    problems = validate_period(first, last, week_type, weekdays)
    if problems:
        raise ValidationFailed(problems)
    plan = PeriodPlan(days=[])
    closed_all = cal.closed_days(activity, first, last)
    day = first
    one = timedelta(days=1)
    week53_years = set()
    while day <= last:
        iso_year, iso_week, _ = day.isocalendar()
        if iso_week == 53:
            week53_years.add(iso_year)
        if day.weekday() in weekdays and week_matches(day, week_type):
            reason = closed_all.get(day)
            if reason is None:
                plan.days.append(day)
            else:
                plan.closed[day] = reason
        day += one
    if week_type != "all":
        for year in sorted(week53_years):
            plan.notes.append(week53_note(year, week_type))
    return plan


def week53_note(year: int, week_type: str) -> str:
    if week_type == "odd":
        return (f"L'année {year} compte 53 semaines : la semaine 53 et la semaine 1 de {year + 1} "
                "sont toutes deux impaires, elles sont réservées toutes les deux (deux semaines "
                "de suite).")
    return (f"L'année {year} compte 53 semaines : ni la semaine 53 ni la semaine 1 de {year + 1} "
            "ne sont paires, aucune n'est réservée (trois semaines sans réservation après la "
            "semaine 52).")


def plan_for(s, cal, unit_id, first, last, week_type, weekdays):
    unit = s.get(Unit, unit_id)
    if unit is None:
        raise ValidationFailed(["Unité introuvable."])
    activity = s.get(Activity, unit.activity_id)
    return expand_period(cal, activity, first, last, week_type, weekdays)


def preview_period(desk, child_ids: Iterable[int], unit_id: int, first: date, last: date,
                   week_type: str, weekdays: Iterable[int]) -> PeriodPreview:
    """What "Réserver" would do, for the dialog's live total: no write."""
    child_ids = sorted(set(child_ids))
    with desk.read() as s:
        cal = Calendar.load_shared(s)  # the same calendar; its year's closed days kept per process
        plan = plan_for(s, cal, unit_id, first, last, week_type, weekdays)
        taken = 0
        if plan.days and child_ids:
            taken = len(s.execute(select(Booking.id).where(
                Booking.child_id.in_(child_ids), Booking.unit_id == unit_id,
                Booking.day.in_(plan.days))).all())
        archived = s.execute(select(Child.id).where(
            Child.id.in_(child_ids), Child.archived.is_(True))).all() if child_ids else []
    live = len(child_ids) - len(archived)
    return PeriodPreview(plan=plan, to_book=max(0, len(plan.days) * live - taken), already=taken,
                         children=live)


__all__ = ["PeriodPlan", "PeriodPreview", "WEEK_TYPES", "plan_for", "expand_period",
           "iso_weeks_in_year", "preview_period", "validate_period", "week53_note", "week_matches"]
