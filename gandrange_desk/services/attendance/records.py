"""Attendance taking (pointage) at the door: one unit's sheet for a day, one tap per child.

A tap is one operation: `record(desk, child, unit, day, presence, expected=…)`. `expected` is
the mark the screen showed; when another workstation (the tablet at the door and the office PC)
marked the child differently in between, the tap is refused with who marked it, and the screen
reloads — nothing is overwritten unseen. Correcting a mark leaves an audit entry; the first mark
is its own record (who, when).

Who is expected: the children with an R or DA cell for that unit and day. A child without one
is marked "présent sans réservation" (walk-in); `rules` says what each mark costs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, NotFound, StaleEdit, ValidationFailed
from gandrange_desk.models import (
    Activity, Attendance, Booking, CellState, Child, Family, Invoice, InvoiceStatus, Presence, Role, School,
    Unit,
)
from gandrange_desk.services.attendance.rules import EXPECTED
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.families.data import can_see_health
from gandrange_desk.services.search import normalize

ANY = object()  # `expected` not checked (the command line, scripts)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
COUNT_WORDS = {
    Presence.PRESENT: ("présent", "présents"), Presence.ABSENT: ("absent", "absents"),
    Presence.EXCUSED: ("absent excusé", "absents excusés"),
    Presence.WALK_IN: ("sans réservation", "sans réservation"),
}


@dataclass(frozen=True)
class DayUnit:
    unit_id: int
    activity_id: int
    activity_name: str
    unit_name: str
    capacity: int | None

    @property
    def label(self) -> str:
        return f"{self.activity_name} — {self.unit_name}"


@dataclass(frozen=True)
class SheetRow:
    child_id: int
    name: str  # "MULLER Léa", as the grid writes it
    class_name: str
    school_name: str
    state: str | None  # R or DA when expected, None for a walk-in
    presence: str | None
    late_time: str = ""
    recorded_by: str = ""
    recorded_at: datetime | None = None
    health: str = ""  # "PAI", "Allergie : arachide"; empty for roles that may not see it

    @property
    def expected(self) -> bool:
        return self.state in EXPECTED

    @property
    def presence_label(self) -> str:
        return Presence(self.presence).label if self.presence else "Non pointé"


@dataclass
class Sheet:
    day: date
    unit: DayUnit
    school_id: int | None
    school_name: str
    closed: str | None  # why the unit is closed that day, or None
    future: bool
    rows: list[SheetRow] = field(default_factory=list)

    @property
    def editable(self) -> bool:
        return self.closed is None and not self.future

    def counts(self) -> dict[str, int]:
        out = {"expected": 0, "unmarked": 0, **{p.value: 0 for p in Presence}}
        for row in self.rows:
            out["expected"] += row.expected
            if row.presence:
                out[row.presence] += 1
            elif row.expected:
                out["unmarked"] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        parts = [formats.count(c[p.value], *COUNT_WORDS[p]) for p in (Presence.PRESENT, Presence.ABSENT,
                                                                       Presence.EXCUSED)]
        parts.append(formats.count(c["unmarked"], "non pointé", "non pointés"))
        text = f"{formats.count(c['expected'], 'enfant attendu', 'enfants attendus')} : {', '.join(parts)}"
        if c[Presence.WALK_IN]:
            text += f" ; {formats.count(c[Presence.WALK_IN], 'présent', 'présents')} sans réservation"
        return text + "."


@dataclass
class RecordResult:
    text: str
    changes: Changes
    note: str = ""  # the month is invoiced: the change goes to the next invoice
    count: int = 1


@dataclass(frozen=True)
class Candidate:
    child_id: int
    name: str
    class_name: str
    school_name: str


# ------------------------------------------------------------------------------ reading
def open_units(desk: Desk, day: date) -> list[DayUnit]:
    """The units open on `day`, in the grid's order (activity, then unit)."""
    with desk.read() as s:
        cal = Calendar.load(s)
        out = []
        for activity in s.execute(select(Activity).order_by(Activity.position, Activity.id)).scalars():
            if cal.closed_reason(activity, day) is None:
                out += [DayUnit(u.id, activity.id, activity.name, u.name, u.capacity) for u in activity.units]
        return out


