"""Period booking: open days only, ISO week parity, the week-53 remark, preview then booking."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Booking, Request
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.reservations.cells import book_period
from gandrange_desk.services.reservations.periods import (
    expand_period, iso_weeks_in_year, preview_period, week_matches,
)
from tests.builders import load_example_settings, make_family, unit_id


@dataclass
class Act:
    opens: str
    weekday_numbers: set[int] = field(default_factory=set)


PERI = Act("school_days", {0, 1, 3, 4})
MERCREDI = Act("wednesdays", {2})
VACANCES = Act("holiday_weekdays", {0, 1, 2, 3, 4})
CAL = Calendar(zone="B", subdivision="57",
               closures=[(date(2026, 5, 15), date(2026, 5, 15), "Pont de l'Ascension")])


@settings(max_examples=200, deadline=None)
@given(first=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 1)),
       length=st.integers(min_value=0, max_value=120),
       week_type=st.sampled_from(["all", "even", "odd"]),
       weekdays=st.sets(st.integers(min_value=0, max_value=6), min_size=1),
       activity=st.sampled_from([PERI, MERCREDI, VACANCES]))
def test_expansion_is_exactly_the_matching_open_days(first, length, week_type, weekdays, activity):
    last = first + timedelta(days=length)
    plan = expand_period(CAL, activity, first, last, week_type, weekdays)
    expected = [first + timedelta(days=i) for i in range(length + 1)]
    expected = [d for d in expected if d.weekday() in weekdays and week_matches(d, week_type)
                and CAL.is_open(activity, d)]
    assert plan.days == expected
    for day in plan.days:
        assert CAL.closed_reason(activity, day) is None  # never a closed day
        assert first <= day <= last
        week = day.isocalendar()[1]
        if week_type == "odd":
            assert week % 2 == 1
        elif week_type == "even":
            assert week % 2 == 0
    assert set(plan.closed).isdisjoint(plan.days)


def test_example_march_2026_mondays_and_thursdays():
    plan = expand_period(CAL, PERI, date(2026, 3, 16), date(2026, 4, 10), "all", {0, 3})
    # Easter: Monday 6 April is a public holiday; the 10th is a Friday, not ticked.
    assert plan.days == [date(2026, 3, 16), date(2026, 3, 19), date(2026, 3, 23), date(2026, 3, 26),
                         date(2026, 3, 30), date(2026, 4, 2), date(2026, 4, 9)]
    assert plan.closed == {date(2026, 4, 6): "Jour férié : Lundi de Pâques"}
    assert plan.notes == []


def test_odd_weeks():
    plan = expand_period(CAL, MERCREDI, date(2026, 3, 1), date(2026, 3, 31), "odd", {2})
    assert plan.days == [date(2026, 3, 11), date(2026, 3, 25)]  # ISO weeks 11 and 13
    plan = expand_period(CAL, MERCREDI, date(2026, 3, 1), date(2026, 3, 31), "even", {2})
    assert plan.days == [date(2026, 3, 4), date(2026, 3, 18)]


def test_week_53_is_announced():
    assert iso_weeks_in_year(2026) == 53 and iso_weeks_in_year(2025) == 52
    plan = expand_period(CAL, VACANCES, date(2026, 12, 14), date(2027, 1, 10), "odd", {0, 1, 2, 3, 4})
    # Week 52 (21-24/12) is even; week 53 (28-31/12) is odd and open; 1 January is a holiday.
    assert plan.days == [date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30),
                         date(2026, 12, 31)]
    assert plan.notes == [
        "L'année 2026 compte 53 semaines : la semaine 53 et la semaine 1 de 2027 sont toutes deux "
        "impaires, elles sont réservées toutes les deux (deux semaines de suite)."]
    even = expand_period(CAL, VACANCES, date(2026, 12, 14), date(2027, 1, 10), "even", {0, 1, 2, 3, 4})
    assert "ni la semaine 53 ni la semaine 1 de 2027" in even.notes[0]
    assert expand_period(CAL, VACANCES, date(2026, 12, 14), date(2027, 1, 10), "all", {0}).notes == []


@pytest.mark.parametrize("first,last,week_type,weekdays,message", [
    (date(2026, 3, 20), date(2026, 3, 10), "all", {0}, "La date de fin précède la date de début."),
    (date(2026, 3, 1), date(2026, 3, 10), "all", set(), "Cochez au moins un jour de la semaine."),
    (date(2026, 3, 1), date(2026, 3, 10), "weekly", {0}, "Type de semaine inconnu"),
])
def test_bad_periods(first, last, week_type, weekdays, message):
    with pytest.raises(ValidationFailed, match=message):
        expand_period(CAL, PERI, first, last, week_type, weekdays)


def test_preview_then_book(desk, clock):
    clock.set(2026, 3, 2, 9, 0)
    load_example_settings(desk)
    family = make_family(desk, "Martin", children=[{"first_name": "Léa"}, {"first_name": "Hugo"}])
    kids = [c.id for c in family.children]
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    preview = preview_period(desk, kids, repas, date(2026, 3, 16), date(2026, 4, 10), "all", {0, 3})
    assert len(preview.plan.days) == 7 and preview.to_book == 14 and preview.text() == "Total : 14"
    result = book_period(desk, kids, repas, date(2026, 3, 16), date(2026, 4, 10), "all", {0, 3},
                         for_family=True)
    assert len(result.changed) == 14 and set(result.changed.values()) == {"DR"}
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(Booking)).scalar() == 14
        assert s.execute(select(func.count()).select_from(Request).where(
            Request.status == "pending")).scalar() == 14
        assert date(2026, 4, 6) not in s.execute(select(Booking.day)).scalars().all()
    again = preview_period(desk, kids, repas, date(2026, 3, 16), date(2026, 4, 10), "all", {0, 3, 4})
    assert again.to_book == 2 * 10 - 14 and again.already == 14
    assert again.text() == "Total : 6 (14 cases déjà réservées ou demandées)"
