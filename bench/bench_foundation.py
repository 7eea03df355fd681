"""Foundation figures: launch to a usable window, its peak memory, and the bare SQL reference
time of one site's month of bookings (the number the reservation grid must approach, DESIGN §10).

`site_month(base)` is the selection the grid benchmark should reuse: 700 children of the
élémentaire (by name), the three périscolaire units, and the busiest past month of the base.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from calendar import monthrange
from datetime import date

from sqlalchemy import bindparam, func, select, text

from gandrange_desk.models import Activity, Booking, Child, School, Unit

STARTUP_RUNS = 5
SQL_RUNS = 9
SITE_CHILDREN = 700

_startup_cache: dict[str, dict] = {}


def _launch_once(url: str) -> tuple[float, float, float, float]:
    """(wall ms to the window, ms the app reports, RSS MB the app reports, peak RSS MB of the child)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GANDRANGE_DESK_BENCH_STARTUP="1")
    env.pop("GANDRANGE_DESK_USER", None)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gandrange_desk", "--db", url], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = reported = rss = None
    for line in proc.stdout:
        if line.startswith("startup_ms=") and wall is None:
            wall = (time.perf_counter() - started) * 1000
            reported = float(line.split("=", 1)[1])
        elif line.startswith("rss_mb="):
            rss = float(line.split("=", 1)[1])
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    errors = proc.stderr.read()
    if wall is None:
        raise RuntimeError(f"the window never reported startup (exit {proc.returncode}): {errors.strip()[-500:]}")
    return wall, reported, rss if rss is not None else float("nan"), usage.ru_maxrss / 1024


def _startup(base) -> dict:
    if base.url not in _startup_cache:
        _launch_once(base.url)  # the first launch pays for cold disk caches; not counted
        runs = [_launch_once(base.url) for _ in range(STARTUP_RUNS)]
        _startup_cache[base.url] = {
            "wall_ms": statistics.median(r[0] for r in runs),
            "reported_ms": statistics.median(r[1] for r in runs),
            "rss_mb": statistics.median(r[2] for r in runs),
            "peak_rss_mb": max(r[3] for r in runs),
            "runs": len(runs),
        }
    return _startup_cache[base.url]


def launch_to_window(base) -> dict:
    s = _startup(base)
    return {"value": round(s["wall_ms"], 1), "unit": "ms", "target": "≤ 1200 ms",
            "app_reported_ms": round(s["reported_ms"], 1), "runs": s["runs"],
            "note": "wall clock from process launch to the main window shown (offscreen), 2,000 families"}


def peak_memory(base) -> dict:
    s = _startup(base)
    return {"value": round(s["peak_rss_mb"], 1), "unit": "MB", "target": "≤ 250 MB",
            "app_reported_mb": round(s["rss_mb"], 1), "runs": s["runs"],
            "note": "peak resident set of the app process at its window (ru_maxrss)"}


def site_month(base) -> dict:
    """The grid's reference selection: children, units and month of one site."""
    desk = base.desk()
    with desk.read() as s:
        school_id = s.execute(select(School.id).where(School.name == "École élémentaire")).scalar_one()
        child_ids = s.execute(select(Child.id).where(Child.school_id == school_id, Child.archived.is_(False))
                              .order_by(Child.last_name, Child.first_name, Child.id)
                              .limit(SITE_CHILDREN)).scalars().all()
        unit_ids = s.execute(select(Unit.id).join(Activity).where(Activity.code == "PERISCOLAIRE")
                             .order_by(Unit.position)).scalars().all()
        today = desk.today()
        months = {}
        for month in range(1, 13):
            year = today.year if month <= today.month else today.year - 1
            first = date(year, month, 1)
            if first >= date(today.year, today.month, 1):
                continue
            last = date(year, month, monthrange(year, month)[1])
            months[first] = s.execute(select(func.count(Booking.id)).where(
                Booking.unit_id.in_(unit_ids), Booking.day.between(first, last))).scalar_one()
        first = max(months, key=lambda m: (months[m], m))
        last = date(first.year, first.month, monthrange(first.year, first.month)[1])
    desk.engine.dispose()
    return {"school_id": school_id, "child_ids": child_ids, "unit_ids": unit_ids, "first": first, "last": last}


MONTH_SQL = text(
    "SELECT b.child_id, b.unit_id, b.day, b.state, b.late FROM booking b "
    "WHERE b.child_id IN :children AND b.unit_id IN :units AND b.day BETWEEN :first AND :last"
).bindparams(bindparam("children", expanding=True), bindparam("units", expanding=True))


def _median_ms(fn, runs: int = SQL_RUNS):
    fn()  # warm: the grid's connection and the page cache are already there
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def site_month_sql(base) -> dict:
    """Driver-level time (sqlite3 cursor, rows as tuples) of the grid's month query; the same
    query through SQLAlchemy Core (with its date conversion) is given beside it."""
    sel = site_month(base)
    desk = base.desk()
    params = {"children": sel["child_ids"], "units": sel["unit_ids"], "first": sel["first"], "last": sel["last"]}
    # Integer ids only: safe to inline, as the driver-level reference must not pay for binding.
    raw_sql = (f"SELECT child_id, unit_id, day, state, late FROM booking "
               f"WHERE child_id IN ({','.join(map(str, sel['child_ids']))}) "
               f"AND unit_id IN ({','.join(map(str, sel['unit_ids']))}) AND day BETWEEN ? AND ?")
    with desk.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        bare_ms, rows = _median_ms(lambda: cursor.execute(
            raw_sql, (sel["first"].isoformat(), sel["last"].isoformat())).fetchall())
        core_ms, _ = _median_ms(lambda: conn.execute(MONTH_SQL, params).fetchall())
        cursor.close()
    desk.engine.dispose()
    return {"value": round(bare_ms, 2), "unit": "ms", "target": "reference (grid ≤ 2× this)",
            "sqlalchemy_core_ms": round(core_ms, 2), "rows": len(rows), "children": len(sel["child_ids"]),
            "units": len(sel["unit_ids"]), "days": len({r[2] for r in rows}),
            "month": sel["first"].strftime("%Y-%m"), "runs": SQL_RUNS}


def demo_generation(base) -> dict:
    """`demo --families 2000` without the later features' hooks (invoices, payments, appointments),
    on a new SQLite file: one run, it is long."""
    import tempfile
    from pathlib import Path

    from gandrange_desk.db import make_engine
    from gandrange_desk.services.system import schema
    from gandrange_desk.services.context import SYSTEM, Desk
    from gandrange_desk.demo import run_demo

    with tempfile.TemporaryDirectory(dir=base.path.parent) as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'demo.sqlite3'}")
        schema.upgrade(engine)
        started = time.perf_counter()
        summary = run_demo(Desk(engine, SYSTEM, base.now), families=base.families, seed=base.seed, extras=False)
        seconds = time.perf_counter() - started
        engine.dispose()
    return {"value": round(seconds, 1), "unit": "s", "target": "well under 60 s",
            "families": summary.families, "bookings": summary.bookings, "requests": summary.requests}


FIGURES = {
    "launch_to_window": launch_to_window,
    "peak_memory": peak_memory,
    "site_month_sql": site_month_sql,
    "demo_generation": demo_generation,
}
