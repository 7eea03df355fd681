"""The reservation cell rules of DESIGN §2, in one place.

A cell is (child, unit, day); a blank cell has no Booking row. `TRANSITIONS` lists every move a
cell may make, by action; `Rules` is what the rules need to know about a set of cells, loaded
once per transaction (children, units, calendar, current states, issued months, places used,
pending requests), and answers "may this cell do that, and if not, why" in one French wording.

A month whose invoices are issued is not locked (DESIGN §2, §5): a change there is allowed and
flagged (`regularised`): the next invoice carries it as a regularisation line.

`Rules` keeps its picture up to date as changes are planned (states, places, pending requests),
so a batch of 5,000 decisions is judged exactly as if they were applied one after the other.
The writes themselves are `writer.CellWriter`'s; this module never writes.

This is the only module that refuses a cell transition: the grid, the queue, the feed, period
booking and the families' portal all ask it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Iterable, Iterator

from sqlalchemy import Date, Integer, and_, bindparam, column, func, select, text
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.clock import to_paris
from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import (
    Activity, Billing, Booking, CellState, Child, Invoice, InvoiceStatus, Request, RequestKind,
    RequestStatus, Unit,
)
from gandrange_desk.services.calendar import Calendar

Cell = tuple[int, int, date]  # (child_id, unit_id, day)

# States that hold a place: a DR is not yet accepted, an AF child does not come.
OCCUPYING = frozenset({CellState.R, CellState.DA})
PENDING_STATES = frozenset({CellState.DR, CellState.DA})
CHUNK = 1000  # cells per statement: three parameters each, well below every backend's limit


class Action(StrEnum):
    ASK_BOOKING = "ask_booking"  # a family asks (portal, or the desk for it)
    BOOK = "book"  # the office books directly
    ACCEPT_BOOKING = "accept_booking"
    REFUSE_BOOKING = "refuse_booking"
    WITHDRAW = "withdraw"  # the family (or the desk for it) takes its pending request back
    ASK_CANCELLATION = "ask_cancellation"
    CANCEL = "cancel"  # the office cancels directly, excusée or facturée
    ACCEPT_CANCELLATION = "accept_cancellation"
    REFUSE_CANCELLATION = "refuse_cancellation"


# (action, state before) -> the states the cell may take; the billing picks between two.
TRANSITIONS: dict[tuple[Action, CellState | None], tuple[CellState | None, ...]] = {
    (Action.ASK_BOOKING, None): (CellState.DR,),
    (Action.BOOK, None): (CellState.R,),
    (Action.ACCEPT_BOOKING, CellState.DR): (CellState.R,),
    (Action.REFUSE_BOOKING, CellState.DR): (None,),
    (Action.WITHDRAW, CellState.DR): (None,),
    (Action.WITHDRAW, CellState.DA): (CellState.R,),
    (Action.ASK_CANCELLATION, CellState.R): (CellState.DA,),
    (Action.CANCEL, CellState.R): (None, CellState.AF),
    (Action.ACCEPT_CANCELLATION, CellState.DA): (None, CellState.AF),
    (Action.REFUSE_CANCELLATION, CellState.DA): (CellState.R,),
}

# Actions that put a child in the cell on that day: the day must be open.
_NEEDS_OPEN_DAY = {Action.ASK_BOOKING, Action.BOOK, Action.ACCEPT_BOOKING}
# Actions that change (or ask to change) what a month bills: in an issued month they are
# flagged "régularisation sur la prochaine facture". Refusing or withdrawing a booking request
# leaves the billed days as they were.
_CHANGES_BILLING = {Action.ASK_BOOKING, Action.BOOK, Action.ACCEPT_BOOKING, Action.ASK_CANCELLATION,
                    Action.CANCEL, Action.ACCEPT_CANCELLATION, Action.REFUSE_CANCELLATION}
# Actions that take a place.
_TAKES_PLACE = {Action.BOOK, Action.ACCEPT_BOOKING}


def target(action: Action, state: CellState | None, billing: str | None = None) -> CellState | None:
    """The state `action` leaves the cell in; KeyError when the table has no such move."""
    targets = TRANSITIONS[(action, state)]
    if len(targets) == 1:
        return targets[0]
    return CellState.AF if billing == Billing.BILLED else None


# --- the words ------------------------------------------------------------------------------

REASON_REQUIRED = ("Un refus doit être motivé : indiquez la raison, elle est envoyée à la famille.")
NO_CELL = "Aucune case sélectionnée."


class BookingRefused(DeskError):
    """A cell change that the rules forbid; nothing was written."""


class CapacityExceeded(BookingRefused):
    """Over capacity without the explicit override: the UI asks, then retries with it."""


@dataclass(frozen=True)
class Refusal:
    """Why one cell may not change: `code` for callers that sort refusals, `reason` to read."""

    code: str  # state | pending | closed | capacity | archived | family | missing | undecidable
    reason: str  # a French clause, completed by the cell's label: "Léa — Repas du … : <reason>."

    def sentence(self, label: str) -> str:
        return f"{label} : {self.reason}."

    def error(self, label: str) -> BookingRefused:
        cls = CapacityExceeded if self.code == "capacity" else BookingRefused
        return cls(self.sentence(label))


def already_decided_message(desk, decided_by: str | None, decided_at: datetime | None,
                            status: str | None = None) -> str:
    who = decided_by or "un autre poste"
    if status == RequestStatus.WITHDRAWN:
        return "Demande déjà retirée par la famille."
    if decided_at is None:
        return f"Demande déjà traitée par {who}."
    at = to_paris(decided_at)
    if at.date() == desk.today():
        return f"Demande déjà traitée par {who} à {at:%H:%M}."
    return f"Demande déjà traitée par {who} le {formats.ddmmyyyy(at.date())} à {at:%H:%M}."


def cell_label(child_name: str, unit_name: str, day: date) -> str:
    return f"{child_name} — {unit_name} du {formats.WEEKDAYS_FR[day.weekday()]} {formats.ddmmyyyy(day)}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def closed(reason: str) -> Refusal:
    return Refusal("closed", f"jour fermé ({reason})")


REGULARISATION = "régularisation sur la prochaine facture"


def regularisation_note(count: int) -> str:
    """How many changed cells fall in a month already invoiced: "2 cases d'un mois déjà facturé :
    régularisation sur la prochaine facture"."""
    return (f"{formats.count(count, 'case', 'cases')} d'un mois déjà facturé : {REGULARISATION}")


