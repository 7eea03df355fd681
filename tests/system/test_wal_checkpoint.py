"""The WAL is copied back into a SQLite file by a background thread after commits, not inside a
later commit of the clerk's (issue 14: one rectangle in three paid 120–480 ms for it)."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import text

from gandrange_desk import wal
from gandrange_desk.db import make_engine, sqlite_url

PAGE = 4096


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(sqlite_url(tmp_path / "base.sqlite3"), check=False)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)"))
    yield engine
    engine.dispose()


def _write(engine, pages: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (payload) VALUES (:p)"), [{"p": os.urandom(PAGE - 100)} for _ in range(pages)])


def test_a_commit_is_copied_back_by_another_thread(engine):
    checkpointer = wal.CHECKPOINTERS[engine]
    _write(engine, 50)
    assert checkpointer.idle.wait(10)
    assert checkpointer.runs >= 1
    busy, log, copied = checkpointer.last
    assert busy == 0 and log > 0 and copied == log
    assert checkpointer.last_thread == "sqlite-checkpoint" != threading.current_thread().name
    # Its burst copied back, the thread ends: nothing stays running behind a command.
    for thread in [t for t in threading.enumerate() if t.name == "sqlite-checkpoint"]:
        thread.join(5)
        assert not thread.is_alive()


def test_the_log_never_grows_to_the_commits_own_checkpoint(engine, tmp_path):
    # 12 commits of ~100 pages with the clerk's pauses between them: 1,200 pages written. Copied
    # back after each burst, the log restarts at its beginning, so it never reaches the 1,000
    # pages at which SQLite makes a commit copy it back itself.
    checkpointer = wal.CHECKPOINTERS[engine]
    for _ in range(12):
        _write(engine, 100)
        assert checkpointer.idle.wait(10)
    assert os.path.getsize(tmp_path / "base.sqlite3-wal") < 400 * PAGE
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1200


def test_disposing_the_engine_ends_the_thread_and_a_commit_starts_another(engine):
    checkpointer = wal.CHECKPOINTERS[engine]
    _write(engine, 5)
    first = checkpointer._thread
    engine.dispose()  # while the thread waits for the burst to end
    assert first is not None and not first.is_alive()
    assert checkpointer.runs == 0
    _write(engine, 5)
    assert checkpointer.idle.wait(10)
    assert checkpointer.runs == 1


def test_reads_alone_copy_nothing(engine):
    checkpointer = wal.CHECKPOINTERS[engine]
    _write(engine, 5)
    assert checkpointer.idle.wait(10)
    runs = checkpointer.runs
    for _ in range(5):
        with engine.begin() as conn:
            conn.execute(text("SELECT count(*) FROM t")).scalar()
    assert checkpointer.idle.wait(10)
    assert checkpointer.runs == runs
