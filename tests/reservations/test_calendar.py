"""The French calendar: Moselle public holidays, zone B school holidays, closures, deadlines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gandrange_desk.clock import PARIS
from gandrange_desk.services.calendar import Calendar


@dataclass
class Act:
    opens: str
    weekday_numbers: set[int] = field(default_factory=set)
    booking_deadline_days: int = 2
    booking_deadline_time: str = "10:00"
    cancellation_deadline_days: int = 2
    cancellation_deadline_time: str = "10:00"


PERI = Act("school_days", {0, 1, 3, 4})
MERCREDI = Act("wednesdays", {2})
VACANCES = Act("holiday_weekdays", {0, 1, 2, 3, 4})
CAL = Calendar(zone="B", subdivision="57",
               closures=[(date(2026, 5, 15), date(2026, 5, 15), "Pont de l'Ascension")])

days_2025_2028 = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))


# --- explicit cases --------------------------------------------------------------------------

def test_easter_2026_moselle():
    assert CAL.closed_reason(PERI, date(2026, 4, 3)) == "Jour férié : Vendredi saint"
    assert CAL.closed_reason(PERI, date(2026, 4, 6)) == "Jour férié : Lundi de Pâques"
    assert CAL.is_open(PERI, date(2026, 4, 2))  # Thursday before, school term
    assert not CAL.is_working_day(date(2026, 4, 3))
    assert not CAL.is_working_day(date(2026, 4, 6))


def test_vendredi_saint_only_in_alsace_moselle():
    paris = Calendar(zone="C", subdivision="")
    assert paris.public_holiday(date(2026, 4, 3)) is None
    assert paris.public_holiday(date(2026, 12, 26)) is None
    assert paris.is_working_day(date(2026, 4, 3))


def test_pentecost_monday_2026():
    assert CAL.closed_reason(PERI, date(2026, 5, 25)) == "Jour férié : Lundi de Pentecôte"
    assert CAL.is_open(PERI, date(2026, 5, 26))


def test_26_december_is_a_holiday_in_57():
    assert CAL.public_holiday(date(2026, 12, 26)) == "Saint-Étienne"
    assert CAL.public_holiday(date(2029, 12, 26)) == "Saint-Étienne"
    # A Saturday: a public holiday is still the first reason given.
    assert CAL.closed_reason(VACANCES, date(2026, 12, 26)) == "Jour férié : Saint-Étienne"
    # 26/12/2025 is a Friday inside the Christmas holidays: the VACANCES centre is closed.
    assert CAL.closed_reason(VACANCES, date(2025, 12, 26)) == "Jour férié : Saint-Étienne"
    assert CAL.is_open(VACANCES, date(2025, 12, 29))


def test_zone_b_holidays():
    # Toussaint 2026 zone B: Saturday 17 October to Sunday 1 November.
    assert CAL.closed_reason(PERI, date(2026, 10, 19)) == (
        "Vacances scolaires (zone B) : Vacances de la Toussaint")
    assert CAL.is_open(PERI, date(2026, 10, 16))
    assert CAL.is_open(PERI, date(2026, 11, 2))
    assert CAL.is_open(VACANCES, date(2026, 10, 21))
    assert CAL.closed_reason(VACANCES, date(2026, 11, 3)) == (
        "Période scolaire : accueil seulement pendant les vacances")
    assert CAL.closed_reason(MERCREDI, date(2026, 10, 21)).startswith("Vacances scolaires")
    assert CAL.is_open(MERCREDI, date(2026, 11, 4))
    # Winter 2026 zone B: 14 February to 1 March.
    assert CAL.closed_reason(PERI, date(2026, 2, 16)) == (
        "Vacances scolaires (zone B) : Vacances d'hiver")
    assert CAL.is_open(PERI, date(2026, 3, 2))
    # Christmas holidays span the new year.
    assert CAL.school_holiday(date(2026, 12, 21)) == "Vacances de Noël"
    assert CAL.school_holiday(date(2027, 1, 1)) == "Vacances de Noël"
    assert CAL.is_open(PERI, date(2027, 1, 4))


def test_zone_matters():
    zone_a = Calendar(zone="A", subdivision="57")
    # Winter 2026: zone A from 7 to 22 February, zone B from 14 February to 1 March.
    assert zone_a.is_open(PERI, date(2026, 2, 26))
    assert not CAL.is_open(PERI, date(2026, 2, 26))


def test_closure_weekend_and_weekday_reasons():
    assert CAL.closed_reason(PERI, date(2026, 5, 15)) == "Fermeture : Pont de l'Ascension"
    assert CAL.closed_reason(PERI, date(2026, 5, 16)) == "Week-end"
    assert CAL.closed_reason(PERI, date(2026, 5, 20)) == (
        "Pas d'accueil ce jour-là pour cette activité")
    assert CAL.closed_reason(PERI, date(2026, 5, 14)) == "Jour férié : Ascension"
    assert Calendar().closed_reason(PERI, date(2026, 5, 15)) is None


def test_open_days_of_march_2026():
    days = CAL.open_days(PERI, date(2026, 3, 1), date(2026, 3, 31))
    assert len(days) == 18  # 22 weekdays minus 4 Wednesdays; no holiday in March 2026 zone B
    assert all(d.weekday() != 2 for d in days)
    assert CAL.open_days(MERCREDI, date(2026, 3, 1), date(2026, 3, 31)) == [
        date(2026, 3, 4), date(2026, 3, 11), date(2026, 3, 18), date(2026, 3, 25)]
    closed = CAL.closed_days(PERI, date(2026, 4, 1), date(2026, 4, 30))
    assert closed[date(2026, 4, 3)] == "Jour férié : Vendredi saint"
    assert date(2026, 4, 2) not in closed


def test_deadline_simple_and_across_weekend():
    # Friday 13 March 2026, J-2 ouvrés à 10:00 -> Wednesday 11 March 10:00.
    assert CAL.deadline(date(2026, 3, 13), 2, "10:00") == datetime(2026, 3, 11, 10, 0, tzinfo=PARIS)
    # Monday 16 March: two working days before are Thursday 12 and Friday 13.
    assert CAL.deadline(date(2026, 3, 16), 2, "10:00") == datetime(2026, 3, 12, 10, 0, tzinfo=PARIS)
    assert CAL.deadline(date(2026, 3, 16), 0, "08:30") == datetime(2026, 3, 16, 8, 30, tzinfo=PARIS)


def test_deadline_across_weekend_and_easter():
    # Tuesday 7 April 2026: Monday 6 (Lundi de Pâques), the weekend and Friday 3 (Vendredi saint)
    # are not working days; J-2 lands on Wednesday 1 April.
    assert CAL.deadline(date(2026, 4, 7), 2, "10:00") == datetime(2026, 4, 1, 10, 0, tzinfo=PARIS)
    # Elsewhere in France Good Friday is a working day.
    assert Calendar(zone="C", subdivision="").deadline(date(2026, 4, 7), 2, "10:00") == datetime(
        2026, 4, 2, 10, 0, tzinfo=PARIS)


def test_deadline_is_paris_time_across_dst():
    # Summer time starts on 29 March 2026: the deadline stays at 10:00 local time.
    deadline = CAL.deadline(date(2026, 3, 31), 2, "10:00")
    assert deadline == datetime(2026, 3, 27, 10, 0, tzinfo=PARIS)
    assert deadline.utcoffset() == timedelta(hours=1)
    assert CAL.deadline(date(2026, 4, 2), 1, "10:00").utcoffset() == timedelta(hours=2)


def test_is_late():
    day = date(2026, 3, 13)
    assert not CAL.is_late(datetime(2026, 3, 11, 9, 12, tzinfo=PARIS), day, 2, "10:00")
    assert not CAL.is_late(datetime(2026, 3, 11, 10, 0, tzinfo=PARIS), day, 2, "10:00")
    assert CAL.is_late(datetime(2026, 3, 11, 10, 1, tzinfo=PARIS), day, 2, "10:00")
    # The same instant given in UTC is judged the same way.
    from datetime import timezone
    assert CAL.is_late(datetime(2026, 3, 11, 9, 1, tzinfo=timezone.utc), day, 2, "10:00")
    assert CAL.booking_deadline(PERI, day) == datetime(2026, 3, 11, 10, 0, tzinfo=PARIS)


def test_bad_time_is_refused():
    with pytest.raises(ValueError, match="heure invalide"):
        CAL.deadline(date(2026, 3, 13), 2, "25:00")


# --- properties ------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(days_2025_2028)
def test_public_holidays_and_weekends_never_open(day):
    for activity in (PERI, MERCREDI, VACANCES):
        if CAL.public_holiday(day) or day.weekday() >= 5 or CAL.closure(day):
            assert not CAL.is_open(activity, day)
            assert CAL.closed_reason(activity, day)


@settings(max_examples=300, deadline=None)
@given(days_2025_2028)
def test_school_and_holiday_activities_are_complementary(day):
    """A weekday that is no public holiday or closure is open for exactly one of PERI∪MERCREDI
    (school term) or VACANCES (school holidays)."""
    if day.weekday() >= 5 or CAL.public_holiday(day) or CAL.closure(day):
        return
    term = CAL.is_open(PERI, day) or CAL.is_open(MERCREDI, day)
    holiday = CAL.is_open(VACANCES, day)
    assert term != holiday
    assert holiday == (CAL.school_holiday(day) is not None)


@settings(max_examples=200, deadline=None)
@given(days_2025_2028, st.integers(min_value=0, max_value=10),
       st.sampled_from(["00:00", "10:00", "12:30", "23:59"]))
def test_deadline_properties(day, n, hhmm):
    deadline = CAL.deadline(day, n, hhmm)
    assert deadline.tzinfo is not None
    assert deadline.strftime("%H:%M") == hhmm
    if n == 0:
        assert deadline.date() == day
        return
    assert deadline.date() < day
    assert CAL.is_working_day(deadline.date())
    between = [deadline.date() + timedelta(days=i)
               for i in range(1, (day - deadline.date()).days)]
    # Exactly n working days from the deadline's day (included) up to the day (excluded).
    assert 1 + sum(CAL.is_working_day(d) for d in between) == n
    # One minute late is late; on the deadline is not.
    assert not CAL.is_late(deadline, day, n, hhmm)
    assert CAL.is_late(deadline + timedelta(minutes=1), day, n, hhmm)


@settings(max_examples=100, deadline=None)
@given(days_2025_2028, st.integers(min_value=0, max_value=70))
def test_open_days_agree_with_is_open(first, length):
    last = first + timedelta(days=length)
    for activity in (PERI, MERCREDI, VACANCES):
        days = CAL.open_days(activity, first, last)
        closed = CAL.closed_days(activity, first, last)
        assert len(days) + len(closed) == length + 1
        assert all(CAL.is_open(activity, d) for d in days)
        assert not set(days) & set(closed)


def test_calendar_loads_from_database(desk):
    from gandrange_desk.models import Closure, Structure

    with desk.unit_of_work() as s:
        s.add(Structure(name="Gandrange", school_zone="B", holiday_subdivision="57"))
        s.add(Closure(first_day=date(2026, 12, 24), last_day=date(2026, 12, 24),
                      label="Veille de Noël"))
    with desk.read() as s:
        cal = Calendar.load(s)
    assert cal.zone == "B" and cal.subdivision == "57"
    assert cal.closed_reason(VACANCES, date(2026, 12, 24)) == "Fermeture : Veille de Noël"
    assert cal.closed_reason(VACANCES, date(2026, 12, 23)) is None


def test_shared_calendar_follows_a_new_closure(desk):
    """The portal's month grid keeps one calendar per set of settings: a closure the clerk adds
    afterwards is on the next grid, as with a calendar read afresh."""
    from gandrange_desk.models import Closure, Structure

    with desk.unit_of_work() as s:
        s.add(Structure(name="Gandrange", school_zone="B", holiday_subdivision="57"))
    with desk.read() as s:
        first = Calendar.load_shared(s)
        assert Calendar.load_shared(s) is first
    assert first.closed_reason(VACANCES, date(2026, 12, 24)) is None
    with desk.unit_of_work() as s:
        s.add(Closure(first_day=date(2026, 12, 24), last_day=date(2026, 12, 24), label="Veille de Noël"))
    with desk.read() as s:
        after = Calendar.load_shared(s)
        fresh = Calendar.load(s)
    assert after.closed_reason(VACANCES, date(2026, 12, 24)) == "Fermeture : Veille de Noël"
    first_day, last_day = date(2026, 12, 1), date(2026, 12, 31)
    for activity in (PERI, MERCREDI, VACANCES):
        assert after.closed_days(activity, first_day, last_day) == fresh.closed_days(activity, first_day, last_day)
