"""Settings import and export (`settings import FILE.toml`, `settings export`).

An import is all-or-nothing: the file is validated whole first (one French line per problem),
then applied in one transaction. Re-importing updates in place — the structure, activities by
code, units by name — and a price change becomes a new tariff from the import date (or the
unit's `valid_from`), so the prices already billed keep their history. Every change is audited
with its values before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk.errors import DeskError, StaleEdit, ValidationFailed
from gandrange_desk.models import (
    Activity, AppSetting, Booking, Child, Closure, Request, Role, School, SmtpSettings, Structure, Tariff,
    TariffBracket, Unit,
)
from gandrange_desk.models.base import money_str
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk, stamp
from gandrange_desk import formats
from gandrange_desk.services.attendance import settings as attendance_settings
from gandrange_desk.services.settings.fields import ATTENDANCE_FIELDS, STRUCTURE_COLUMNS
from gandrange_desk.services.settings.toml import (
    HEADLINE, ActivitySpec, PriceRow, SettingsSpec, UnitSpec, check_document, parse_settings, render_settings,
)


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    @property
    def changes(self) -> Changes:
        # Structure, calendar, activities, units, capacities, prices: every view may show some.
        return Changes(settings=True, everything=True) if self.changed else Changes()

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "deleted": self.deleted}

    def text(self) -> str:
        if not self.changed:
            return "Paramètres importés : aucun changement."
        lines = ["Paramètres importés."]
        for title, items in (("Créé", self.created), ("Modifié", self.updated), ("Supprimé", self.deleted)):
            lines += [f"  {title} : {item}" for item in items]
        return "\n".join(lines)


def read_settings_file(path: str | Path) -> str:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DeskError(f"Fichier de paramètres introuvable : {path}.") from None
    except OSError as exc:
        raise DeskError(f"Impossible de lire le fichier de paramètres {path} : {exc.strerror}.") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed([f"Fichier illisible : il doit être encodé en UTF-8 (octet {exc.start})."],
                               headline=HEADLINE) from None


def import_settings(desk: Desk, text: str, *, default_valid_from: date | None = None,
                    replace: bool = False) -> ImportSummary:
    """Validate then apply a settings file. `default_valid_from` (the import date when None) is
    the day new prices apply from when a unit gives no `valid_from`. The optional structure keys
    and the [smtp] section the file leaves out stay as they are, unless `replace`."""
    desk.require(Role.RESPONSABLE, "Importer les paramètres")
    spec = parse_settings(text, today=desk.today())
    with desk.unit_of_work() as s:
        return apply_settings(s, desk, spec, default_valid_from=default_valid_from, replace=replace)


def apply_settings(s: Session, desk: Desk, spec: SettingsSpec, *, default_valid_from: date | None = None,
                   action: str = "settings.import", replace: bool = True) -> ImportSummary:
    """Apply a validated spec inside the caller's transaction (the demo builds on it). Without
    `replace`, what the document does not mention (`spec.mentioned`) is left as it is."""
    if not replace:
        spec = _only_mentioned(s, spec)
    effective = default_valid_from or desk.today()
    summary = ImportSummary()
    problems = _check_removals(s, spec)
    if problems:
        raise ValidationFailed(problems, headline=HEADLINE)
    _apply_structure(s, desk, spec, summary)
    _apply_schools(s, desk, spec, summary)
    _apply_closures(s, desk, spec, summary)
    _apply_smtp(s, desk, spec, summary)
    _apply_activities(s, desk, spec, effective, summary)
    _apply_attendance(s, desk, spec, summary)
    if summary.changed:
        desk.audit(s, action, "settings", None, after=summary.as_dict())
    return summary


def _only_mentioned(s: Session, spec: SettingsSpec) -> SettingsSpec:
    """The spec with the structure keys and [smtp] it does not mention taken from the base."""
    from dataclasses import replace as copy

    row = s.execute(select(Structure).order_by(Structure.id)).scalars().first()
    structure = dict(spec.structure)
    if row is not None:
        for key in STRUCTURE_COLUMNS:
            if key not in spec.mentioned:
                structure[key] = getattr(row, key)
    smtp = spec.smtp
    if "[smtp]" not in spec.mentioned:
        current = s.execute(select(SmtpSettings).order_by(SmtpSettings.id)).scalars().first()
        smtp = None if current is None else {key: getattr(current, key) for key in
                                             ("host", "port", "user", "sender", "reply_to", "security")}
    return copy(spec, structure=structure, smtp=smtp)


def import_settings_file(desk: Desk, path: str | Path, **kw) -> ImportSummary:
    return import_settings(desk, read_settings_file(path), **kw)


# The names the main window calls.
def import_file(desk: Desk, path: str | Path, **kw) -> ImportSummary:
    return import_settings_file(desk, path, **kw)


def export_text(desk: Desk) -> str:
    return export_settings(desk)


def export_settings(desk: Desk) -> str:
    with desk.read() as s:
        spec = current_spec(s)
    if spec is None:
        raise DeskError("Aucun paramètre à exporter : importez d'abord un fichier de paramètres.")
    return render_settings(spec, desk.today())


# ---------------------------------------------------------------------------------------------
# Reading the database back into a spec (export, and comparing before an update)


def _rows(brackets: list[TariffBracket], rank: int) -> list[PriceRow]:
    chosen = sorted((b for b in brackets if b.sibling_rank == rank), key=lambda b: b.position)
    return [PriceRow(b.qf_max, b.price_cents) for b in chosen]


def tariff_spec(tariff: Tariff) -> dict:
    """What of a tariff a settings file states, comparable with a UnitSpec."""
    ranks = sorted({b.sibling_rank for b in tariff.brackets if b.sibling_rank != 1})
    return {
        "prices": _rows(tariff.brackets, 1),
        "sibling_prices": {r: _rows(tariff.brackets, r) for r in ranks},
        "pai_cents": tariff.pai_price_cents,
        "late_surcharge_cents": tariff.late_surcharge_cents,
    }


def _unit_tariff_spec(unit: UnitSpec) -> dict:
    return {"prices": unit.prices, "sibling_prices": unit.sibling_prices, "pai_cents": unit.pai_cents,
            "late_surcharge_cents": unit.late_surcharge_cents}


def _printable(tspec: dict) -> dict:
    def rows(items):
        return [{"qf_max": r.qf_max, "price": money_str(r.cents)} for r in items]

    return {
        "prices": rows(tspec["prices"]),
        "sibling_prices": {str(k): rows(v) for k, v in tspec["sibling_prices"].items()},
        "pai_price": money_str(tspec["pai_cents"]) if tspec["pai_cents"] is not None else None,
        "late_surcharge": (money_str(tspec["late_surcharge_cents"])
                           if tspec["late_surcharge_cents"] is not None else None),
    }


def current_spec(s: Session) -> SettingsSpec | None:
    structure = s.execute(select(Structure).order_by(Structure.id)).scalars().first()
    if structure is None:
        return None
    values = {key: getattr(structure, key) for key in STRUCTURE_COLUMNS}
    schools = list(s.execute(select(School.name).order_by(School.position, School.id)).scalars())
    closures = [(c.first_day, c.last_day, c.label) for c in
                s.execute(select(Closure).order_by(Closure.first_day, Closure.id)).scalars()]
    smtp_row = s.execute(select(SmtpSettings).order_by(SmtpSettings.id)).scalars().first()
    smtp = None
    if smtp_row is not None:
        smtp = {k: getattr(smtp_row, k) for k in ("host", "port", "security", "user", "sender", "reply_to")}
    activities = []
    query = (select(Activity).order_by(Activity.position, Activity.id)
             .options(selectinload(Activity.units).selectinload(Unit.tariffs).selectinload(Tariff.brackets)))
    for a in s.execute(query).scalars():
        spec = ActivitySpec(
            code=a.code, name=a.name, opens=a.opens, weekdays=[d for d in a.weekdays.split(",") if d],
            booking_days=a.booking_deadline_days, booking_time=a.booking_deadline_time,
            cancellation_days=a.cancellation_deadline_days, cancellation_time=a.cancellation_deadline_time,
        )
        for u in a.units:
            unit = UnitSpec(name=u.name, capacity=u.capacity, meal=u.meal)
            if u.tariffs:
                # The latest tariff is what the supervisor last set; older ones stay as history.
                latest = max(u.tariffs, key=lambda t: t.valid_from)
                t = tariff_spec(latest)
                unit.prices, unit.sibling_prices = t["prices"], t["sibling_prices"]
                unit.pai_cents, unit.late_surcharge_cents = t["pai_cents"], t["late_surcharge_cents"]
                unit.valid_from = latest.valid_from
            spec.units.append(unit)
        activities.append(spec)
    rules = attendance_settings.load_rules(s)
    attendance = {f.key: getattr(rules, f.key) for f in ATTENDANCE_FIELDS}
    return SettingsSpec(values, schools, closures, smtp, activities, attendance)


# ---------------------------------------------------------------------------------------------
# Applying


def _check_removals(s: Session, spec: SettingsSpec) -> list[str]:
    """Schools, activities and units left out of the file are deleted, unless data uses them."""
    problems = []
    for school in s.execute(select(School)).scalars():
        if school.name not in spec.schools and s.execute(
                select(exists().where(Child.school_id == school.id))).scalar():
            problems.append(f"structure.schools : l'école « {school.name} » manque dans le fichier, "
                            "mais des enfants y sont inscrits ; elle ne peut pas être retirée")
    wanted = {a.code: {u.name for u in a.units} for a in spec.activities}
    for activity in s.execute(select(Activity).options(selectinload(Activity.units))).scalars():
        for unit in activity.units:
            if activity.code in wanted and unit.name in wanted[activity.code]:
                continue
            used = s.execute(select(exists().where(Booking.unit_id == unit.id))).scalar() or s.execute(
                select(exists().where(Request.unit_id == unit.id))).scalar()
            if used:
                what = (f"l'activité « {activity.code} »" if activity.code not in wanted
                        else f"l'unité « {unit.name} » de l'activité « {activity.code} »")
                problems.append(f"activity : {what} manque dans le fichier, mais des réservations "
                                "ou des demandes l'utilisent ; elle ne peut pas être retirée")
    return problems


def _apply_structure(s: Session, desk: Desk, spec: SettingsSpec, summary: ImportSummary) -> None:
    row = s.execute(select(Structure).order_by(Structure.id)).scalars().first()
    if row is None:
        row = Structure(**spec.structure)
        stamp(row, desk)
        s.add(row)
        s.flush()
        desk.audit(s, "settings.structure.create", "structure", row.id, after=spec.structure)
        summary.created.append("structure")
        return
    before = {k: getattr(row, k) for k in STRUCTURE_COLUMNS}
    changed = {k: v for k, v in spec.structure.items() if before[k] != v}
    if changed:
        for k, v in changed.items():
            setattr(row, k, v)
        stamp(row, desk)
        desk.audit(s, "settings.structure.update", "structure", row.id,
                   before={k: before[k] for k in changed}, after=changed)
        summary.updated.append("structure (" + ", ".join(sorted(changed)) + ")")


def _apply_schools(s: Session, desk: Desk, spec: SettingsSpec, summary: ImportSummary) -> None:
    existing = {sc.name: sc for sc in s.execute(select(School)).scalars()}
    for position, name in enumerate(spec.schools):
        school = existing.pop(name, None)
        if school is None:
            school = School(name=name, position=position)
            s.add(school)
            s.flush()
            desk.audit(s, "settings.school.create", "school", school.id, after={"name": name})
            summary.created.append(f"école « {name} »")
        elif school.position != position:
            school.position = position
    for name, school in existing.items():
        desk.audit(s, "settings.school.delete", "school", school.id, before={"name": name})
        s.delete(school)
        summary.deleted.append(f"école « {name} »")


def _apply_closures(s: Session, desk: Desk, spec: SettingsSpec, summary: ImportSummary) -> None:
    rows = list(s.execute(select(Closure).order_by(Closure.first_day, Closure.id)).scalars())
    before = [(c.first_day, c.last_day, c.label) for c in rows]
    if before == spec.closures:
        return
    s.execute(delete(Closure))
    for first, last, label in spec.closures:
        s.add(Closure(first_day=first, last_day=last, label=label))
    desk.audit(s, "settings.closures.update", "closure", None, before=before, after=spec.closures)
    (summary.updated if before else summary.created).append("fermetures")


def _apply_smtp(s: Session, desk: Desk, spec: SettingsSpec, summary: ImportSummary) -> None:
    row = s.execute(select(SmtpSettings).order_by(SmtpSettings.id)).scalars().first()
    if spec.smtp is None:
        if row is not None:
            desk.audit(s, "settings.smtp.delete", "smtp_settings", row.id, before={"host": row.host})
            s.delete(row)
            summary.deleted.append("serveur SMTP")
        return
    if row is None:
        row = SmtpSettings(**spec.smtp)
        stamp(row, desk)
        s.add(row)
        s.flush()
        desk.audit(s, "settings.smtp.create", "smtp_settings", row.id, after=spec.smtp)
        summary.created.append("serveur SMTP")
        return
    before = {k: getattr(row, k) for k in spec.smtp}
    changed = {k: v for k, v in spec.smtp.items() if before[k] != v}
    if changed:
        for k, v in changed.items():
            setattr(row, k, v)
        stamp(row, desk)
        desk.audit(s, "settings.smtp.update", "smtp_settings", row.id,
                   before={k: before[k] for k in changed}, after=changed)
        summary.updated.append("serveur SMTP")


def _apply_attendance(s: Session, desk: Desk, spec: SettingsSpec, summary: ImportSummary) -> None:
    """[attendance] into its AppSetting keys (the ones the attendance screen's dialog saves);
    a key the file leaves out keeps its saved value."""
    if not spec.attendance:
        return
    wanted = {f.setting: ("1" if spec.attendance[f.key] else "0") if f.kind == "bool" else str(spec.attendance[f.key])
              for f in ATTENDANCE_FIELDS if f.key in spec.attendance}
    stored = {row.key: row for row in s.execute(select(AppSetting).where(AppSetting.key.in_(wanted))).scalars()}
    before = attendance_settings.load_rules(s)
    changed = {}
    for key, value in wanted.items():
        row = stored.get(key)
        if row is None:
            s.add(AppSetting(key=key, value=value))
            changed[key] = (None, value)
        elif row.value != value:
            changed[key] = (row.value, value)
            row.value = value
    if not changed:
        return
    s.flush()
    after = attendance_settings.load_rules(s)
    for f in ATTENDANCE_FIELDS:
        old, new = getattr(before, f.key), getattr(after, f.key)
        if old != new:
            summary.updated.append(f"{f.label.lower()} : {_rule_words(f, old)} → {_rule_words(f, new)}")
    desk.audit(s, "settings.attendance", "settings", None, before={k: v[0] for k, v in changed.items()},
               after={k: v[1] for k, v in changed.items()})


def _rule_words(f, value) -> str:
    if f.kind == "bool":
        return "oui" if value else "non"
    return formats.euros(value) if f.kind == "price" else f"{value}{f.suffix}"


def _activity_values(a: ActivitySpec, position: int) -> dict:
    return {"name": a.name, "opens": a.opens, "weekdays": ",".join(a.weekdays),
            "booking_deadline_days": a.booking_days, "booking_deadline_time": a.booking_time,
            "cancellation_deadline_days": a.cancellation_days,
            "cancellation_deadline_time": a.cancellation_time, "position": position}


def _apply_activities(s: Session, desk: Desk, spec: SettingsSpec, effective: date,
                      summary: ImportSummary) -> None:
    query = select(Activity).options(
        selectinload(Activity.units).selectinload(Unit.tariffs).selectinload(Tariff.brackets))
    existing = {a.code: a for a in s.execute(query).scalars()}
    for position, a in enumerate(spec.activities):
        values = _activity_values(a, position)
        row = existing.pop(a.code, None)
        if row is None:
            row = Activity(code=a.code, **values)
            stamp(row, desk)
            s.add(row)
            s.flush()
            desk.audit(s, "settings.activity.create", "activity", row.id, after={"code": a.code, **values})
            summary.created.append(f"activité {a.code}")
        else:
            before = {k: getattr(row, k) for k in values}
            changed = {k: v for k, v in values.items() if before[k] != v}
            if changed:
                for k, v in changed.items():
                    setattr(row, k, v)
                stamp(row, desk)
                if set(changed) != {"position"}:
                    desk.audit(s, "settings.activity.update", "activity", row.id,
                               before={k: before[k] for k in changed}, after=changed)
                    summary.updated.append(f"activité {a.code}")
        _apply_units(s, desk, row, a, effective, summary)
    for code, row in existing.items():
        desk.audit(s, "settings.activity.delete", "activity", row.id, before={"code": code, "name": row.name})
        s.delete(row)
        summary.deleted.append(f"activité {code}")


def _apply_units(s: Session, desk: Desk, activity: Activity, a: ActivitySpec, effective: date,
                 summary: ImportSummary) -> None:
    existing = {u.name: u for u in activity.units}
    for position, u in enumerate(a.units):
        values = {"capacity": u.capacity, "meal": u.meal, "position": position}
        row = existing.pop(u.name, None)
        label = f"{a.code} / {u.name}"
        if row is None:
            row = Unit(activity_id=activity.id, name=u.name, **values)
            s.add(row)
            s.flush()
            desk.audit(s, "settings.unit.create", "unit", row.id, after={"activity": a.code, "name": u.name,
                                                                          **values})
            summary.created.append(f"unité {label}")
            tariffs: list[Tariff] = []
        else:
            before = {k: getattr(row, k) for k in values}
            changed = {k: v for k, v in values.items() if before[k] != v}
            if changed:
                for k, v in changed.items():
                    setattr(row, k, v)
                if set(changed) != {"position"}:
                    desk.audit(s, "settings.unit.update", "unit", row.id,
                               before={k: before[k] for k in changed}, after=changed)
                    summary.updated.append(f"unité {label}")
            tariffs = list(row.tariffs)
        _apply_tariff(s, desk, row, tariffs, u, u.valid_from or effective, label, summary)
    for name, row in existing.items():
        desk.audit(s, "settings.unit.delete", "unit", row.id, before={"activity": a.code, "name": name})
        s.delete(row)
        summary.deleted.append(f"unité {a.code} / {name}")


def _apply_tariff(s: Session, desk: Desk, unit: Unit, tariffs: list[Tariff], u: UnitSpec, valid_from: date,
                  label: str, summary: ImportSummary) -> None:
    wanted = _unit_tariff_spec(u)
    in_force = max((t for t in tariffs if t.valid_from <= valid_from), key=lambda t: t.valid_from, default=None)
    if in_force is not None and tariff_spec(in_force) == wanted:
        return
    same_day = next((t for t in tariffs if t.valid_from == valid_from), None)
    if same_day is not None:
        before = _printable(tariff_spec(same_day))
        s.execute(delete(TariffBracket).where(TariffBracket.tariff_id == same_day.id))
        same_day.pai_price_cents = u.pai_cents
        same_day.late_surcharge_cents = u.late_surcharge_cents
        stamp(same_day, desk)
        tariff = same_day
        action = "settings.tariff.update"
    else:
        before = _printable(tariff_spec(in_force)) if in_force is not None else None
        tariff = Tariff(unit_id=unit.id, valid_from=valid_from, pai_price_cents=u.pai_cents,
                        late_surcharge_cents=u.late_surcharge_cents)
        stamp(tariff, desk)
        s.add(tariff)
        action = "settings.tariff.create"
    s.flush()
    rows = [(1, r) for r in u.prices] + [(rank, r) for rank, items in sorted(u.sibling_prices.items())
                                         for r in items]
    positions: dict[int, int] = {}
    for rank, r in rows:
        position = positions.get(rank, 0)
        positions[rank] = position + 1
        s.add(TariffBracket(tariff_id=tariff.id, qf_max=r.qf_max, price_cents=r.cents, sibling_rank=rank,
                            position=position))
    s.flush()
    s.expire(tariff, ["brackets"])
    after = {"valid_from": valid_from.isoformat(), **_printable(wanted)}
    desk.audit(s, action, "tariff", tariff.id, before=before, after=after)
    (summary.updated if in_force is not None or same_day is not None else summary.created).append(
        f"tarif {label} à partir du {valid_from.strftime('%d/%m/%Y')}")


# ---------------------------------------------------------------------------------------------
# The settings window edits the same document as the file (DESIGN §7): it loads the document a
# TOML import would read, edits it, and saves it through the same validation and the same apply.
# Prices of existing units and the [smtp] section have their own dialogs; a window save keeps
# them as they are in the database at save time, so it never undoes what those dialogs saved.


@dataclass
class SettingsDraft:
    document: dict  # the TOML document (as tomllib returns it), for the window to edit
    versions: dict  # what the document was read from; a save from a stale draft is refused


def current_document(desk: Desk) -> SettingsDraft:
    """The settings as a TOML-shaped document plus the versions it was read from."""
    import tomllib

    with desk.read() as s:
        spec = current_spec(s)
        versions = _versions(s)
    if spec is None:
        raise DeskError("Aucun réglage en base : importez d'abord un fichier de réglages "
                        "(Fichier › Importer les réglages…).")
    return SettingsDraft(tomllib.loads(render_settings(spec, desk.today())), versions)


def validate_document(doc: dict, today: date) -> SettingsSpec:
    """The TOML import's validation of a document (one French line per problem, with its place),
    with the import's day: closures outside the school year ± 1 are refused by the same check
    (`limits.check_closure_window`) whether they come from a file or from the window."""
    return check_document(doc, today=today)


def apply_document(desk: Desk, doc: dict, versions: dict) -> ImportSummary:
    """Save the window's document: validated whole, then applied in one transaction, or nothing.

    `versions` come from `current_document`; if anyone changed the settings since, the save is
    refused naming who."""
    from gandrange_desk.services.context import check_version

    desk.require(Role.RESPONSABLE, "Modifier les réglages")
    spec = validate_document(doc, desk.today())
    with desk.unit_of_work() as s:
        # The structure row locked first serialises window saves (PostgreSQL): the second one
        # then reads what the first saved and is refused as stale, never half-merged.
        structure = s.execute(select(Structure).order_by(Structure.id).with_for_update()).scalars().first()
        if structure is None:
            raise DeskError("Aucun réglage en base : importez d'abord un fichier de réglages.")
        check_version(structure, versions.get("structure"), "la fiche de la structure")
        activities = {a.code: a for a in s.execute(select(Activity)).scalars()}
        for code, version in versions.get("activity", {}).items():
            if code in activities:
                check_version(activities[code], version, f"l'activité {code}")
        current = _versions(s)
        if current["lists"] != versions.get("lists") or set(activities) != set(versions.get("activity", {})):
            raise StaleEdit(_stale_lists_message(s))
        fresh = current_spec(s)
        _keep_prices_and_smtp(spec, fresh)
        units_before = current["lists"]["units"]
        lists_before = (current["lists"]["schools"], current["lists"]["closures"])
        summary = apply_settings(s, desk, spec, action="settings.edit")
        s.flush()
        # Units, schools and closures have no version of their own: changing them stamps the
        # activity or the structure, so the next stale draft is refused by name.
        after = _versions(s)["lists"]
        for code, row in activities.items():
            if code in after["units"] and after["units"][code] != units_before.get(code) and row in s:
                _bump(row, desk)
        if (after["schools"], after["closures"]) != lists_before:
            _bump(structure, desk)
        return summary


def _bump(row, desk: Desk) -> None:
    from sqlalchemy.orm.attributes import flag_modified

    stamp(row, desk)
    flag_modified(row, "updated_at")  # an UPDATE (hence a new version) even if the stamp is unchanged


def _versions(s: Session) -> dict:
    structure = s.execute(select(Structure).order_by(Structure.id)).scalars().first()
    # Plain rows, not relationships: after an apply the loaded collections may lag the table.
    activity_versions = dict(s.execute(select(Activity.code, Activity.version)).all())
    units: dict[str, list] = {code: [] for code in activity_versions}
    query = (select(Activity.code, Unit.name, Unit.capacity, Unit.meal).join(Unit.activity)
             .order_by(Activity.code, Unit.position, Unit.id))
    for code, name, capacity, meal in s.execute(query):
        units[code].append([name, capacity, bool(meal)])
    return {
        "structure": structure.version if structure is not None else None,
        "activity": activity_versions,
        "lists": {
            "schools": list(s.execute(select(School.name).order_by(School.position, School.id)).scalars()),
            "closures": [[c.first_day.isoformat(), c.last_day.isoformat(), c.label] for c in
                         s.execute(select(Closure).order_by(Closure.first_day, Closure.id)).scalars()],
            "units": units,
        },
    }


def _stale_lists_message(s: Session) -> str:
    from gandrange_desk.models import AuditEntry

    last = s.execute(select(AuditEntry).where(AuditEntry.action.like("settings.%"))
                     .order_by(AuditEntry.id.desc()).limit(1)).scalars().first()
    who = f" par {last.user_login} le {last.at.strftime('%d/%m/%Y à %H:%M')}" if last is not None else ""
    return (f"Enregistrement refusé : les réglages ont été modifiés{who} depuis l'ouverture de la "
            "fenêtre. Rechargez-les pour voir ces changements, puis recommencez.")


def _keep_prices_and_smtp(spec: SettingsSpec, fresh: SettingsSpec | None) -> None:
    if fresh is None:
        return
    spec.smtp = fresh.smtp
    known = {(a.code, u.name): u for a in fresh.activities for u in a.units}
    for a in spec.activities:
        for u in a.units:
            old = known.get((a.code, u.name))
            if old is not None:
                u.prices, u.sibling_prices = old.prices, old.sibling_prices
                u.pai_cents, u.late_surcharge_cents, u.valid_from = (
                    old.pai_cents, old.late_surcharge_cents, old.valid_from)
