"""Desk users: creation, roles enforced by services, login."""

import pytest

from gandrange_desk.cli import main
from gandrange_desk.errors import DeskError, PermissionDenied, ValidationFailed
from gandrange_desk.services.system.users import authenticate, create_user, resolve_actor


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
        "Rôle inconnu : « chef » (agent, responsable ou admin).",
        "Le mot de passe doit comporter au moins 8 caractères.",
    ]


def test_cli_users_and_unknown_user(db_url, capsys, monkeypatch):
    monkeypatch.setenv("GANDRANGE_DESK_NEW_PASSWORD", "secret-123")
    assert main(["--db", db_url, "users", "add", "resp", "--name", "Marc Durand", "--role", "responsable"]) == 0
    assert main(["--db", db_url, "--json", "users", "list"]) == 0
    out = capsys.readouterr().out
    assert '"login": "resp"' in out
    assert main(["--db", db_url, "--user", "personne", "users", "list"]) == 1
    assert "Utilisateur inconnu ou désactivé : « personne »." in capsys.readouterr().err
