"""Start-up: window or command decided before anything heavy loads; streams that never fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gandrange_desk import __version__
from gandrange_desk.__main__ import wants_window
from tests.conftest import CLI_LOGIN, CLI_PASSWORD

ROOT = Path(__file__).resolve().parents[2]

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

# Runs the program's own entry point in a fresh interpreter, then reports what got imported.
PROBE = """
import json, sys
from gandrange_desk.__main__ import main
status = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] if not m.startswith('gandrange_desk') else '.'.join(m.split('.')[:2])
                for m in sys.modules
                if m.startswith(('PySide6', 'shiboken6', 'sqlalchemy', 'gandrange_desk.ui', 'gandrange_desk.models'))})
sys.__stderr__.write('\\nMODULES ' + json.dumps(heavy) + ' STATUS ' + str(status) + '\\n')
"""


def clean_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANDRANGE_DESK_")}
    env.update(GANDRANGE_DESK_LOG_DIR=str(tmp_path / "logs"), GANDRANGE_DESK_CONFIG=str(tmp_path / "poste.toml"),
               PYTHONPATH=str(ROOT), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.pop("DISPLAY", None)
    env.update(extra)
    return env


def probe(tmp_path, *args, **env) -> tuple[list[str], int, str, str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, cwd=tmp_path,
                          env=clean_env(tmp_path, **env), timeout=300)
    err = done.stderr.decode("utf-8")
    marker = err.rsplit("MODULES ", 1)[1]
    modules, status = marker.split(" STATUS ")
    return json.loads(modules), int(status), done.stdout.decode("utf-8"), err


@pytest.mark.parametrize("argv, window", [
    ([], True),
    (["--db", "base.sqlite3"], True),
    (["--db=base.sqlite3", "--user", "nbecker"], True),
    (["--help"], False),
    (["--version"], False),
    (["db", "upgrade"], False),
    (["--db", "base.sqlite3", "queue", "list"], False),
    (["--db"], False),  # the parser says what is missing
])
def test_window_only_without_a_command(argv, window):
    assert wants_window(argv) is window


def test_help_imports_neither_qt_nor_the_models(tmp_path):
    modules, status, out, _ = probe(tmp_path, "--help")
    assert status == 0
    assert "utilisation : gandrange-desk" in out and "holidays" in out and "backup" in out
    assert modules == []


def test_a_command_never_imports_qt(tmp_path):
    modules, status, out, err = probe(tmp_path, "--db", str(tmp_path / "base.sqlite3"), "db", "upgrade")
    assert status == 0, err
    assert "Schéma créé" in out
    assert not [m for m in modules if m.startswith(("PySide6", "shiboken6", "gandrange_desk.ui"))]


def test_version(tmp_path):
    _, status, out, _ = probe(tmp_path, "--version")
    assert status == 0
    assert out.strip() == f"gandrange-desk {__version__}"


def test_version_matches_the_package_metadata():
    from importlib.metadata import version

    assert version("gandrange-desk") == __version__


def test_no_command_in_the_command_line_module_prints_help(capsys):
    from gandrange_desk.cli import main

    assert main([]) == 2
    assert "utilisation" in capsys.readouterr().out


def test_cli_and_parser_modules_do_not_import_the_window():
    for module in ("cli.py", "commands/outbox.py"):
        text = (ROOT / "gandrange_desk" / module).read_text(encoding="utf-8")
        assert "gandrange_desk.ui" not in text


def test_outbox_choices_are_the_stored_codes():
    from gandrange_desk.commands.outbox import STATUS_CHOICES
    from gandrange_desk.models import OutboxStatus

    assert STATUS_CHOICES == [str(s) for s in OutboxStatus]


def test_redirected_output_is_utf8_whatever_the_code_page(tmp_path):
    """Windows gives a redirected stdout cp1252; the narrow no-break space must still go out."""
    db = tmp_path / "base.sqlite3"
    env = clean_env(tmp_path, PYTHONIOENCODING="cp1252:strict")
    run = lambda *a: subprocess.run([sys.executable, "-m", "gandrange_desk", "--db", str(db), *a],
                                    capture_output=True, env=env, cwd=tmp_path, timeout=300)
    assert run("db", "upgrade").returncode == 0
    env.update(GANDRANGE_DESK_NEW_PASSWORD="admin-1234", GANDRANGE_DESK_USER="chef",
               GANDRANGE_DESK_PASSWORD="admin-1234")
    assert run("users", "add", "chef", "--name", "Chef", "--role", "admin").returncode == 0
    assert run("settings", "import", str(ROOT / "tests" / "data" / "settings.toml")).returncode == 0
    done = run("users", "list")
    assert done.returncode == 0, done.stderr
    done = run("invoices", "prepare", "--month", "2026-11")
    assert done.returncode == 0, done.stderr.decode("utf-8")
    text = done.stdout.decode("utf-8")  # strict: "é" in cp1252 would fail here
    assert "0 facture préparée, total 0,00\xa0€" in text
    # A label out of cp1252's reach (the clerk types what she likes): printed, not a crash.
    label = "Noël\u202f2028 ☃"
    assert run("holidays", "add", "2028-12-23", "2029-01-07", "--label", label).returncode == 0
    done = run("holidays", "list")
    assert done.returncode == 0, done.stderr.decode("utf-8")
    assert label in done.stdout.decode("utf-8")
    done = run("--json", "holidays", "list")
    assert json.loads(done.stdout.decode("utf-8"))[0]["label"] == label


def test_windowed_program_without_stdout_writes_to_the_log(tmp_path):
    """GandrangeDesk.exe has no console: sys.stdout is None. Output goes to the log, no crash."""
    code = ("import sys; sys.stdout = None; sys.stderr = None\n"
            "from gandrange_desk.__main__ import main\n"
            f"raise SystemExit(main(['--db', {str(tmp_path / 'b.sqlite3')!r}, '--json', 'db', 'upgrade']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=clean_env(tmp_path),
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "logs" / "gandrange-desk.log").read_text(encoding="utf-8")
    assert "start command" in log
    assert '"after": "' in log  # the --json document, line by line
    assert "exit 0" in log


def test_unexpected_error_is_one_french_line_and_a_logged_traceback(tmp_path, monkeypatch, capsys):
    from gandrange_desk import console

    monkeypatch.setenv("GANDRANGE_DESK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(console, "_log_file", None)

    def boom() -> int:
        raise RuntimeError("disque plein")

    console._open_log()
    status = console.guarded(boom)
    assert status == console.EXIT_CRASHED
    err = capsys.readouterr().err
    assert "Erreur inattendue (RuntimeError) : l'opération n'a pas abouti." in err
    assert "disque plein" not in err  # an exception's text may carry personal data: log only
    assert "Traceback" not in err
    for handler in list(console.log.handlers):
        handler.flush()
    assert "Traceback" in (tmp_path / "logs" / "gandrange-desk.log").read_text(encoding="utf-8")
    for handler in list(console.log.handlers):
        console.log.removeHandler(handler)
        handler.close()


def test_passwords_never_reach_the_log():
    from gandrange_desk.console import _redacted

    assert _redacted(["x", "--db", "postgresql://desk:secret@db.mairie/base"]) == \
        ["x", "--db", "postgresql://desk@db.mairie/base"]


# The window's own start-up in a fresh interpreter (offscreen): what was imported when each
# top-level window was first painted, the login typed in, the main window closed once its first
# tab is filled. A message box records its sentence instead of waiting for a click.
WINDOW_PROBE = r"""
import json, os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from gandrange_desk.ui.common import first_paint

