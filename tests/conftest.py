"""Shared fixtures. Every test that takes `desk` or `db_url` runs on SQLite and on PostgreSQL.

Select one backend with `--backend sqlite` or `--backend postgresql` (default: both).
"""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never read a real keyring or a developer's environment.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
for _var in ("GANDRANGE_DESK_DB", "GANDRANGE_DESK_DB_PASSWORD", "GANDRANGE_DESK_SMTP_PASSWORD",
             "GANDRANGE_DESK_USER"):
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


class FakeClock:
    """A settable Europe/Paris clock: tests decide what "now" is."""

    def __init__(self, start: datetime):
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def set(self, *args) -> None:
        self.value = datetime(*args, tzinfo=PARIS)


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
