"""The CAF report: for a period and an activity, acts and hours booked, attended and billed,
split by age band (under 6 / 6 and over), the children welcomed, and the opening days.

- Booked: the R, DA and AF cells of the period (an excused cancellation leaves no cell).
- Attended, up to today: marked present or walk-in; a booked (R) day nobody marked counts too,
  and is reported apart ("d'après la réservation") so the figure's basis is plain.
- Billed: what the billing rules bill for each day (`attendance.rules`, under the saved
  settings): R and AF, less excused absences (and no-shows when they are not billed), plus
  billed walk-ins.
- Hours: acts × the unit's hour value (`attendance.settings`); a unit without one is counted in
  acts only, and the report says so.
- Age band of an act: the child's age on that day; of a child: on the first day of the period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gandrange_desk import formats
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import Activity, Child, Role
from gandrange_desk.services.attendance.periods import cells, presence_codes
from gandrange_desk.services.attendance.rules import attended, day_billing
from gandrange_desk.services.attendance.settings import hours_words, load as load_settings
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk
from gandrange_desk.services.exports.table import DATE, HOURS, INT, TEXT, Column, Table
from gandrange_desk.services.exports.writer import write_file

BANDS = ("Moins de 6 ans", "6 ans et plus")


def sixth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 6)
    except ValueError:  # born on 29 February
        return date(birth.year + 6, 3, 1)


def band(birth: date, day: date) -> int:
    """0: under 6 on `day`; 1: 6 and over."""
    return 0 if day < sixth_birthday(birth) else 1


@dataclass
class Figures:
    booked: int = 0
    attended: int = 0
    presumed: int = 0  # among attended: booked, nobody marked
    billed: int = 0

    def add(self, other: "Figures") -> "Figures":
        return Figures(self.booked + other.booked, self.attended + other.attended,
                       self.presumed + other.presumed, self.billed + other.billed)


@dataclass
class UnitFigures:
    unit_id: int
    unit_name: str
    minutes: int | None  # the hour value of one act; None: acts only
    bands: list[Figures] = field(default_factory=lambda: [Figures(), Figures()])

    @property
    def total(self) -> Figures:
        return self.bands[0].add(self.bands[1])

    @property
    def hours_text(self) -> str:
        """'1,5 h' per act, or 'actes' when the unit has no hour value."""
        return hours_words(self.minutes) if self.minutes is not None else "actes"

    def hours(self, acts: int) -> Decimal | None:
        if self.minutes is None:
            return None
        return (Decimal(acts * self.minutes) / 60).quantize(Decimal("0.01"))


@dataclass
class ActivityReport:
    activity_id: int
    code: str
    name: str
    open_days: list[date]
    units: list[UnitFigures] = field(default_factory=list)
    children: list[int] = field(default_factory=lambda: [0, 0])  # per band, welcomed at least once

    def hours(self, which: str, band_index: int | None = None) -> Decimal:
        total = Decimal(0)
        for unit in self.units:
            figures = unit.total if band_index is None else unit.bands[band_index]
            value = unit.hours(getattr(figures, which))
            total += value or 0
        return total


@dataclass
class CafReport:
    start: date
    end: date
    today: date
    activities: list[ActivityReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bands: tuple[str, str] = BANDS

    @property
    def title(self) -> str:
        what = self.activities[0].name if len(self.activities) == 1 else "toutes activités"
        return f"Rapport CAF du {formats.ddmmyyyy(self.start)} au {formats.ddmmyyyy(self.end)} — {what}"


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


def _check(start, end) -> None:
    problems = []
    if not isinstance(start, date) or not isinstance(end, date):
        problems.append("Indiquez le premier et le dernier jour de la période.")
    elif end < start:
        problems.append("Le dernier jour de la période précède le premier.")
    elif end >= _a_year_after(start):
        problems.append("La période d'un rapport CAF ne peut dépasser un an.")
    if problems:
        raise ValidationFailed(problems)


def caf_report(desk: Desk, start: date, end: date, activity_id: int | None = None) -> CafReport:
    """The report of one activity, or of every activity (one block each)."""
    desk.require(Role.RESPONSABLE, "Établir le rapport CAF")
    _check(start, end)
    today = desk.today()
    report = CafReport(start, end, today)
    with desk.read() as s:
        stmt = select(Activity).options(selectinload(Activity.units)).order_by(Activity.position, Activity.id)
        if activity_id is not None:
            stmt = stmt.where(Activity.id == activity_id)
        activities = s.execute(stmt).scalars().all()
        if not activities:
            raise NotFound("Activité introuvable." if activity_id is not None else
                           "Aucune activité : importez d'abord les réglages.")
        cal = Calendar.load(s)
        settings = load_settings(s)
        minutes = settings.minutes()
        unit_ids = [u.id for a in activities for u in a.units]
        held = cells(s, start, end, unit_ids=unit_ids)
        marks = presence_codes(s, start, end, unit_ids=unit_ids)
        child_ids = sorted({k[0] for k in held} | {k[0] for k in marks})
        births: dict[int, date] = {}
        for first in range(0, len(child_ids), 500):
            births.update(s.execute(select(Child.id, Child.birth_date)
                                    .where(Child.id.in_(child_ids[first:first + 500]))).all())
    rules = settings.rules
    sixth = {child_id: sixth_birthday(born) for child_id, born in births.items()}
    by_unit: dict[int, list] = defaultdict(list)
    for key in set(held) | set(marks):
        by_unit[key[1]].append(key)
    presumed_total = 0
    for activity in activities:
        block = ActivityReport(activity.id, activity.code, activity.name, cal.open_days(activity, start, end))
        per_unit = {u.id: UnitFigures(u.id, u.name, minutes.get(u.id)) for u in activity.units}
        welcomed: set[int] = set()
        for unit_id, unit in per_unit.items():
            for key in by_unit.get(unit_id, ()):
                child_id, _unit_id, day = key
                state, presence = held.get(key), marks.get(key)
                figures = unit.bands[0 if day < sixth[child_id] else 1]
                figures.booked += state is not None
                if day <= today:
                    there = attended(state, presence)
                    if there is not False:
                        figures.attended += 1
                        figures.presumed += there is None
                        welcomed.add(child_id)
                figures.billed += day_billing(state, presence, rules).billed
        for child_id in welcomed:
            block.children[0 if start < sixth[child_id] else 1] += 1
        block.units = [per_unit[u.id] for u in activity.units]
        presumed_total += sum(u.total.presumed for u in block.units)
        report.activities.append(block)
    missing = [f"{a.name} — {u.unit_name}" for a in report.activities for u in a.units if u.minutes is None]
    if missing:
        report.notes.append("Valeur horaire non renseignée (seuls les actes sont comptés) : " + ", ".join(missing)
                            + ". Réglez-la dans Présences et CAF.")
    if presumed_total:
        report.notes.append(f"{formats.count(presumed_total, 'acte réalisé est compté', 'actes réalisés sont comptés')}"
                            " d'après la réservation : le pointage de ces jours n'a pas été saisi.")
    if end > today:
        report.notes.append(f"Les actes réalisés s'arrêtent au {formats.ddmmyyyy(today)} ; les réservations "
                            "vont jusqu'à la fin de la période.")
    return report


# ---------------------------------------------------------------------------------- tables
SUMMARY_COLUMNS = (
    Column("Activité", TEXT, 22), Column("Unité", TEXT, 18), Column("Heures par acte", HOURS, 9),
    Column("Tranche d'âge", TEXT, 15), Column("Actes réservés", INT, total=True),
    Column("Actes réalisés", INT, total=True), Column("dont d'après la réservation", INT, total=True),
    Column("Actes facturés", INT, total=True), Column("Heures réservées", HOURS, total=True),
    Column("Heures réalisées", HOURS, total=True), Column("Heures facturées", HOURS, total=True),
)
CHILDREN_COLUMNS = (Column("Activité", TEXT, 22), Column("Tranche d'âge", TEXT, 15),
                    Column("Enfants accueillis", INT, total=True))
DAYS_COLUMNS = (Column("Activité", TEXT, 22), Column("Jours d'ouverture", INT, total=True),
                Column("Premier jour", DATE), Column("Dernier jour", DATE), Column("Jours", TEXT, 80))
NOTES_COLUMNS = (Column("Remarques", TEXT, 120),)


def caf_tables(report: CafReport) -> list[Table]:
    summary = Table("Heures et actes", report.title, SUMMARY_COLUMNS)
    for activity in report.activities:
        for unit in activity.units:
            value = unit.hours(1)
            for index, figures in enumerate(unit.bands):
                summary.rows.append((activity.name, unit.unit_name, value, BANDS[index], figures.booked,
                                     figures.attended, figures.presumed, figures.billed, unit.hours(figures.booked),
                                     unit.hours(figures.attended), unit.hours(figures.billed)))
    children = Table("Enfants", report.title, CHILDREN_COLUMNS)
    for activity in report.activities:
        for index, name in enumerate(BANDS):
            children.rows.append((activity.name, name, activity.children[index]))
    days = Table("Jours d'ouverture", report.title, DAYS_COLUMNS)
    for activity in report.activities:
        open_days = activity.open_days
        days.rows.append((activity.name, len(open_days), open_days[0] if open_days else None,
                          open_days[-1] if open_days else None, ", ".join(formats.ddmm(d) for d in open_days)))
    tables = [summary, children, days]
    if report.notes:
        tables.append(Table("Remarques", report.title, NOTES_COLUMNS, [(n,) for n in report.notes]))
    return tables


def caf_pdf(desk: Desk, start: date, end: date, activity_id: int | None = None) -> tuple[bytes, CafReport]:
    from gandrange_desk.services.pdf.base import load_structure
    from gandrange_desk.services.pdf.caf import caf_report_pdf

    report = caf_report(desk, start, end, activity_id)
    with desk.read() as s:
        structure = load_structure(s)
    return caf_report_pdf(structure, report), report


def write_caf_pdf(desk: Desk, start: date, end: date, activity_id: int | None, path) -> CafReport:
    """The report's PDF written to `path` (window and command line)."""
    pdf, report = caf_pdf(desk, start, end, activity_id)
    write_file(path, pdf)
    return report
