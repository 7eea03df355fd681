"""The one writer of cell changes: 1 or 5,000 of them, a few statements either way.

`CellWriter` collects what a batch decided — requests to create, pending requests to decide,
the final state of every cell touched, audit entries — and writes it all in `flush()`, grouped
into one statement per kind of change. A request created and decided in the same batch (a
portal booking withdrawn further down the same feed) is written once, as it ends.

It checks nothing but one thing: a stored request is decided only if it is still pending (the
conditional UPDATE is the guard between workstations). The rules are `rules.Rules`'.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from gandrange_desk.clock import to_paris
from gandrange_desk.errors import AlreadyDecided
from gandrange_desk.models import AuditEntry, Booking, Request, RequestStatus

from .rules import Cell, CellInfo, already_decided_message

CHUNK = 900

# Every column a new request row carries, so one multi-row INSERT takes them all.
_REQUEST_DEFAULTS = {
    "ref": None, "submitted_by": None, "decided_by": None, "decided_at": None, "reason": "",
    "late": False, "proposed_billing": None, "billing": None, "billing_override_reason": "",
    "capacity_override": False, "payload": "",
}


@dataclass(slots=True)
class NewRequest:
    """A request row planned in this batch; `id` is known after `flush()`."""

    values: dict
    id: int | None = None


def audit_text(value) -> str:
    """The audit trail's JSON, as `Desk.audit` writes it."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


