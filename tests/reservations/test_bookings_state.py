"""Random sequences of cell actions (hypothesis state machine) against a real SQLite database.

Checks after every step: the database holds only states of the table, matches a model that
applies DESIGN §2 by hand, and every cell's request rows chain from blank to its current state
(so every state change has its request row). A refused action writes nothing.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from gandrange_desk.clock import PARIS
from gandrange_desk.db import make_engine
from gandrange_desk.errors import AlreadyDecided, ValidationFailed
from gandrange_desk.models import Booking, Child, Request, RequestSource, Unit
from gandrange_desk.services.reservations import bookings
from gandrange_desk.services.reservations import cells
from gandrange_desk.services.reservations.bookings import BookingRefused
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import SYSTEM, Desk
from tests.builders import load_example_settings, make_family, unit_id

DAYS = [date(2026, 3, 13), date(2026, 3, 16), date(2026, 3, 11)]  # Fri, Mon, Wed (closed)
START = datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)

# The (from, to) a request may show, by kind and status (to_state is the cell it leaves).
OUTCOMES = {
    ("booking", "pending"): {(None, "DR")},
    ("booking", "accepted"): {(None, "R")},
    ("booking", "refused"): {(None, None)},
    ("booking", "withdrawn"): {(None, None)},
    ("cancellation", "pending"): {("R", "DA")},
    ("cancellation", "accepted"): {("R", None), ("R", "AF")},
    ("cancellation", "refused"): {("R", "R")},
    ("cancellation", "withdrawn"): {("R", "R")},
}
# What the model expects an action to do to a cell, or None when it must be refused.
ASK = {None: "DR"}
OFFICE_BOOK = {None: "R"}
ASK_CANCEL = {"R": "DA"}


class Clock:
    def __init__(self):
        self.value = START

    def __call__(self):
        return self.value


@pytest.fixture(scope="module")
def template(tmp_path_factory, sqlite_template):
    path = tmp_path_factory.mktemp("sm") / "base.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    desk = Desk(engine, SYSTEM, lambda: START)
    load_example_settings(desk)
    a = make_family(desk, "Martin")
    b = make_family(desk, "Durand")
    with desk.unit_of_work() as s:
        s.get(Unit, unit_id(s, "PERISCOLAIRE", "Accueil matin")).capacity = 1
    ids = {"children": [a.children[0].id, b.children[0].id],
           "units": [unit_id(desk, "PERISCOLAIRE", "Repas"),
                     unit_id(desk, "PERISCOLAIRE", "Accueil matin")]}
    engine.dispose()
    return path, ids


def test_cell_state_machine(template, tmp_path):
    base, ids = template
    counter = iter(range(10**6))

    class Cells(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            path = tmp_path / f"run{next(counter)}.sqlite3"
            shutil.copy(base, path)
            self.engine = make_engine(f"sqlite:///{path}")
            self.clock = Clock()
            self.desk = Desk(self.engine, SYSTEM, self.clock)
            self.cells = [(c, u, d) for c in ids["children"] for u in ids["units"] for d in DAYS]
            # Start with some reserved cells so cancellations are reachable in few steps.
            start = [c for c in self.cells if c[0] == ids["children"][0] and c[2] != DAYS[2]]
            cells.book_cells(self.desk, start)
            self.model = {c: "R" for c in start}

        def teardown(self):
            if hasattr(self, "engine"):
                self.engine.dispose()

        # --- helpers ---------------------------------------------------------------------
        def snapshot(self):
            with self.desk.read() as s:
                n = s.execute(select(func.count()).select_from(Request)).scalar()
                rows = s.execute(select(Booking.child_id, Booking.unit_id, Booking.day,
                                        Booking.state)).all()
            return n, {(c, u, d): st for c, u, d, st in rows}

        def attempt(self, fn, expected: dict[tuple, str | None] | None):
            """Run an action; if the model says it must be refused, it must write nothing."""
            before = self.snapshot()
            try:
                fn()
            except (BookingRefused, AlreadyDecided, ValidationFailed):
                assert self.snapshot() == before
                return False
            assert expected is not None, "an action outside the table was accepted"
            for cell, new in expected.items():
                if new is None:
                    self.model.pop(cell, None)
                else:
                    self.model[cell] = new
            return True

        def primitive(self, fn):
            with self.desk.unit_of_work() as s:
                cal = Calendar.load(s)
                return fn(s, cal)

        # --- rules -----------------------------------------------------------------------
        @rule(i=st.integers(0, 11), source=st.sampled_from(
            [RequestSource.PORTAL, RequestSource.DESK_FAMILY, RequestSource.DESK_OFFICE]),
            override=st.booleans())
        def ask_booking(self, i, source, override):
            cell = self.cells[i]
            state = self.model.get(cell)
            office = source == RequestSource.DESK_OFFICE
            allowed = cell[2] != DAYS[2] and state is None
            if allowed and office and not override and self.full(cell):
                allowed = False
            self.attempt(lambda: self.primitive(lambda s, cal: bookings.ask_booking(
                s, self.desk, cal, s.get(Child, cell[0]), s.get(Unit, cell[1]), cell[2],
                source=source, submitted_at=self.clock(), capacity_override=override)),
                {cell: "R" if office else "DR"} if allowed else None)

        def full(self, cell):
            if cell[1] != ids["units"][1]:
                return False
            return sum(1 for c, st in self.model.items()
                       if c[1] == cell[1] and c[2] == cell[2] and st in ("R", "DA")) >= 1

        def pick(self, k, states):
            """Mostly a cell in one of `states` (so the interesting paths are reached), sometimes any."""
            among = sorted(c for c, st in self.model.items() if st in states)
            if among and k % 5:
                return among[k % len(among)]
            return self.cells[k % len(self.cells)]

        @precondition(lambda self: "R" in self.model.values())
        @rule(k=st.integers(0, 99), office=st.booleans(),
              billing=st.sampled_from(["excused", "billed"]))
        def ask_cancellation(self, k, office, billing):
            cell = self.pick(k, ("R",))
            allowed = self.model.get(cell) == "R"
            source = RequestSource.DESK_OFFICE if office else RequestSource.PORTAL
            target = ("AF" if billing == "billed" else None) if office else "DA"
            self.attempt(lambda: self.primitive(lambda s, cal: bookings.ask_cancellation(
                s, self.desk, cal, s.get(Child, cell[0]), s.get(Unit, cell[1]), cell[2],
                source=source, submitted_at=self.clock(), billing=billing if office else None)),
                {cell: target} if allowed else None)

        @precondition(lambda self: {"DR", "DA"} & set(self.model.values()))
        @rule(k=st.integers(0, 99), accept=st.booleans(), override=st.booleans(),
              billing=st.sampled_from([None, "excused", "billed"]),
              reason=st.sampled_from(["", "Motif", "Motif"]))
        def decide(self, k, accept, override, billing, reason):
            cell = self.pick(k, ("DR", "DA"))
            state = self.model.get(cell)
            with self.desk.read() as s:
                pending = bookings.pending_request(s, *cell)
            if pending is None:
                assert state not in ("DR", "DA")
                return
            assert state in ("DR", "DA")
            expected = None
            if not accept and not reason:
                expected = None
            elif state == "DR":
                if not accept:
                    expected = {cell: None}
                elif override or not self.full(cell):
                    expected = {cell: "R"}
            else:
                if not accept:
                    expected = {cell: "R"}
                else:
                    chosen = billing or pending.proposed_billing
                    expected = {cell: "AF" if chosen == "billed" else None}
            self.attempt(lambda: self.primitive(lambda s, cal: bookings.apply_decision(
                s, self.desk, s.get(Request, pending.id), accept, reason=reason, billing=billing,
                capacity_override=override, cal=cal)), expected)
            # Deciding again is always refused as already decided.
            if expected is not None:
                self.attempt(lambda: self.primitive(lambda s, cal: bookings.apply_decision(
                    s, self.desk, pending.id, True)), None)

        @precondition(lambda self: {"DR", "DA"} & set(self.model.values()))
        @rule(k=st.integers(0, 99))
        def withdraw(self, k):
            cell = self.pick(k, ("DR", "DA"))
            with self.desk.read() as s:
                pending = bookings.pending_request(s, *cell)
            if pending is None:
                return
            # A pending booking goes back to blank, a pending cancellation back to R.
            back = {"DR": {cell: None}, "DA": {cell: "R"}}.get(self.model.get(cell))
            self.attempt(lambda: self.primitive(lambda s, cal: bookings.withdraw(
                s, self.desk, pending.id)), back)

        @rule(picks=st.sets(st.integers(0, 11), min_size=1, max_size=6), family=st.booleans(),
              override=st.booleans())
        def bulk_book(self, picks, family, override):
            chosen = [self.cells[i] for i in sorted(picks)]
            todo = [c for c in chosen if c[2] != DAYS[2] and self.model.get(c) is None]
            expected = {c: "DR" if family else "R" for c in todo} or None
            if expected and not family and not override:
                for c in todo:
                    adding = sum(1 for o in todo if o[1] == c[1] and o[2] == c[2])
                    if c[1] == ids["units"][1] and adding + sum(
                            1 for m, st in self.model.items()
                            if m[1] == c[1] and m[2] == c[2] and st in ("R", "DA")) > 1:
                        expected = None
            self.attempt(lambda: cells.book_cells(self.desk, chosen, for_family=family,
                                                  capacity_override=override), expected)

        @rule(picks=st.sets(st.integers(0, 11), min_size=1, max_size=6),
              billing=st.sampled_from(["excused", "billed"]))
        def bulk_cancel(self, picks, billing):
            chosen = [self.cells[i] for i in sorted(picks)]
            todo = [c for c in chosen if self.model.get(c) == "R"]
            new = "AF" if billing == "billed" else None
            self.attempt(lambda: cells.cancel_cells(self.desk, chosen, billing=billing,
                                                    reason="Choix du test"),
                         {c: new for c in todo} or None)

        @rule(hours=st.integers(1, 60))
        def time_passes(self, hours):
            self.clock.value += timedelta(hours=hours)

        # --- invariants ------------------------------------------------------------------
        @invariant()
        def database_matches_model_and_history_chains(self):
            if not hasattr(self, "engine"):
                return
            _, states = self.snapshot()
            assert set(states.values()) <= {"DR", "R", "DA", "AF"}
            assert states == self.model
            with self.desk.read() as s:
                history: dict = {}
                for r in s.execute(select(Request).order_by(Request.id)).scalars():
                    history.setdefault((r.child_id, r.unit_id, r.day), []).append(r)
            for cell in set(history) | set(states):
                current = None
                for r in history.get(cell, []):
                    assert (r.from_state, r.to_state) in OUTCOMES[(r.kind, r.status)]
                    assert r.from_state == current
                    current = r.to_state
                    if r.status != "pending":
                        assert r.decided_by and r.decided_at
                    if r.kind == "cancellation" and r.status == "accepted":
                        assert r.billing in ("excused", "billed")
                assert current == states.get(cell)
                assert cell[2] != DAYS[2] or cell not in history  # never on a closed day

    Cells.TestCase.settings = settings(
        max_examples=40, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    Cells.TestCase().runTest()
