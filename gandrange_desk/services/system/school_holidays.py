"""School-holiday data that expires: which school years the calendar really knows.

The `vacances-scolaires-france` package carries the ministry's dates up to a last day (today
31/08/2028). Past it, the calendar would treat the Christmas holidays as school days. A school
year (1 September – 31 August) is *covered* when the package knows its whole summer, or when the
clerk has entered (or imported from the ministry's calendar file) holidays in it; otherwise the
window and the commands say so, in French, before anything is booked or invoiced for it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, func, select

from gandrange_desk.errors import DeskError, NotFound, ValidationFailed
from gandrange_desk.models import Role, SchoolHoliday, Structure


@dataclass(frozen=True)
class HolidayRow:
    id: int
    first_day: date
    last_day: date
    label: str


@lru_cache(maxsize=1)
def package_last_day() -> date:
    """The last day the package's data describes."""
    from gandrange_desk.services.calendar import school_holiday_data

    return max(school_holiday_data().data)


def school_year_of(day: date) -> int:
    """The first calendar year of the school year holding `day` (2028 for 28/12/2028)."""
    return day.year if day.month >= 9 else day.year - 1


def school_year_label(start: int) -> str:
    return f"{start}-{start + 1}"


def school_year_bounds(start: int) -> tuple[date, date]:
    return date(start, 9, 1), date(start + 1, 8, 31)


def package_covers(start: int) -> bool:
    return package_last_day() >= school_year_bounds(start)[1]


def _entered_years(s) -> set[int]:
    rows = s.execute(select(SchoolHoliday.first_day)).scalars()
    return {school_year_of(day) for day in rows}


def uncovered_years(desk, first: date, last: date) -> list[int]:
    """The school years touching [first, last] whose holidays nobody knows."""
    years = range(school_year_of(first), school_year_of(last) + 1)
    missing = [y for y in years if not package_covers(y)]
    if not missing:
        return []
    with desk.read() as s:
        entered = _entered_years(s)
    return [y for y in missing if y not in entered]


def warning(years: list[int]) -> str:
    """One French paragraph for the window and the commands."""
    if not years:
        return ""
    names = ", ".join(school_year_label(y) for y in years)
    noun = "de l'année scolaire" if len(years) == 1 else "des années scolaires"
    return (f"Attention : les vacances scolaires {noun} {names} ne sont pas connues du programme "
            f"(données officielles jusqu'au {package_last_day():%d/%m/%Y}). Tant qu'elles ne sont "
            "pas saisies, les jours de vacances seraient comptés comme des jours d'école. "
            "Saisissez-les (fenêtre : Outils › Vacances scolaires ; commande : "
            "gandrange-desk holidays add) ou importez le calendrier scolaire du ministère "
            "(gandrange-desk holidays import FICHIER).")


def years_in_use(desk, today: date | None = None) -> tuple[date, date]:
    """From today's school year to the last booked day: what the desk is working on."""
    from gandrange_desk.models import Booking

    today = today or desk.now().date()
    with desk.read() as s:
        last = s.execute(select(func.max(Booking.day))).scalar()
    return today, max(today, last) if last else today


def check_in_use(desk, today: date | None = None) -> str:
    first, last = years_in_use(desk, today)
    return warning(uncovered_years(desk, first, last))


def check_period(desk, first: date, last: date) -> str:
    return warning(uncovered_years(desk, first, last))


# --- entering and importing ---------------------------------------------------------------------

def list_holidays(desk) -> list[HolidayRow]:
    with desk.read() as s:
        rows = s.execute(select(SchoolHoliday).order_by(SchoolHoliday.first_day)).scalars()
        return [HolidayRow(r.id, r.first_day, r.last_day, r.label) for r in rows]


def _validate(first: date, last: date, label: str) -> list[str]:
    problems = []
    if last < first:
        problems.append(f"Le dernier jour ({last:%d/%m/%Y}) précède le premier ({first:%d/%m/%Y}).")
    elif (last - first).days > 80:
        problems.append("Une période de vacances dure au plus 80 jours : vérifiez les dates.")
    if not label.strip():
        problems.append("Le nom des vacances est obligatoire (ex. « Vacances de Noël »).")
    return problems


def add_holiday(desk, first: date, last: date, label: str) -> int:
    desk.require(Role.RESPONSABLE, "Saisir des vacances scolaires")
    problems = _validate(first, last, label)
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        overlap = s.execute(select(SchoolHoliday).where(
            SchoolHoliday.first_day <= last, SchoolHoliday.last_day >= first)).scalars().first()
        if overlap is not None:
            raise DeskError(f"Ces dates chevauchent « {overlap.label} » "
                            f"({overlap.first_day:%d/%m/%Y} – {overlap.last_day:%d/%m/%Y}).")
        row = SchoolHoliday(first_day=first, last_day=last, label=label.strip())
        s.add(row)
        s.flush()
        desk.audit(s, "school_holiday.add", "school_holiday", row.id,
                   after={"first_day": first.isoformat(), "last_day": last.isoformat(), "label": row.label})
        return row.id


