"""The reservation grid's data for one month and filter, read in ONE query, as compact arrays.

Rows are children, columns are (day, unit) pairs of the month. Each row's states are a
`bytearray` of codes (0 blank, 1 DR, 2 R, 3 DA, 4 AF), so a 700 × 93 month is ~65 KB and the
view never goes back to the database while scrolling. Per-column places used (R + DA of every
child, not only the rows shown: capacity is per unit) come from the same query (UNION ALL).
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date

from sqlalchemy import (
    Boolean, Date, Integer, String, bindparam, cast, func, literal_column, null, select,
    union_all,
)

from gandrange_desk.errors import NotFound
from gandrange_desk.models import Activity, Booking, CellState, Child, School, Unit

from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.search import normalize

BLANK, DR, R, DA, AF = range(5)
CODES = (None, CellState.DR, CellState.R, CellState.DA, CellState.AF)
CODE_OF = {None: BLANK, "DR": DR, "R": R, "DA": DA, "AF": AF}
BILLABLE = (R, DA, AF)  # what the child's total counts
OCCUPYING = (R, DA)


@dataclass(frozen=True)
class UnitInfo:
    id: int
    name: str
    short: str
    capacity: int | None


@dataclass
class GridData:
    month: date
    activity_id: int
    activity_name: str
    units: list[UnitInfo]
    days: list[date]
    columns: list[tuple[int, int]]  # (day index, unit index)
    closed: list[str | None]  # per column: why it is closed, or None
    child_ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)  # "PAI", "Allergie", "" (health roles only)
    keys: list[str] = field(default_factory=list)  # normalised names for the search box
    states: list[bytearray] = field(default_factory=list)
    used: list[int] = field(default_factory=list)  # per column, places held site-wide
    # Per row, 1 once its cells are read; None when every row is (a paged open, `grid_paged`,
    # reads the rows after the frame: a row not read yet is not a blank row).
    loaded: bytearray | None = None
    _unit_index: dict[int, int] | None = field(default=None, repr=False, compare=False)

    def row_loaded(self, row: int) -> bool:
        return self.loaded is None or bool(self.loaded[row])

    @property
    def pending(self) -> int:
        """How many rows are still to be read."""
        return 0 if self.loaded is None else self.loaded.count(0)

    def column_of(self, unit_id: int, day: date) -> int | None:
        index = self._unit_index
        if index is None:  # the units are set once, with the frame
            index = self._unit_index = {u.id: i for i, u in enumerate(self.units)}
        unit_index = index.get(unit_id)
        if unit_index is None or day.year != self.month.year or day.month != self.month.month:
            return None
        return (day.day - 1) * len(index) + unit_index

    def cell(self, row: int, column: int) -> tuple[int, int, date]:
        day_index, unit_index = self.columns[column]
        return self.child_ids[row], self.units[unit_index].id, self.days[day_index]

    def total(self, row: int) -> int:
        states = self.states[row]
        return sum(states.count(code) for code in BILLABLE)


@lru_cache(maxsize=200_000)
def sort_key(text: str) -> str:
    return normalize(text)


def short_name(name: str) -> str:
    words = [w for w in name.replace("'", " ").split() if len(w) > 2 and w.lower() != "accueil"]
    word = (words[0] if words else name).capitalize()
    return word if len(word) <= 6 else word[:4] + "."


def month_days(month: date) -> list[date]:
    n = pycalendar.monthrange(month.year, month.month)[1]
    return [date(month.year, month.month, d) for d in range(1, n + 1)]


def grid_query(unit_ids: list, first, last, school_id=None, class_name=None):
    """The one statement, three kinds of rows (column `k`):
    0 — one per child shown (names once, not once per booking);
    2 — one per booking of those children in the month (day as stored: no SQL function per row);
    1 — places used per unit and day, for every child (capacity is per unit, not per school).
    """
    def shown(stmt):
        stmt = stmt.where(Child.archived.is_(False))
        if school_id is not None:
            stmt = stmt.where(Child.school_id == school_id)
        if class_name is not None:
            stmt = stmt.where(Child.class_name == class_name)
        return stmt

    none_str, none_bool, none_int = cast(null(), String), cast(null(), Boolean), cast(null(), Integer)
    children = shown(select(
        literal_column("0", Integer).label("k"), Child.id.label("n"), Child.first_name,
        Child.last_name, Child.class_name, Child.pai, (Child.allergies != literal_column("''")).label("al"),
        none_int.label("unit_id"), cast(null(), Date).label("day"), none_str.label("state")))
    # IN (children) rather than a join: SQLite then probes the (child, unit, day) index per
    # child shown instead of scanning every school's month.
    cells = select(
        literal_column("2", Integer), Booking.child_id, none_str, none_str, none_str, none_bool,
        none_bool, Booking.unit_id, Booking.day, Booking.state
    ).where(Booking.child_id.in_(shown(select(Child.id))), Booking.unit_id.in_(unit_ids),
            Booking.day >= first, Booking.day <= last)
    used = (
        select(literal_column("1", Integer), func.count(), none_str, none_str, none_str, none_bool,
               none_bool, Booking.unit_id, Booking.day, none_str)
        .where(Booking.unit_id.in_(unit_ids), Booking.day >= first, Booking.day <= last,
               Booking.state.in_([literal_column("'R'"), literal_column("'DA'")]))
        .group_by(Booking.unit_id, Booking.day)
    )
    return union_all(children, cells, used)


def grid_setup(s, cal: Calendar, month: date, activity_id: int, unit_ids: list[int] | None = None) -> GridData:
    """A month's grid without rows: its units (all the activity's, or those of `unit_ids`), days,
    columns and closed days; what both the whole read (`load_grid`) and the paged one
    (`grid_paged.grid_frame`) start from."""
    month = month.replace(day=1)
    # One Core read of the activity and its units: every opening of a month starts here, and
    # the ORM's two loads (an entity each, in a fresh session) cost more than the read.
    rows = s.execute(select(Activity.name, Activity.opens, Activity.weekdays, Unit.id, Unit.name,
                            Unit.capacity)
                     .outerjoin(Unit, Unit.activity_id == Activity.id)
                     .where(Activity.id == activity_id)
                     .order_by(Unit.position, Unit.id)).all()
    if not rows:
        raise NotFound("Activité introuvable : elle a peut-être été supprimée sur un autre poste.")
    name, opens, weekdays = rows[0][:3]
    activity = Activity(opens=opens, weekdays=weekdays)  # transient: what the calendar reads
    units = [UnitInfo(uid, uname, short_name(uname), capacity) for *_a, uid, uname, capacity in rows
             if uid is not None and (not unit_ids or uid in unit_ids)]
    days = month_days(month)
    data = GridData(
        month=month, activity_id=activity_id, activity_name=name,
        units=units,
        days=days, columns=[(d, u) for d in range(len(days)) for u in range(len(units))],
        closed=[], used=[0] * (len(days) * len(units)),
    )
    closed = cal.closed_days(activity, days[0], days[-1])
    data.closed = [closed.get(days[d]) for d, _ in data.columns]
    return data


def load_grid(s, cal: Calendar, month: date, activity_id: int, unit_ids: list[int] | None = None,
              *, school_id: int | None = None, class_name: str | None = None,
              show_health: bool = True) -> GridData:
    data = grid_setup(s, cal, month, activity_id, unit_ids)
    if not data.units:
        return data
    days = data.days
    rows = fetch_grid_rows(s, [u.id for u in data.units], days[0], days[-1], school_id, class_name)
    _fill(data, rows, show_health)
    return data


_compiled: dict[tuple, tuple[str, tuple | None, dict]] = {}


def _compiled_grid_sql(dialect, n_units: int, with_school: bool, with_class: bool):
    """The grid statement compiled once per shape (dialect, unit count, filters), with bound
    parameters, so opening a month costs no SQL compilation."""
    key = (dialect.name, n_units, with_school, with_class)
    found = _compiled.get(key)
    if found is None:
        stmt = grid_query([bindparam(f"u{i}") for i in range(n_units)], bindparam("first"),
                          bindparam("last"), bindparam("school") if with_school else None,
                          bindparam("klass") if with_class else None)
        compiled = stmt.compile(dialect=dialect)
        constants = {k: v for k, v in compiled.params.items() if v is not None}
        found = (str(compiled), compiled.positiontup if compiled.positional else None, constants)
        _compiled[key] = found
    return found


def fetch_grid_rows(s, unit_ids: list[int], first: date, last: date, school_id: int | None = None,
                    class_name: str | None = None) -> list[tuple]:
    """Rows as the driver returns them, without SQLAlchemy's per-row result processing (the
    grid's open time must stay close to the bare SQL read of the same rows)."""
    conn = s.connection()
    dialect = conn.dialect
    sql, positions, constants = _compiled_grid_sql(dialect, len(unit_ids), school_id is not None,
                                                   bool(class_name))
    sqlite = dialect.name == "sqlite"
    values = dict(constants)
    values.update({f"u{i}": uid for i, uid in enumerate(unit_ids)})
    # SQLite stores dates as ISO text; psycopg adapts date objects itself.
    values["first"] = first.isoformat() if sqlite else first
    values["last"] = last.isoformat() if sqlite else last
    values["school"] = school_id
    values["klass"] = class_name
    params = tuple(values[name] for name in positions) if positions is not None else values
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _fill(data: GridData, rows, show_health: bool) -> None:
    n_units = len(data.units)
    width = len(data.days) * n_units
    unit_pos = {u.id: i for i, u in enumerate(data.units)}
    code_of = CODE_OF
    by_child: dict[int, bytearray] = {}
    info: dict[int, tuple] = {}
    used = data.used
    later = []
    for k, n, first, last, klass, pai, allergic, unit_id, day, state in rows:
        if k == 0:
            by_child[n] = bytearray(width)
            info[n] = (first, last, klass, pai, allergic)
            continue
        # SQLite gives the day as ISO text, PostgreSQL as a date.
        d = int(day[8:10]) if day.__class__ is str else day.day
        if k == 1:
            used[(d - 1) * n_units + unit_pos[unit_id]] = n
        else:
            later.append((n, (d - 1) * n_units + unit_pos[unit_id], code_of[state]))
    for n, column, code in later:
        by_child[n][column] = code
    order = sorted(info, key=lambda cid: (sort_key(info[cid][1]), sort_key(info[cid][0]), cid))
    for cid in order:
        first, last, klass, pai, allergic = info[cid]
        name = f"{last.upper()} {first}"
        data.child_ids.append(cid)
        data.names.append(name)
        data.classes.append(klass or "")
        data.marks.append(("PAI" if pai else "Allergie" if allergic else "") if show_health else "")
        data.keys.append(sort_key(f"{first} {last} {last} {first}"))
        data.states.append(by_child[cid])


def grid_filters(s) -> dict:
    """What the filter bar offers: activities (id, name, [(unit id, name)], weekday numbers),
    schools (id, name), class names."""
    activities = []
    for a in s.execute(select(Activity).order_by(Activity.position, Activity.id)).scalars():
        activities.append((a.id, a.name, [(u.id, u.name) for u in a.units],
                           sorted(a.weekday_numbers)))
    schools = [tuple(r) for r in s.execute(
        select(School.id, School.name).order_by(School.position, School.name))]
    classes = sorted({c for c in s.execute(select(Child.class_name).distinct()).scalars() if c})
    return {"activities": activities, "schools": schools, "classes": classes}


__all__ = ["AF", "BLANK", "CODES", "CODE_OF", "DA", "DR", "GridData", "R", "UnitInfo",
           "grid_filters", "grid_query", "grid_setup", "load_grid", "month_days"]
