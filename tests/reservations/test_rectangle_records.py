"""A rectangle of the grid as the clerk and the history see it: its open cells booked, each one
recorded as its own request (who, when, from where, decided), its closed or taken cells left
alone with their reason, Ctrl+Z taking all of it back, and nothing written when nothing could
change. The rules engine and the writer that carry it (one batch for a click or a thousand
cells) are the ones under test; these are what a change of their speed must not move."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from gandrange_desk.models import Booking, Child, Request
from gandrange_desk.services.reservations import cells
from gandrange_desk.services.reservations.rules import BookingRefused
from tests.reservations.test_bookings import world  # noqa: F401 - the fixture

MONDAY = date(2026, 3, 16)
WEEK = [MONDAY + timedelta(d) for d in range(7)]  # Wednesday, Saturday, Sunday: périscolaire closed


def _counts(desk) -> tuple[int, int]:
    with desk.read() as s:
        return (s.execute(select(func.count()).select_from(Request)).scalar(),
                s.execute(select(func.count()).select_from(Booking)).scalar())


def _rectangle(world, days=WEEK):
    return [(child, unit, day) for child in (world["child"], world["other_child"])
            for unit in (world["repas"], world["matin"]) for day in days]


def test_a_rectangle_books_its_open_cells_each_recorded_as_the_clerks_decided_request(desk, world):
    rectangle = _rectangle(world)
    result = cells.book_cells(desk, rectangle)
    open_cells = [c for c in rectangle if c[2].weekday() in (0, 1, 3, 4)]
    assert sorted(result.changed) == sorted(open_cells) and set(result.changed.values()) == {"R"}
    closed = set(rectangle) - set(open_cells)
    assert set(result.skipped) == closed and all("jour fermé" in why for why in result.skipped.values())
    assert result.summary(("réservée", "réservées")).startswith("16 cases réservées, 12 cases ignorées.")
    with desk.read() as s:
        rows = {r.id: r for r in s.execute(select(Request)).scalars()}
        states = {(b.child_id, b.unit_id, b.day): b.state for b in s.execute(select(Booking)).scalars()}
        # As stored: plain words, the history and the exports read them as they are.
        words = set(s.execute(text("SELECT kind, source, status, to_state FROM request")).all())
    assert states == dict.fromkeys(open_cells, "R")
    assert words == {("booking", "desk_office", "accepted", "R")}
    assert [(rows[rid].child_id, rows[rid].unit_id, rows[rid].day) for rid in result.request_ids] == list(result.changed)
    now = desk.now()
    for rid in result.request_ids:
        r = rows[rid]
        assert (r.kind, r.source, r.status, r.from_state, r.to_state) == ("booking", "desk_office", "accepted", None, "R")
        assert (r.submitted_by, r.decided_by) == (desk.actor.login, desk.actor.login)
        assert r.submitted_at == now and r.decided_at == now
        assert (r.reason, r.late, r.capacity_override, r.ref) == ("", False, False, None)


def test_ctrl_z_takes_the_whole_rectangle_back_and_says_so_in_the_history(desk, world):
    rectangle = [c for c in _rectangle(world) if c[2].weekday() in (0, 1, 3, 4)]
    done = cells.book_cells(desk, rectangle)
    undone = cells.undo(desk, done)
    assert sorted(undone.changed) == sorted(rectangle) and set(undone.changed.values()) == {None}
    assert _counts(desk)[1] == 0  # every cell blank again
    with desk.read() as s:
        back = s.execute(select(Request).where(Request.id.in_(undone.request_ids))).scalars().all()
    assert len(back) == len(rectangle)
    # Cancelled excusée (never billed), by the clerk, each on its own cell.
    assert {(r.kind, r.source, r.status, r.billing, r.to_state, r.decided_by) for r in back} == {
        ("cancellation", "desk_office", "accepted", "excused", None, desk.actor.login)}
    assert sorted((r.child_id, r.unit_id, r.day) for r in back) == sorted(rectangle)
    with pytest.raises(BookingRefused, match="Impossible d'annuler une annulation de saisie"):
        cells.undo(desk, undone)


def test_cells_taken_or_of_an_archived_child_are_left_with_their_reason(desk, world):
    taken = (world["child"], world["repas"], WEEK[0])
    cells.book_cells(desk, [taken])
    asked = (world["child"], world["matin"], WEEK[1])
    cells.book_cells(desk, [asked], for_family=True)
    with desk.unit_of_work() as s:
        s.get(Child, world["other_child"]).archived = True
    rectangle = _rectangle(world, WEEK[:2])
    result = cells.book_cells(desk, rectangle)
    assert sorted(result.changed) == [(world["child"], world["matin"], WEEK[0]),
                                      (world["child"], world["repas"], WEEK[1])]
    assert "déjà réservée" in result.skipped[taken]
    assert "une demande est déjà en attente" in result.skipped[asked]
    assert all("archivée" in result.skipped[c] for c in rectangle if c[0] == world["other_child"])


@pytest.mark.parametrize("days, why", [
    ([WEEK[2], WEEK[5], WEEK[6]], "jour fermé"),  # Wednesday and the weekend
    (WEEK[:2], "archivée"),
])
def test_a_rectangle_where_nothing_may_change_is_refused_and_writes_nothing(desk, world, days, why):
    cells.book_cells(desk, [(world["child"], world["repas"], WEEK[3])])  # something already there
    with desk.unit_of_work() as s:
        s.get(Child, world["child"]).archived = why == "archivée"
        s.get(Child, world["other_child"]).archived = why == "archivée"
    before = _counts(desk)
    with pytest.raises(BookingRefused, match=why) as refused:
        cells.book_cells(desk, _rectangle(world, days))
    assert "autres cases" in str(refused.value)
    assert _counts(desk) == before