def remove_holiday(desk, holiday_id: int) -> None:
    desk.require(Role.RESPONSABLE, "Supprimer des vacances scolaires")
    with desk.unit_of_work() as s:
        row = s.get(SchoolHoliday, holiday_id)
        if row is None:
            raise NotFound(f"Période de vacances introuvable : n° {holiday_id}.")
        desk.audit(s, "school_holiday.remove", "school_holiday", row.id,
                   before={"first_day": row.first_day.isoformat(), "last_day": row.last_day.isoformat(),
                           "label": row.label})
        s.delete(row)


_ICS_EVENT = re.compile(r"BEGIN:VEVENT(.*?)END:VEVENT", re.S)


def _ics_value(block: str, key: str) -> str | None:
    match = re.search(rf"^{key}(?:;[^:\r\n]*)?:(.*)$", block, re.M)
    if not match:
        return None
    # RFC 5545 text escapes: "Zones A\, B et C".
    return match.group(1).strip().replace("\\,", ",").replace("\\;", ";").replace("\\n", " ")


def _ics_day(value: str) -> date:
    return datetime.strptime(value[:8], "%Y%m%d").date()


def parse_calendar(text: str, zone: str) -> list[tuple[date, date, str]]:
    """The ministry's school calendar (ICS of one zone, or the CSV of the open-data set) as
    holiday periods, first and last day inclusive: the file gives the day classes stop and the
    day they resume."""
    zone = zone.upper()
    periods: list[tuple[date, date, str]] = []
    if "BEGIN:VCALENDAR" in text:
        for block in _ICS_EVENT.findall(text.replace("\r\n ", "")):
            start, end, summary = (_ics_value(block, "DTSTART"), _ics_value(block, "DTEND"),
                                   _ics_value(block, "SUMMARY") or "Vacances scolaires")
            if not start:
                continue
            named = re.search(r"Zones?\s+([ABC](?:\s*(?:et|,)\s*[ABC])*)", summary, re.I)
            if named and zone not in re.findall(r"[ABC]", named.group(1).upper()):
                continue  # a file of several zones: keep ours
            first = _ics_day(start)
            last = _ics_day(end) - timedelta(days=1) if end else first
            label = re.sub(r"\s*[-–]\s*Zones?\b.*$", "", summary).strip() or "Vacances scolaires"
            if "vacances" in label.lower() or "pont" in label.lower():
                periods.append((first, max(first, last), label))
        return periods
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
    if not reader.fieldnames or "Description" not in reader.fieldnames:
        raise DeskError("Fichier non reconnu : attendu le calendrier scolaire du ministère "
                        "(fichier .ics d'une zone, ou .csv « fr-en-calendrier-scolaire »).")
    for row in reader:
        if row.get("Zones", "").strip().lower() != f"zone {zone.lower()}":
            continue
        if row.get("Population", "-").strip() not in ("-", "", "Élèves"):
            continue
        try:
            first = datetime.fromisoformat(row["Date de début"].strip()).astimezone(_paris()).date()
            resume = datetime.fromisoformat(row["Date de fin"].strip()).astimezone(_paris()).date()
        except (KeyError, ValueError):
            continue
        label = row["Description"].strip()
        if "vacances" not in label.lower():
            continue  # "Début des Vacances d'Été" alone has no end; "Pont" days are closures
        periods.append((first, max(first, resume - timedelta(days=1)), label))
    return sorted(set(periods))


def _paris():
    from gandrange_desk.clock import PARIS

    return PARIS


def import_calendar(desk, path: str | Path) -> list[HolidayRow]:
    """Import the ministry's calendar for the structure's zone, for uncovered school years only
    (the package stays the reference where it has data). All or nothing."""
    desk.require(Role.RESPONSABLE, "Importer le calendrier scolaire")
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DeskError(f"Le fichier {path} ne peut pas être lu ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise DeskError(f"Le fichier {path} n'est pas un texte UTF-8 : attendu le calendrier du ministère.") from None
    with desk.read() as s:
        structure = s.execute(select(Structure).order_by(Structure.id).limit(1)).scalar()
    zone = structure.school_zone if structure else "B"
    periods = [p for p in parse_calendar(text, zone) if not package_covers(school_year_of(p[0]))]
    if not periods:
        raise DeskError(f"Le fichier ne contient aucune période de vacances de la zone {zone} "
                        "pour une année scolaire que le programme ne connaît pas déjà.")
    added = []
    with desk.unit_of_work() as s:
        years = {school_year_of(first) for first, _, _ in periods}
        for year in years:
            start, end = school_year_bounds(year)
            s.execute(delete(SchoolHoliday).where(SchoolHoliday.first_day >= start,
                                                  SchoolHoliday.first_day <= end))
        for first, last, label in periods:
            row = SchoolHoliday(first_day=first, last_day=last, label=label)
            s.add(row)
            s.flush()
            added.append(HolidayRow(row.id, first, last, label))
        desk.audit(s, "school_holiday.import", "school_holiday", None,
                   after={"file": str(path), "zone": zone, "periods": len(added)})
    return added
