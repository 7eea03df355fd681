"""The lists of the day: per site (school) and unit, the children expected; the kitchen's count.

What the office prints every morning:
- one list per school and open unit: the children expected (R, and DA — still reserved until
  the office decides), with their class, PAI and allergy marks and, for a unit that ends the
  day (`attendance.settings`: Accueil soir, Journée…), who may collect them: the guardians,
  the authorised persons, and those explicitly not allowed;
- the kitchen's count per school for every meal unit: meals booked, PAI baskets brought by the
  family, meals to cook, and each child's allergies.

Health marks follow `can_see_health`; without it the lists carry names and classes only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gandrange_desk import formats
from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Activity, Booking, CellState, Child, Guardian, PickupPerson, Role, School, Unit
from gandrange_desk.services.attendance.settings import load as load_settings
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk
from gandrange_desk.services.exports.table import BOOL, DATE, INT, TEXT, Column, Table
from gandrange_desk.services.exports.writer import write_file
from gandrange_desk.services.families.data import can_see_health
from gandrange_desk.services.search import normalize

NO_SCHOOL = "Sans école"


@dataclass(frozen=True)
class Pickup:
    name: str
    relation: str
    phone: str
    forbidden: bool = False

    def text(self) -> str:
        """'Sandrine Becker, Mère — 07 82 85 90 33'."""
        return self.name + "".join(f"{sep}{x}" for sep, x in ((", ", self.relation), (" — ", self.phone)) if x)


@dataclass(frozen=True)
class DayChild:
    child_id: int
    name: str  # "MULLER Léa"
    class_name: str
    state: str  # R or DA
    pai: bool = False
    allergies: str = ""
    guardians: tuple[Pickup, ...] = ()
    pickups: tuple[Pickup, ...] = ()  # authorised persons besides the guardians
    forbidden: tuple[Pickup, ...] = ()

    @property
    def health(self) -> str:
        return " — ".join((["PAI"] if self.pai else []) + ([f"Allergie : {self.allergies}"] if self.allergies else []))

    def pickup_lines(self) -> list[str]:
        """One person a line: the guardians, the authorised persons, then those not allowed."""
        return ([p.text() for p in self.guardians] + [p.text() for p in self.pickups]
                + [f"NON AUTORISÉ : {p.text()}" for p in self.forbidden])


@dataclass
class UnitList:
    school_name: str
    activity_name: str
    unit_name: str
    unit_id: int
    capacity: int | None
    pickup: bool  # the unit ends the day: who may collect each child is printed
    children: list[DayChild] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.activity_name} — {self.unit_name}"

    @property
    def pending_cancellations(self) -> int:
        return sum(c.state == CellState.DA for c in self.children)


@dataclass
class MealCount:
    school_name: str
    unit_label: str
    booked: int = 0
    pai: int = 0  # meals brought by the family (PAI basket)
    pending_cancellations: int = 0
    allergic: list[DayChild] = field(default_factory=list)  # allergies or PAI, for the cook

    @property
    def to_cook(self) -> int:
        return self.booked - self.pai


@dataclass
class DayLists:
    day: date
    health: bool  # health marks shown (the actor's role may see them)
    lists: list[UnitList] = field(default_factory=list)
    kitchen: list[MealCount] = field(default_factory=list)
    open_units: list[str] = field(default_factory=list)  # every unit open that day, even empty
    closed: list[str] = field(default_factory=list)  # "MERCREDI : fermé (jour sans accueil)"

    @property
    def children(self) -> int:
        return len({c.child_id for unit in self.lists for c in unit.children})

    def summary(self) -> str:
        if not self.lists:
            return f"Aucun enfant attendu le {formats.long_date(self.day)}."
        return (f"{formats.long_date(self.day).capitalize()} : "
                f"{formats.count(len(self.lists), 'liste', 'listes')}, "
                f"{formats.count(self.children, 'enfant attendu', 'enfants attendus')}, "
                f"{formats.count(sum(m.booked for m in self.kitchen), 'repas réservé', 'repas réservés')}.")


def day_lists(desk: Desk, day: date, school_id: int | None = None) -> DayLists:
    """The day's lists of every open unit (one school, or all)."""
    desk.require(Role.AGENT, "Éditer les listes du jour")
    if not isinstance(day, date):
        raise ValidationFailed(["Indiquez le jour des listes."])
    health = can_see_health(desk.actor)
    out = DayLists(day, health)
    with desk.read() as s:
        cal = Calendar.load(s)
        pickup_units = load_settings(s).pickup_units()
        schools = dict(s.execute(select(School.id, School.name)).all())
        school_order = {sid: i for i, sid in enumerate(s.execute(
            select(School.id).order_by(School.position, School.name)).scalars())}
        units: dict[int, tuple[Unit, Activity]] = {}
        for activity in s.execute(select(Activity).options(selectinload(Activity.units))
                                  .order_by(Activity.position, Activity.id)).scalars():
            reason = cal.closed_reason(activity, day)
            if reason is not None:
                out.closed.append(f"{activity.name} : fermé ({reason})")
                continue
            for unit in activity.units:
                units[unit.id] = (unit, activity)
                out.open_units.append(f"{activity.name} — {unit.name}")
        if not units:
            return out
        # Columns, not ORM objects: at 8,000 families the day is ~10,000 children, and full
        # Child/Guardian/PickupPerson objects cost the window ~50 MB it never gave back.
        stmt = (select(Booking.unit_id, Booking.state, Child.id, Child.family_id, Child.school_id,
                       Child.last_name, Child.first_name, Child.class_name, Child.pai, Child.allergies)
                .join(Child, Child.id == Booking.child_id)
                .where(Booking.day == day, Booking.unit_id.in_(sorted(units)),
                       Booking.state.in_([CellState.R.value, CellState.DA.value]), Child.archived.is_(False)))
        if school_id is not None:
            stmt = stmt.where(Child.school_id == school_id)
        rows = s.execute(stmt).all()
        family_ids = sorted({row.family_id for row in rows})
        child_ids = sorted({row.id for row in rows})
        guardians: dict[int, list[Pickup]] = defaultdict(list)
        for start in range(0, len(family_ids), 500):
            chunk = family_ids[start:start + 500]
            for fid, first, last, relation, phone in s.execute(
                    select(Guardian.family_id, Guardian.first_name, Guardian.last_name, Guardian.relation,
                           Guardian.phone).where(Guardian.family_id.in_(chunk))
                    .order_by(Guardian.position, Guardian.id)):
                guardians[fid].append(Pickup(f"{first} {last}".strip(), relation, phone))
        pickups_of: dict[int, list[Pickup]] = defaultdict(list)
        for start in range(0, len(child_ids), 500):
            chunk = child_ids[start:start + 500]
            for cid, name, relation, phone, forbidden in s.execute(
                    select(PickupPerson.child_id, PickupPerson.name, PickupPerson.relation, PickupPerson.phone,
                           PickupPerson.forbidden).where(PickupPerson.child_id.in_(chunk))
                    .order_by(PickupPerson.id)):
                pickups_of[cid].append(Pickup(name, relation, phone, forbidden))
        by_list: dict[tuple[int | None, int], UnitList] = {}
        for row in rows:
            unit, activity = units[row.unit_id]
            key = (row.school_id, row.unit_id)
            unit_list = by_list.get(key)
            if unit_list is None:
                unit_list = by_list[key] = UnitList(schools.get(row.school_id, NO_SCHOOL), activity.name, unit.name,
                                                    unit.id, unit.capacity, row.unit_id in pickup_units)
            pickups = pickups_of.get(row.id, ())
            unit_list.children.append(DayChild(
                row.id, f"{row.last_name.upper()} {row.first_name}", row.class_name or "", row.state,
                bool(row.pai) if health else False, (row.allergies or "").strip() if health else "",
                tuple(guardians.get(row.family_id, ())), tuple(p for p in pickups if not p.forbidden),
                tuple(p for p in pickups if p.forbidden)))
        order = {uid: (activity.position, activity.id, unit.position, unit.id) for uid, (unit, activity) in units.items()}
        for (sid, uid), unit_list in sorted(by_list.items(), key=lambda kv: (
                school_order.get(kv[0][0], len(school_order)), order[kv[0][1]])):
            unit_list.children.sort(key=lambda c: (normalize(c.name), c.child_id))
            out.lists.append(unit_list)
            unit, _activity = units[uid]
            if unit.meal:
                meal = MealCount(unit_list.school_name, unit_list.label, len(unit_list.children),
                                 sum(c.pai for c in unit_list.children), unit_list.pending_cancellations,
                                 [c for c in unit_list.children if c.pai or c.allergies])
                out.kitchen.append(meal)
    return out


