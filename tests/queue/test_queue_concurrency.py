"""Decisions happen once across workstations: two sessions, and several processes at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from gandrange_desk.errors import AlreadyDecided
from gandrange_desk.models import AuditEntry, OutboxMessage, Request, RequestStatus
from gandrange_desk.services.reservations import bookings
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services import queue
from gandrange_desk.services.context import Actor
from tests.builders import load_example_settings, make_family

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_queue(desk, clock):
    """Twelve families, ten bookings each on two activities: 120 requests, enough for a round to
    take the set-based path (queue_bulk) while one request alone goes through apply_decision."""
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    entries = []
    for n in range(12):
        make_family(desk, f"Famille{n}", ref=f"F-{n:04d}", children=[
            {"ref": f"E-{n:04d}", "first_name": "Enfant", "birth_date": date(2019, 1, 1)}])
        entries.append({"ref": f"P-{n}-a", "kind": "booking", "submitted_at": "2026-03-10T09:00:00+01:00",
                        "family_ref": f"F-{n:04d}", "child_ref": f"E-{n:04d}", "activity": "PERISCOLAIRE",
                        "unit": "Repas", "dates": ["2026-03-13", "2026-03-16", "2026-03-17", "2026-03-19",
                                                          "2026-03-20", "2026-03-23", "2026-03-24", "2026-03-26"]})
        entries.append({"ref": f"P-{n}-b", "kind": "booking", "submitted_at": "2026-03-10T09:00:00+01:00",
                        "family_ref": f"F-{n:04d}", "child_ref": f"E-{n:04d}", "activity": "MERCREDI",
                        "unit": "Matin", "dates": ["2026-03-18", "2026-03-25"]})
    intake.import_feed(desk, json.dumps({"requests": entries}))
    return desk


def _announced(desk) -> list[int]:
    with desk.read() as s:
        related = s.execute(select(OutboxMessage.related_requests)).scalars().all()
    return sorted(int(x) for line in related for x in line.split(",") if x)


def _waits_on_a_lock(engine, thread: threading.Thread, within: float = 60.0) -> bool:
    """True once a session of this database waits on a lock (PostgreSQL) while `thread` runs,
    polled until a deadline: a fixed sleep may end before the thread got there on a busy machine."""
    deadline = time.monotonic() + within
    # Autocommit: pg_stat_activity is a snapshot taken once per transaction.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while thread.is_alive() and time.monotonic() < deadline:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar_one():
                return True
            time.sleep(0.02)
    return False


def test_two_sessions_the_second_waits_then_is_told(busy_queue, backend):
    desk = busy_queue
    [rid] = [i.id for i in queue.pending_items(desk)][:1]
    clerk = desk.as_actor(Actor("sfoncin", "Sandrine Foncin", "agent"))
    other = desk.as_actor(Actor("mresp", "Marc Responsable", "responsable"))
    outcome = {}
    started = threading.Event()

    def second():
        started.set()
        try:
            outcome["result"] = queue.accept(other, [rid])
        except AlreadyDecided as exc:
            outcome["error"] = str(exc)

    with clerk.unit_of_work() as s:
        # Workstation 1 decides inside its transaction and has not committed yet.
        bookings.apply_decision(s, clerk, s.get(Request, rid), True)
        s.flush()
        thread = threading.Thread(target=second)
        if backend == "postgresql":
            thread.start()
            started.wait()
            assert _waits_on_a_lock(desk.engine, thread), "workstation 2 did not wait for the row lock"
            assert thread.is_alive()
    if backend != "postgresql":
        thread.start()  # SQLite: one writer at a time, the second begins after the commit
    thread.join(30)
    assert outcome == {"error": f"Demande n° {rid} déjà traitée par sfoncin à 12:00."}
    with desk.read() as s:
        r = s.get(Request, rid)
        assert (r.status, r.decided_by) == (RequestStatus.ACCEPTED, "sfoncin")
    assert _announced(desk) == []  # workstation 1 wrote no e-mail here; workstation 2 wrote none


def test_threads_racing_on_the_same_selection(busy_queue):
    desk = busy_queue
    all_ids = [i.id for i in queue.pending_items(desk)]
    results, errors = [], []
    barrier = threading.Barrier(3)

    def run(n):
        actor = desk.as_actor(Actor(f"poste{n}", f"Poste {n}", "agent"))
        barrier.wait()
        try:
            results.append(queue.accept(actor, all_ids))
        except AlreadyDecided as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    decided = sorted(i for r in results for i in r.decided)
    assert decided == sorted(all_ids)
    assert _announced(desk) == sorted(all_ids)


def test_several_processes_accept_all_at_once(busy_queue, db_url):
    desk = busy_queue
    all_ids = sorted(i.id for i in queue.pending_items(desk))
    assert len(all_ids) == 120
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "gandrange_desk", "--db", db_url, "--json", "queue", "accept", "--all"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    decided = [i for out, _ in outputs for i in json.loads(out)["decided"]]
    assert sorted(decided) == all_ids  # every request decided, none twice
    assert _announced(desk) == all_ids  # every e-mail line announced once
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "decide")).scalar() == 120
        assert s.execute(select(func.count()).select_from(Request).where(
            Request.status == RequestStatus.PENDING)).scalar() == 0
        # one message per family and activity: 12 families × 2 activities
        assert s.execute(select(func.count()).select_from(OutboxMessage)).scalar() == 24


def test_several_processes_on_explicit_overlapping_ids(busy_queue, db_url):
    desk = busy_queue
    all_ids = sorted(i.id for i in queue.pending_items(desk))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    halves = [all_ids[:40], all_ids[20:], all_ids]  # 40: one by one; 100 and 120: bulk
    procs = [subprocess.Popen([sys.executable, "-m", "gandrange_desk", "--db", db_url, "--json", "queue",
                               "accept", *map(str, ids)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for ids in halves]
    outputs = [p.communicate(timeout=120) for p in procs]
    decided = []
    for p, (out, err) in zip(procs, outputs):
        assert "Traceback" not in err
        if p.returncode == 0:
            decided += json.loads(out)["decided"]
        else:
            assert "déjà traitée par" in err
    assert sorted(decided) == all_ids
    assert _announced(desk) == all_ids
