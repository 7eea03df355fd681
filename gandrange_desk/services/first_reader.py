"""The first screen of a SQLite base read through the stdlib `sqlite3` driver, before SQLAlchemy.

The window is usable once its first tab (the Familles list) is filled and the status bar
counted (issue 14, start-up). SQLAlchemy Core's own import (~0.25-0.3 s of CPU) was still paid
before that; on a SQLite file those few reads now run here, on the text of the very Core
statements (`services/first_screen_sqlite.py`, generated from them and kept equal by
`tests/system/test_first_screen.py`: no second copy of a query), and SQLAlchemy is imported and
the engine made once the filled tab is painted (`Desk.opening`, `ui.main_window`).

`open_reader` says None whenever anything is unusual: not a plain SQLite file, a network path,
a missing file, a base whose revision is not `schema.HEAD` (it may need its upgrade and copy),
a driver error. The caller then opens the base through SQLAlchemy as before.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from gandrange_desk.services.first_screen_sqlite import STATEMENTS


def sqlite_file(raw: str | None, default: Path) -> str | None:
    """The SQLite file a configured database names (`configured_url`'s text, None: the default
    file), or None when it is not a plain local SQLite file that exists."""
    from gandrange_desk.paths import is_network_path

    if not raw:
        text = str(default)
    elif "://" not in raw:
        text = raw
    elif raw.startswith("sqlite:///") and "?" not in raw:
        text = raw[len("sqlite:///"):]
    else:
        return None  # PostgreSQL, a driver named, options: SQLAlchemy reads it
    if not text or text == ":memory:" or is_network_path(text):
        return None
    path = Path(text).expanduser().resolve()
    return str(path) if path.is_file() else None


def open_reader(database: str) -> "FirstScreenReader | None":
    """A reader on the file when its schema is the program's (`schema.HEAD`), else None."""
    from gandrange_desk.services.system.schema import HEAD, VERSION_SQL

    reader = FirstScreenReader(database)
    try:
        rows = reader._read(VERSION_SQL, ())
    except sqlite3.Error:  # no alembic_version (a new base), locked, not a database…
        reader.close()
        return None
    if [tuple(r) for r in rows] != [(HEAD,)]:
        reader.close()
        return None
    return reader


class FirstScreenReader:
    """One sqlite3 connection with the engine's pragmas (`db.make_engine`), used read-only: each
    read is its own deferred transaction, rolled back. Closed once the engine is made; a read
    asked after that (another thread that still held it) opens it for that read only."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        from gandrange_desk.db import WAIT_NOTICE_AFTER

        # As the engine's connections: the driver's short wait, transactions begun by us,
        # foreign keys on, WAL, synchronous NORMAL.
        conn = sqlite3.connect(self.database, timeout=WAIT_NOTICE_AFTER, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _read(self, sql: str, params: tuple) -> list:
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            conn.execute("BEGIN")  # deferred: a read never takes the write lock
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.execute("ROLLBACK")
                if self._closed:  # a read that raced the engine's opening: nothing left open
                    conn.close()
                    self._conn = None

    def _run(self, name: str, **given) -> list:
        sql, names, values = STATEMENTS[name]
        return self._read(sql, tuple(given.get(key, values[key]) for key in names))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # The first screen's reads: each the statement of the same name in first_screen_sqlite.
    def families_page(self, limit: int) -> list:
        return self._run("families_page", page_limit=limit)

    def families_count(self) -> int:
        return self._run("families_count")[0][0]

    def structure(self):
        rows = self._run("structure")
        return rows[0] if rows else None

    def families_active(self) -> int:
        return self._run("families_active")[0][0]

    def pending(self) -> int:
        return self._run("pending")[0][0]

    def outbox(self) -> list:
        return self._run("outbox")
