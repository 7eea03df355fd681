"""The writer's new requests: a rectangle is a few multi-row INSERTs, and every request id it
hands back is the row of its own cell (what Ctrl+Z and the history rely on)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select, text

from gandrange_desk.models import Request, RequestSource, RequestStatus
from gandrange_desk.services.reservations import cells, writer
from tests.reservations.test_bookings import world  # noqa: F401 - the fixture

FIRST = date(2026, 3, 16)


def _open_days(n: int) -> list[date]:
    days = [FIRST + timedelta(d) for d in range(60)]
    return [d for d in days if d.weekday() in (0, 1, 3, 4)][:n]


@pytest.fixture
def inserts(desk):
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO REQUEST"):
            seen.append(statement)

    event.listen(desk.engine, "before_cursor_execute", before)
    yield seen
    event.remove(desk.engine, "before_cursor_execute", before)


def _rectangle(world):
    return [(child, unit, day) for child in (world["child"], world["other_child"])
            for unit in (world["repas"], world["matin"]) for day in _open_days(9)]


def test_a_rectangle_is_one_insert_of_requests_and_each_id_is_its_cell(desk, world, inserts, backend):
    rectangle = _rectangle(world)
    result = cells.book_cells(desk, rectangle)
    assert len(result.changed) == len(rectangle) == 36
    assert len(inserts) == 1  # not one statement per cell
    with desk.read() as s:
        stored = {r.id: (r.child_id, r.unit_id, r.day) for r in s.execute(select(Request)).scalars()}
    assert sorted(stored.values()) == sorted(rectangle)
    # The result pairs cells and request ids in the same order: each id is its own cell's.
    assert [stored[rid] for rid in result.request_ids] == list(result.changed)


def test_mixed_requests_in_one_batch_keep_their_own_rows(desk, world, inserts):
    booked = [(world["child"], world["repas"], d) for d in _open_days(4)]
    cells.book_cells(desk, booked)
    inserts.clear()
    # For the family: DR rows (pending); the office's cancellations of the booked ones.
    asked = cells.book_cells(desk, [(world["other_child"], world["repas"], d) for d in _open_days(4)],
                             for_family=True)
    cancelled = cells.cancel_cells(desk, booked, billing="excused")
    assert len(inserts) == 2
    with desk.read() as s:
        rows = {r.id: r for r in s.execute(select(Request)).scalars()}
    for rid, cell in zip(asked.request_ids, asked.changed):
        assert (rows[rid].child_id, rows[rid].unit_id, rows[rid].day) == cell
        assert rows[rid].status == RequestStatus.PENDING and rows[rid].source == RequestSource.DESK_FAMILY
    for rid, cell in zip(cancelled.request_ids, cancelled.changed):
        assert (rows[rid].child_id, rows[rid].unit_id, rows[rid].day, rows[rid].kind) == cell + ("cancellation",)


def test_a_taken_id_refuses_the_whole_rectangle_and_writes_nothing(desk, world, backend, monkeypatch):
    """On SQLite the writer numbers the new requests itself (max + 1, …, under the unit of
    work's write lock). Were an id ever taken meanwhile, the key refuses it and nothing of the
    rectangle is written: no request, no cell, no id handed back that is another row's."""
    if backend != "sqlite":
        pytest.skip("the ids are given on SQLite; PostgreSQL's sequence gives them")
    from sqlalchemy import func
    from sqlalchemy.exc import IntegrityError

    from gandrange_desk.models import Booking

    first = cells.book_cells(desk, [(world["child"], world["repas"], _open_days(1)[0])])
    stale = select(func.max(Request.__table__.c.id) - 1)  # as if read before another workstation wrote
    monkeypatch.setattr(writer, "_sqlite_max_request_id", lambda: stale)
    with pytest.raises(IntegrityError):
        cells.book_cells(desk, _rectangle(world)[1:])
    with desk.read() as s:
        assert [r.id for r in s.execute(select(Request)).scalars()] == first.request_ids
        assert s.execute(select(func.count()).select_from(Booking)).scalar() == 1
    monkeypatch.undo()
    result = cells.book_cells(desk, _rectangle(world)[1:])  # and the next one goes through
    with desk.read() as s:
        stored = {r.id: (r.child_id, r.unit_id, r.day) for r in s.execute(select(Request)).scalars()}
    assert [stored[rid] for rid in result.request_ids] == list(result.changed)


def test_warmed_writer_runs_its_first_inserts_from_the_statement_cache(desk, world, backend):
    """The grid warms the writer while the clerk looks: the first click's INSERTs are not
    compiled then (and the warming itself writes nothing). On SQLite they run through the
    driver with the plans the warming made."""
    from sqlalchemy.engine.interfaces import CacheStats

    writer._plain_inserts.clear()
    writer.CellWriter.warm(desk.engine)
    with desk.read() as s:
        assert s.execute(select(Request)).first() is None
    plans = set(writer._plain_inserts)
    assert len(plans) == (2 if backend == "sqlite" else 0)
    hits: list[tuple[str, object]] = []

    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            hits.append((statement.split("(")[0].strip(), context.cache_hit))

    event.listen(desk.engine, "after_cursor_execute", after)
    try:
        cells.book_cells(desk, [(world["child"], world["repas"], _open_days(1)[0])])
        cells.book_cells(desk, [(world["other_child"], world["repas"], d) for d in _open_days(5)])
    finally:
        event.remove(desk.engine, "after_cursor_execute", after)
    assert {name for name, _ in hits} == {"INSERT INTO request", "INSERT INTO booking"}
    if backend == "sqlite":
        assert set(writer._plain_inserts) == plans  # nothing built at the clicks
    else:
        assert all(hit == CacheStats.CACHE_HIT for _, hit in hits), hits


def test_the_driver_inserts_store_what_sqlalchemy_would(desk, world, backend, monkeypatch):
    """SQLite's INSERTs go through the driver with the columns' own bind processors: every
    stored value, and its SQLite type, is what `Session.execute(insert(table), rows)` writes
    (the instants with their microseconds, the days as ISO text, the flags as integers)."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL keeps SQLAlchemy's insertmanyvalues")
    from sqlalchemy import insert

    def stored(first_id):
        with desk.read() as s:
            columns = [c.name for c in Request.__table__.c if c.name != "id"]
            req = s.execute(text(f"SELECT {', '.join(f'{c}, typeof({c})' for c in columns)} FROM request "
                                 "WHERE id >= :first ORDER BY id"), {"first": first_id}).all()
            booking = s.execute(text("SELECT child_id, unit_id, day, typeof(day), state, late, typeof(late), "
                                     "updated_at, typeof(updated_at), updated_by FROM booking "
                                     "WHERE day >= :day ORDER BY child_id, unit_id, day"),
                                {"day": _open_days(1)[0]}).all()
        return req, booking

    days = _open_days(9)
    ours = cells.book_cells(desk, [(world["child"], world["repas"], d) for d in days])
    rows = stored(min(ours.request_ids))
    cells.undo(desk, ours)
    with desk.unit_of_work() as s:  # the cells blank again, the requests gone: the same rows again
        s.execute(text("DELETE FROM request"))
        s.execute(text("DELETE FROM booking"))
    monkeypatch.setattr(writer, "_sqlite_executemany", lambda s, table, rows: s.execute(insert(table), rows))
    theirs = cells.book_cells(desk, [(world["child"], world["repas"], d) for d in days])
    assert stored(min(theirs.request_ids)) == rows
