"""Creating and migrating the schema with Alembic (`gandrange-desk db upgrade`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# SQLAlchemy is imported by the functions: `HEAD` and `VERSION_SQL` are read before it loads
# (services.first_reader checks a SQLite base with the bare driver, issue 14 start-up).

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

# The newest revision in migrations/versions. Checking a database against it needs no Alembic
# import, which saves a quarter of a second on every start; tests/test_schema.py keeps it true.
HEAD = "0016"
# The base's revision: the Core check below and the bare driver's (services.first_reader) run it.
VERSION_SQL = "SELECT version_num FROM alembic_version"


def alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import inspect, text

    # Read-only: the start-up check never takes the write lock, so it never waits behind a writer.
    with engine.connect().execution_options(read_only=True) as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text(VERSION_SQL)).scalar()


def needs_upgrade(engine: Engine) -> bool:
    return current_revision(engine) != HEAD


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def backup_sqlite_before_upgrade(engine: Engine) -> Path | None:
    """Copy the SQLite file aside before migrating it, so a failed upgrade loses nothing."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return None
    path = Path(engine.url.database)
    if not path.exists() or current_revision(engine) is None:
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.avant-migration-{stamp}{path.suffix}")
    # The SQLite backup API copies a consistent state even with WAL pages not yet checkpointed.
    raw = engine.raw_connection()
    try:
        import sqlite3

        dest = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(dest)
        finally:
            dest.close()
    finally:
        raw.close()
    return target


def upgrade_on_start(engine: Engine) -> Path | None:
    if not needs_upgrade(engine):
        return None
    copy = backup_sqlite_before_upgrade(engine)
    upgrade(engine)
    return copy


