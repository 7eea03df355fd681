"""Login: growing delays then a lock after wrong passwords in a row, all in the audit trail; the
same hashing work for unknown and known logins; a salt per password."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from gandrange_desk.errors import DeskError
from gandrange_desk.models import AuditEntry, DeskUser
from gandrange_desk.services.system import users
from gandrange_desk.services.system.users import authenticate, create_user, reset_password

pytestmark = pytest.mark.db


@pytest.fixture
def waits(monkeypatch):
    done: list[float] = []
    monkeypatch.setattr(users, "sleep", done.append)
    return done


def _audit(desk, action):
    with desk.read() as s:
        return [json.loads(e.after) for e in s.execute(select(AuditEntry).where(AuditEntry.action == action)
                                                      .order_by(AuditEntry.id)).scalars()]


def test_wrong_passwords_slow_down_then_lock(desk, clock, waits):
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    for _ in range(4):
        with pytest.raises(DeskError, match="^Identifiant ou mot de passe incorrect.$"):
            authenticate(desk, "sfoncin", "devine")
    assert waits == [1, 2]  # the third and fourth failures wait, longer each time
    with pytest.raises(DeskError) as locked:
        authenticate(desk, "sfoncin", "devine")
    assert str(locked.value) == ("Compte verrouillé après 5 mots de passe erronés jusqu'au 26/11/2026 à 09:15 : "
                                 "réessayez plus tard, ou demandez à un administrateur de réinitialiser le mot "
                                 "de passe.")
    # Locked: even the right password is refused until the lock ends.
    with pytest.raises(DeskError, match="^Compte verrouillé jusqu'au 26/11/2026 à 09:15"):
        authenticate(desk, "sfoncin", "secret-123")
    failed = _audit(desk, "login.failed")
    assert [f.get("failures") for f in failed] == [1, 2, 3, 4, 5, None]
    assert all("secret" not in json.dumps(f) and "devine" not in json.dumps(f) for f in failed)
    assert _audit(desk, "login.locked")[0]["failures"] == 5
    clock.value += timedelta(minutes=16)
    assert authenticate(desk, "sfoncin", "secret-123").login == "sfoncin"
    with desk.read() as s:
        user = s.execute(select(DeskUser).where(DeskUser.login == "sfoncin")).scalar_one()
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_an_administrator_reset_lifts_the_lock(desk, waits):
    uid = create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    for _ in range(5):
        with pytest.raises(DeskError):
            authenticate(desk, "sfoncin", "devine")
    reset_password(desk, uid, "nouveau-456")
    assert authenticate(desk, "sfoncin", "nouveau-456").login == "sfoncin"


def test_unknown_and_known_logins_cost_the_same_work(desk, monkeypatch, waits):
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    checked: list[str] = []
    real = users._hasher

    class Spy:
        def verify(self, stored, password):
            checked.append(stored)
            return real.verify(stored, password)

        def hash(self, password):
            return real.hash(password)

    monkeypatch.setattr(users, "_hasher", Spy())
    for login in ("sfoncin", "personne"):
        with pytest.raises(DeskError, match="^Identifiant ou mot de passe incorrect.$"):
            authenticate(desk, login, "devine")
    assert len(checked) == 2 and all(h.startswith("$argon2id$") for h in checked)
    assert checked[0].split("$")[3] == checked[1].split("$")[3]  # the same cost parameters
    assert _audit(desk, "login.failed")[-1] == {"login": "personne", "where": "fenêtre"}


def test_each_password_has_its_own_salt(desk):
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "meme-secret")
    create_user(desk, "nbecker", "Nathalie Becker", "responsable", "meme-secret")
    with desk.read() as s:
        hashes = s.execute(select(DeskUser.password_hash)).scalars().all()
    salts = {h.split("$")[4] for h in hashes}
    assert len(hashes) == 2 and len(salts) == 2 and hashes[0] != hashes[1]
