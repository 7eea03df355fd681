"""The demo's September help sessions (services/demo_appointments.py)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

from sqlalchemy import func, select

from gandrange_desk.models import Appointment
from gandrange_desk.services.appointments import book as ap
from gandrange_desk.demo import run_demo
from gandrange_desk.demo.appointments import add_appointments


def test_demo_september_mid_month(desk, clock):
    clock.set(2026, 9, 15, 10, 0)
    run_demo(desk, families=150, seed=5, extras=False)
    text = add_appointments(desk, random.Random(3))
    assert text.startswith("Rendez-vous de septembre 2026 : ")
    rows = ap.slots_between(desk, date(2026, 9, 1), date(2026, 9, 30))
    assert rows and all(r.day.weekday() < 5 for r in rows)
    now = desk.now()
    past = Counter(r.status for r in rows if r.ends_at <= now)
    future = Counter(r.status for r in rows if r.starts_at > now)
    assert set(past) <= {"done", "missed", "free"} and past["done"] > past["missed"] > 0
    assert set(future) <= {"booked", "free"} and future["booked"] > 0
    # Never two slots of one clerk at once; a family has at most one appointment.
    seen = Counter((r.clerk_id, r.starts_at) for r in rows)
    assert max(seen.values()) == 1
    families = Counter(r.family_id for r in rows if r.family_id)
    assert families and max(families.values()) == 1 and len(families) == 150
    assert any(r.visitor_name for r in rows)
    assert {r.clerk_login for r in rows} == {"sfoncin", "nbecker"}
    assert {r.day.weekday() for r in rows if r.clerk_login == "nbecker"} == {1, 3}
    seen_families = [r for r in rows if r.family_id and r.status == "done"]
    returned = sum(1 for r in seen_families if r.acknowledgement_returned)
    assert seen_families and returned >= len(seen_families) * 0.8
    # Running it again adds nothing.
    assert add_appointments(desk, random.Random(3)) == ""
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(Appointment)).scalar_one() == len(rows)
