"""`backup --out FILE`: a consistent copy, readable on its own, nothing half-written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from gandrange_desk.cli import main
from gandrange_desk.db import make_engine
from gandrange_desk.models import Family
from gandrange_desk.services.system.backup import find_pg_dump
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


def restored_url(backend: str, db_url: str, out: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{out}"
    url = make_url(db_url)
    name = url.database + "_restored"
    admin = make_engine(url.set(database="postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    restore = str(Path(find_pg_dump()).with_name("pg_restore"))
    subprocess.run([restore, "--no-owner", f"--host={url.host}", f"--port={url.port}",
                    f"--username={url.username}", f"--dbname={name}", str(out)], check=True)
    return url.set(database=name).render_as_string(hide_password=False)


def test_backup_is_a_consistent_copy(backend, desk, db_url, tmp_path, capsys):
    load_example_settings(desk)
    make_family(desk, "Keller")
    make_family(desk, "Zimmermann")
    out = tmp_path / "copie.backup"
    # A transaction in progress elsewhere is not in the copy: only committed data is.
    engine = make_engine(db_url)
    conn = engine.connect()
    trans = conn.begin()
    conn.execute(text("UPDATE family SET name = 'Pas encore validé' WHERE name = 'Keller'"))
    try:
        if backend == "sqlite":
            trans.rollback()  # SQLite allows one writer: roll back before the copy reads
        assert main(["--db", db_url, "backup", "--out", str(out)]) == 0
    finally:
        if trans.is_active:
            trans.rollback()
        conn.close()
        engine.dispose()
    assert "Copie de sauvegarde écrite" in capsys.readouterr().out
    assert out.exists() and not list(tmp_path.glob("*.partiel"))
    assert families_in(restored_url(backend, db_url, out)) == ["Keller", "Zimmermann"]


def test_existing_file_is_not_overwritten_unless_asked(desk, db_url, tmp_path, capsys):
    load_example_settings(desk)
    out = tmp_path / "copie.backup"
    out.write_text("ancienne sauvegarde")
    assert main(["--db", db_url, "backup", "--out", str(out)]) == 1
    assert "existe déjà" in capsys.readouterr().err
    assert out.read_text() == "ancienne sauvegarde"
    assert main(["--db", db_url, "--json", "backup", "--out", str(out), "--replace"]) == 0
    assert '"bytes"' in capsys.readouterr().out
    assert out.stat().st_size > 1000


def test_missing_folder_is_said_in_french(db_url, tmp_path, capsys):
    assert main(["--db", db_url, "backup", "--out", str(tmp_path / "absent" / "x.backup")]) == 1
    assert "n'existe pas" in capsys.readouterr().err


def test_pg_dump_not_found(backend, db_url, tmp_path, monkeypatch, capsys):
    if backend != "postgresql":
        pytest.skip("pg_dump concerns PostgreSQL only")
    monkeypatch.setenv("GANDRANGE_DESK_PG_DUMP", str(tmp_path / "no-pg_dump"))
    assert main(["--db", db_url, "backup", "--out", str(tmp_path / "x.backup")]) == 1
    err = capsys.readouterr().err
    assert "le programme pg_dump est introuvable" in err and "Traceback" not in err
    assert not (tmp_path / "x.backup").exists()


def test_window_passes_its_desk(desk, tmp_path):
    from gandrange_desk.services.system.backup import backup

    load_example_settings(desk)
    result = backup(desk, tmp_path / "depuis-la-fenetre.backup")
    assert result.path.exists() and result.size > 0
    assert "Copie de sauvegarde écrite" in result.text()