def sites(desk: Desk) -> list[tuple[int, str]]:
    with desk.read() as s:
        return [tuple(r) for r in s.execute(select(School.id, School.name).order_by(School.position, School.name))]


def _day_unit(s, unit_id: int) -> tuple[Unit, Activity]:
    unit = s.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Unité introuvable : les réglages ont changé, rechargez l'écran.")
    return unit, s.get(Activity, unit.activity_id)


def _health(child, allowed: bool) -> str:
    if not allowed:
        return ""
    allergies = (child.allergies or "").strip()
    parts = (["PAI"] if child.pai else []) + ([f"Allergie : {allergies}"] if allergies else [])
    return " — ".join(parts)


def _name(child) -> str:
    return f"{child.last_name.upper()} {child.first_name}"


def sheet(desk: Desk, day: date, unit_id: int, school_id: int | None = None) -> Sheet:
    """The children expected (R, DA) for one unit and day, and every child marked there."""
    health = can_see_health(desk.actor)
    with desk.read() as s:
        unit, activity = _day_unit(s, unit_id)
        cal = Calendar.load(s)
        schools = dict(s.execute(select(School.id, School.name)).all())
        info = DayUnit(unit.id, activity.id, activity.name, unit.name, unit.capacity)
        result = Sheet(day, info, school_id, schools.get(school_id, "Toutes les écoles"),
                       cal.closed_reason(activity, day), day > desk.today())
        booked = {cid: state for cid, state in s.execute(
            select(Booking.child_id, Booking.state).where(Booking.unit_id == unit_id, Booking.day == day,
                                                          Booking.state.in_(sorted(EXPECTED))))}
        marks = {a.child_id: a for a in s.execute(
            select(Attendance).where(Attendance.unit_id == unit_id, Attendance.day == day)).scalars()}
        ids = sorted(set(booked) | set(marks))
        children = []
        for start in range(0, len(ids), 500):
            stmt = select(Child).where(Child.id.in_(ids[start:start + 500]))
            if school_id is not None:
                stmt = stmt.where(Child.school_id == school_id)
            children += s.execute(stmt).scalars().all()
        for child in sorted(children, key=lambda c: (normalize(c.last_name), normalize(c.first_name), c.id)):
            mark = marks.get(child.id)
            result.rows.append(SheetRow(
                child.id, _name(child), child.class_name or "", schools.get(child.school_id, ""),
                booked.get(child.id), mark.presence if mark else None, mark.late_time if mark else "",
                mark.recorded_by if mark else "", mark.recorded_at if mark else None, _health(child, health)))
        return result


def walk_in_candidates(desk: Desk, text: str, day: date, unit_id: int, limit: int = 20) -> list[Candidate]:
    """Children matching `text` (every word in their first or last name) who are not expected
    and not yet marked for that unit and day: the ones a walk-in can be recorded for."""
    words = normalize(text).split()
    if not words:
        return []
    with desk.read() as s:
        taken = set(s.execute(select(Booking.child_id).where(
            Booking.unit_id == unit_id, Booking.day == day, Booking.state.in_(sorted(EXPECTED)))).scalars())
        taken |= set(s.execute(select(Attendance.child_id).where(
            Attendance.unit_id == unit_id, Attendance.day == day)).scalars())
        schools = dict(s.execute(select(School.id, School.name)).all())
        stmt = select(Child).join(Family, Family.id == Child.family_id).where(Child.archived.is_(False))
        for word in words:  # the family's search text holds its children's names
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Family.search_text.like(f"%{escaped}%", escape="\\"))
        out = []
        for child in s.execute(stmt.order_by(Child.last_name, Child.first_name, Child.id).limit(500)).scalars():
            own = normalize(f"{child.first_name} {child.last_name}")
            if child.id in taken or not all(w in own for w in words):
                continue
            out.append(Candidate(child.id, _name(child), child.class_name or "", schools.get(child.school_id, "")))
            if len(out) >= limit:
                break
        return out


