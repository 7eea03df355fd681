"""Automatic backups (at most daily, rotated, owner-only) and `backup restore` (checked, the
current base copied aside first)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import types
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gandrange_desk.cli import main
from gandrange_desk.clock import PARIS
from gandrange_desk.db import make_engine
from gandrange_desk.errors import PermissionDenied
from gandrange_desk.models import Family
from gandrange_desk.services.system import auto_backup
from gandrange_desk.services.system import backup as backup_service
from gandrange_desk.services.system.restore import restore
from tests.builders import load_example_settings, make_family

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


def families_in(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(Family.name).order_by(Family.name)).scalars())
    finally:
        engine.dispose()


def suffix(backend: str) -> str:
    return ".sqlite3" if backend == "sqlite" else ".pgdump"


def test_restore_puts_the_backup_back_and_keeps_the_current_base_aside(backend, desk, db_url, tmp_path, capsys):
    load_example_settings(desk)
    make_family(desk, "Keller")
    assert main(["--db", db_url, "backup", "settings", "--folder", str(tmp_path / "sauvegardes")]) == 0
    copy = tmp_path / f"copie{suffix(backend)}"
    assert main(["--db", db_url, "backup", "--out", str(copy)]) == 0
    make_family(desk, "Zimmermann")
    capsys.readouterr()
    assert main(["--db", db_url, "backup", "restore", str(copy)]) == 0
    out = capsys.readouterr().out
    assert f"Sauvegarde restaurée : {copy}." in out
    assert families_in(db_url) == ["Keller"]
    aside = Path(out.split("copiée dans ", 1)[1].strip().rstrip("."))
    assert aside.exists()
    if backend == "sqlite":
        assert aside.parent == Path(desk.engine.url.database).parent
        assert "avant-restauration" in aside.name
        assert families_in(f"sqlite:///{aside}") == ["Keller", "Zimmermann"]
    else:
        assert aside.parent == tmp_path / "sauvegardes"
        listing = subprocess.run([backup_service.find_pg_tool("pg_restore"), "--list", str(aside)],
                                 capture_output=True, text=True, check=True).stdout
        assert "TABLE DATA public family" in listing
    # The restored base keeps working: the desk writes to it.
    make_family(desk, "Schmitt")
    assert families_in(db_url) == ["Keller", "Schmitt"]


def test_a_file_that_is_no_backup_is_refused_and_nothing_changes(backend, desk, db_url, tmp_path, capsys):
    load_example_settings(desk)
    make_family(desk, "Keller")
    bogus = tmp_path / f"vacances{suffix(backend)}"
    bogus.write_text("Ceci n'est pas une sauvegarde.\n" * 50, encoding="utf-8")
    assert main(["--db", db_url, "backup", "restore", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert "rien n'a été restauré" in err and "Traceback" not in err
    assert families_in(db_url) == ["Keller"]


def test_a_damaged_sqlite_backup_is_refused(desk, db_url, tmp_path, capsys, backend):
    if backend != "sqlite":
        pytest.skip("a SQLite file")
    load_example_settings(desk)
    make_family(desk, "Keller")
    copy = tmp_path / "copie.sqlite3"
    assert main(["--db", db_url, "backup", "--out", str(copy)]) == 0
    data = bytearray(copy.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data) - page, 7 * page):  # scribble over pages, keep the header
        data[offset + 100:offset + 900] = os.urandom(800)
    copy.write_bytes(bytes(data))
    assert main(["--db", db_url, "backup", "restore", str(copy)]) == 1
    err = capsys.readouterr().err
    assert ("abîmée" in err or "n'est pas une sauvegarde" in err), err
    assert families_in(db_url) == ["Keller"]


def test_another_programs_base_is_refused(desk, db_url, tmp_path, capsys, backend):
    if backend != "sqlite":
        pytest.skip("a SQLite file")
    other = tmp_path / "autre.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (texte TEXT)")
    conn.commit()
    conn.close()
    assert main(["--db", db_url, "backup", "restore", str(other)]) == 1
    assert "n'est pas une sauvegarde de Gandrange Desk" in capsys.readouterr().err


def test_only_an_administrator_restores(agent_desk, tmp_path):
    with pytest.raises(PermissionDenied):
        restore(agent_desk, tmp_path / "x.sqlite3")


def auto_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("gandrange-desk-"))


def test_automatic_backup_at_most_daily_rotated_owner_only(backend, desk, tmp_path, clock):
    load_example_settings(desk)
    folder = tmp_path / "sauvegardes"
    auto_backup.save_settings(desk, folder=str(folder), keep_days=3)
    clock.set(2026, 12, 1, 17, 30)
    first = auto_backup.run_if_due(desk)
    assert first is not None and first.path.name == f"gandrange-desk-20261201-173000{suffix(backend)}"
    if sys.platform != "win32":
        assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    clock.set(2026, 12, 1, 18, 45)
    assert auto_backup.run_if_due(desk) is None  # once a day: the same day makes nothing
    # Older automatic backups than 3 days go; other files in the folder are never touched.
    for name in ("gandrange-desk-20261120-170000.sqlite3", "gandrange-desk-20261127-170000.pgdump"):
        (folder / name).write_bytes(b"old")
    (folder / "ma-copie-a-garder.sqlite3").write_bytes(b"mine")
    clock.set(2026, 12, 2, 17, 0)
    second = auto_backup.run_if_due(desk)
    assert second is not None
    assert [p.name for p in second.removed] == ["gandrange-desk-20261120-170000.sqlite3",
                                                 "gandrange-desk-20261127-170000.pgdump"]
    assert "2 anciennes sauvegardes supprimées" in second.text()
    assert auto_files(folder) == [f"gandrange-desk-20261201-173000{suffix(backend)}",
                                  f"gandrange-desk-20261202-170000{suffix(backend)}"]
    assert (folder / "ma-copie-a-garder.sqlite3").exists()


def test_the_newest_backup_stays_whatever_its_age(tmp_path):
    old = tmp_path / "gandrange-desk-20200101-120000.sqlite3"
    old.write_bytes(b"x")
    assert auto_backup.rotate(tmp_path, 3, datetime(2026, 12, 4, 12, 0)) == []
    assert old.exists()


def test_backup_auto_command_for_the_task_scheduler(desk, db_url, tmp_path, capsys):
    load_example_settings(desk)
    assert main(["--db", db_url, "backup", "settings", "--folder", str(tmp_path / "bk"), "--keep-days", "10"]) == 0
    assert main(["--db", db_url, "backup", "auto"]) == 0
    assert "Copie de sauvegarde écrite" in capsys.readouterr().out
    assert main(["--db", db_url, "backup", "auto"]) == 0
    assert "déjà été faite aujourd'hui" in capsys.readouterr().out
    assert main(["--db", db_url, "backup", "auto", "--force"]) == 0
    assert len(auto_files(tmp_path / "bk")) >= 1
    assert main(["--db", db_url, "backup", "settings", "--keep-days", "0"]) == 1
    assert "entre 1 et 3650" in capsys.readouterr().err
    assert main(["--db", db_url, "backup"]) == 1
    assert "Indiquez le fichier à écrire" in capsys.readouterr().err


def test_the_window_backs_up_when_it_closes(desk, tmp_path, capsys):
    from gandrange_desk.ui.app import _backup_on_close

    load_example_settings(desk)
    auto_backup.save_settings(desk, folder=str(tmp_path / "bk"))
    _backup_on_close(desk)
    _backup_on_close(desk)
    assert len(auto_files(tmp_path / "bk")) == 1
    assert capsys.readouterr().err.count("Copie de sauvegarde écrite") == 1


def test_pg_tools_are_found_in_the_windows_install_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("GANDRANGE_DESK_PG_DUMP", raising=False)
    for version in ("15", "99"):  # newer than any Debian server tools on the machine
        tool = tmp_path / "PostgreSQL" / version / "bin" / "pg_restore.exe"
        tool.parent.mkdir(parents=True)
        tool.write_bytes(b"")
    monkeypatch.setattr(backup_service, "sys", types.SimpleNamespace(platform="win32"))
    monkeypatch.setenv("ProgramFiles", str(tmp_path))
    found = backup_service.find_pg_tool("pg_restore")
    assert found == str(tmp_path / "PostgreSQL" / "99" / "bin" / "pg_restore.exe")
