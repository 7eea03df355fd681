"""The reservation grid read in pages: the frame first, the children's cells after.

`grid_frame` reads what the grid needs to be drawn and searched whole — the month's columns and
closures, every child shown (names, class, health mark, in the order shown) and the places held
per column (one cheap aggregate over the (unit, day, state) index) — but no child's cells.
`grid_rows` then reads the cells of some of those children, a screenful first, the rest after
(the Réservations tab calls it between events), each call its own short read.

The places per column never wait for the rows: they come from the aggregate, for every child
of every school, as `load_grid`'s own. A row not read yet is marked in `GridData.loaded` and
must never be taken for a blank one.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY

from gandrange_desk.models import Booking, Child
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.reservations.rules import cell_index
from gandrange_desk.services.reservations.grid import (
    CODE_OF, GridData, grid_setup, sort_key,
)

# The id lists are padded up to one of these lengths (the last id repeated): each statement
# shape is compiled once, whatever the chunk.
BUCKETS = (16, 64, 128, 256, 1024)

_compiled: dict[tuple, tuple[str, tuple | None, dict]] = {}
_DAY_PARAMS = ("first", "last")  # the statements' only date parameters
_id_names: dict[int, tuple[str, ...]] = {}  # size -> ("c0", …): the id parameters' names


def _run(s, key: tuple, build, values: dict, rewrite=None) -> list[tuple]:
    """`build()`'s statement compiled once per (dialect, key) and run on the driver's cursor,
    without SQLAlchemy's per-row processing (see `grid.fetch_grid_rows`); `rewrite(sql)` edits
    the compiled text once (a SQLite index hint). Dates go in `first` and `last` only."""
    conn = s.connection()
    dialect = conn.dialect
    found = _compiled.get((dialect.name, *key))
    if found is None:
        compiled = build().compile(dialect=dialect)
        constants = {k: v for k, v in compiled.params.items() if v is not None}
        sql = str(compiled) if rewrite is None else rewrite(str(compiled))
        found = (sql, compiled.positiontup if compiled.positional else None, constants)
        _compiled[(dialect.name, *key)] = found
    sql, positions, constants = found
    params = dict(constants)
    params.update(values)
    if dialect.name == "sqlite":  # SQLite stores dates as ISO text; psycopg adapts dates itself
        for name in _DAY_PARAMS:
            if name in params:
                params[name] = params[name].isoformat()
    args = tuple(map(params.__getitem__, positions)) if positions is not None else params
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, args)
        return cursor.fetchall()
    finally:
        cursor.close()


def _units(n: int) -> list:
    return [bindparam(f"u{i}") for i in range(n)]


def _children_stmt(with_school: bool, with_class: bool):
    stmt = select(Child.id, Child.first_name, Child.last_name, Child.class_name, Child.pai,
                  (Child.allergies != literal_column("''"))).where(Child.archived.is_(False))
    if with_school:
        stmt = stmt.where(Child.school_id == bindparam("school"))
    if with_class:
        stmt = stmt.where(Child.class_name == bindparam("klass"))
    return stmt


def _used_stmt(n_units: int):
    return (select(Booking.unit_id, Booking.day, func.count())
            .where(Booking.unit_id.in_(_units(n_units)), Booking.day >= bindparam("first"),
                   Booking.day <= bindparam("last"),
                   Booking.state.in_([literal_column("'R'"), literal_column("'DA'")]))
            .group_by(Booking.unit_id, Booking.day))




def _cells_stmt(n_units: int, n_children: int | None, keep_off_unit_index: bool = False):
    # Without the index's name (never seen: it is the unique constraint's), `unit_id + 0` keeps
    # SQLite off the (unit, day) indexes for a screenful of children.
    unit = Booking.unit_id + literal_column("0", Integer) if keep_off_unit_index else Booking.unit_id
    if n_children is None:
        # PostgreSQL: the ids as one array. psycopg parses a query's placeholders again on
        # every run once it has more than 50 of them (its cache's limit): ~0.1 ms a chunk.
        children = Booking.child_id == any_(bindparam("ids", type_=ARRAY(Integer)))
    else:
        children = Booking.child_id.in_([bindparam(f"c{i}") for i in range(n_children)])
    return (select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state)
            .where(children,
                   unit.in_(_units(n_units)), Booking.day >= bindparam("first"),
                   Booking.day <= bindparam("last")))


def _day_of(day) -> int:
    # SQLite gives the day as ISO text, PostgreSQL as a date.
    return int(day[8:10]) if day.__class__ is str else day.day


def grid_frame(s, cal: Calendar, month: date, activity_id: int, unit_ids: list[int] | None = None,
               *, school_id: int | None = None, class_name: str | None = None,
               show_health: bool = True) -> GridData:
    """The month's grid without any child's cells: every row is `loaded[row] == 0`."""
    data = grid_setup(s, cal, month, activity_id, unit_ids)
    if not data.units:
        return data
    with_school, with_class = school_id is not None, bool(class_name)
    children = _run(s, ("children", with_school, with_class),
                    lambda: _children_stmt(with_school, with_class),
                    {"school": school_id, "klass": class_name})
    data.used = grid_places(s, data)
    width = len(data.columns)
    norm = sort_key
    children.sort(key=lambda r: (norm(r[2]), norm(r[1]), r[0]))
    for cid, first, last, klass, pai, allergic in children:
        data.child_ids.append(cid)
        data.names.append(f"{last.upper()} {first}")
        data.classes.append(klass or "")
        data.marks.append(("PAI" if pai else "Allergie" if allergic else "") if show_health else "")
        data.keys.append(norm(f"{first} {last} {last} {first}"))
    data.states = [bytearray(width) for _ in children]  # replaced as each row is read
    data.loaded = bytearray(len(children))
    return data


def grid_places(s, data: GridData) -> list[int]:
    """Places held per column (R and DA of every child, every school), as now."""
    n = len(data.units)
    used = [0] * len(data.columns)
    if not n:
        return used
    unit_values = {f"u{i}": u.id for i, u in enumerate(data.units)}
    unit_pos = {u.id: i for i, u in enumerate(data.units)}
    for unit_id, day, count in _run(s, ("used", n), lambda: _used_stmt(n),
                                    {**unit_values, "first": data.days[0], "last": data.days[-1]}):
        used[(_day_of(day) - 1) * n + unit_pos[unit_id]] = count
    return used


def grid_rows(s, data: GridData, rows: list[int]) -> dict[int, bytearray]:
    """The cells of these rows of `data` (row → its states), as the database holds them now."""
    if not rows or not data.units:
        return {row: bytearray(len(data.columns)) for row in rows}
    n = len(data.units)
    width = len(data.columns)
    sqlite = s.connection().dialect.name == "sqlite"
    # unit id → the day as the driver gives it (ISO text on SQLite, a date on PostgreSQL) →
    # its column: two lookups a cell, no parsing.
    column_of = {u.id: {(day.isoformat() if sqlite else day): d * n + i for d, day in enumerate(data.days)}
                 for i, u in enumerate(data.units)}
    unit_values = {f"u{i}": u.id for i, u in enumerate(data.units)}
    first, last = data.days[0], data.days[-1]
    out = {row: bytearray(width) for row in rows}
    by_child = {data.child_ids[row]: out[row] for row in rows}
    ids = list(by_child)
    code_of = CODE_OF
    index = cell_index(s) if sqlite else None
    rewrite = (lambda sql: sql.replace("FROM booking", f'FROM booking INDEXED BY "{index}"', 1)) \
        if index else None
    start = 0
    while start < len(ids):
        part = ids[start:start + BUCKETS[-1]]
        start += len(part)
        if sqlite:
            size = next(b for b in BUCKETS if b >= len(part))
            names = _id_names.get(size) or _id_names.setdefault(size, tuple(f"c{i}" for i in range(size)))
            values = dict(zip(names, part + [part[-1]] * (size - len(part))))
            off = index is None and size <= 64
            key = ("cells", n, size, index, off)
            build = (lambda size=size, off=off: _cells_stmt(n, size, off))
        else:
            values, key, build = {"ids": part}, ("cells", n, "array"), (lambda: _cells_stmt(n, None))
        values.update(unit_values, first=first, last=last)
        for child_id, unit_id, day, state in _run(s, key, build, values, rewrite):
            by_child[child_id][column_of[unit_id][day]] = code_of[state]
    return out


__all__ = ["grid_frame", "grid_places", "grid_rows"]