# ------------------------------------------------------------------------------ writing
def _check_day(desk: Desk, s, unit: Unit, activity: Activity, day: date) -> None:
    if not isinstance(day, date):
        raise ValidationFailed(["Jour du pointage illisible."])
    if day > desk.today():
        raise ValidationFailed([f"Le {formats.ddmmyyyy(day)} n'est pas encore arrivé : on ne pointe que "
                                "les présences du jour ou des jours passés."])
    reason = Calendar.load(s).closed_reason(activity, day)
    if reason is not None:
        raise ValidationFailed([f"{activity.name} — {unit.name} est fermé le {formats.ddmmyyyy(day)} "
                                f"({reason}) : rien à pointer."])


def _invoiced_note(s, day: date) -> str:
    month = day.replace(day=1)
    issued = s.execute(select(Invoice.id).where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED)
                       .limit(1)).first()
    if issued is None:
        return ""
    return (f"Les factures {formats.of_month(month)} sont émises : ce changement sera régularisé "
            "sur la prochaine facture.")


def _stale(existing: Attendance | None, expected, child_name: str) -> None:
    shown = expected if expected is not ANY else (existing.presence if existing else None)
    now = existing.presence if existing else None
    if shown == now:
        return
    if existing is None:
        raise StaleEdit(f"{child_name} : le pointage a été effacé sur un autre poste entre-temps. "
                        "L'écran est rechargé ; recommencez si besoin.")
    raise StaleEdit(f"{child_name} a déjà été pointé « {Presence(existing.presence).label} » par "
                    f"{existing.recorded_by} à {existing.recorded_at.strftime('%H:%M')} sur un autre poste. "
                    "L'écran est rechargé ; recommencez si besoin.")


def record(desk: Desk, child_id: int, unit_id: int, day: date, presence: str, *, late_time: str = "",
           expected=ANY) -> RecordResult:
    """Mark one child for one unit and day (see the module's docstring)."""
    desk.require(Role.AGENT, "Pointer les présences")
    problems = []
    if presence not in Presence.labels():
        problems.append(f"Pointage inconnu « {presence} » : {', '.join(Presence.labels().values())}.")
    late_time = (late_time or "").strip()
    if late_time and not _HHMM.match(late_time):
        problems.append(f"Heure d'arrivée illisible « {late_time} » (attendu HH:MM, par exemple 18:40).")
    if late_time and presence not in (Presence.PRESENT, Presence.WALK_IN):
        problems.append("Une heure d'arrivée tardive ne se note que pour un enfant présent.")
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        unit, activity = _day_unit(s, unit_id)
        child = s.get(Child, child_id)
        if child is None or child.archived:
            raise NotFound("Enfant introuvable ou archivé.")
        name = child.full_name
        _check_day(desk, s, unit, activity, day)
        state = s.execute(select(Booking.state).where(Booking.child_id == child_id, Booking.unit_id == unit_id,
                                                      Booking.day == day)).scalar_one_or_none()
        booked = state in EXPECTED
        where = f"{activity.name} — {unit.name} le {formats.ddmmyyyy(day)}"
        if presence == Presence.WALK_IN and booked:
            raise DeskError(f"{name} est réservé(e) pour {where} : pointez « Présent ».")
        if presence != Presence.WALK_IN and not booked:
            why = ("sa demande de réservation est encore en attente" if state == CellState.DR else
                   "sa réservation a été annulée (facturée)" if state == CellState.AF else
                   "aucune réservation")
            what = ("pointez « Présent sans réservation »" if presence == Presence.PRESENT
                    else "rien à pointer")
            raise DeskError(f"{name} n'est pas attendu(e) pour {where} : {why} ; {what}.")
        existing = s.execute(select(Attendance).where(
            Attendance.child_id == child_id, Attendance.unit_id == unit_id, Attendance.day == day)
            .with_for_update()).scalar_one_or_none()
        _stale(existing, expected, name)
        now = desk.now()
        if existing is None:
            s.add(Attendance(child_id=child_id, unit_id=unit_id, day=day, presence=presence, late_time=late_time,
                             recorded_at=now, recorded_by=desk.actor.login))
        elif (existing.presence, existing.late_time) != (presence, late_time):
            desk.audit(s, "attendance.correct", "attendance", existing.id, family_id=child.family_id,
                       before={"presence": existing.presence, "late_time": existing.late_time,
                               "by": existing.recorded_by, "day": day.isoformat(), "unit": unit.name},
                       after={"presence": presence, "late_time": late_time, "child": child.ref})
            existing.presence, existing.late_time = presence, late_time
            existing.recorded_at, existing.recorded_by = now, desk.actor.login
        _flush(s, name)
        note = _invoiced_note(s, day)
    text = f"{name} : « {Presence(presence).label} »" + (f", arrivée à {late_time}" if late_time else "") + "."
    return RecordResult(text, Changes(attendance={(child_id, unit_id, day)}), note)


