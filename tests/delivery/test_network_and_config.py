"""Where the base lives: never SQLite on a network share; the workstation's own file; first run."""

from __future__ import annotations

import pytest

from gandrange_desk import config, paths
from gandrange_desk.cli import main
from gandrange_desk.db import is_configured, resolve_url
from gandrange_desk.errors import DatabaseUnavailable

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


@pytest.fixture
def workstation(tmp_path, monkeypatch):
    """A clean workstation: its own configuration file and data folder, nothing in the environment."""
    monkeypatch.setenv(config.ENV_CONFIG, str(tmp_path / "poste.toml"))
    monkeypatch.setattr("gandrange_desk.db.default_sqlite_path", lambda: tmp_path / "data" / "gandrange-desk.sqlite3")
    monkeypatch.delenv("GANDRANGE_DESK_DB", raising=False)
    return tmp_path


@pytest.mark.parametrize("path", [r"\\serveur\partage\base.sqlite3", "//serveur/partage/base.sqlite3",
                                  r"\\mairie-nas\Periscolaire$\gandrange.sqlite3"])
def test_unc_paths_are_network_paths(path):
    assert paths.is_unc(path)
    assert paths.is_network_path(path)


@pytest.mark.parametrize("path", [r"\\?\C:\Données\base.sqlite3", r"C:\Données\base.sqlite3", "/home/agent/base.sqlite3"])
def test_local_paths_are_not(path):
    assert not paths.is_unc(path)


def test_a_mounted_network_share_is_recognised(tmp_path, monkeypatch):
    share = tmp_path / "partage"
    share.mkdir()
    monkeypatch.setattr(paths, "_posix_filesystem", lambda p: "cifs" if p.startswith(str(share)) else "ext4")
    assert paths.is_network_path(share / "base.sqlite3")
    assert paths.is_network_path(share / "sous-dossier" / "absent.sqlite3")
    assert not paths.is_network_path(tmp_path / "local.sqlite3")


def test_mounts_are_read_from_proc(tmp_path, monkeypatch):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/vda / ext4 rw 0 0\n//nas/partage /mnt/nas cifs rw 0 0\n"
                      "nas:/export /mnt/nfs\\040share nfs4 rw 0 0\n")
    real_open = open

    def fake_open(file, *a, **kw):
        return real_open(mounts if file == "/proc/mounts" else file, *a, **kw)

    monkeypatch.setattr("builtins.open", fake_open)
    assert paths._posix_filesystem("/mnt/nas/base.sqlite3") == "cifs"
    assert paths._posix_filesystem("/mnt/nfs share/base.sqlite3") == "nfs4"
    assert paths._posix_filesystem("/home/base.sqlite3") == "ext4"


def test_command_refuses_sqlite_on_a_share_in_french(tmp_path, capsys):
    assert main(["--db", r"\\serveur\partage\base.sqlite3", "db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "ne peut pas être placée sur un lecteur réseau" in err
    assert "serveur PostgreSQL" in err


def test_sqlite_url_on_a_share_is_refused_too():
    with pytest.raises(DatabaseUnavailable, match="lecteur réseau"):
        resolve_url("sqlite:///" + r"\\serveur\partage\base.sqlite3")


def test_first_run_is_when_nothing_names_a_base(workstation):
    assert not is_configured(None)
    assert is_configured(str(workstation / "x.sqlite3"))
    config.save_database_url("postgresql+psycopg://desk@db.mairie:5432/gandrange")
    assert is_configured(None)
    assert resolve_url(None).render_as_string() == "postgresql+psycopg://desk@db.mairie:5432/gandrange"
    text = (workstation / "poste.toml").read_text(encoding="utf-8")
    assert "jamais ici" in text and "password" not in text


def test_environment_comes_before_the_workstation_file(workstation, monkeypatch):
    config.save_database_url(f"sqlite:///{workstation / 'poste.sqlite3'}")
    monkeypatch.setenv("GANDRANGE_DESK_DB", str(workstation / "env.sqlite3"))
    assert resolve_url(None).database.endswith("env.sqlite3")
    assert resolve_url(str(workstation / "cli.sqlite3")).database.endswith("cli.sqlite3")


def test_an_existing_default_base_is_not_a_first_run(workstation):
    default = workstation / "data" / "gandrange-desk.sqlite3"
    default.parent.mkdir()
    default.write_bytes(b"")
    assert is_configured(None)


def test_a_damaged_workstation_file_reads_as_none(workstation):
    (workstation / "poste.toml").write_text("[database\nurl = ", encoding="utf-8")
    assert config.database_url() is None
