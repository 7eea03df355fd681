"""Engines and sessions: SQLite by default, PostgreSQL when a URL says so.

The database is chosen by `--db URL`, then `GANDRANGE_DESK_DB`, then this workstation's
configuration (`config.py`, written by the first-run wizard), then a SQLite file in the user's
data folder. A PostgreSQL password comes from `services.system.secrets` (keyring, environment
or the window's session), never from a file. A SQLite file on a network drive is refused: its
locks and WAL do not work over SMB or NFS, and PostgreSQL is the way to share a base.
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from gandrange_desk.errors import DatabaseBusy, DatabaseUnavailable
from gandrange_desk.services.system import secrets

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine.url import URL
    from sqlalchemy.exc import OperationalError

# SQLAlchemy is imported by the functions that need it, not by this module: the window asks
# `is_configured` and draws itself before SQLAlchemy loads (issue 14, start-up).

ENV_DB = "GANDRANGE_DESK_DB"

# How long a writer waits for another one to finish before it gives up, and after how long it
# says that it is waiting. Readers never wait (WAL, BEGIN DEFERRED).
WRITE_WAIT = 30.0
WAIT_NOTICE_AFTER = 2.0
# Who is writing: set by the front-ends (login, program) and written beside the SQLite file
# while a write transaction is open, so that a writer kept waiting can say who holds the base.
current_holder = {"who": "", "what": ""}
# Told once when a writer starts waiting (the command line prints it; the window may show it).
on_wait: Callable[[str], None] | None = None

NETWORK_SQLITE = (
    "La base SQLite ne peut pas être placée sur un lecteur réseau ({path}) : SQLite ne fonctionne "
    "pas de façon fiable sur un partage réseau et la base pourrait être abîmée. Choisissez un "
    "dossier de ce poste ou, pour partager la base entre plusieurs postes, un serveur PostgreSQL."
)


def default_sqlite_path() -> Path:
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("gandrange-desk", "Commune de Gandrange"))
    return folder / "gandrange-desk.sqlite3"


def configured_url(cli_url: str | None = None) -> str | None:
    """The database named by --db, the environment or this workstation's file, else None."""
    from gandrange_desk import config

    return cli_url or os.environ.get(ENV_DB) or config.database_url()


def is_configured(cli_url: str | None = None) -> bool:
    """False on a first run: nothing names a base and the default SQLite file does not exist."""
    return bool(configured_url(cli_url)) or default_sqlite_path().exists()


def sqlite_url(path: str | Path) -> URL:
    """The URL of a SQLite file, refused on a network drive."""
    from sqlalchemy.engine import make_url

    from gandrange_desk.paths import is_network_path

    text = str(path)
    if is_network_path(text):
        raise DatabaseUnavailable(NETWORK_SQLITE.format(path=text))
    return make_url(f"sqlite:///{Path(text).expanduser().resolve()}")


def resolve_url(cli_url: str | None = None) -> URL:
    from sqlalchemy.engine import make_url

    raw = configured_url(cli_url)
    if not raw:
        path = default_sqlite_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite_url(path)
    if "://" not in raw:
        # A bare path means a SQLite file: convenient on the command line.
        return sqlite_url(raw)
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        from gandrange_desk.paths import is_network_path

        if is_network_path(url.database):
            raise DatabaseUnavailable(NETWORK_SQLITE.format(path=url.database))
    return url


def postgres_password(url: URL) -> str | None:
    """The password to connect with when the URL carries none (keyring, environment, session)."""
    if url.password:
        return None
    return secrets.get_postgres_password(url.username or "", url.host or "localhost")


def describe(url: URL) -> str:
    """What the status bar and messages call the database (never the password)."""
    if url.get_backend_name() == "sqlite":
        return describe_sqlite(url.database)
    return f"PostgreSQL — {url.username + '@' if url.username else ''}{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def describe_sqlite(database: str | None) -> str:
    """`describe` of a SQLite file (also said before SQLAlchemy loads: `Desk.opening`)."""
    return f"SQLite — {database or 'mémoire'}"


