"""SQLite's WAL checkpoint, moved out of the clerk's commits.

In WAL mode SQLite copies the log back into the database file ("checkpoint") inside whichever
commit pushes the log past 1,000 pages: that commit then also writes those pages to the main
file and syncs it. Measured on the grid (bench/README, issue 14 rectangle pass): about one
rectangle in three paid 120 ms at 2,000 families and 400–480 ms at 8,000, on top of ~60 ms of
work. Here each engine on a SQLite file gets one daemon thread that runs a PASSIVE checkpoint on
its own short-lived connection shortly after a write was committed, so the log is copied back
while the clerk reads the screen and the next writer restarts it from the beginning; the
commits' own automatic checkpoint then rarely has anything to do (it stays as the safety net).

A PASSIVE checkpoint takes no lock that a reader or a writer waits for, and Python's sqlite3
releases the GIL while SQLite works, so the window is not held. The connection is opened and
closed for each checkpoint: nothing stays open on the file (backup and restore go through
SQLite's own backup API and its locks).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref

# A checkpoint waits this long after the last commit it was asked for: a burst of commits (a
# rectangle, a validation round) is copied back once, after it.
SETTLE_S = 0.4
# The engine's checkpointer, for tests and benches that wait for it.
CHECKPOINTERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class Checkpointer:
    """One per SQLite file engine: `poke()` after a commit; the thread does the rest."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.wal = database + "-wal"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._seen: tuple[int, int] | None = None
        self.runs = 0
        self.last: tuple[int, int, int] | None = None  # (busy, log frames, frames copied back)
        self.last_thread = ""
        self.idle = threading.Event()
        self.idle.set()

    def poke(self) -> None:
        with self._lock:
            self.idle.clear()
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """The engine is disposed: end the thread now (a later commit starts another)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(5)
        with self._lock:
            self._stop.clear()
            if self._thread is None:
                self._wake.clear()
                self.idle.set()

    def _loop(self) -> None:
        # The thread lives for one burst of commits: it ends once the log is copied back and no
        # commit came meanwhile (a command-line run or a test leaves nothing running behind).
        while True:
            # Let the burst finish: every commit of it re-arms the wait.
            while self._wake.is_set() and not self._stop.is_set():
                self._wake.clear()
                self._stop.wait(SETTLE_S)
            if self._stop.is_set():
                return
            try:
                self._checkpoint()
            except Exception:  # noqa: BLE001 - the commits' own checkpoint remains the safety net
                pass
            with self._lock:
                if not self._wake.is_set():
                    if self._thread is threading.current_thread():
                        self._thread = None
                    self.idle.set()
                    return

    def _checkpoint(self) -> None:
        try:
            stat = os.stat(self.wal)
        except OSError:
            return
        seen = (stat.st_size, stat.st_mtime_ns)
        if seen == self._seen:  # nothing written since the last copy back (a read committed)
            return
        connection = sqlite3.connect(self.database, timeout=0.05, isolation_level=None)
        try:
            self.last = tuple(connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
            self.runs += 1
            self.last_thread = threading.current_thread().name
        finally:
            connection.close()
        self._seen = seen


def attach(engine, database: str) -> Checkpointer:
    """Copy the log back after the engine's commits (see the module's docstring)."""
    from sqlalchemy import event

    checkpointer = Checkpointer(database)

    @event.listens_for(engine, "commit")
    def _committed(conn):
        # Reads (BEGIN DEFERRED, marked read_only) write nothing to the log.
        if not conn.get_execution_options().get("read_only"):
            checkpointer.poke()

    @event.listens_for(engine, "engine_disposed")
    def _disposed(_engine):
        checkpointer.stop()

    CHECKPOINTERS[engine] = checkpointer
    return checkpointer
