"""The settings of attendance, day lists and the CAF report, declared once (AppSetting keys).

Structure-wide keys (`RULE_FIELDS`): what an absence or a walk-in costs. Per-unit keys
(`unit.<id>.caf_minutes`, `unit.<id>.pickup`): the hour value the CAF report gives one act of
the unit, and whether the unit ends the day (its list prints who may collect each child).
Units keep their id across settings imports (they are matched by name), so do these keys.

Reading never fails: a missing or unreadable value is its default. Saving is the supervisor's,
checks every value, writes all or nothing, and leaves one audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Activity, AppSetting, Role, Unit
from gandrange_desk.services.attendance.rules import AttendanceRules
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.search import normalize
from gandrange_desk.services.settings.fields import ATTENDANCE_FIELDS


@dataclass(frozen=True)
class RuleField:
    key: str  # AppSetting key
    attr: str  # AttendanceRules attribute
    kind: str  # "bool", "int" (bounds), "cents" (bounds)
    label: str  # the window's words
    bounds: tuple[int, int] = (0, 0)


# Declared once with the settings file's keys (settings.fields): the file, the Réglages window
# and the attendance screen's dialog read and write the same AppSetting keys.
RULE_FIELDS = tuple(RuleField(f.setting, f.key, "cents" if f.kind == "price" else f.kind, f.label, f.bounds)
                    for f in ATTENDANCE_FIELDS)
UNIT_MINUTES = "unit.{id}.caf_minutes"
UNIT_PICKUP = "unit.{id}.pickup"
MAX_MINUTES = 24 * 60


@dataclass(frozen=True)
class UnitSetting:
    unit_id: int
    activity_name: str
    unit_name: str
    caf_minutes: int | None  # None: the CAF report counts acts only for this unit
    pickup: bool  # the unit ends the day: its list shows who may collect each child

    @property
    def label(self) -> str:
        return f"{self.activity_name} — {self.unit_name}"

    @property
    def hours_text(self) -> str:
        """'1,5 h', '' when not set."""
        if self.caf_minutes is None:
            return ""
        return hours_words(self.caf_minutes)


@dataclass(frozen=True)
class AttendanceSettings:
    rules: AttendanceRules = field(default_factory=AttendanceRules)
    units: tuple[UnitSetting, ...] = ()

    def unit(self, unit_id: int) -> UnitSetting | None:
        return next((u for u in self.units if u.unit_id == unit_id), None)

    def minutes(self) -> dict[int, int | None]:
        return {u.unit_id: u.caf_minutes for u in self.units}

    def pickup_units(self) -> set[int]:
        return {u.unit_id for u in self.units if u.pickup}


@dataclass
class SaveResult:
    settings: AttendanceSettings
    changed: list[str]
    changes: Changes = field(default_factory=lambda: Changes(settings=True))

    def text(self) -> str:
        if not self.changed:
            return "Aucun changement."
        return "Réglages enregistrés : " + ", ".join(self.changed) + "."


def hours_words(minutes: int) -> str:
    """90 -> '1,5 h', 45 -> '0,75 h', 120 -> '2 h'."""
    whole, rest = divmod(minutes, 60)
    if not rest:
        return f"{whole} h"
    text = f"{minutes / 60:.2f}".rstrip("0").replace(".", ",")
    return f"{text} h"


def default_pickup(unit_name: str, meal: bool) -> bool:
    """Without a saved choice: every unit but the meals and the mornings ends with a family
    collecting the child (Accueil soir, Journée, Après-midi…)."""
    return not meal and "matin" not in normalize(unit_name)


def _read(s: Session) -> dict[str, str]:
    return {row.key: row.value for row in s.execute(
        select(AppSetting).where(AppSetting.key.like("attendance.%") | AppSetting.key.like("unit.%"))).scalars()}


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None and text.strip() else None
    except ValueError:
        return None


def load(s: Session) -> AttendanceSettings:
    values = _read(s)
    rule_values = {}
    for f in RULE_FIELDS:
        raw = values.get(f.key)
        if raw is None:
            continue
        if f.kind == "bool":
            rule_values[f.attr] = raw.strip().lower() in ("1", "true", "oui", "yes")
        else:
            number = _int(raw)
            if number is not None and f.bounds[0] <= number <= f.bounds[1]:
                rule_values[f.attr] = number
    units = []
    for unit_id, activity_name, unit_name, meal in s.execute(
            select(Unit.id, Activity.name, Unit.name, Unit.meal).join(Activity, Activity.id == Unit.activity_id)
            .order_by(Activity.position, Activity.id, Unit.position, Unit.id)):
        minutes = _int(values.get(UNIT_MINUTES.format(id=unit_id)))
        if minutes is not None and not 0 < minutes <= MAX_MINUTES:
            minutes = None
        pickup_raw = values.get(UNIT_PICKUP.format(id=unit_id))
        pickup = default_pickup(unit_name, meal) if pickup_raw is None else pickup_raw == "1"
        units.append(UnitSetting(unit_id, activity_name, unit_name, minutes, pickup))
    return AttendanceSettings(replace(AttendanceRules(), **rule_values), tuple(units))


def current(desk: Desk) -> AttendanceSettings:
    with desk.read() as s:
        return load(s)


def load_rules(s: Session) -> AttendanceRules:
    return load(s).rules


def parse_hours(text: str) -> int | None:
    """'1,5' / '1.5' / '1 h 30' / '' → minutes (90) or None; raises ValueError otherwise."""
    cleaned = (text or "").strip().lower().replace(" ", "")
    if not cleaned:
        return None
    if "h" in cleaned and not cleaned.endswith("h"):
        hours, _, minutes = cleaned.partition("h")
        return int(hours or "0") * 60 + int(minutes or "0")
    cleaned = cleaned.rstrip("h").replace(",", ".")
    value = float(cleaned)
    minutes = round(value * 60)
    if abs(minutes - value * 60) > 1e-6:
        raise ValueError("not a whole number of minutes")
    return minutes


def save(desk: Desk, rules: AttendanceRules, units: dict[int, tuple[int | None, bool]]) -> SaveResult:
    """Save the rules and, per unit id, (CAF minutes or None, pickup). Supervisor only."""
    desk.require(Role.RESPONSABLE, "Modifier les règles de présence et du rapport CAF")
    problems = []
    for f in RULE_FIELDS:
        value = getattr(rules, f.attr)
        if f.kind == "bool":
            if not isinstance(value, bool):
                problems.append(f"{f.label} : oui ou non.")
        elif not isinstance(value, int) or isinstance(value, bool) or not f.bounds[0] <= value <= f.bounds[1]:
            low, high = f.bounds
            shown = (f"entre {formats.euros(low)} et {formats.euros(high)}" if f.kind == "cents"
                     else f"un nombre entier entre {low} et {high}")
            problems.append(f"{f.label} : {shown}.")
    with desk.unit_of_work() as s:
        before = load(s)
        known = {u.unit_id: u for u in before.units}
        for unit_id, (minutes, _pickup) in sorted(units.items()):
            unit = known.get(unit_id)
            if unit is None:
                problems.append(f"Unité introuvable (n° {unit_id}) : rechargez les réglages.")
            elif minutes is not None and (not isinstance(minutes, int) or not 0 < minutes <= MAX_MINUTES):
                problems.append(f"{unit.label} : une durée entre 1 minute et 24 heures, ou rien "
                                "(le rapport CAF compte alors les actes).")
        if problems:
            raise ValidationFailed(problems, headline="Réglages refusés, rien n'a été enregistré :")
        wanted: dict[str, str | None] = {}
        for f in RULE_FIELDS:
            value = getattr(rules, f.attr)
            wanted[f.key] = ("1" if value else "0") if f.kind == "bool" else str(value)
        for unit_id, (minutes, pickup) in units.items():
            wanted[UNIT_MINUTES.format(id=unit_id)] = None if minutes is None else str(minutes)
            wanted[UNIT_PICKUP.format(id=unit_id)] = "1" if pickup else "0"
        stored = {row.key: row for row in s.execute(select(AppSetting).where(AppSetting.key.in_(wanted))).scalars()}
        changed_keys = {}
        for key, value in wanted.items():
            row = stored.get(key)
            old = row.value if row is not None else None
            if value is None:
                if row is not None:
                    s.delete(row)
                    changed_keys[key] = (old, None)
            elif row is None:
                s.add(AppSetting(key=key, value=value))
                changed_keys[key] = (None, value)
            elif old != value:
                row.value = value
                changed_keys[key] = (old, value)
        s.flush()
        after = load(s)
        changed = _changed_words(before, after)
        if changed:
            desk.audit(s, "settings.attendance", "settings", None,
                       before={k: v[0] for k, v in changed_keys.items()},
                       after={k: v[1] for k, v in changed_keys.items()})
    return SaveResult(after, changed)


def _changed_words(before: AttendanceSettings, after: AttendanceSettings) -> list[str]:
    words = [f.label.lower() for f in RULE_FIELDS if getattr(before.rules, f.attr) != getattr(after.rules, f.attr)]
    for old, new in zip(before.units, after.units):
        if old.caf_minutes != new.caf_minutes:
            words.append(f"heures CAF {formats.de(new.label)}")
        if old.pickup != new.pickup:
            words.append(f"personnes autorisées sur la liste {formats.de(new.label)}")
    return words
