"""The bench bases on PostgreSQL: a throwaway server (the tests' own, tests/pgserver.py), and a
copy of a cached SQLite bench base loaded into it with COPY, so both backends hold the same rows.

`PgBench.available()` says why not when no PostgreSQL binaries are installed; the figures are then
left out, never guessed. The server lives as long as the bench run (stopped at exit).
"""

from __future__ import annotations

import atexit
import sys
import time

from base import ROOT, BenchBase

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def unavailable() -> str | None:
    """Why PostgreSQL cannot run here (None: it can)."""
    from tests.pgserver import find_bin

    if not (find_bin("initdb") and find_bin("pg_ctl")):
        return "binaires PostgreSQL (initdb, pg_ctl) introuvables"
    return None


class _Server:
    server = None

    @classmethod
    def get(cls):
        if cls.server is None:
            from tests.pgserver import PgServer

            cls.server = PgServer().start()
            atexit.register(cls.server.stop)
        return cls.server


class PgBase:
    """A SQLite `BenchBase`'s rows on the throwaway server: same `desk()`, `now()`, `families`."""

    def __init__(self, sqlite_base: BenchBase, quiet: bool = False):
        from sqlalchemy import text

        from gandrange_desk.db import make_engine

        self.sqlite = sqlite_base
        self.families = sqlite_base.families
        self.quiet = quiet
        server = _Server.get()
        name = f"bench_{self.families}"
        admin = make_engine(server.url())
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        self.url = server.url(name)
        if not exists:
            try:
                self._load()
            except BaseException:  # never a half-copied base for the next figure
                admin = make_engine(server.url())
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                admin.dispose()
                raise

    def now(self):
        return self.sqlite.now()

    def desk(self, actor=None):
        from gandrange_desk.db import make_engine
        from gandrange_desk.services.context import SYSTEM, Desk

        return Desk(make_engine(self.url), actor or SYSTEM, self.now)

    def _load(self) -> None:
        """The schema by its migrations, then every table's rows by COPY, parents first."""
        from sqlalchemy import Integer, select, text

        from gandrange_desk.db import make_engine
        from gandrange_desk.models.base import Base
        from gandrange_desk.services.system import schema

        started = time.perf_counter()
        if not self.quiet:
            print(f"Copie de la base de {self.families} familles dans PostgreSQL…", file=sys.stderr, flush=True)
        target = make_engine(self.url)
        schema.upgrade(target)
        source = make_engine(self.sqlite.url)
        rows = 0
        with source.connect() as src, target.connect() as dst:
            raw = dst.connection.driver_connection
            for table in Base.metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                columns = [c.name for c in table.columns]
                quoted = ", ".join(f'"{c}"' for c in columns)  # "user" is a reserved word
                result = src.execute(select(table))
                with raw.cursor() as cursor:
                    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                        for row in result:
                            copy.write_row(tuple(row))
                            rows += 1
                # The ids came with the rows: the sequences go on from the largest.
                for column in table.primary_key.columns:
                    if isinstance(column.type, Integer):
                        dst.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
                            f"COALESCE((SELECT max({column.name}) FROM \"{table.name}\"), 0) + 1, false)")
            dst.commit()
            dst.execute(text("ANALYZE"))
            dst.commit()
        source.dispose()
        target.dispose()
        if not self.quiet:
            print(f"{rows} lignes copiées en {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
