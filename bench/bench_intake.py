"""Portal feed intake: a 10,000-request feed on the 2,000-family base, and what the validation
layer (services.validation) costs in it.

The feed holds what a busy week sends: booking requests for existing children on open days
(one to three dates each), family changes (phone, e-mail, postcode, a child's class by ref) and
registrations. Two figures, each a median of several runs on its own copy of the base:
  - the whole import, per entry;
  - the same import with the validation layer's checks replaced by pass-throughs (what intake
    cost before issue 11), per entry, and the ratio of the two. The issue's bar: validation must
    not double the per-entry time.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import time
from datetime import timedelta

from sqlalchemy import select

N_ENTRIES = 10_000
RUNS = 3


def make_feed(desk, n: int = N_ENTRIES, seed: int = 11) -> str:
    from gandrange_desk.models import Activity, Booking, Child, Family
    from gandrange_desk.services.calendar import Calendar

    rng = random.Random(seed)
    now = desk.now()
    first = now.date() + timedelta(days=7)
    with desk.read() as s:
        cal = Calendar.load(s)
        children = s.execute(select(Child.id, Child.ref, Family.ref).join(Family)
                             .where(Child.archived.is_(False))).all()
        activities = [(a.code, [(u.id, u.name) for u in a.units], a) for a in s.execute(select(Activity)).scalars()]
        days = {code: cal.open_days(a, first, first + timedelta(days=150)) for code, _, a in activities}
        # Only white cells: a feed asking for booked cells is refused whole, as it should be.
        taken = set(s.execute(select(Booking.child_id, Booking.unit_id, Booking.day)
                              .where(Booking.day >= first)).all())
    submitted = (now - timedelta(hours=2)).isoformat()
    entries, i = [], 0
    while len(entries) < n:
        i += 1
        child_id, child, family = rng.choice(children)
        roll = rng.random()
        if roll < 0.05:
            entries.append({"ref": f"BENCH-{i}", "kind": "family_change", "submitted_at": submitted,
                            "family_ref": family, "changes": {
                                "phone": f"03 87 {rng.randrange(100):02d} {rng.randrange(100):02d} 17",
                                "guardians[0].email": f"parent{i}@example.org", "address.postcode": "57175",
                                f"children[{child}].class": "CE1"}})
            continue
        if roll < 0.07:
            entries.append({"ref": f"BENCH-{i}", "kind": "registration", "submitted_at": submitted, "family": {
                "ref": f"F-B{i}", "name": f"Famille {i}", "address": {"street": f"{i} rue de la Gare",
                                                                    "postcode": "57175", "city": "Gandrange"},
                "guardians": [{"first_name": "Anne", "last_name": f"Weber{i}", "email": f"anne{i}@example.org",
                               "phone": "06 12 34 56 78"}],
                "children": [{"ref": f"E-B{i}", "first_name": "Tom", "last_name": f"Weber{i}",
                              "birth_date": "2018-05-02", "school": "École élémentaire", "class": "CE2"}]}})
            continue
        code, units, _ = rng.choice(activities)
        unit_id, unit = rng.choice(units)
        picked = set()
        for _ in range(rng.randint(1, 3)):
            day = rng.choice(days[code])
            if (child_id, unit_id, day) not in taken:
                taken.add((child_id, unit_id, day))
                picked.add(day.isoformat())
        if not picked:
            continue
        entries.append({"ref": f"BENCH-{i}", "kind": "booking", "submitted_at": submitted, "family_ref": family,
                        "child_ref": child, "activity": code, "unit": unit, "dates": sorted(picked)})
    return json.dumps({"requests": entries}, ensure_ascii=False)


@contextlib.contextmanager
def without_validation():
    """The layer's checks as pass-throughs: strings stripped, dates parsed, nothing refused."""
    from datetime import date, datetime

    from gandrange_desk.services import validation as v
    from gandrange_desk.services.intake import check

    def plain(value, **_kw):
        return value.strip() if isinstance(value, str) else value

    stand_ins = {
        "text": plain, "line": plain, "email": plain, "phone": plain, "postcode": plain,
        "booking_day": lambda value, today: date.fromisoformat(value),
        "birth_date": lambda value, today: date.fromisoformat(value),
        "submitted_at": lambda value, now: datetime.fromisoformat(value),
    }
    saved = {name: getattr(v, name) for name in stand_ins}
    saved_scan = check.first_bad_string
    try:
        for name, fn in stand_ins.items():
            setattr(v, name, fn)
        check.first_bad_string = lambda raw: None
        yield
    finally:
        for name, fn in saved.items():
            setattr(v, name, fn)
        check.first_bad_string = saved_scan


def _import_once(base, data: str, validated: bool) -> tuple[float, int]:
    from gandrange_desk.services.intake import feed as intake

    desk = base.fresh_desk()
    with contextlib.ExitStack() as stack:
        if not validated:
            stack.enter_context(without_validation())
        start = time.perf_counter()
        result = intake.import_feed(desk, data)
        elapsed = time.perf_counter() - start
    desk.engine.dispose()
    return elapsed, result.entries


def intake_10000(base) -> dict:
    data = make_feed(base.desk())
    with_layer, without, entries = [], [], 0
    for _ in range(RUNS):  # interleaved: a loaded machine weighs on both the same
        elapsed, entries = _import_once(base, data, True)
        with_layer.append(elapsed)
        elapsed, _ = _import_once(base, data, False)
        without.append(elapsed)
    per_entry = statistics.median(with_layer) / entries * 1e6
    per_entry_bare = statistics.median(without) / entries * 1e6
    print(f"intake: {entries} entries, {per_entry:.0f} µs per entry with validation, "
          f"{per_entry_bare:.0f} µs without ({per_entry / per_entry_bare:.2f}×)")
    return {
        "value": round(per_entry / per_entry_bare, 2),
        "unit": "× per entry",
        "target": "≤ 2× (validation must not double the per-entry time)",
        "entries": entries,
        "per_entry_us": round(per_entry),
        "per_entry_without_validation_us": round(per_entry_bare),
        "runs_ms": [round(t * 1000) for t in with_layer],
        "runs_without_ms": [round(t * 1000) for t in without],
    }


FIGURES = {"intake_10000": intake_10000}
