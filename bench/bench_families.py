"""Familles tab: cost of one keystroke of the instant search on the 2,000-family base.

Types real names, e-mails and phone numbers of the base one character at a time, as the clerk
does, and times `families.search` (query + the page's balances, children and pending counts) for
every prefix. Also the time to open a family file (snapshot).
"""

from __future__ import annotations

import random
import statistics
import time

from sqlalchemy import select

from gandrange_desk.models import Child, Family, Guardian
from gandrange_desk.services.families import file as fam
from gandrange_desk.services.search import normalize

PAGE = 300  # what the Familles tab asks for


def _queries(desk, n: int = 12, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    with desk.read() as s:
        guardians = s.execute(select(Guardian.first_name, Guardian.last_name, Guardian.email, Guardian.phone)).all()
        children = s.execute(select(Child.first_name, Child.last_name)).all()
    picks = []
    for g in rng.sample(guardians, min(n // 2, len(guardians))):
        picks.append(f"{normalize(g.first_name)} {normalize(g.last_name)}")
    for c in rng.sample(children, min(n // 4, len(children))):
        picks.append(f"{c.last_name} {c.first_name}")
    with_mail = [g for g in guardians if g.email]
    with_phone = [g for g in guardians if g.phone]
    if with_mail:
        picks.append(rng.choice(with_mail).email)
    if with_phone:
        picks.append(rng.choice(with_phone).phone)
    return picks


def search_keystroke(base) -> dict:
    desk = base.desk()
    queries = _queries(desk)
    fam.search(desk, "", PAGE)  # warm the connection pool and caches, as the open tab has
    timings = []
    for query in queries:
        for end in range(1, len(query) + 1):
            start = time.perf_counter()
            fam.search(desk, query[:end], PAGE)
            timings.append((time.perf_counter() - start) * 1000)
    with desk.read() as s:
        families = s.execute(select(Family.id)).scalars().all()
    timings.sort()
    return {
        "value": round(statistics.median(timings), 2),
        "unit": "ms",
        "target": "≤ 50 ms",
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "max_ms": round(timings[-1], 2),
        "keystrokes": len(timings),
        "families": len(families),
        "empty_search_ms": round(_median_of(lambda: fam.search(desk, "", PAGE)), 2),
    }


def open_file(base) -> dict:
    desk = base.desk()
    with desk.read() as s:
        ids = s.execute(select(Family.id).order_by(Family.id)).scalars().all()
    rng = random.Random(3)
    sample = rng.sample(ids, min(30, len(ids)))
    fam.get_family(desk, sample[0])
    timings = []
    for fid in sample:
        start = time.perf_counter()
        fam.get_family(desk, fid)
        timings.append((time.perf_counter() - start) * 1000)
    return {"value": round(statistics.median(timings), 2), "unit": "ms", "target": "≤ 100 ms",
            "max_ms": round(max(timings), 2), "files": len(sample)}


def _median_of(fn, runs: int = 7) -> float:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return statistics.median(out)


FIGURES = {"families_search_keystroke": search_keystroke, "family_file_open": open_file}
