"""The demo's attendance: the past days marked, today left to the door, walk-ins only where free."""

from __future__ import annotations

from sqlalchemy import select

from gandrange_desk.demo import run_demo
from gandrange_desk.models import Attendance, Booking
from gandrange_desk.services.attendance import settings


def test_demo_marks_the_past(desk):
    summary = run_demo(desk, families=12, seed=3)
    assert summary.extras[0].startswith("Pointage : ")
    today = desk.today()
    with desk.read() as s:
        marks = s.execute(select(Attendance.child_id, Attendance.unit_id, Attendance.day, Attendance.presence)).all()
        cells = {(c, u, d): st for c, u, d, st in s.execute(
            select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state))}
    assert marks and all(day < today for _c, _u, day, _p in marks)
    for child, unit, day, presence in marks:
        state = cells.get((child, unit, day))
        assert (presence == "walk_in") == (state not in ("R",)), (presence, state)
        assert presence != "walk_in" or state not in ("R", "DA")
    assert {p for *_k, p in marks} >= {"present", "walk_in"}
    hours = {u.unit_name: u.caf_minutes for u in settings.current(desk).units}
    assert hours["Repas"] == 120 and hours["Journée complète"] == 480