@dataclass
class CellWriter:
    s: Session
    desk: object
    new: list[NewRequest] = field(default_factory=list)
    decided: dict[int, dict] = field(default_factory=dict)  # stored request id -> new values
    touched: dict[Cell, CellInfo] = field(default_factory=dict)
    # (action, request, family_id, before JSON, after JSON): most rows of a round share their
    # texts, so each distinct before/after is dumped once (`audit(key=…)`).
    audits: list[tuple] = field(default_factory=list)
    _texts: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.now: datetime = self.desk.now()
        self.login: str = self.desk.actor.login

    def create(self, **values) -> NewRequest:
        return self.new_request(values)

    def new_request(self, values: dict) -> NewRequest:
        """A request row to INSERT at flush: `values`, the columns not named at their defaults."""
        row = {**_REQUEST_DEFAULTS, **values}
        row["submitted_at"] = to_paris(row["submitted_at"])
        request = NewRequest(row)
        self.new.append(request)
        return request

    def decide(self, request: NewRequest | int, values: dict) -> None:
        """Record a decision of a pending request, stored or planned in this batch."""
        if isinstance(request, NewRequest):
            request.values.update(values)
        elif request in self.decided:
            self.decided[request].update(values)
        else:
            self.decided[request] = values

    def cell(self, cell: Cell, info: CellInfo) -> None:
        """The cell's planned state (`info.state`, `info.late`) is written at flush."""
        self.touched[cell] = info

    def audit(self, action: str, request: NewRequest | int, family_id: int | None, after: dict,
              before: dict | None = None, *, key=None) -> None:
        """An audit row for `request`; rows given the same `key` share the same before/after."""
        texts = self._texts.get(key) if key is not None else None
        if texts is None:
            texts = (audit_text(before), audit_text(after))
            if key is not None:
                self._texts[key] = texts
        self.audits.append((action, request, family_id) + texts)

    # ---------------------------------------------------------------------------------------

    def flush(self) -> None:
        if self.decided:
            self._decide_stored()
        if self.new:
            self._insert_requests()
        if self.touched:
            self._write_cells()
        if self.audits:
            self._write_audit()
        self.new, self.decided, self.touched, self.audits = [], {}, {}, []
        self._texts.clear()

    def _decide_stored(self) -> None:
        table = Request.__table__
        groups: dict[frozenset, list[int]] = defaultdict(list)
        for rid, values in self.decided.items():
            groups[frozenset(values.items())].append(rid)
        done = 0
        for items, ids in groups.items():
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                done += self.s.execute(
                    update(table).where(table.c.id.in_(chunk), table.c.status == RequestStatus.PENDING)
                    .values(**dict(items)).execution_options(synchronize_session=False)).rowcount
        if done != len(self.decided):
            raise self._already_decided()

    def _already_decided(self) -> AlreadyDecided:
        if len(self.decided) == 1:
            rid = next(iter(self.decided))
            row = self.s.execute(select(Request.decided_by, Request.decided_at, Request.status)
                                 .where(Request.id == rid)).one()
            return AlreadyDecided(already_decided_message(self.desk, *row))
        return AlreadyDecided("Certaines demandes ont été traitées sur un autre poste entre-temps : "
                              "rien n'a été enregistré, actualisez la file.")

    def _insert_requests(self) -> None:
        if self.s.get_bind().dialect.name == "sqlite":
            return self._insert_requests_sqlite()
        # PostgreSQL: SQLAlchemy batches the rows and sorts RETURNING back into parameter order
        # (its SERIAL key is a sentinel it trusts).
        table = Request.__table__
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        for start in range(0, len(self.new), CHUNK):
            chunk = self.new[start:start + CHUNK]
            ids = self.s.execute(stmt, [r.values for r in chunk]).scalars().all()
            for request, rid in zip(chunk, ids):
                request.id = rid

    def _insert_requests_sqlite(self) -> None:
        """All the new requests in one executemany, their ids given by us: max(id) + 1, + 2, …

        A unit of work on SQLite begins IMMEDIATE: it holds the database's write lock from its
        first statement to its commit, so no other connection adds a request in between, and
        these are the ids SQLite itself would give (its rowid key is max(rowid) + 1). Should
        that ever not hold, the primary key refuses a taken id and the whole unit of work rolls
        back: an id is never wrong silently. Asking SQLite for the ids instead (INSERT …
        RETURNING, then matching the rows back) cost about twice the INSERT itself."""
        table = Request.__table__
        top = self.s.execute(_sqlite_max_request_id()).scalar() or 0
        rows = []
        for rid, request in enumerate(self.new, top + 1):
            request.id = rid
            request.values["id"] = rid
            rows.append(request.values)
        _sqlite_executemany(self.s, table, rows)

    def _write_cells(self) -> None:
        table = Booking.__table__
        inserts, deletes = [], []
        updates: dict[tuple, list[int]] = defaultdict(list)
        for (child_id, unit_id, day), info in self.touched.items():
            if info.booking_id is None:
                if info.state is not None:
                    inserts.append({"child_id": child_id, "unit_id": unit_id, "day": day,
                                    "state": info.state, "late": info.late,
                                    "updated_at": self.now, "updated_by": self.login})
            elif info.state is None:
                deletes.append(info.booking_id)
            else:
                late = info.late if info.late != info.stored_late else None
                updates[(info.state, late)].append(info.booking_id)
        for start in range(0, len(deletes), CHUNK):
            self.s.execute(delete(table).where(table.c.id.in_(deletes[start:start + CHUNK])))
        for (state, late), ids in updates.items():
            values = {"state": state, "updated_at": self.now, "updated_by": self.login}
            if late is not None:
                values["late"] = late
            for start in range(0, len(ids), CHUNK):
                self.s.execute(update(table).where(table.c.id.in_(ids[start:start + CHUNK])).values(**values))
        if inserts and self.s.get_bind().dialect.name == "sqlite":
            _sqlite_executemany(self.s, table, inserts)
        elif inserts:  # PostgreSQL: SQLAlchemy's insertmanyvalues, a few multi-row statements
            self.s.execute(insert(table), inserts)

    @staticmethod
    def warm(engine) -> None:
        """Compile the INSERTs a click and a rectangle run into `engine`'s statement cache,
        without running them (nothing written, no lock taken): SQLAlchemy compiles a statement
        the first time it runs, ~7 ms of the clerk's first click, and makes its bind processors
        at its first run. On SQLite, the driver's INSERTs' plans (`_insert_plan`) instead.
        Best effort: a SQLAlchemy without this private hook only loses the head start."""
        from sqlalchemy.sql import compiler

        dialect = engine.dialect
        linting = dialect.compiler_linting | compiler.WARN_LINTING
        requests, bookings = Request.__table__, Booking.__table__
        booking_keys = tuple(sorted(("child_id", "unit_id", "day", "state", "late", "updated_at", "updated_by")))
        if dialect.name == "sqlite":  # the driver's executemany (see `_sqlite_executemany`)
            _insert_plan(requests, tuple(sorted(c.name for c in requests.c)), dialect)
            _insert_plan(bookings, booking_keys, dialect)
            return
        request_insert = insert(requests).returning(requests.c.id, sort_by_parameter_order=True)
        request_keys = sorted(c.name for c in requests.c if c.name != "id")
        try:
            for stmt, keys in ((request_insert, request_keys), (insert(bookings), list(booking_keys))):
                for many in (False, True):
                    compiled = stmt._compile_w_cache(dialect=dialect, compiled_cache=engine._compiled_cache,
                                                     column_keys=keys, for_executemany=many,
                                                     schema_translate_map=None, linting=linting)[0]
                    # Its columns' bind processors, built at the first run otherwise (~2 ms of
                    # the first click: the types' processors for this dialect made then).
                    compiled._bind_processors  # noqa: B018 - a memoized property, built here
        except (AttributeError, TypeError):
            pass

    def _write_audit(self) -> None:
        rows = [{"at": self.now, "user_login": self.login, "action": action, "entity": "request",
                 "entity_id": request.id if isinstance(request, NewRequest) else request,
                 "family_id": family_id, "before": before, "after": after}
                for action, request, family_id, before, after in self.audits]
        self.s.execute(insert(AuditEntry.__table__), rows)


