"""Shared fixtures. Every test that takes `desk` or `db_url` runs on SQLite and on PostgreSQL.

Select one backend with `--backend sqlite` or `--backend postgresql` (default: both).
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never read a real keyring or a developer's environment.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
for _var in ("GANDRANGE_DESK_DB", "GANDRANGE_DESK_DB_PASSWORD", "GANDRANGE_DESK_SMTP_PASSWORD",
             "GANDRANGE_DESK_USER", "GANDRANGE_DESK_PASSWORD", "GANDRANGE_DESK_NEW_PASSWORD"):
    os.environ.pop(_var, None)

import pytest
from sqlalchemy import text

from gandrange_desk.clock import PARIS
from gandrange_desk.db import make_engine
from gandrange_desk.services.system import schema
from gandrange_desk.services.context import SYSTEM, Actor, Desk

DATA = Path(__file__).parent / "data"
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser):
    parser.addoption("--backend", action="append", choices=BACKENDS,
                     help="database backend(s) to run the database tests on (default: both)")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend") or list(BACKENDS)
        metafunc.parametrize("backend", chosen, scope="session")


def _qt_threads() -> dict[str, str]:
    """OS threads started by our QThreads, by id (Linux: Qt names a thread after the QThread's
    objectName, else "QThread"; Qt's own pool threads are "Thread (pooled)" and not ours)."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return {}
    found = {}
    for task in tasks.iterdir():
        try:
            name = (task / "comm").read_text().strip()
        except OSError:  # the thread ended meanwhile
            continue
        if name == "QThread" or name.startswith("gandrange"):
            found[task.name] = name
    return found


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """A test stops every thread it started: a mail sender, an SMTP server or a worker left
    running moves process-wide state under later tests and, once Qt tears its QThread down
    while it runs, aborts the whole run. Runs after pytest-qt closed the test's widgets."""
    python_before = set(threading.enumerate())
    qt_before = set(_qt_threads())
    yield

    def left() -> list[str]:
        python = [t.name for t in threading.enumerate()
                  if t not in python_before and t.is_alive()
                  # Qt threads that ran Python code: checked by their OS name below.
                  and not isinstance(t, threading._DummyThread)]
        return python + [name for tid, name in _qt_threads().items() if tid not in qt_before]

    # A stopped thread may still be exiting at the OS level for a moment: wait for that, never
    # for a thread that keeps running.
    deadline = time.monotonic() + 10
    remaining = left()
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = left()
    if remaining:
        pytest.fail(f"threads still running after the test: {', '.join(sorted(remaining))}", pytrace=False)


@pytest.fixture(autouse=True)
def no_session_password_left():
    """SMTP passwords typed "for this session" live in a process-wide dict: one test's password
    must not make a later test's delivery succeed (or a "password missing" test pass)."""
    yield
    from gandrange_desk.services.system import secrets

    secrets.forget_session()


class FakeClock:
    """A settable Europe/Paris clock: tests decide what "now" is."""

    def __init__(self, start: datetime):
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def set(self, *args) -> None:
        self.value = datetime(*args, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def ui_state(tmp_path, monkeypatch):
    """Window sizes, splitters and columns go to a file of the test's own, never the user's."""
    monkeypatch.setenv("GANDRANGE_DESK_UI_STATE", str(tmp_path / "ui-state.ini"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=PARIS))


@pytest.fixture(scope="session")
def pg_server():
    from tests.pgserver import PgServer

    server = PgServer().start()
    # A migrated template: each test gets its own database copied from it in milliseconds.
    engine = make_engine(server.url())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE DATABASE gd_template"))
    engine.dispose()
    template = make_engine(server.url("gd_template"))
    schema.upgrade(template)
    template.dispose()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the main file
    return path


_counter = itertools.count(1)


@pytest.fixture
def db_url(backend, request, tmp_path) -> str:
    """A fresh, migrated, empty database of the given backend."""
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "desk.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"gd_test_{os.getpid()}_{next(_counter)}"
    admin = make_engine(server.url())
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE gd_template"))
    admin.dispose()
    yield server.url(name)
    admin = make_engine(server.url())
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def desk(engine, clock) -> Desk:
    """A service context acting as the system administrator, on a fixed clock."""
    return Desk(engine, SYSTEM, clock)


AGENT = Actor("sfoncin", "Sandrine Foncin", "agent")
RESPONSABLE = Actor("mresp", "Marc Responsable", "responsable")


@pytest.fixture
def agent_desk(desk) -> Desk:
    return desk.as_actor(AGENT)


@pytest.fixture
def responsable_desk(desk) -> Desk:
    return desk.as_actor(RESPONSABLE)


CLI_LOGIN = "essai"
CLI_PASSWORD = "essai-cli-1234"


@pytest.fixture
def cli_user(request, monkeypatch):
    """The desk user (an administrator) the test's commands act as: no command runs without an
    authenticated desk user, as on a real workstation (GANDRANGE_DESK_USER + _PASSWORD).
    Created in the test's database when it has one (tests without a database are left alone)."""
    from gandrange_desk.services.system.users import create_user

    monkeypatch.setenv("GANDRANGE_DESK_USER", CLI_LOGIN)
    monkeypatch.setenv("GANDRANGE_DESK_PASSWORD", CLI_PASSWORD)
    if "db_url" not in request.fixturenames:
        return CLI_LOGIN
    engine = make_engine(request.getfixturevalue("db_url"))
    try:
        create_user(Desk(engine, SYSTEM), CLI_LOGIN, "Poste d'essai", "admin", CLI_PASSWORD)
        with engine.begin() as conn:  # scaffolding, not a user's action: the audit trail stays empty
            conn.execute(text("DELETE FROM audit_entry"))
    finally:
        engine.dispose()
    return CLI_LOGIN


@pytest.fixture
def settings_path() -> Path:
    """The worked example of DESIGN §7 (illustrative prices)."""
    return DATA / "settings.toml"


@pytest.fixture
def feed_path() -> Path:
    return DATA / "feed.json"


@pytest.fixture(scope="session")
def cups_printer():
    """(server, queue name): a private CUPS with a PDF printer; skipped only where CUPS cannot run."""
    from tests.cups_server import CupsServer, unavailable

    why = unavailable()
    if why:
        pytest.skip(f"Pas d'impression réelle : {why}.")
    server = CupsServer().start()
    try:
        # Debian's cups-pdf takes PostScript; converting with cairo keeps the fonts' text (with
        # poppler's pdftops or Ghostscript the CID fonts come back without it: nothing to read).
        queue = server.add_pdf_printer(f"GandrangePDF{os.getpid()}", "pdftops-renderer-default=pdftocairo")
        yield server, queue
    finally:
        server.stop()


@pytest.fixture
def cups(cups_printer, monkeypatch):
    """The test's process talks to the private CUPS (lp, lpstat) through CUPS_SERVER."""
    server, queue = cups_printer
    monkeypatch.setenv("CUPS_SERVER", str(server.socket))
    return server, queue
