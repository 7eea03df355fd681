"""Two admins demoting each other at the same moment: one wins, an active admin remains."""

from __future__ import annotations

import threading

from gandrange_desk.errors import DeskError
from gandrange_desk.services.system import users
from gandrange_desk.services.context import Actor
from gandrange_desk.services.system.users import LAST_ADMIN, create_user, list_users, update_user


def test_crossed_demotions_keep_one_admin(desk, monkeypatch):
    a = create_user(desk, "alice", "Alice", "admin", "secret-123")
    b = create_user(desk, "bruno", "Bruno", "admin", "secret-123")
    versions = {u.id: u.version for u in list_users(desk)}
    # Hold each transaction just before its check until both are there (or 2 s): without the
    # locks, both would see the other still admin and both succeed.
    barrier = threading.Barrier(2, timeout=2)
    original = users._require_an_admin

    def held(s):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        original(s)

    monkeypatch.setattr(users, "_require_an_admin", held)
    outcomes: dict[str, str] = {}

    def demote(actor_login, target, name):
        actor = desk.as_actor(Actor(actor_login, actor_login, "admin"))
        try:
            update_user(actor, target, full_name=name, role="agent", active=True, version=versions[target])
            outcomes[actor_login] = "ok"
        except DeskError as exc:
            outcomes[actor_login] = str(exc)

    threads = [threading.Thread(target=demote, args=("alice", b, "Bruno")),
               threading.Thread(target=demote, args=("bruno", a, "Alice"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes.values()) == sorted(["ok", LAST_ADMIN])
    admins = [u.login for u in list_users(desk) if u.role == "admin" and u.active]
    assert len(admins) == 1