# ---------------------------------------------------------------------------------- exports
DAY_COLUMNS = (
    Column("Jour", DATE), Column("École", TEXT, 18), Column("Activité", TEXT, 16), Column("Unité", TEXT, 16),
    Column("Enfant", TEXT, 24), Column("Classe", TEXT, 7), Column("Annulation demandée", BOOL),
    Column("PAI", BOOL), Column("Allergies", TEXT, 20), Column("Personnes autorisées (fin de journée)", TEXT, 60),
)
KITCHEN_COLUMNS = (
    Column("Jour", DATE), Column("École", TEXT, 18), Column("Repas", TEXT, 22),
    Column("Repas réservés", INT, total=True), Column("dont PAI (panier repas)", INT, total=True),
    Column("Repas à préparer", INT, total=True), Column("Annulations en attente", INT, total=True),
    Column("Allergies et PAI", TEXT, 60),
)


def day_tables(lists: DayLists) -> list[Table]:
    """The children's lists and the kitchen's count, as two tables (two sheets in XLSX)."""
    when = formats.ddmmyyyy(lists.day)
    children = Table("Listes du jour", f"Listes du jour — {when}", DAY_COLUMNS)
    for unit in lists.lists:
        for c in unit.children:
            children.rows.append((
                lists.day, unit.school_name, unit.activity_name, unit.unit_name, c.name, c.class_name,
                c.state == CellState.DA, c.pai, c.allergies,
                " ; ".join(c.pickup_lines()) if unit.pickup else ""))
    kitchen = Table("Repas", f"Repas du {when}", KITCHEN_COLUMNS)
    for meal in lists.kitchen:
        details = " ; ".join(f"{c.name} ({c.class_name}) : {c.health}" for c in meal.allergic)
        kitchen.rows.append((lists.day, meal.school_name, meal.unit_label, meal.booked, meal.pai, meal.to_cook,
                             meal.pending_cancellations, details))
    return [children, kitchen]


def day_pdf(desk: Desk, day: date, school_id: int | None = None) -> tuple[bytes, DayLists]:
    """The printable lists: one page per school and unit, then the kitchen's page."""
    from gandrange_desk.services.pdf.base import load_structure
    from gandrange_desk.services.pdf.day_lists import day_lists_pdf

    lists = day_lists(desk, day, school_id)
    with desk.read() as s:
        structure = load_structure(s)
    return day_lists_pdf(structure, lists, desk.today()), lists


def write_day_pdf(desk: Desk, day: date, school_id: int | None, path) -> DayLists:
    """The printable lists written to `path` (window and command line)."""
    pdf, lists = day_pdf(desk, day, school_id)
    write_file(path, pdf)
    return lists
