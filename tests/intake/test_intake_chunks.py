"""Issue 11: a long import commits in bounded chunks, so another workstation can write between
them (on SQLite it would otherwise wait for the whole import); a bad feed is still refused whole,
and importing the same feed again is harmless."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from sqlalchemy import func, select

from gandrange_desk.db import make_engine
from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Closure, FeedEntry, Family, Request
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services.progress import Progress
from tests.intake.test_intake import counts, entry, feed, office  # noqa: F401 (fixture)

DAYS = ["2026-03-13", "2026-03-16", "2026-03-17", "2026-03-19", "2026-03-20", "2026-03-23", "2026-03-24"]


def bookings(*extra):
    return feed(*[entry(f"P-{i + 1}", dates=[day]) for i, day in enumerate(DAYS)], *extra)


def other_connection_count(url: str, model) -> int:
    engine = make_engine(url, check=False)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model)).scalar()
    finally:
        engine.dispose()


def write_now(url: str) -> None:
    """A second writer: on SQLite it must get the write lock at once (no waiting allowed)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # "database is locked" if the import held the base
            conn.execute("UPDATE family SET phone = '03 87 00 00 00' WHERE ref = 'F-0042'")
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    engine = make_engine(url, check=False)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '1ms'")
            conn.exec_driver_sql("UPDATE family SET phone = '03 87 00 00 00' WHERE ref = 'F-0042'")
    finally:
        engine.dispose()


def test_a_long_import_lets_another_writer_in_between_chunks(office, db_url):
    seen = []

    def between(done, total, label):
        seen.append((done, total, other_connection_count(db_url, FeedEntry), label))
        if done == 1:
            write_now(db_url)

    result = intake.import_feed(office, bookings(), chunk=3, progress=Progress(report=between))
    # After each chunk, another connection already reads what it wrote.
    assert seen == [(1, 3, 3, "3 entrées sur 7"), (2, 3, 6, "6 entrées sur 7"), (3, 3, 7, "7 entrées sur 7")]
    assert (result.entries, result.requests) == (7, 7)
    assert result.summary() == "Flux importé : 7 entrées importées, 7 demandes de cases."
    with office.read() as s:
        assert s.execute(select(Family.phone).where(Family.ref == "F-0042")).scalar_one() == "03 87 00 00 00"
        assert s.execute(select(func.count()).select_from(Request)).scalar() == 7
    # The same feed again: every ref is taken, nothing changes.
    before = counts(office)
    again = intake.import_feed(office, bookings(), chunk=3)
    assert (again.entries, len(again.skipped)) == (0, 7)
    assert counts(office) == before


def test_a_bad_entry_in_the_last_chunk_refuses_the_whole_feed(office):
    before = counts(office)
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, bookings(entry("P-8", dates=["2026-03-32"])), chunk=3)
    assert info.value.problems == ["Entrée P-8 : date invalide dans « dates[0] » : « 2026-03-32 » "
                                   "(attendu AAAA-MM-JJ)."]
    assert counts(office) == before


def test_a_chunk_refused_because_the_base_moved_keeps_the_others_and_a_rerun_takes_the_rest(office, db_url):
    def between(done, total, label):
        if done == 1:  # another workstation closes the 19th meanwhile (P-4, in the second chunk)
            with office.unit_of_work() as s:
                s.add(Closure(first_day=date(2026, 3, 19), last_day=date(2026, 3, 19), label="Grève"))

    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, bookings(), chunk=3, progress=Progress(report=between))
    assert str(info.value).startswith("Flux importé en partie : 3 entrées enregistrées, la suite refusée")
    assert info.value.problems == ["Entrée P-4 : le 19/03/2026 est fermé pour PERISCOLAIRE (Fermeture : Grève)."]
    assert other_connection_count(db_url, FeedEntry) == 3
    with office.unit_of_work() as s:
        s.delete(s.execute(select(Closure).where(Closure.label == "Grève")).scalar_one())
    again = intake.import_feed(office, bookings(), chunk=3)
    assert (again.entries, sorted(again.skipped)) == (4, ["P-1", "P-2", "P-3"])
    assert other_connection_count(db_url, FeedEntry) == 7
