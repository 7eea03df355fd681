"""SQLite readers never wait behind a writer; a writer kept waiting says, in French, who holds
the base; unexpected failures reach a person as one French sentence, never a traceback."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import sys
import threading

import pytest

from gandrange_desk import console, db
from gandrange_desk.cli import main
from gandrange_desk.errors import DatabaseBusy
from gandrange_desk.models import Family
from gandrange_desk.services.context import Desk
from gandrange_desk.services.system import schema

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


@pytest.fixture
def sqlite_url(tmp_path, request):
    template = request.getfixturevalue("sqlite_template")
    path = tmp_path / "desk.sqlite3"
    path.write_bytes(template.read_bytes())
    return f"sqlite:///{path}"


def test_readers_never_wait_and_a_waiting_writer_names_the_holder(sqlite_url, monkeypatch):
    monkeypatch.setattr(db, "WAIT_NOTICE_AFTER", 0.1)
    monkeypatch.setattr(db, "WRITE_WAIT", 0.5)
    told: list[str] = []
    monkeypatch.setattr(db, "on_wait", told.append)
    monkeypatch.setitem(db.current_holder, "who", "nbecker")
    monkeypatch.setitem(db.current_holder, "what", "intake")
    holder = Desk(db.make_engine(sqlite_url))
    other = Desk(db.make_engine(sqlite_url))
    with holder.unit_of_work() as s:
        s.add(Family(ref="F-0001", name="Lefèvre"))
        s.flush()
        # The start-up check and the reads go on while the import holds the write lock.
        assert not schema.needs_upgrade(other.engine)
        db.check_connection(other.engine)
        with other.read() as r:
            assert r.query(Family).count() == 0
        monkeypatch.setitem(db.current_holder, "who", "sfoncin")
        with pytest.raises(DatabaseBusy) as caught:
            with other.unit_of_work() as w:
                w.add(Family(ref="F-0002", name="Martin"))
    assert str(caught.value).startswith("La base de données est occupée par nbecker sur ")
    assert "(intake) depuis " in str(caught.value)
    assert str(caught.value).endswith("Réessayez dans un instant ; rien n'a été modifié.")
    assert told and told[0].startswith("La base est occupée par nbecker")
    # Released: the next writer goes through, and the note is gone.
    with other.unit_of_work() as w:
        w.add(Family(ref="F-0002", name="Martin"))
    assert not db.occupant_path(other.engine.url.database).exists()
    with other.read() as r:
        assert r.query(Family).count() == 2


def _guarded(capsys, argv):
    from gandrange_desk.__main__ import main as program

    code = program(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def logs(tmp_path, monkeypatch):
    monkeypatch.setenv("GANDRANGE_DESK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(console, "_log_file", None)
    stdout, stderr = sys.stdout, sys.stderr
    yield tmp_path / "logs" / "gandrange-desk.log"
    sys.stdout, sys.stderr = stdout, stderr
    for handler in list(console.log.handlers):
        console.log.removeHandler(handler)
        handler.close()


def test_db_on_a_file_that_is_not_a_database(tmp_path, logs, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("Liste des courses\n" * 200, encoding="utf-8")
    code, _out, err = _guarded(capsys, ["--db", str(notes), "queue", "list"])
    assert code != 0
    assert err.startswith("Le fichier indiqué n'est pas une base de données Gandrange Desk (ni une base SQLite)")
    assert "Traceback" not in err and "sqlalche.me" not in err and err.count("\n") == 1
    assert "Traceback" in logs.read_text(encoding="utf-8")
    assert notes.read_text(encoding="utf-8").startswith("Liste des courses")  # untouched


def test_disk_full_is_one_sentence_without_personal_data(db_url, logs, capsys, monkeypatch):
    from gandrange_desk.services.system import backup as backups

    def full(*_a, **_k):
        raise sqlite3.OperationalError("database or disk is full")

    # The statement's values (a family's name, a password hash) must never reach the console.
    hash_ = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0c2FsdA$aGFzaA"
    monkeypatch.setattr(backups, "backup", lambda *a, **k: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, f"No space left on device: Lefèvre {hash_}")))
    code, _out, err = _guarded(capsys, ["--db", db_url, "backup", "--out", str(logs.parent.parent / "b.sqlite3")])
    assert code != 0
    assert err.startswith("Disque plein : l'opération n'a pas pu être enregistrée.")
    assert "Lefèvre" not in err and "argon2" not in err
    monkeypatch.setattr(backups, "backup", full)
    code, _out, err = _guarded(capsys, ["--db", db_url, "backup", "--out", str(logs.parent.parent / "c.sqlite3")])
    assert code != 0 and err.startswith("Disque plein")


def test_unknown_errors_never_print_their_text(logs, capsys):
    console._open_log()

    def boom() -> int:
        raise RuntimeError("INSERT INTO desk_user VALUES ('nbecker', '$argon2id$v=19$secret')")

    status = console.guarded(boom)
    err = capsys.readouterr().err
    assert status == console.EXIT_CRASHED
    assert err.startswith("Erreur inattendue (RuntimeError) : l'opération n'a pas abouti")
    assert "argon2" not in err and "nbecker" not in err
    shown: list[str] = []
    console.guarded(boom, show=shown.append)
    assert shown and shown[0].startswith("Erreur inattendue (RuntimeError)")


def test_backup_onto_a_folder_with_replace(db_url, tmp_path, logs, capsys):
    folder = tmp_path / "sauvegardes"
    folder.mkdir()
    (folder / "ancienne.sqlite3").write_bytes(b"x")
    code, _out, err = _guarded(capsys, ["--db", db_url, "backup", "--out", str(folder), "--replace"])
    assert code == 1
    assert err.strip() == (f"{folder} est un dossier : indiquez le nom du fichier de sauvegarde "
                           f"(par exemple {folder / 'gandrange-desk.sqlite3'}).")
    assert sorted(p.name for p in folder.iterdir()) == ["ancienne.sqlite3"]
    assert not list(tmp_path.glob(".sauvegardes*"))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_backups_are_created_readable_by_their_owner_only(sqlite_url, tmp_path, monkeypatch):
    from gandrange_desk.services.system import backup as backups

    modes: list[int] = []
    real_connect = sqlite3.connect

    def spy(path, *a, **k):
        # The partial file already exists, owner-only, before a single page is written into it.
        if str(path).endswith(".partiel"):
            modes.append(stat.S_IMODE(os.stat(path).st_mode))
        return real_connect(path, *a, **k)

    monkeypatch.setattr(backups.sqlite3, "connect", spy)
    old = os.umask(0o022)
    try:
        result = backups.backup(db.make_engine(sqlite_url), tmp_path / "copie.sqlite3")
    finally:
        os.umask(old)
    assert modes == [0o600]
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600


def test_window_on_a_file_that_is_not_a_database_shows_one_sentence(qtbot, tmp_path, logs, capsys, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the window installs its own
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    notes = tmp_path / "notes.txt"
    notes.write_text("pas une base\n" * 100, encoding="utf-8")
    code, _out, err = _guarded(capsys, ["--db", str(notes)])
    assert code != 0
    assert len(shown) == 1 and shown[0].startswith("Le fichier indiqué n'est pas une base de données")
    assert "Traceback" not in err