def _flush(s, name: str) -> None:
    try:
        s.flush()
    except IntegrityError:
        # Two workstations inserted the same child's first mark at once (PostgreSQL).
        raise StaleEdit(f"{name} vient d'être pointé(e) sur un autre poste. L'écran est rechargé ; "
                        "recommencez si besoin.") from None


def clear(desk: Desk, child_id: int, unit_id: int, day: date, *, expected=ANY) -> RecordResult:
    """Take a mark back (a wrong tap): the child is "non pointé" again."""
    desk.require(Role.AGENT, "Pointer les présences")
    with desk.unit_of_work() as s:
        unit, activity = _day_unit(s, unit_id)
        child = s.get(Child, child_id)
        if child is None:
            raise NotFound("Enfant introuvable.")
        _check_day(desk, s, unit, activity, day)
        existing = s.execute(select(Attendance).where(
            Attendance.child_id == child_id, Attendance.unit_id == unit_id, Attendance.day == day)
            .with_for_update()).scalar_one_or_none()
        _stale(existing, expected, child.full_name)
        if existing is None:
            return RecordResult(f"{child.full_name} n'était pas pointé(e).", Changes(), count=0)
        desk.audit(s, "attendance.clear", "attendance", existing.id, family_id=child.family_id,
                   before={"presence": existing.presence, "late_time": existing.late_time,
                           "by": existing.recorded_by, "day": day.isoformat(), "unit": unit.name},
                   after={"child": child.ref})
        s.delete(existing)
        note = _invoiced_note(s, day)
    return RecordResult(f"{child.full_name} : pointage effacé.", Changes(attendance={(child_id, unit_id, day)}),
                        note)


def mark_unmarked(desk: Desk, day: date, unit_id: int, school_id: int | None = None,
                  presence: str = Presence.ABSENT) -> RecordResult:
    """At the end of a session: every expected child nobody marked gets `presence` (absent)."""
    desk.require(Role.AGENT, "Pointer les présences")
    if presence not in (Presence.ABSENT, Presence.PRESENT):
        raise ValidationFailed(["Les enfants non pointés ne peuvent être marqués que présents ou absents."])
    with desk.unit_of_work() as s:
        unit, activity = _day_unit(s, unit_id)
        _check_day(desk, s, unit, activity, day)
        stmt = (select(Booking.child_id).join(Child, Child.id == Booking.child_id)
                .where(Booking.unit_id == unit_id, Booking.day == day, Booking.state.in_(sorted(EXPECTED)),
                       Child.archived.is_(False))
                .where(~Booking.child_id.in_(select(Attendance.child_id).where(
                    Attendance.unit_id == unit_id, Attendance.day == day))))
        if school_id is not None:
            stmt = stmt.where(Child.school_id == school_id)
        ids = sorted(s.execute(stmt).scalars())
        now = desk.now()
        s.add_all(Attendance(child_id=cid, unit_id=unit_id, day=day, presence=presence, late_time="",
                             recorded_at=now, recorded_by=desk.actor.login) for cid in ids)
        _flush(s, "Un enfant")
        if ids:
            desk.audit(s, "attendance.mark_unmarked", "unit", unit_id,
                       after={"day": day.isoformat(), "presence": presence, "children": len(ids)})
        note = _invoiced_note(s, day) if ids else ""
    words = COUNT_WORDS[Presence(presence)]
    text = (f"{formats.count(len(ids), 'enfant non pointé marqué', 'enfants non pointés marqués')} "
            f"{formats.plural(len(ids), *words)}." if ids else "Tous les enfants attendus sont déjà pointés.")
    return RecordResult(text, Changes(attendance={(cid, unit_id, day) for cid in ids}), note, count=len(ids))
