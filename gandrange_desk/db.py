"""Engines and sessions: SQLite by default, PostgreSQL when a URL says so.

The database is chosen by `--db URL`, then `GANDRANGE_DESK_DB`, then a SQLite file in the
user's data folder. A PostgreSQL password comes from the keyring (service `gandrange-desk`) or
`GANDRANGE_DESK_DB_PASSWORD`, never from a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import OperationalError

from gandrange_desk.errors import DatabaseUnavailable
from gandrange_desk.services.system import secrets

ENV_DB = "GANDRANGE_DESK_DB"


def default_sqlite_path() -> Path:
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("gandrange-desk", "Commune de Gandrange"))
    return folder / "gandrange-desk.sqlite3"


def resolve_url(cli_url: str | None = None) -> URL:
    raw = cli_url or os.environ.get(ENV_DB)
    if not raw:
        path = default_sqlite_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return make_url(f"sqlite:///{path}")
    if "://" not in raw:
        # A bare path means a SQLite file: convenient on the command line.
        return make_url(f"sqlite:///{Path(raw).expanduser().resolve()}")
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def postgres_password(url: URL) -> str | None:
    """The stored password of a PostgreSQL URL that carries none (environment, keyring, or typed in
    this session); None when nothing is stored: the server then says whether it needs one."""
    if url.password:
        return None
    return secrets.get_postgres_password(url.username, url.host)


def describe(url: URL) -> str:
    """What the status bar and messages call the database (never the password)."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite — {url.database or 'mémoire'}"
    return f"PostgreSQL — {url.username + '@' if url.username else ''}{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def make_engine(url: URL | str, *, check: bool = True, **kw) -> Engine:
    url = make_url(url) if isinstance(url, str) else url
    backend = url.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy, not pysqlite, decide when transactions start, so BEGIN IMMEDIATE works.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if url.database and url.database != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Units of work take the write lock up front: two workstations on one file then queue
            # instead of failing with "database is locked" halfway through. Reads do not, so a
            # search never waits behind a long invoice run (WAL lets them read meanwhile).
            if conn.get_execution_options().get("read_only"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

    elif backend == "postgresql":
        password = postgres_password(url)
        if password:
            url = url.set(password=password)
        engine = create_engine(url, pool_pre_ping=True, **kw)
    else:
        raise DatabaseUnavailable(f"Type de base de données non pris en charge : {backend}.")
    if check:
        check_connection(engine)
    return engine


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"Impossible d'ouvrir la base de données {describe(engine.url)} : {_reason(exc)}."
        ) from exc


def _reason(exc: OperationalError) -> str:
    text_ = str(exc.orig or exc).strip().splitlines()[0] if (exc.orig or exc) else ""
    lowered = text_.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return "mot de passe refusé ou absent (trousseau ou GANDRANGE_DESK_DB_PASSWORD)"
    if "connection refused" in lowered or "could not connect" in lowered or "connection failed" in lowered:
        return "le serveur ne répond pas (adresse, port, ou serveur arrêté)"
    if "does not exist" in lowered:
        return "la base n'existe pas sur le serveur"
    if "unable to open database file" in lowered:
        return "le fichier ne peut pas être ouvert (dossier absent ou droits insuffisants)"
    return text_ or "erreur inconnue"