def full(capacity: int) -> Refusal:
    return Refusal("capacity", f"complet ({formats.count(capacity, 'place', 'places')}). "
                               "Dépasser la capacité demande une confirmation explicite")


def state_refusal(action: Action, state: CellState | None) -> Refusal:
    if state in PENDING_STATES and action in (Action.ASK_BOOKING, Action.BOOK, Action.ASK_CANCELLATION,
                                              Action.CANCEL):
        return Refusal("pending", "une demande est déjà en attente sur cette case "
                                  f"({CellState(state).phrase})")
    phrase = CellState(state).phrase if state else "vide"
    if action in (Action.ASK_BOOKING, Action.BOOK):
        return Refusal("state", f"impossible de réserver, la case est déjà {phrase}")
    if action in (Action.ASK_CANCELLATION, Action.CANCEL):
        return Refusal("state", f"impossible d'annuler, la case est {phrase}")
    if action == Action.WITHDRAW:
        return Refusal("state", "aucune demande en attente à retirer")
    return Refusal("undecidable", f"la case est {phrase}, la demande ne peut plus être décidée")


NO_PENDING = Refusal("missing", "aucune demande en attente sur cette case")


def nothing_changed(label: str, reason: str, others: int) -> BookingRefused:
    """No cell of a selection could change: the first one's reason, and how many more."""
    tail = f" (et {formats.count(others, 'autre case', 'autres cases')})" if others else ""
    return BookingRefused(f"{label} : {reason}{tail}.")


