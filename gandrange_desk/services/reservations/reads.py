"""What the reservation grid reads, each in its own short read transaction.

The window never opens a session: the Réservations tab (and the dialogs that book for a family)
call these. They sit beside the grid's cell operations and read the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from sqlalchemy import select

from gandrange_desk.models import Activity, Billing, Booking
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk
from gandrange_desk.services.families.data import can_see_health
from gandrange_desk.services.reservations.bookings import cell_history, history_text
from gandrange_desk.services.reservations.grid import GridData, grid_filters, load_grid
from gandrange_desk.services.reservations.grid_paged import grid_frame, grid_places, grid_rows

Cell = tuple[int, int, date]


@dataclass(frozen=True)
class GridChoices:
    """The filter bar's choices (see `grid_filters`) and the calendar the grid is drawn with."""

    filters: dict
    calendar: Calendar

    @property
    def activities(self) -> list:
        return self.filters["activities"]


def grid_choices(desk: Desk) -> GridChoices:
    with desk.read() as s:
        return GridChoices(grid_filters(s), Calendar.load(s))


def activity_choices(desk: Desk) -> list:
    """Activities as the period dialog offers them: (id, name, [(unit id, name)], weekdays)."""
    with desk.read() as s:
        return grid_filters(s)["activities"]


def month_grid(desk: Desk, cal: Calendar, month: date, activity_id: int, unit_ids: list[int],
               *, school_id: int | None = None) -> GridData:
    """One month of one activity, health marks only for the roles that may see them."""
    with desk.read() as s:
        return load_grid(s, cal, month, activity_id, unit_ids, school_id=school_id,
                         show_health=can_see_health(desk.actor))


def month_grid_frame(desk: Desk, cal: Calendar, month: date, activity_id: int, unit_ids: list[int],
                     *, school_id: int | None = None) -> GridData:
    """`month_grid` without the children's cells (`grid_paged.grid_frame`): names, classes,
    marks, closures and places per column; `month_grid_rows` reads the rows after."""
    with desk.read() as s:
        return grid_frame(s, cal, month, activity_id, unit_ids, school_id=school_id,
                          show_health=can_see_health(desk.actor))


def month_grid_rows(desk: Desk, data: GridData, rows: list[int]) -> dict[int, bytearray]:
    """The cells of these rows of a frame (row → states), in one short read."""
    with desk.read() as s:
        return grid_rows(s, data, rows)


def month_grid_places(desk: Desk, data: GridData) -> list[int]:
    """The places held per column of a frame, read again (a change came before its rows)."""
    with desk.read() as s:
        return grid_places(s, data)


def warm_grid(desk: Desk, month: date) -> None:
    """What the Réservations tab's first opening reads (choices, a month's frame, a screenful
    of rows and a chunk), read and dropped: run in a background thread once the window is up,
    so the first opening finds SQLAlchemy's statements compiled and the names normalised."""
    choices = grid_choices(desk)
    if not choices.activities:
        return
    frame = month_grid_frame(desk, choices.calendar, month, choices.activities[0][0], [])
    n = len(frame.child_ids)
    month_grid_rows(desk, frame, list(range(min(n, 40))))
    month_grid_rows(desk, frame, list(range(min(n, 40), min(n, 168))))


def cell_states(desk: Desk, cells: Iterable[Cell]) -> dict[Cell, str | None]:
    """The current state of each cell (None: blank), to follow what another operation did."""
    wanted = set(cells)
    if not wanted:
        return {}
    children = {c[0] for c in wanted}
    units = {c[1] for c in wanted}
    first, last = min(c[2] for c in wanted), max(c[2] for c in wanted)
    found: dict[Cell, str | None] = dict.fromkeys(wanted)
    with desk.read() as s:
        rows = s.execute(select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state).where(
            Booking.child_id.in_(children), Booking.unit_id.in_(units),
            Booking.day >= first, Booking.day <= last))
        for child_id, unit_id, day, state in rows:
            if (child_id, unit_id, day) in found:
                found[(child_id, unit_id, day)] = state
    return found


def warm_cells(desk: Desk, cal: Calendar, cells: list[Cell]) -> None:
    """Read what a cell operation reads about `cells`, and keep nothing: run while the clerk
    looks at a new grid, so the first click finds its statements compiled (SQLAlchemy compiles
    a statement the first time it runs, ~10 ms for the batch's load)."""
    from gandrange_desk.services.reservations.engine import CellBatch

    from gandrange_desk.services.reservations.writer import CellWriter

    with desk.read() as s:
        CellBatch(s, desk, cal).load(cells, places=True, pending=True)
    CellWriter.warm(desk.engine)


def cell_history_text(desk: Desk, cell: Cell) -> str:
    """The cell's tooltip: every request made on it, who decided and why."""
    with desk.read() as s:
        return history_text(cell_history(s, *cell))


def cancellation_proposal(desk: Desk, cal: Calendar, activity_id: int, cells: list[Cell]) -> tuple[str, int]:
    """(proposed billing, how many cells are past the cancellation deadline) for cancelling these
    booked cells now: "billed" when most of them are late, "excused" otherwise."""
    with desk.read() as s:
        activity = s.get(Activity, activity_id)
        days, hhmm = activity.cancellation_deadline_days, activity.cancellation_deadline_time
    now = desk.now()
    late = sum(1 for c in cells if cal.is_late(now, c[2], days, hhmm))
    return (Billing.BILLED if late * 2 > len(cells) else Billing.EXCUSED), late


__all__ = ["GridChoices", "activity_choices", "cancellation_proposal", "cell_history_text", "cell_states",
           "grid_choices", "month_grid", "month_grid_frame", "month_grid_places", "month_grid_rows", "warm_grid"]
