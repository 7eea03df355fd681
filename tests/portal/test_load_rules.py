"""What keeps the portal fast under load without weakening it: a page view writes nothing, the
session check reads a few columns, and passwords hashed with older argon2 parameters still open
the account and are re-hashed with the portal's own at that sign-in."""

from __future__ import annotations

from contextlib import contextmanager

from argon2 import PasswordHasher
from sqlalchemy import event, select

from gandrange_desk.models import Family, PortalState
from gandrange_desk.services.portal.accounts import BAD_CREDENTIALS, hash_password

from .conftest import make_client, post

PAGES = ("/accueil", "/reservations", "/reservations/periode", "/factures", "/famille",
         "/famille/foyer", "/telechargements", "/compte", "/mot-de-passe", "/")
PASSWORD = "Ancien-mot-de-passe-2025"
OLD_PARAMETERS = "$argon2id$v=19$m=65536,t=3,p=4$"
PORTAL_PARAMETERS = "$argon2id$v=19$m=19456,t=2,p=1$"


@contextmanager
def writes(engine):
    """The INSERT, UPDATE and DELETE statements sent to the database inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _active(desk, family_id: int, password_hash: str) -> str:
    with desk.unit_of_work() as s:
        f = s.get(Family, family_id)
        f.portal_login = f.ref.lower()
        f.portal_password_hash, f.portal_state = password_hash, PortalState.ACTIVE
        return f.portal_login


def _stored_hash(desk, family_id: int) -> str:
    with desk.read() as s:
        return s.execute(select(Family.portal_password_hash).where(Family.id == family_id)).scalar_one()


def test_page_views_write_nothing_but_the_sign_in_does(desk, portal_base):
    login = _active(desk, portal_base["martin"], hash_password(PASSWORD))
    client = make_client(desk)
    with writes(desk.engine) as sign_in:
        r = post(client, "/connexion", {"identifiant": login, "mot_de_passe": PASSWORD})
    assert r.headers["location"] == "/accueil"
    assert any("audit" in sql for sql in sign_in)  # the listener sees writes: the sign-in is one
    with writes(desk.engine) as seen:
        for page in PAGES:
            r = client.get(page, follow_redirects=False)
            assert r.status_code in (200, 303), (page, r.status_code)
        assert "Léa" in client.get("/reservations").text
    assert seen == []


def test_an_old_hash_still_opens_the_account_and_is_rehashed_once(desk, portal_base):
    family_id = portal_base["martin"]
    login = _active(desk, family_id, PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD))
    assert _stored_hash(desk, family_id).startswith(OLD_PARAMETERS)
    first = make_client(desk)
    r = post(first, "/connexion", {"identifiant": login, "mot_de_passe": PASSWORD})
    assert r.headers["location"] == "/accueil"
    upgraded = _stored_hash(desk, family_id)
    assert upgraded.startswith(PORTAL_PARAMETERS)
    # The session opened by that sign-in holds (its fingerprint is the new hash's) ...
    assert "Factures et documents" in first.get("/accueil").text
    # ... the same password opens the account again, without a new rehash; a wrong one does not.
    again = make_client(desk)
    assert post(again, "/connexion", {"identifiant": login, "mot_de_passe": PASSWORD}).headers["location"] == "/accueil"
    assert _stored_hash(desk, family_id) == upgraded
    wrong = post(make_client(desk), "/connexion", {"identifiant": login, "mot_de_passe": "Pas-le-bon-2025"})
    assert wrong.status_code == 400 and BAD_CREDENTIALS in wrong.text
    assert first.get("/accueil", follow_redirects=False).status_code == 200


def test_a_failed_sign_in_leaves_an_old_hash_alone(desk, portal_base):
    family_id = portal_base["durand"]
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    login = _active(desk, family_id, old)
    r = post(make_client(desk), "/connexion", {"identifiant": login, "mot_de_passe": "Pas-le-bon-2025"})
    assert r.status_code == 400 and BAD_CREDENTIALS in r.text
    assert _stored_hash(desk, family_id) == old


def test_an_archived_family_session_ends_at_its_next_page(desk, portal_base):
    family_id = portal_base["martin"]
    login = _active(desk, family_id, hash_password(PASSWORD))
    client = make_client(desk)
    post(client, "/connexion", {"identifiant": login, "mot_de_passe": PASSWORD})
    assert client.get("/accueil", follow_redirects=False).status_code == 200
    with desk.unit_of_work() as s:
        s.get(Family, family_id).archived = True
    assert client.get("/accueil", follow_redirects=False).headers["location"] == "/connexion"