def over_capacity(units: dict[int, Unit], wanted: Counter, used: Counter) -> CapacityExceeded:
    """Several cells over capacity at once (a rectangle, a period): one sentence for them all."""
    full_days = []
    for (unit_id, day), n in sorted(wanted.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        capacity = units[unit_id].capacity
        if capacity is not None and used[(unit_id, day)] + n > capacity:
            full_days.append(f"{units[unit_id].name} le {formats.ddmm(day)} ({used[(unit_id, day)] + n}/{capacity})")
    shown = ", ".join(full_days[:5]) + (" …" if len(full_days) > 5 else "")
    return CapacityExceeded(f"Capacité dépassée : {shown}. Confirmez le dépassement pour réserver quand même.")


def check_billing(billing: str | None, *, required: bool = False) -> None:
    if (billing is not None or required) and billing not in (Billing.EXCUSED, Billing.BILLED):
        raise ValidationFailed([f"Facturation inconnue : « {billing} » (excusée ou facturée)."])


def override_reason_required(count: int, billing: str) -> ValidationFailed:
    """The office cancels against what the deadline proposes: the clerk must say why."""
    chosen = Billing(billing).phrase
    return ValidationFailed([
        f"Motif obligatoire : {formats.count(count, 'annulation', 'annulations')} "
        f"{chosen}{'s' if count > 1 else ''} contre la règle du délai (par exemple « certificat médical »)."])


# --- what the rules know ------------------------------------------------------------------


@dataclass(slots=True)
class ChildInfo:
    name: str
    family_id: int
    archived: bool


@dataclass(slots=True)
class CellInfo:
    """A cell as the batch sees it: as stored at load, then as planned."""

    booking_id: int | None  # the row at load time (None: blank then)
    stored_state: CellState | None
    stored_late: bool
    state: CellState | None
    late: bool


@dataclass(slots=True)
class PendingInfo:
    """The pending request of a cell: a stored row (`id`) or one planned in this batch."""

    id: int | None
    kind: str
    late: bool
    proposed_billing: str | None
    handle: object = None  # the writer's handle for a request planned in this batch


class _Statements:
    """The rules' fixed reads, built once with their parameters bound at run time: a click
    runs them all, and building a statement and its cache key costs more than running it."""

    def __init__(self):
        ids = bindparam("ids", expanding=True)
        self.children = select(Child.id, Child.first_name, Child.last_name, Child.family_id,
                               Child.archived).where(Child.id.in_(ids))
        self.units = select(Unit).where(Unit.id.in_(ids))
        self.activities = select(Activity).where(Activity.id.in_(ids))
        self.issued = select(Invoice.month).distinct().where(
            Invoice.status == InvoiceStatus.ISSUED, Invoice.month >= bindparam("first", type_=Date),
            Invoice.month <= bindparam("last", type_=Date))
        self.places = select(Booking.unit_id, Booking.day, func.count()).where(
            Booking.unit_id.in_(ids), Booking.day.between(bindparam("first", type_=Date),
                                                          bindparam("last", type_=Date)),
            Booking.state.in_(OCCUPYING)).group_by(Booking.unit_id, Booking.day)
        self._boxes: dict[str | None, object] = {}

    def box(self, index: str | None):
        """The bookings of some children × units × days (`_box`); on SQLite through the cell
        index, named (its planner otherwise picks the (unit, day) index from a few dozen
        children on and reads every child's bookings of those days)."""
        stmt = self._boxes.get(index)
        if stmt is None:
            columns = (Booking.id, Booking.child_id, Booking.unit_id, Booking.day, Booking.state, Booking.late)
            params = (bindparam("children", expanding=True), bindparam("units", expanding=True),
                      bindparam("first", type_=Date), bindparam("last", type_=Date))
            if index:  # SQLAlchemy renders no table hint for SQLite: the same select, written out
                stmt = text(f'SELECT id, child_id, unit_id, day, state, late FROM booking INDEXED BY "{index}" '
                            "WHERE child_id IN :children AND unit_id IN :units AND day BETWEEN :first AND :last"
                            ).bindparams(*params).columns(*columns)
            else:
                stmt = select(*columns).where(Booking.child_id.in_(params[0]), Booking.unit_id.in_(params[1]),
                                              Booking.day.between(params[2], params[3]))
            self._boxes[index] = stmt
        return stmt


_built: _Statements | None = None


def _statements() -> _Statements:
    global _built
    if _built is None:
        _built = _Statements()
    return _built


class Rules:
    """The rules' picture of some cells, loaded once per transaction."""

    def __init__(self, s: Session, desk, cal: Calendar | None = None):
        self.s, self.desk = s, desk
        self.cal = cal or Calendar.load(s)
        self.children: dict[int, ChildInfo] = {}
        self.units: dict[int, Unit] = {}
        self.activities: dict[int, Activity] = {}
        self.cells: dict[Cell, CellInfo] = {}
        self.pending: dict[Cell, PendingInfo] = {}
        self.issued_months: set[date] = set()  # months whose invoices are issued
        self._months_loaded: set[date] = set()
        self.used: Counter = Counter()  # (unit_id, day) -> places held now (as planned)
        self.used_at_load: Counter = Counter()
        self._places_loaded: set[tuple[int, date]] = set()
        self._late_cache: dict[tuple[str, int, date, datetime], bool] = {}
        # unit -> its capacity, its activity: asked per cell (places left, the deadlines), read
        # here once rather than through the ORM's attribute machinery 1,000 times a rectangle.
        self._capacity: dict[int, int | None] = {}
        self._activity_of: dict[int, Activity] = {}
        # (unit, day) -> why it is closed ("" when open): a rectangle asks it per cell, the
        # calendar answers the same for every child of the column.
        self._closed_cache: dict[tuple[int, date], str] = {}

    # loading -----------------------------------------------------------------------------

    def load(self, cells: Iterable[Cell], *, places: bool = False, pending: bool = False) -> "Rules":
        """Read what the rules need about `cells` (a few statements, whatever their number)."""
        cells = [c for c in dict.fromkeys(cells) if c not in self.cells]
        if not cells:
            return self
        children, units, days = (set(column) for column in zip(*cells))  # in C: a rectangle is 1,000 cells
        self._load_children(children)
        self._load_units(units)
        for bid, cid, uid, day, state, late in self._stored_cells(cells, children, units, days):
            state = CellState(state)
            self.cells[(cid, uid, day)] = CellInfo(bid, state, bool(late), state, bool(late))
        known = self.cells
        for cell in cells:
            if cell not in known:
                known[cell] = CellInfo(None, None, False, None, False)
        self._load_issued({date(d.year, d.month, 1) for d in days})
        if pending:
            self._load_pending([c for c in cells if self.cells[c].state in PENDING_STATES])
        if places:
            self.load_places({(c[1], c[2]) for c in cells})
        return self

    def _stored_cells(self, cells: list[Cell], children: set[int], units: set[int],
                      days: set[date]) -> Iterator[tuple]:
        """The booking rows of `cells`. A rectangle of the grid (or a click) is read as the box
        of its children × units × days, one cached statement with its lists bound, the rows
        outside it dropped; scattered cells (a period, a portal feed) through the VALUES
        join, which probes once per cell but is a new SQL text each time (~10 ms to build and
        compile for 1,000 cells, 15× the box's read)."""
        box = _box(cells, children, units, days)
        if box is not None:
            wanted = set(cells)
            index = cell_index(self.s) if self.s.get_bind().dialect.name == "sqlite" else None
            for row in self.s.execute(_statements().box(index), box):
                if (row[1], row[2], row[3]) in wanted:
                    yield row
            return
        for chunk in _chunks(cells):
            wanted = cells_table(self.s, chunk)
            yield from self.s.execute(
                select(Booking.id, Booking.child_id, Booking.unit_id, Booking.day, Booking.state, Booking.late)
                .join(wanted, and_(Booking.child_id == wanted.c.column1, Booking.unit_id == wanted.c.column2,
                                   Booking.day == wanted.c.column3)))

    def load_requests(self, rows, *, places: bool = False) -> "Rules":
        """The cells of pending requests (rows with id, kind, child_id, unit_id, day, late,
        proposed_billing), read through the requests' ids: a round of 5,000 decisions probes
        the request index, not the cell index."""
        cells = {r.id: (r.child_id, r.unit_id, r.day) for r in rows}
        self._load_children({c[0] for c in cells.values()})
        self._load_units({c[1] for c in cells.values()})
        on_cell = and_(Booking.child_id == Request.child_id, Booking.unit_id == Request.unit_id,
                       Booking.day == Request.day)
        for chunk in _chunks(sorted(cells), 900):
            for rid, bid, state, late in self.s.execute(
                    select(Request.id, Booking.id, Booking.state, Booking.late).join(Booking, on_cell)
                    .where(Request.id.in_(chunk))):
                state = CellState(state)
                self.cells[cells[rid]] = CellInfo(bid, state, bool(late), state, bool(late))
        for r in rows:
            cell = cells[r.id]
            self.cells.setdefault(cell, CellInfo(None, None, False, None, False))
            self.pending[cell] = PendingInfo(r.id, r.kind, bool(r.late), r.proposed_billing)
        self._load_issued({month_start(c[2]) for c in cells.values()})
        if places:
            self.load_places({(c[1], c[2]) for c in cells.values()})
        return self

    def _load_children(self, ids: set[int]) -> None:
        ids = sorted(i for i in ids if i not in self.children)
        for chunk in _chunks(ids, 900):
            for cid, first, last, fam, archived in self.s.execute(_statements().children, {"ids": chunk}):
                self.children[cid] = ChildInfo(f"{first} {last}".strip(), fam, bool(archived))

    def _load_units(self, ids: set[int]) -> None:
        ids = sorted(i for i in ids if i not in self.units)
        if not ids:
            return
        for unit in self.s.execute(_statements().units, {"ids": ids}).scalars():
            self.units[unit.id] = unit
            self._capacity[unit.id] = unit.capacity
        wanted = {u.activity_id for u in self.units.values()} - set(self.activities)
        if wanted:
            for activity in self.s.execute(_statements().activities, {"ids": sorted(wanted)}).scalars():
                self.activities[activity.id] = activity
        for unit_id in ids:
            if unit_id in self.units:
                self._activity_of[unit_id] = self.activities[self.units[unit_id].activity_id]

    def _load_issued(self, months: set[date]) -> None:
        # A month is issued as a whole (every draft at once, then preparing it is refused), so
        # a change there goes to the family's next invoice even when it had no invoice that month.
        months = months - self._months_loaded
        if not months:
            return
        self._months_loaded |= months
        self.issued_months |= set(self.s.execute(
            _statements().issued, {"first": min(months), "last": max(months)}).scalars())

    def _load_pending(self, cells: list[Cell]) -> None:
        for chunk in _chunks(cells):
            wanted = cells_table(self.s, chunk)
            for rid, cid, uid, day, kind, late, proposed in self.s.execute(
                    select(Request.id, Request.child_id, Request.unit_id, Request.day, Request.kind,
                           Request.late, Request.proposed_billing)
                    .join(wanted, and_(Request.child_id == wanted.c.column1, Request.unit_id == wanted.c.column2,
                                       Request.day == wanted.c.column3))
                    .where(Request.status == RequestStatus.PENDING)
                    .order_by(Request.id)):
                self.pending[(cid, uid, day)] = PendingInfo(rid, kind, bool(late), proposed)

    def load_places(self, keys: set[tuple[int, date]]) -> None:
        """Places held per (unit, day), for the units that have a capacity."""
        keys = {k for k in keys if k not in self._places_loaded}
        self._load_units({u for u, _ in keys})
        self._places_loaded |= keys
        for key, n in places_used(self.s, keys, self.units).items():
            self.used[key] = n
            self.used_at_load[key] = n

    def add_pending(self, cell: Cell, info: PendingInfo) -> None:
        self.pending[cell] = info

    # asking --------------------------------------------------------------------------------

    def label(self, cell: Cell) -> str:
        child_id, unit_id, day = cell
        child = self.children.get(child_id)
        unit = self.units.get(unit_id)
        return cell_label(child.name if child else f"Enfant {child_id}",
                          unit.name if unit else f"Unité {unit_id}", day)

    def activity(self, unit_id: int) -> Activity:
        return self._activity_of[unit_id]

    def state(self, cell: Cell) -> CellState | None:
        return self.cells[cell].state

    def places_left(self, unit_id: int, day: date) -> int | None:
        capacity = self._capacity[unit_id]
        return None if capacity is None else capacity - self.used[(unit_id, day)]

    def late_booking(self, cell: Cell, at: datetime) -> bool:
        found = self._late_cache.get(("b", cell[1], cell[2], at))
        return self._deadline_passed("b", cell, at) if found is None else found

    def late_cancellation(self, cell: Cell, at: datetime) -> bool:
        found = self._late_cache.get(("c", cell[1], cell[2], at))
        return self._deadline_passed("c", cell, at) if found is None else found

    def _deadline_passed(self, which: str, cell: Cell, at: datetime) -> bool:
        activity = self.activity(cell[1])
        if which == "b":
            days, hhmm = activity.booking_deadline_days, activity.booking_deadline_time
        else:
            days, hhmm = activity.cancellation_deadline_days, activity.cancellation_deadline_time
        return self._late(which, cell[1], cell[2], at, days, hhmm)

    def proposed_billing(self, cell: Cell, at: datetime) -> str:
        """A cancellation asked in time is excusée, a late one facturée (the office may override)."""
        return Billing.BILLED if self.late_cancellation(cell, at) else Billing.EXCUSED

    def _late(self, which, unit_id, day, at, days, hhmm) -> bool:
        """The calendar's answer, asked once per (deadline, unit, day, instant) of the batch:
        a rectangle's cells share their column's."""
        found = self._late_cache[(which, unit_id, day, at)] = self.cal.is_late(at, day, days, hhmm)
        return found

    def check(self, cell: Cell, action: Action, *, family_id: int | None = None,
              capacity_override: bool = False) -> Refusal | None:
        """Why `cell` may not take `action` now, or None when the rules allow it."""
        child = self.children.get(cell[0])
        if child is None or cell[1] not in self.units:
            return Refusal("missing", "enfant ou unité introuvable")
        state = self.cells[cell].state
        if (action, state) not in TRANSITIONS:
            return state_refusal(action, state)
        if action in (Action.ASK_BOOKING, Action.BOOK, Action.ASK_CANCELLATION, Action.CANCEL):
            if family_id is not None and child.family_id != family_id:
                return Refusal("family", "cet enfant n'est pas de cette famille")
            if child.archived:
                return Refusal("archived", "la fiche de cet enfant est archivée")
        if action in _NEEDS_OPEN_DAY:
            reason = self.closed_reason(cell[1], cell[2])
            if reason:
                return closed(reason)
        if action in _TAKES_PLACE and not capacity_override:
            left = self.places_left(cell[1], cell[2])
            if left is not None and left <= 0:
                return full(self.units[cell[1]].capacity)
        return None

    def closed_reason(self, unit_id: int, day: date) -> str:
        """Why the unit's activity is closed on `day` ("" when open), asked of the calendar once
        per (unit, day) of the batch."""
        key = (unit_id, day)
        reason = self._closed_cache.get(key)
        if reason is None:
            reason = self._closed_cache[key] = self.cal.closed_reason(self.activity(unit_id), day) or ""
        return reason

    def regularised(self, cell: Cell, action: Action) -> bool:
        """Whether `action` on `cell` changes a month already invoiced: allowed, and carried by
        the family's next invoice as a regularisation."""
        return bool(self.issued_months) and action in _CHANGES_BILLING \
            and month_start(cell[2]) in self.issued_months

    def move(self, cell: Cell, new_state: CellState | None, late: bool | None = None) -> None:
        """Record a planned change: the cell's state and the places it holds."""
        info = self.cells[cell]
        key = (cell[1], cell[2])
        self.used[key] += (new_state in OCCUPYING) - (info.state in OCCUPYING)
        info.state = new_state
        if late is not None:
            info.late = late


def cells_table(s: Session, cells: list[Cell]):
    """The cells as a VALUES table to join on: both databases then probe the cell index once per
    cell, where `(child, unit, day) IN (…)` makes SQLite scan the whole index.

    The values are written into the statement: thousands of bound parameters would cost more to
    compile than the query costs to run, and ints and ISO dates cannot carry SQL."""
    date_sql = "DATE '{}'" if s.get_bind().dialect.name == "postgresql" else "'{}'"
    rows = ", ".join(f"({int(c)}, {int(u)}, {date_sql.format(d.isoformat())})" for c, u, d in cells)
    return text(f"VALUES {rows}").columns(column("column1", Integer), column("column2", Integer),
                                          column("column3", Date)).cte("wanted")


_cell_indexes: dict[str, str | None] = {}


def cell_index(s) -> str | None:
    """SQLite: the name of the booking's (child_id, unit_id, day) unique index (the constraint's
    automatic one), read once per base. Without statistics SQLite prefers the (unit, day)
    indexes, which read the whole month's bookings for a few children (the grid's rows, a
    rectangle's cells); this one seeks each child's days."""
    conn = s.connection()
    key = str(conn.engine.url)
    if key not in _cell_indexes:
        name = None
        cursor = conn.connection.driver_connection.cursor()
        try:
            for row in cursor.execute("PRAGMA index_list(booking)").fetchall():
                index, unique = row[1], row[2]
                columns = [r[2] for r in cursor.execute(f'PRAGMA index_info("{index}")').fetchall()]
                if unique and columns == ["child_id", "unit_id", "day"]:
                    name = index
        finally:
            cursor.close()
        _cell_indexes[key] = name
    return _cell_indexes[key]


def places_used(s: Session, keys: set[tuple[int, date]], units: dict[int, Unit]) -> Counter:
    """(unit, day) -> places held (R and DA cells), for the keys whose unit has a capacity."""
    used: Counter = Counter()
    limited = [(u, d) for u, d in keys if units[u].capacity is not None]
    if not limited:
        return used
    days = sorted({d for _, d in limited})
    wanted = set(limited)
    for chunk in _chunks(sorted({u for u, _ in limited}), 900):
        for uid, day, n in s.execute(_statements().places, {"ids": chunk, "first": days[0], "last": days[-1]}):
            if (uid, day) in wanted:
                used[(uid, day)] = n
    return used


def _box(cells: list[Cell], children: set[int] | None = None, units: set[int] | None = None,
         days: set[date] | None = None) -> dict | None:
    """The parameters of the box around `cells` (children, units, first and last day: the
    sets of their columns, when the caller has them), when it holds not many more cells than
    they are: a rectangle of the grid, a click."""
    if children is None:
        children, units, days = (set(column) for column in zip(*cells))
    first, last = min(days), max(days)
    if len(children) > 900 or len(children) * len(units) * ((last - first).days + 1) > 2 * len(cells) + 31:
        return None
    return {"children": sorted(children), "units": sorted(units), "first": first, "last": last}


def _chunks(items, size: int = CHUNK) -> Iterator[list]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def is_cell_request(kind: str) -> bool:
    return kind in (RequestKind.BOOKING, RequestKind.CANCELLATION)


__all__ = [
    "Action", "BookingRefused", "already_decided_message", "CapacityExceeded", "Cell", "CellInfo", "ChildInfo",
    "NO_CELL", "NO_PENDING", "OCCUPYING", "nothing_changed", "PendingInfo", "REASON_REQUIRED", "REGULARISATION",
    "Refusal", "Rules", "TRANSITIONS", "cell_label", "cells_table", "check_billing", "closed", "full",
    "is_cell_request", "month_start", "over_capacity", "override_reason_required", "places_used",
    "regularisation_note", "state_refusal", "target",
]
