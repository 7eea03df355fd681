"""Demo attendance: the door's marks of every past day of the demo school year, and the CAF hours.

Called by `demo.run_demo` before the billing hook (`add_attendance(desk, rng)`), so a monthly run
that applies the attendance rules bills what the door saw. Every reserved child of a past day
is marked: mostly present, a few absent, a few excused (a sick note); some evenings a family
comes late; most days a child or two turns up without a reservation. Today is left unmarked:
that is the door screen's job. The units get the hour values a town declares to the CAF.
Rows go in with bulk INSERTs (a 2,000-family year is a few hundred thousand marks).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, time

from sqlalchemy import select

from gandrange_desk import formats
from gandrange_desk.clock import PARIS
from gandrange_desk.demo.bulk import bulk_insert
from gandrange_desk.models import Activity, Attendance, Booking, CellState, Child, Unit
from gandrange_desk.services.attendance import settings
from gandrange_desk.services.context import Desk

# Minutes of care one act stands for, by unit name (the demo's settings).
CAF_MINUTES = {"Accueil matin": 60, "Repas": 120, "Accueil soir": 120, "Journée complète": 480, "Matin": 210,
               "Après-midi": 210, "Journée": 540}
MARK_TIME = {"matin": time(8, 25), "repas": time(11, 55), "soir": time(16, 50)}
WEIGHTS = (("present", 93), ("absent", 4), ("excused", 3))


def _when(unit_name: str) -> time:
    name = unit_name.lower()
    return next((t for key, t in MARK_TIME.items() if key in name), time(9, 10))


def add_attendance(desk: Desk, rng: random.Random) -> str:
    today = desk.today()
    current = settings.current(desk)
    settings.save(desk, current.rules, {u.unit_id: (CAF_MINUTES.get(u.unit_name), u.pickup) for u in current.units})
    pickup_units = settings.current(desk).pickup_units()
    marks, walk_ins = [], 0
    with desk.unit_of_work() as s:
        units = {u.id: u.name for u in s.execute(select(Unit).join(Activity)).scalars()}
        school_of = dict(s.execute(select(Child.id, Child.school_id).where(Child.archived.is_(False))).all())
        by_school: dict[int | None, list[int]] = defaultdict(list)
        for child_id, school_id in sorted(school_of.items()):
            by_school[school_id].append(child_id)
        booked: dict[tuple[int, object], set[int]] = defaultdict(set)
        rows = s.execute(select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state)
                         .where(Booking.day < today).order_by(Booking.day, Booking.unit_id, Booking.child_id)).all()
        population, weights = zip(*WEIGHTS)
        for child_id, unit_id, day, state in rows:
            booked[(unit_id, day)].add(child_id)
            if state != CellState.R or child_id not in school_of:
                continue
            presence = rng.choices(population, weights)[0]
            late = ""
            if presence == "present" and unit_id in pickup_units and rng.random() < 0.02:
                late = f"18:{rng.randrange(32, 58):02d}"
            at = datetime.combine(day, _when(units[unit_id]), PARIS)
            marks.append({"child_id": child_id, "unit_id": unit_id, "day": day, "presence": presence,
                          "late_time": late, "recorded_at": at, "recorded_by": "sfoncin"})
        # Walk-ins: on most days of a unit, a child or two of the site came without a reservation.
        for (unit_id, day), children in sorted(booked.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if rng.random() < 0.4:
                continue
            school = school_of.get(next(iter(sorted(children))))
            free = [c for c in by_school.get(school, ()) if c not in children]
            for child_id in rng.sample(free, min(len(free), rng.choice((1, 1, 2)))):
                walk_ins += 1
                marks.append({"child_id": child_id, "unit_id": unit_id, "day": day, "presence": "walk_in",
                              "late_time": "", "recorded_at": datetime.combine(day, _when(units[unit_id]), PARIS),
                              "recorded_by": "sfoncin"})
        bulk_insert(s.connection(), Attendance.__table__, marks)
    return (f"Pointage : {formats.count(len(marks), 'présence pointée', 'présences pointées')}, dont "
            f"{formats.count(walk_ins, 'présence', 'présences')} sans réservation.")
