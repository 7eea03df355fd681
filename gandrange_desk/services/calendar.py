"""The French calendar of the structure: opening days per activity and working-day deadlines.

Public holidays come from `holidays` (France, the structure's subdivision: "57" adds Vendredi
saint and 26 décembre), school holidays from `vacances-scolaires-france` (the structure's zone)
plus those the clerk entered for the years past that package's data (`school_holiday`, see
`services/system/school_holidays.py`), closures from the database. Nothing here is a hand-written list of dates.

Everything is computed per year once and cached, because the grid and the demo generator ask
about tens of thousands of (activity, day) pairs.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from typing import Iterable

from gandrange_desk.clock import PARIS, to_paris

WEEKEND_REASON = "Week-end"
NO_ACTIVITY_REASON = "Pas d'accueil ce jour-là pour cette activité"
TERM_TIME_REASON = "Période scolaire : accueil seulement pendant les vacances"

_lock = threading.Lock()
_school_data = None  # SchoolHolidayDates, loaded once: reading its CSV takes ~0.3 s
_public_cache: dict[tuple[str, int], dict[date, str]] = {}
_school_cache: dict[tuple[str, int], dict[date, str]] = {}


def _public_holidays(subdivision: str, year: int) -> dict[date, str]:
    key = (subdivision, year)
    found = _public_cache.get(key)
    if found is None:
        import holidays

        table = holidays.country_holidays(
            "FR", subdiv=subdivision or None, years=year, language="fr"
        )
        found = {day: name for day, name in table.items() if day.year == year}
        with _lock:
            _public_cache[key] = found
    return found


def school_holiday_data():
    """The package's SchoolHolidayDates, loaded once."""
    global _school_data
    if _school_data is None:
        from vacances_scolaires_france import SchoolHolidayDates

        class FastSchoolHolidayDates(SchoolHolidayDates):
            """The package's own rows, its CSV read with `date.fromisoformat`: its `strptime`
            of 14,000 dates cost 0.5 s of the grid's first opening."""

            def load_data(self):
                import csv
                import os

                import vacances_scolaires_france as package

                keys = [self.zone_key(zone) for zone in self.SUPPORTED_ZONES]
                with open(os.path.join(os.path.dirname(package.__file__), "data", "data.csv"),
                          encoding="utf-8") as f:
                    for row in csv.DictReader(f):
                        flags = [row[k] == "True" for k in keys]
                        if not any(flags):
                            continue
                        day = date.fromisoformat(row["date"])
                        if not row["nom_vacances"]:
                            raise ValueError(f"Holiday name not set for date: {day}")
                        row["date"] = day
                        row.update(zip(keys, flags))
                        self.data[day] = row

        with _lock:
            if _school_data is None:
                _school_data = FastSchoolHolidayDates()
    return _school_data


_warming: threading.Thread | None = None


def warm_up(zone: str, subdivision: str, years: Iterable[int]) -> threading.Thread:
    """Load the holiday data of `years` (the `holidays` package, the school holidays' CSV:
    ~1 s of CPU together) in a background thread, once per process: started when the window
    is up, so that the grid's first opening does not pay for it. No database is touched."""
    global _warming
    with _lock:
        if _warming is not None:
            return _warming
        cal = Calendar(zone, subdivision)
        years = list(years)

        def work() -> None:
            try:
                for year in years:
                    cal.public_holiday(date(year, 1, 1))
                    _school_holidays(cal.zone, year)
            except Exception:  # noqa: BLE001 - the grid loads them itself and reports
                pass

        _warming = threading.Thread(target=work, name="calendar-warm-up", daemon=True)
    _warming.start()
    return _warming


def _school_holidays(zone: str, year: int) -> dict[date, str]:
    key = (zone, year)
    found = _school_cache.get(key)
    if found is None:
        from vacances_scolaires_france import UnsupportedYearException

        try:
            rows = school_holiday_data().holidays_for_year_and_zone(year, zone)
        except UnsupportedYearException:
            # Beyond the package's data (it is updated each year): no school holidays known.
            rows = {}
        found = {day: row["nom_vacances"] for day, row in rows.items()}
        with _lock:
            _school_cache[key] = found
    return found


_weekday_sets: dict[str, frozenset[int]] = {}


