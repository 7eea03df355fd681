"""Ctrl+Z in the grid: the last change no family has heard of is taken back through the rules,
all of it or nothing, and never what was decided, billed or changed by someone else since."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gandrange_desk.models import Booking, OutboxMessage, Request
from gandrange_desk.services.reservations import cells
from gandrange_desk.services.reservations.bookings import BookingRefused
from tests.conftest import AGENT
from tests.reservations.test_bookings import FRI, requests, state, world  # noqa: F401 - fixture

MON = date(2026, 3, 16)


def cell_states(desk, w, days=(FRI, MON)):
    return [state(desk, w["child"], w["repas"], d) for d in days]


def test_undo_an_office_booking_cancels_it_excused_and_never_billed(desk, world, clock):
    cs = [(world["child"], world["repas"], d) for d in (FRI, MON)]
    done = cells.book_cells(desk, cs)
    clock.set(2026, 3, 12, 8, 0)  # past the 13/03 deadline: a plain cancellation would be billed
    undone = cells.undo(desk, done)
    assert cell_states(desk, world) == [None, None]
    assert set(undone.changed.values()) == {None} and undone.changes.cells == set(cs)
    last = requests(desk, world["child"], world["repas"], FRI)[-1]
    assert (last.kind, last.billing, last.billing_override_reason) == (
        "cancellation", "excused", cells.UNDO_REASON)
    with desk.read() as s:
        assert s.execute(select(OutboxMessage)).first() is None  # no family was told anything


def test_undo_a_request_entered_for_the_family_withdraws_it(desk, world):
    cs = [(world["child"], world["repas"], FRI)]
    done = cells.book_cells(desk, cs, for_family=True)
    cells.undo(desk, done)
    assert cell_states(desk, world, (FRI,)) == [None]
    assert requests(desk, world["child"], world["repas"], FRI)[-1].status == "withdrawn"
    cells.book_cells(desk, cs)
    asked = cells.ask_cancel_cells(desk, cs)
    cells.undo(desk, asked)
    assert cell_states(desk, world, (FRI,)) == ["R"]  # the DA taken back: reserved again
    assert requests(desk, world["child"], world["repas"], FRI)[-1].status == "withdrawn"


def test_undo_an_office_cancellation_books_again_but_not_a_billed_one(desk, world):
    cs = [(world["child"], world["repas"], FRI)]
    cells.book_cells(desk, cs)
    cancelled = cells.cancel_cells(desk, cs, billing="excused")
    cells.undo(desk, cancelled)
    assert cell_states(desk, world, (FRI,)) == ["R"]
    billed = cells.cancel_cells(desk, cs, billing="billed", reason="Absence non signalée")
    with pytest.raises(BookingRefused, match="une annulation facturée ne s'annule pas ainsi"):
        cells.undo(desk, billed)
    assert cell_states(desk, world, (FRI,)) == ["AF"]


def test_what_was_announced_or_changed_since_is_never_undone(desk, world):
    cs = [(world["child"], world["repas"], d) for d in (FRI, MON)]
    asked = cells.book_cells(desk, cs, for_family=True)
    decided = cells.decide_cells(desk, cs[:1], True)  # another clerk accepts one: it is announced
    with pytest.raises(BookingRefused, match="rien n'a été annulé"):
        cells.undo(desk, asked)
    assert cell_states(desk, world) == ["R", "DR"]  # all or nothing: the other DR stays
    with pytest.raises(BookingRefused, match="Impossible d'annuler une décision annoncée à la famille"):
        cells.undo(desk, decided)

    booked = cells.book_cells(desk, [(world["child"], world["matin"], FRI)])
    cells.cancel_cells(desk.as_actor(AGENT), [(world["child"], world["matin"], FRI)], billing="excused")
    with pytest.raises(BookingRefused, match=r"la case a changé depuis \(sfoncin\), rien n'a été annulé"):
        cells.undo(desk, booked)
    with desk.read() as s:
        assert s.execute(select(Booking.state).where(Booking.unit_id == world["matin"])).first() is None
        assert len(s.execute(select(Request.id)).all()) == 4  # 2 DR, 1 booking, 1 cancellation: nothing more