painted, told = [], []
QMessageBox.critical = staticmethod(lambda parent, title, text, *a, **k: told.append(text))
run_after_paint = first_paint.PaintsFirst._run_after_first_paint

def run(self):
    window = self
    seen = {"window": type(window).__name__, "sqlalchemy": "sqlalchemy" in sys.modules,
            "orm": "sqlalchemy.orm" in sys.modules, "models": "gandrange_desk.models" in sys.modules}
    painted.append(seen)
    run_after_paint(self)  # what waited on the paint: open the base, fill the first tab
    if seen["window"] == "LoginDialog" and window.desk is not None:
        window.password.setText(os.environ["PROBE_PASSWORD"])
        QTimer.singleShot(0, window.try_login)
    elif seen["window"] == "MainWindow":
        seen["first_tab_filled"] = bool(window.built_tabs())
        QTimer.singleShot(0, window.close)

first_paint.PaintsFirst._run_after_first_paint = run
from gandrange_desk.ui.app import run_window
status = run_window(db=sys.argv[1], user=(sys.argv[2] if len(sys.argv) > 2 else None))
sys.__stderr__.write("\nPAINTED " + json.dumps([painted, told]) + " STATUS " + str(status) + "\n")
"""


def window_probe(tmp_path, *args, **extra) -> tuple[list[dict], list[str], int, str]:
    env = clean_env(tmp_path, QT_QPA_PLATFORM="offscreen", GANDRANGE_DESK_UI_STATE=str(tmp_path / "ui.ini"),
                    GANDRANGE_DESK_DB_PASSWORD="sans-objet", PROBE_PASSWORD=CLI_PASSWORD, HOME=str(tmp_path),
                    XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"), **extra)
    done = subprocess.run([sys.executable, "-c", WINDOW_PROBE, *args], capture_output=True, cwd=tmp_path,
                          env=env, timeout=300)
    err = done.stderr.decode("utf-8")
    assert "PAINTED " in err, err
    marker = err.rsplit("PAINTED ", 1)[1]
    seen, status = marker.split(" STATUS ")
    painted, told = json.loads(seen)
    return painted, told, int(status), err


def test_the_login_dialog_is_painted_before_the_orm_loads_then_the_window(tmp_path, db_url):
    """The real start-up with a login: the dialog is on screen before SQLAlchemy is imported;
    the base is opened behind it, the clerk logs in, the main window fills its first tab."""
    painted, told, status, err = window_probe(tmp_path, db_url, CLI_LOGIN)
    assert status == 0, err
    assert told == []
    login, window = painted
    assert login == {"window": "LoginDialog", "sqlalchemy": False, "orm": False, "models": False}
    assert window["window"] == "MainWindow" and window["first_tab_filled"]
    assert "Traceback" not in err


def test_the_main_window_shell_is_painted_before_sqlalchemy_loads(tmp_path, db_url):
    """No login (the timed start-up): the main window's shell is painted first, the base opened
    and the first tab filled just after, without the ORM; the timings are printed."""
    done = subprocess.run([sys.executable, "-m", "gandrange_desk", "--db", db_url], capture_output=True, cwd=tmp_path,
                          env=clean_env(tmp_path, QT_QPA_PLATFORM="offscreen", GANDRANGE_DESK_BENCH_STARTUP="1",
                                        GANDRANGE_DESK_DB_PASSWORD="sans-objet"), timeout=300)
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.decode().splitlines() if "=" in line)
    assert values["sqlalchemy_at_paint"] == "0" and values["orm_at_paint"] == "0" and values["models_at_paint"] == "0"
    assert float(values["filled_ms"]) >= float(values["startup_ms"]) > 0
    # The Familles list and the status bar's counts are read on SQLAlchemy Core: the window is
    # usable before the ORM and the 31 models load.
    assert values["orm_at_fill"] == "0" and values["models_at_fill"] == "0"
    # On SQLite the first screen is read through the bare sqlite3 driver: SQLAlchemy itself loads
    # after the filled tab's paint. PostgreSQL reads it on SQLAlchemy Core.
    assert values["sqlalchemy_at_fill"] == ("0" if db_url.startswith("sqlite") else "1")


@pytest.mark.parametrize("login", [CLI_LOGIN, None])
def test_a_database_that_cannot_open_is_one_french_sentence_and_status_1(tmp_path, login):
    """With or without a login dialog drawn first: the message box says one French sentence,
    the same goes to stderr, the status is 1, no traceback, no window left waiting."""
    missing = tmp_path / "absent" / "dossier" / "base.sqlite3"
    painted, told, status, err = window_probe(tmp_path, str(missing), *([login] if login else []))
    assert status == 1, err
    assert len(told) == 1 and told[0].startswith("Impossible d'ouvrir la base de données SQLite")
    assert "le fichier ne peut pas être ouvert" in told[0]
    assert told[0] in err and "Traceback" not in err
    assert [p["window"] for p in painted] == (["LoginDialog"] if login else [])