def _weekday_set(activity) -> frozenset[int]:
    # Asked once per cell of a 5,000-request round: parse each weekdays text once.
    text = getattr(activity, "weekdays", None)
    found = _weekday_sets.get(text) if text is not None else None
    if found is None:
        found = frozenset(activity.weekday_numbers)
        if text is not None:
            _weekday_sets[text] = found
    return found


def _settings(session) -> dict:
    """What a Calendar is made of, as stored: the structure's zone and subdivision, the closures
    and the school holidays the clerk entered."""
    from sqlalchemy import select

    from gandrange_desk.models import Closure, SchoolHoliday, Structure

    structure = session.execute(select(Structure.school_zone, Structure.holiday_subdivision)
                                .order_by(Structure.id).limit(1)).first()
    rows = session.execute(
        select(Closure.first_day, Closure.last_day, Closure.label).order_by(Closure.first_day)
    ).all()
    entered = session.execute(
        select(SchoolHoliday.first_day, SchoolHoliday.last_day, SchoolHoliday.label)
    ).all()
    return dict(
        zone=structure.school_zone if structure else "B",
        subdivision=structure.holiday_subdivision if structure else "57",
        closures=[(first, last, label) for first, last, label in rows],
        school_holidays=[(first, last, label) for first, last, label in entered],
    )


_shared: dict[tuple, "Calendar"] = {}


