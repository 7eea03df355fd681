"""Administration of desk users: admin-only edits, last active admin kept, passwords, audit."""

import json

import pytest
from sqlalchemy import select

from gandrange_desk.errors import DeskError, PermissionDenied, StaleEdit, ValidationFailed
from gandrange_desk.models import AuditEntry, DeskUser
from gandrange_desk.services.context import Actor
from gandrange_desk.services.system.users import (
    LAST_ADMIN, authenticate, change_own_password, create_user, list_users, reset_password, update_user,
)


def _users(desk):
    admin = create_user(desk, "chef", "Claire Chef", "admin", "secret-123")
    clerk = create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    return admin, clerk


def _row(desk, user_id):
    return next(u for u in list_users(desk) if u.id == user_id)


def _audit(desk, action):
    with desk.read() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_admin_changes_role_and_name_audited(desk):
    admin, clerk = _users(desk)
    row = _row(desk, clerk)
    updated = update_user(desk, clerk, full_name="Sandrine Foncin-Muller", role="responsable", active=True,
                          version=row.version)
    assert (updated.full_name, updated.role) == ("Sandrine Foncin-Muller", "responsable")
    assert updated.version == row.version + 1 and updated.updated_by == "systeme"
    entry, = _audit(desk, "user.update")
    assert json.loads(entry.before) == {"login": "sfoncin", "role": "agent", "full_name": "Sandrine Foncin"}
    assert json.loads(entry.after)["role"] == "responsable"


def test_roles_enforced_in_the_service(desk, responsable_desk, agent_desk):
    _admin, clerk = _users(desk)
    version = _row(desk, clerk).version
    with pytest.raises(PermissionDenied, match="réservé au rôle « administrateur »"):
        update_user(responsable_desk, clerk, full_name="X", role="admin", active=True, version=version)
    with pytest.raises(PermissionDenied):
        reset_password(responsable_desk, clerk, "nouveau-123")
    with pytest.raises(PermissionDenied):
        list_users(agent_desk)
    assert _row(desk, clerk).role == "agent"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(desk):
    admin, clerk = _users(desk)
    other = desk.as_actor(Actor("autre", "Autre", "admin"))
    version = _row(desk, admin).version
    with pytest.raises(DeskError) as err:
        update_user(other, admin, full_name="Claire Chef", role="responsable", active=True, version=version)
    assert str(err.value) == LAST_ADMIN
    with pytest.raises(DeskError, match="au moins un administrateur actif"):
        update_user(other, admin, full_name="Claire Chef", role="admin", active=False, version=version)
    row = _row(desk, admin)
    assert (row.role, row.active, row.version) == ("admin", True, version)
    assert _audit(desk, "user.update") == []
    # With a second admin, the first may step down.
    update_user(desk, clerk, full_name="Sandrine Foncin", role="admin", active=True,
                version=_row(desk, clerk).version)
    update_user(other, admin, full_name="Claire Chef", role="agent", active=True, version=version)
    assert _row(desk, admin).role == "agent"


def test_an_admin_cannot_deactivate_their_own_account(desk):
    admin, clerk = _users(desk)
    update_user(desk, clerk, full_name="S F", role="admin", active=True, version=_row(desk, clerk).version)
    me = desk.as_actor(Actor("chef", "Claire Chef", "admin"))
    with pytest.raises(DeskError, match="propre compte"):
        update_user(me, admin, full_name="Claire Chef", role="admin", active=False, version=None)
    assert _row(desk, admin).active


def test_stale_edit_names_who_changed_the_user(desk, clock):
    _admin, clerk = _users(desk)
    version = _row(desk, clerk).version
    chef = desk.as_actor(Actor("chef", "Claire Chef", "admin"))
    update_user(chef, clerk, full_name="Sandrine F.", role="agent", active=True, version=version)
    with pytest.raises(StaleEdit) as err:
        update_user(desk, clerk, full_name="Autre nom", role="agent", active=False, version=version)
    assert "modifiée par chef le 26/11/2026 à 09:00" in str(err.value)
    assert _row(desk, clerk).full_name == "Sandrine F." and _row(desk, clerk).active


def test_deactivated_user_cannot_log_in(desk):
    _admin, clerk = _users(desk)
    update_user(desk, clerk, full_name="Sandrine Foncin", role="agent", active=False,
                version=_row(desk, clerk).version)
    with pytest.raises(DeskError, match="Identifiant ou mot de passe incorrect"):
        authenticate(desk, "sfoncin", "secret-123")


def test_reset_password_then_login_with_the_new_one(desk):
    _admin, clerk = _users(desk)
    with pytest.raises(ValidationFailed, match="au moins 8 caractères"):
        reset_password(desk, clerk, "court")
    assert authenticate(desk, "sfoncin", "secret-123").login == "sfoncin"
    reset_password(desk, clerk, "nouveau-456")
    assert authenticate(desk, "sfoncin", "nouveau-456").login == "sfoncin"
    with pytest.raises(DeskError):
        authenticate(desk, "sfoncin", "secret-123")
    entry, = _audit(desk, "user.password.reset")
    assert "nouveau" not in entry.after and "argon2" not in entry.after


def test_change_own_password_checks_the_old_one(desk):
    _users(desk)
    me = desk.as_actor(Actor("sfoncin", "Sandrine Foncin", "agent"))
    with pytest.raises(DeskError, match="Mot de passe actuel incorrect"):
        change_own_password(me, "faux-mot-de-passe", "nouveau-789")
    with pytest.raises(ValidationFailed) as err:
        change_own_password(me, "secret-123", "court", confirm="autre")
    assert err.value.problems == ["Le nouveau mot de passe doit comporter au moins 8 caractères.",
                                  "La confirmation ne correspond pas au nouveau mot de passe."]
    assert authenticate(desk, "sfoncin", "secret-123")
    change_own_password(me, "secret-123", "nouveau-789", confirm="nouveau-789")
    assert authenticate(desk, "sfoncin", "nouveau-789").login == "sfoncin"
    entry, = _audit(desk, "user.password.change")
    assert entry.user_login == "sfoncin"


def test_list_users_active_first(desk):
    admin, clerk = _users(desk)
    update_user(desk, clerk, full_name="Sandrine Foncin", role="agent", active=False,
                version=_row(desk, clerk).version)
    assert [(u.login, u.active) for u in list_users(desk)] == [("chef", True), ("sfoncin", False)]
    with desk.read() as s:
        assert s.get(DeskUser, clerk).active is False
