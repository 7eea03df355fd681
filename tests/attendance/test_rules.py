"""What attendance changes in what is billed (pure rules, no database)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, strategies as st

from gandrange_desk.services.attendance.rules import AttendanceRules, Outcome, attended, billed_days, day_billing

DEFAULT = AttendanceRules()
STATES = (None, "DR", "R", "DA", "AF")
PRESENCES = (None, "present", "absent", "excused", "walk_in")


@pytest.mark.parametrize("presence, bill_no_shows, billed, outcome", [
    (None, True, True, Outcome.AS_BOOKED),          # nobody marked: billed as booked
    ("present", True, True, Outcome.AS_BOOKED),
    ("absent", True, True, Outcome.NO_SHOW_BILLED),
    ("absent", False, False, Outcome.NO_SHOW_FREE),
    ("excused", True, False, Outcome.EXCUSED),       # excused is never billed
    ("excused", False, False, Outcome.EXCUSED),
])
def test_a_booked_day(presence, bill_no_shows, billed, outcome):
    found = day_billing("R", presence, AttendanceRules(bill_no_shows=bill_no_shows))
    assert (found.billed, found.outcome, found.walk_in) == (billed, outcome, False)
    assert found.amount_cents(415, DEFAULT) == (415 if billed else 0)


def test_a_walk_in_costs_the_price_plus_the_surcharge():
    rules = AttendanceRules(bill_walk_ins=True, walk_in_surcharge_percent=50, walk_in_surcharge_cents=100)
    found = day_billing(None, "walk_in", rules)
    assert found.billed and found.walk_in and found.outcome is Outcome.WALK_IN_BILLED
    # 4,15 € + 50 % (2,075 → 2,08, half up) + 1,00 € fixed = 7,23 €.
    assert found.surcharge_cents(415, rules) == 308
    assert found.amount_cents(415, rules) == 723
    assert found.label == "Présence sans réservation : facturée"
    # A pending request is no reservation either.
    assert day_billing("DR", "walk_in", rules).walk_in


def test_walk_ins_not_billed_when_the_setting_says_so():
    found = day_billing(None, "walk_in", AttendanceRules(bill_walk_ins=False, walk_in_surcharge_percent=50))
    assert not found.billed and found.outcome is Outcome.WALK_IN_FREE
    assert found.amount_cents(415, AttendanceRules(walk_in_surcharge_percent=50)) == 0


def test_late_cancellations_and_pending_cancellations_keep_their_own_rule():
    for presence in PRESENCES:
        af = day_billing("AF", presence, AttendanceRules(bill_no_shows=False))
        assert af.billed and not af.walk_in  # cancelled late: billed whatever the door saw
        da = day_billing("DA", presence, DEFAULT)
        assert not da.billed and da.outcome is Outcome.PENDING_CANCELLATION


def test_nothing_booked_nothing_marked_nothing_billed():
    assert day_billing(None, None, DEFAULT).outcome is Outcome.NOTHING
    assert not day_billing(None, "absent", DEFAULT).billed


def test_unknown_presence_is_refused():
    with pytest.raises(ValueError):
        day_billing("R", "maybe", DEFAULT)


@given(st.sampled_from(STATES), st.sampled_from(PRESENCES), st.booleans(), st.booleans(),
       st.integers(0, 200), st.integers(0, 10_000), st.integers(0, 50_000))
def test_what_attendance_changes(state, presence, no_shows, walk_ins, percent, fixed, price):
    rules = AttendanceRules(no_shows, walk_ins, percent, fixed)
    found = day_billing(state, presence, rules)
    amount = found.amount_cents(price, rules)
    # A day not billed costs nothing; a billed one at least its price, more only as a walk-in.
    if not found.billed:
        assert amount == 0
    else:
        assert amount >= price and (amount == price or found.walk_in)
    if state in (None, "DR") and presence not in ("present", "walk_in"):
        assert not found.billed
    # Nobody marked: exactly what the grid alone bills (R and AF).
    if presence is None:
        assert found.billed == (state in ("R", "AF")) and not found.changes_booking(state)
    # An excused absence of a reservation is never billed.
    if state == "R" and presence == "excused":
        assert not found.billed and found.changes_booking(state)


def test_billed_days_combines_cells_and_presences():
    lea, tom, soir = 1, 2, 10
    d1, d2, d3 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 5)
    cells = {(lea, soir, d1): "R", (lea, soir, d2): "R", (lea, soir, d3): "AF", (tom, soir, d1): "DA"}
    presences = {(lea, soir, d2): "excused", (tom, soir, d2): "walk_in", (tom, soir, d3): "absent"}
    found = billed_days(cells, presences, DEFAULT)
    assert sorted(found) == [(lea, soir, d1), (lea, soir, d3), (tom, soir, d2)]
    assert found[(tom, soir, d2)].walk_in


def test_attended():
    assert attended("R", "present") is True
    assert attended(None, "walk_in") is True
    assert attended("R", "absent") is False and attended("R", "excused") is False
    assert attended("R", None) is None  # booked, nobody marked: "d'après la réservation"
    assert attended("AF", None) is False and attended(None, None) is False