class Calendar:
    """Opening days and deadlines for one structure (zone, subdivision, closures)."""

    def __init__(self, zone: str = "B", subdivision: str = "57",
                 closures: Iterable[tuple[date, date, str]] = (),
                 school_holidays: Iterable[tuple[date, date, str]] = ()):
        self.zone = zone or "B"
        self.entered_holidays = [(first, last, label) for first, last, label in school_holidays]
        self._school_year_cache: dict[int, dict[date, str]] = {}
        # "" means metropolitan France without a subdivision (no Vendredi saint).
        self.subdivision = "57" if subdivision is None else subdivision
        self.closures = [(first, last, label or "Fermeture") for first, last, label in closures]
        # (opens, weekdays, year) -> {day: reason} for the closed days of that year.
        self._closed_cache: dict[tuple[str, frozenset[int], int], dict[date, str]] = {}
        self._closure_cache: dict[int, dict[date, str]] = {}

    @classmethod
    def load(cls, session) -> "Calendar":
        return cls(**_settings(session))

    @classmethod
    def load_shared(cls, session) -> "Calendar":
        """The calendar `load` gives, read from the same rows, but one instance per process for
        the same settings: its closed days of a year are worked out once, not once per call (the
        portal's month grid asks for one month of one activity per page). New closures or
        school holidays are other settings, hence another instance."""
        settings = _settings(session)
        key = (settings["zone"], settings["subdivision"], tuple(settings["closures"]),
               tuple(settings["school_holidays"]))
        found = _shared.get(key)
        if found is None:
            found = cls(**settings)
            with _lock:
                if len(_shared) >= 8:  # settings changed a few times in a long-running server
                    _shared.clear()
                _shared[key] = found
        return found

    # --- the three sources -------------------------------------------------------------

    def public_holiday(self, day: date) -> str | None:
        return _public_holidays(self.subdivision, day.year).get(day)

    def _school_year_table(self, year: int) -> dict[date, str]:
        """The package's school holidays of `year`, completed by the ones the clerk entered."""
        table = self._school_year_cache.get(year)
        if table is None:
            table = _school_holidays(self.zone, year)
            if self.entered_holidays:
                table = dict(table)
                for first, last, label in self.entered_holidays:
                    current = max(first, date(year, 1, 1))
                    while current <= min(last, date(year, 12, 31)):
                        table.setdefault(current, label)
                        current += timedelta(days=1)
            self._school_year_cache[year] = table
        return table

    def school_holiday(self, day: date) -> str | None:
        """Name of the zone's school holiday containing `day` ("Vacances de Noël"), or None."""
        return self._school_year_table(day.year).get(day)

    def closure(self, day: date) -> str | None:
        table = self._closure_cache.get(day.year)
        if table is None:
            table = {}
            for first, last, label in self.closures:
                current = max(first, date(day.year, 1, 1))
                end = min(last, date(day.year, 12, 31))
                while current <= end:
                    table.setdefault(current, label)
                    current += timedelta(days=1)
            self._closure_cache[day.year] = table
        return table.get(day)

    # --- opening days per activity -----------------------------------------------------

    def _closed_table(self, opens: str, weekdays: frozenset[int], year: int) -> dict[date, str]:
        key = (opens, weekdays, year)
        table = self._closed_cache.get(key)
        if table is not None:
            return table
        table = {}
        public = _public_holidays(self.subdivision, year)
        school = self._school_year_table(year)
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            reason = self._reason(opens, weekdays, day, public, school)
            if reason is not None:
                table[day] = reason
            day += one
        self._closed_cache[key] = table
        return table

    def _reason(self, opens, weekdays, day, public, school) -> str | None:
        name = public.get(day)
        if name:
            return f"Jour férié : {name}"
        label = self.closure(day)
        if label:
            return f"Fermeture : {label}" if not label.startswith("Fermeture") else label
        weekday = day.weekday()
        if weekday not in weekdays:
            return WEEKEND_REASON if weekday >= 5 else NO_ACTIVITY_REASON
        holiday = school.get(day)
        if opens == "holiday_weekdays":
            return None if holiday else TERM_TIME_REASON
        if holiday:
            return f"Vacances scolaires (zone {self.zone}) : {holiday}"
        return None

    def closed_reason(self, activity, day: date) -> str | None:
        """Why `activity` is closed on `day`, in French, or None when it is open."""
        return self._closed_table(activity.opens, _weekday_set(activity), day.year).get(day)

    def is_open(self, activity, day: date) -> bool:
        return self.closed_reason(activity, day) is None

    def closed_days(self, activity, first: date, last: date) -> dict[date, str]:
        """The closed days of [first, last] with their reasons (the grid's grey cells)."""
        weekdays = _weekday_set(activity)
        result: dict[date, str] = {}
        for year in range(first.year, last.year + 1):
            for day, reason in self._closed_table(activity.opens, weekdays, year).items():
                if first <= day <= last:
                    result[day] = reason
        return result

    def open_days(self, activity, first: date, last: date) -> list[date]:
        weekdays = _weekday_set(activity)
        days = []
        day = first
        one = timedelta(days=1)
        table = None
        year = None
        while day <= last:
            if day.year != year:
                year = day.year
                table = self._closed_table(activity.opens, weekdays, year)
            if day not in table:
                days.append(day)
            day += one
        return days

    # --- working days and deadlines ----------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday, not a public holiday of the subdivision."""
        return day.weekday() < 5 and self.public_holiday(day) is None

    def deadline(self, day: date, working_days: int, hhmm: str) -> datetime:
        """N working days before `day`, at HH:MM Europe/Paris (N = 0: the day itself)."""
        hours, minutes = _parse_hhmm(hhmm)
        current = day
        left = max(0, int(working_days))
        one = timedelta(days=1)
        while left:
            current -= one
            if self.is_working_day(current):
                left -= 1
        return datetime.combine(current, time(hours, minutes), tzinfo=PARIS)

    def is_late(self, submitted_at: datetime, day: date, working_days: int, hhmm: str) -> bool:
        """True when a request submitted at `submitted_at` is past the deadline ("hors délai")."""
        return to_paris(submitted_at) > self.deadline(day, working_days, hhmm)

    def booking_deadline(self, activity, day: date) -> datetime:
        return self.deadline(day, activity.booking_deadline_days, activity.booking_deadline_time)

    def cancellation_deadline(self, activity, day: date) -> datetime:
        return self.deadline(
            day, activity.cancellation_deadline_days, activity.cancellation_deadline_time
        )


def _parse_hhmm(hhmm: str) -> tuple[int, int]:
    try:
        hours_text, minutes_text = (hhmm or "00:00").split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except ValueError:
        raise ValueError(f"heure invalide : « {hhmm} » (attendu HH:MM)") from None
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(f"heure invalide : « {hhmm} » (attendu HH:MM)")
    return hours, minutes


__all__ = ["Calendar", "WEEKEND_REASON", "NO_ACTIVITY_REASON", "TERM_TIME_REASON"]
