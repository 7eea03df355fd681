"""Desk users: creation, roles enforced by services, login."""

import pytest

from gandrange_desk.cli import main
from gandrange_desk.errors import DeskError, PermissionDenied, ValidationFailed
from gandrange_desk.services.system.users import authenticate, create_user, resolve_actor

pytestmark = pytest.mark.db


def test_first_user_then_roles_enforced(desk, agent_desk):
    create_user(desk, "admin", "Admin", "admin", "secret-123")
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    agent = desk.as_actor(resolve_actor(desk, "sfoncin"))
    with pytest.raises(PermissionDenied) as err:
        create_user(agent, "autre", "Autre", "agent", "secret-123")
    assert "réservé au rôle « administrateur »" in str(err.value)


def test_login_checks_the_argon2_hash(desk):
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    actor = authenticate(desk, "sfoncin", "secret-123")
    assert actor.full_name == "Sandrine Foncin" and actor.role == "agent"
    with pytest.raises(DeskError, match="Identifiant ou mot de passe incorrect"):
        authenticate(desk, "sfoncin", "wrong")


def test_bad_user_input_is_refused_in_french(desk):
    with pytest.raises(ValidationFailed) as err:
        create_user(desk, "", "x", "chef", "court")
    assert err.value.problems == [
        "L'identifiant est obligatoire.",
        "Rôle inconnu : « chef » (agent, responsable, admin ou taches).",
        "Le mot de passe doit comporter au moins 8 caractères.",
    ]


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err.strip()


def test_no_implicit_administrator_on_the_command_line(db_url, capsys, monkeypatch):
    # A base without any desk user: only its setting up runs, and the first user is the admin.
    assert _run(capsys, "--db", db_url, "queue", "list")[2].startswith(
        "Cette base n'a encore aucun utilisateur du bureau : créez d'abord l'administrateur")
    monkeypatch.setenv("GANDRANGE_DESK_NEW_PASSWORD", "secret-123")
    code, _out, err = _run(capsys, "--db", db_url, "users", "add", "resp", "--name", "Marc Durand",
                           "--role", "responsable")
    assert (code, err) == (1, "Le premier utilisateur du bureau est son administrateur : ajoutez --role admin.")
    assert _run(capsys, "--db", db_url, "users", "add", "chef", "--name", "Nathalie Becker", "--role", "admin")[0] == 0
    # From now on, nobody acts without naming and proving who they are.
    code, _out, err = _run(capsys, "--db", db_url, "users", "add", "pirate", "--name", "X", "--role", "admin")
    assert (code, err) == (1, "Indiquez qui agit : --user IDENTIFIANT ou la variable GANDRANGE_DESK_USER (mot de "
                              "passe : GANDRANGE_DESK_PASSWORD, le trousseau du système, ou saisi).")
    code, _out, err = _run(capsys, "--db", db_url, "--user", "chef", "users", "list")
    assert code == 1 and err.startswith("Mot de passe de « chef » absent : définissez GANDRANGE_DESK_PASSWORD")
    monkeypatch.setenv("GANDRANGE_DESK_PASSWORD", "pas-le-bon")
    assert _run(capsys, "--db", db_url, "--user", "chef", "users", "list")[2] == "Identifiant ou mot de passe incorrect."
    assert _run(capsys, "--db", db_url, "--user", "personne", "users", "list")[2] == \
        "Identifiant ou mot de passe incorrect."
    monkeypatch.setenv("GANDRANGE_DESK_PASSWORD", "secret-123")
    monkeypatch.setenv("GANDRANGE_DESK_USER", "chef")
    assert _run(capsys, "--db", db_url, "users", "add", "resp", "--name", "Marc Durand", "--role", "responsable")[0] == 0
    code, out, _err = _run(capsys, "--db", db_url, "--json", "users", "list")
    assert code == 0 and '"login": "resp"' in out and "pirate" not in out
    # A responsable proves who they are too, and the services enforce the role.
    code, _out, err = _run(capsys, "--db", db_url, "--user", "resp", "users", "add", "x2", "--name", "X",
                           "--role", "admin")
    assert code == 1 and "réservé au rôle « administrateur »" in err


def test_the_password_may_come_from_the_keyring(db_url, capsys, monkeypatch):
    from gandrange_desk.services.system import secrets

    desk_engine_url = db_url
    monkeypatch.setenv("GANDRANGE_DESK_NEW_PASSWORD", "secret-123")
    assert _run(capsys, "--db", desk_engine_url, "users", "add", "chef", "--name", "Chef", "--role", "admin")[0] == 0
    stored = {}
    monkeypatch.setattr(secrets, "get_desk_password", lambda login: stored.get(login))
    assert _run(capsys, "--db", db_url, "--user", "chef", "users", "list")[0] == 1
    stored["chef"] = "secret-123"
    code, out, _err = _run(capsys, "--db", db_url, "--user", "chef", "users", "list")
    assert code == 0 and out.startswith("chef")


def test_reserved_names_cannot_be_taken(desk):
    for login in ("systeme", "Système", "SYSTEM", "root", "Administrateur", "postgres"):
        with pytest.raises(ValidationFailed, match="est réservé"):
            create_user(desk, login, "X", "admin", "secret-123")
    with pytest.raises(ValidationFailed, match="Identifiant invalide"):
        create_user(desk, "a b\r\nc", "X", "admin", "secret-123")


def test_upgrade_of_a_new_file_with_a_user_named(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANDRANGE_DESK_USER", "admin")
    code, out, err = _run(capsys, "--db", str(tmp_path / "neuf.sqlite3"), "db", "upgrade")
    assert (code, err) == (0, "") and out.startswith("Schéma créé")


def test_scheduled_tasks_user_runs_its_commands_only(db_url, capsys, monkeypatch, qtbot):
    monkeypatch.setenv("GANDRANGE_DESK_NEW_PASSWORD", "secret-123")
    _run(capsys, "--db", db_url, "users", "add", "chef", "--name", "Chef", "--role", "admin")
    monkeypatch.setenv("GANDRANGE_DESK_USER", "chef")
    monkeypatch.setenv("GANDRANGE_DESK_PASSWORD", "secret-123")
    monkeypatch.setenv("GANDRANGE_DESK_NEW_PASSWORD", "taches-123")
    assert _run(capsys, "--db", db_url, "users", "add", "planif", "--name", "Tâches", "--role", "taches")[0] == 0
    monkeypatch.setenv("GANDRANGE_DESK_USER", "planif")
    monkeypatch.setenv("GANDRANGE_DESK_PASSWORD", "taches-123")
    for refused in (("queue", "list"), ("users", "list"), ("outbox", "list"), ("backup", "restore", "x.sqlite3"), ("invoices", "list", "--month", "2026-11")):
        code, _out, err = _run(capsys, "--db", db_url, *refused)
        assert code == 1 and err.startswith("« planif » est un compte de tâches planifiées"), refused
    code, _out, err = _run(capsys, "--db", db_url, "outbox", "send")
    assert code == 1 and err.startswith("Aucun serveur SMTP n'est configuré")  # it got past the gate
    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import Desk

    with pytest.raises(PermissionDenied, match="ne peut pas ouvrir la fenêtre"):
        authenticate(Desk(make_engine(db_url)), "planif", "taches-123")