_plain_inserts: dict = {}


def _sqlite_executemany(s: Session, table, rows: list[dict]) -> None:
    """`rows` (dicts with the same keys) INSERTed in one executemany of the driver, with the
    statement SQLAlchemy compiles for them and each column's own bind processor.

    What `Session.execute(insert(table), rows)` does for them, without its two passes per row
    (every parameter of the compiled statement gathered into a dict, then converted and put
    in order): the most of a 1,000-cell rectangle's SQLAlchemy time after the rules (bench/
    README, issue 14 rectangle third pass). Same SQL, same stored values (checked by
    tests/reservations/test_writer_bulk.py), the same connection and transaction; the
    engine's cursor events still see the statement.

    The values are converted a column at a time, once per distinct object (`_converted`): a
    batch's column repeats a few objects (the operation's instant and login, the enum members
    of kind, status and state, a day per column of the grid), and a rectangle's 22,000 values
    went through ~7,000 processor calls (bench/README, issue 14 rectangle fourth pass)."""
    keys = tuple(sorted(rows[0]))
    sql, values_of, processors = _insert_plan(table, keys, s.get_bind().dialect)
    if len(set(map(len, rows))) != 1 or len(rows[0]) != len(keys):
        # a key more would be dropped silently; one missing raises
        raise ValueError(f"{table.name}: rows with different columns in one INSERT")
    columns = list(zip(*map(values_of, rows)))  # one tuple per column, in the statement's order
    for i, column in enumerate(columns):
        process = processors.get(i)
        if process is None:
            # An enum member as its plain value. Judged on the first row only: a member left
            # in a later row is still stored as its value, only bound more slowly.
            if type(column[0]) in _DRIVER_TYPES:
                continue
            process = _plain
        columns[i] = _converted(column, process)
    s.connection().exec_driver_sql(sql, list(zip(*columns)))


# The types sqlite3 binds as they are. Anything else, a str subclass included (the models'
# StrEnum members), goes through the driver's adaptation lookup first (~1.5 ms of a 1,000-cell
# rectangle's INSERTs).
_DRIVER_TYPES = frozenset((str, int, float, bytes, type(None)))


def _plain(value):
    """A str or int subclass (an enum member, a bool) as the plain str or int the driver stores."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    return value


def _converted(column: tuple, process) -> list:
    """`process` applied to each distinct object of `column` (by identity: the same object
    converts to the same value, whatever its type's equality), the others mapped in C."""
    distinct = dict(zip(map(id, column), column))
    if len(distinct) == 1:  # the same object on every row: most columns of a batch
        return [process(column[0])] * len(column)
    if 4 * len(distinct) > len(column):  # mostly distinct values: one call each, as before
        return list(map(process, column))
    converted = {key: process(value) for key, value in distinct.items()}
    return list(map(converted.__getitem__, map(id, column)))


def _insert_plan(table, keys: tuple, dialect) -> tuple:
    """(SQL, the row's values in the statement's order as a tuple, {position: bind processor}),
    built once per table, keys and dialect."""
    plan = _plain_inserts.get((table.name, keys, dialect.name))
    if plan is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        order = [compiled.binds[name].key for name in compiled.positiontup]
        processors = {i: p for i, key in enumerate(order)
                      if (p := _processor(table.c[key].type, dialect)) is not None}
        values_of = itemgetter(*order) if len(order) > 1 else (lambda row, key=order[0]: (row[key],))
        plan = _plain_inserts[(table.name, keys, dialect.name)] = (compiled.string, values_of, processors)
    return plan


def _processor(type_, dialect):
    """The column type's bind processor as SQLAlchemy runs it on `dialect` (the dialect's own
    type: SQLite's DATETIME writes its microseconds, the generic one would not)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


_max_request_id: list = []


def _sqlite_max_request_id():
    """The highest request id, read under the unit of work's write lock; built once."""
    if not _max_request_id:
        _max_request_id.append(select(func.max(Request.__table__.c.id)))
    return _max_request_id[0]


__all__ = ["CellWriter", "NewRequest", "audit_text"]