def make_engine(url: URL | str, *, check: bool = True, **kw) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    url = make_url(url) if isinstance(url, str) else url
    backend = url.get_backend_name()
    if backend == "sqlite":
        # The driver's own wait is short: `_sqlite_begin` waits in steps, says so, and names the holder.
        engine = create_engine(url, connect_args={"timeout": WAIT_NOTICE_AFTER}, **kw)
        holder_file = occupant_path(url.database) if url.database and url.database != ":memory:" else None

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
                return
            _begin_immediate(conn, holder_file)
            conn.info["gd_holder"] = holder_file

        def _released(conn):
            path = conn.info.pop("gd_holder", None)
            if path is not None:
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    pass

        event.listen(engine, "commit", _released)
        event.listen(engine, "rollback", _released)
        if holder_file is not None:
            from gandrange_desk import wal

            wal.attach(engine, url.database)

    elif backend == "postgresql":
        password = postgres_password(url)
        if password:
            url = url.set(password=password)
        engine = create_engine(url, **kw)
        _ping_when_idle(engine)
    else:
        raise DatabaseUnavailable(f"Type de base de données non pris en charge : {backend}.")
    if check:
        check_connection(engine)
    return engine


# A pooled PostgreSQL connection idle longer than this is pinged before it is handed out; one
# used more recently is handed out as it is. A page of the portal checks out up to four sessions
# within milliseconds: pinging each (pool_pre_ping) cost a round trip apiece for nothing, while the
# connections that do die (server restarted, idle timeout of a firewall or pooler) are idle ones.
PING_IDLE_AFTER = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, only for connections idle more than PING_IDLE_AFTER seconds. A dead one
    raises DisconnectionError: the pool drops it and tries another (SQLAlchemy's pessimistic
    disconnect handling). A connection that dies while in use fails its statement once and the
    pool then discards every connection opened before it (SQLAlchemy's invalidation)."""
    from sqlalchemy import event, exc as sa_exc

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn, record):
        record.info["gd_used"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _back(_dbapi_conn, record):
        if record is not None:
            record.info["gd_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        if time.monotonic() - record.info.get("gd_used", 0.0) <= PING_IDLE_AFTER:
            return
        try:
            if getattr(dbapi_conn, "closed", False):
                raise ConnectionError("connexion fermée")
            engine.dialect.do_ping(dbapi_conn)  # the very ping of pool_pre_ping
        except Exception as exc:  # noqa: BLE001 - any failure: hand out a new connection instead
            raise sa_exc.DisconnectionError(str(exc)) from exc


def occupant_path(database: str) -> Path:
    return Path(database).with_name(Path(database).name + "-occupant")


def _begin_immediate(conn, holder_file: Path | None) -> None:
    from sqlalchemy.exc import OperationalError

    started = time.monotonic()
    told = False
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            break
        except OperationalError as exc:
            if "locked" not in str(exc.orig).lower() and "busy" not in str(exc.orig).lower():
                raise
            who = holder_text(holder_file)
            if time.monotonic() - started >= WRITE_WAIT:
                raise DatabaseBusy(busy_message(who)) from None
            if not told and on_wait is not None:
                told = True
                on_wait(f"La base est occupée{' par ' + who if who else ''} : attente de la fin de son "
                        "enregistrement…")
    if holder_file is not None:
        note = {"who": current_holder["who"], "what": current_holder["what"], "host": socket.gethostname(),
                "pid": os.getpid(), "since": datetime.now().strftime("%H:%M:%S")}
        try:
            holder_file.write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
        except OSError:
            pass  # only a courtesy for the next writer


def holder_text(holder_file: Path | None) -> str:
    """Who holds the write lock, as a French phrase, when the holder left its note."""
    if holder_file is None:
        return ""
    try:
        note = json.loads(holder_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    who = note.get("who") or "un autre programme"
    where = f" sur {note['host']}" if note.get("host") else ""
    what = f" ({note['what']})" if note.get("what") else ""
    since = f" depuis {note['since']}" if note.get("since") else ""
    return f"{who}{where}{what}{since}"


def busy_message(who: str = "") -> str:
    return (f"La base de données est occupée{' par ' + who if who else ''} : une autre opération "
            "enregistre en ce moment. Réessayez dans un instant ; rien n'a été modifié.")


def check_connection(engine: Engine) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    try:
        # Read-only: opening the program never takes the write lock (nor waits for it).
        with engine.connect().execution_options(read_only=True) as conn:
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
