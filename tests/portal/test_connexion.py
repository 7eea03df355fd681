"""Connexion, first login, lockout without telling which logins exist, CSRF, headers, cookies."""

from __future__ import annotations

from gandrange_desk.services.portal.accounts import BAD_CREDENTIALS, LOCKED

from .conftest import NEW_PASSWORD, credentials, make_client, post, signed_in


def test_first_login_forces_a_new_password_then_the_welcome_page(desk, portal_base):
    login, temporary = credentials(desk, portal_base["martin"])
    client = make_client(desk)
    r = post(client, "/connexion", {"identifiant": login, "mot_de_passe": temporary})
    assert r.status_code == 303 and r.headers["location"] == "/mot-de-passe"
    # Every page leads back to the password change until it is done.
    assert client.get("/accueil", follow_redirects=False).headers["location"] == "/mot-de-passe"
    page = client.get("/mot-de-passe").text
    assert "Première connexion : choisissez votre propre mot de passe" in page
    r = post(client, "/mot-de-passe", {"actuel": temporary, "nouveau": "court", "confirmation": "court"})
    assert r.status_code == 400 and "au moins 10 caractères" in r.text
    r = post(client, "/mot-de-passe", {"actuel": temporary, "nouveau": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert r.headers["location"] == "/accueil"
    home = client.get("/accueil").text
    for tile in ("Téléchargements", "Réservations", "Factures et documents", "Gérer votre compte"):
        assert tile in home
    assert "Des modifications (ou ajouts) à réaliser sur votre foyer" in home
    # The temporary password no longer opens the account; the new one does.
    other = make_client(desk)
    assert BAD_CREDENTIALS in post(other, "/connexion", {"identifiant": login, "mot_de_passe": temporary}).text
    r = post(other, "/connexion", {"identifiant": login, "mot_de_passe": NEW_PASSWORD})
    assert r.headers["location"] == "/accueil"


def test_the_sign_in_is_audited_with_the_family_as_actor(desk, portal_base):
    from sqlalchemy import select
    from gandrange_desk.models import AuditEntry

    login, temporary = credentials(desk, portal_base["martin"])
    post(make_client(desk), "/connexion", {"identifiant": login, "mot_de_passe": temporary})
    with desk.read() as s:
        who = s.execute(select(AuditEntry.user_login).where(AuditEntry.action == "portal.sign_in")).scalars().all()
    assert who == [f"portail:{login}"]


def test_unknown_login_and_wrong_password_read_the_same(desk, portal_base):
    login, _ = credentials(desk, portal_base["martin"])
    client = make_client(desk)
    wrong = post(client, "/connexion", {"identifiant": login, "mot_de_passe": "pas-le-bon"})
    unknown = post(client, "/connexion", {"identifiant": "personne@example.org", "mot_de_passe": "pas-le-bon"})
    assert wrong.status_code == unknown.status_code == 400
    assert BAD_CREDENTIALS in wrong.text and BAD_CREDENTIALS in unknown.text


def test_lockout_after_five_failures_for_existing_and_unknown_logins_alike(desk, portal_base, clock):
    login, temporary = credentials(desk, portal_base["martin"])
    client = make_client(desk)
    for typed in (login, "inconnu@example.org"):
        for _ in range(5):
            post(client, "/connexion", {"identifiant": typed, "mot_de_passe": "pas-le-bon"})
        r = post(client, "/connexion", {"identifiant": typed, "mot_de_passe": "pas-le-bon"})
        assert "Trop de tentatives de connexion" in r.text
    # Even the right password waits for the lock to end.
    r = post(client, "/connexion", {"identifiant": login, "mot_de_passe": temporary})
    assert "Trop de tentatives de connexion" in r.text and "location" not in r.headers
    clock.set(2026, 11, 26, 9, 16)
    r = post(client, "/connexion", {"identifiant": login, "mot_de_passe": temporary})
    assert r.headers["location"] == "/mot-de-passe"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(desk, portal_base):
    login, temporary = credentials(desk, portal_base["martin"])
    client = make_client(desk)
    client.get("/connexion")
    r = client.post("/connexion", data={"identifiant": login, "mot_de_passe": temporary}, follow_redirects=False)
    assert r.status_code == 403 and "Formulaire expiré" in r.text
    r = client.post("/connexion", data={"identifiant": login, "mot_de_passe": temporary, "csrf": "faux"},
                    follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/accueil", follow_redirects=False).headers["location"] == "/connexion"


def test_security_headers_and_cookie_flags(desk, portal_base):
    client = make_client(desk, secure=True)
    r = client.get("/connexion")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie


def test_pages_need_a_sign_in(desk, portal_base):
    client = make_client(desk)
    for url in ("/accueil", "/reservations", "/reservations/periode", "/factures", "/famille", "/famille/foyer",
                "/compte", "/telechargements", "/factures/facture/1.pdf"):
        assert client.get(url, follow_redirects=False).headers["location"] == "/connexion", url


def test_logout_ends_the_session(desk, martin):
    r = post(martin, "/deconnexion", {}, page="/accueil")
    assert r.headers["location"] == "/connexion"
    assert martin.get("/accueil", follow_redirects=False).headers["location"] == "/connexion"


def test_a_password_change_elsewhere_ends_the_other_sessions(desk, portal_base):
    first = signed_in(desk, portal_base["martin"])
    from sqlalchemy import select
    from gandrange_desk.models import Family

    with desk.read() as s:
        login = s.get(Family, portal_base["martin"]).portal_login
    second = make_client(desk)
    post(second, "/connexion", {"identifiant": login, "mot_de_passe": NEW_PASSWORD})
    post(second, "/mot-de-passe", {"actuel": NEW_PASSWORD, "nouveau": "Encore-un-autre-2027",
                                    "confirmation": "Encore-un-autre-2027"})
    assert second.get("/accueil").status_code == 200
    assert first.get("/accueil", follow_redirects=False).headers["location"] == "/connexion"


def test_forgotten_password_link_works_once(desk, portal_base, clock):
    import re
    from sqlalchemy import select
    from gandrange_desk.models import OutboxMessage

    client = signed_in(desk, portal_base["martin"])
    from gandrange_desk.models import Family
    with desk.read() as s:
        login = s.get(Family, portal_base["martin"]).portal_login
    anon = make_client(desk)
    r = post(anon, "/mot-de-passe-oublie", {"identifiant": login})
    same = post(anon, "/mot-de-passe-oublie", {"identifiant": "inconnu@example.org"})
    assert "Si cet identifiant correspond à un compte" in r.text and "Si cet identifiant correspond" in same.text
    with desk.read() as s:
        bodies = s.execute(select(OutboxMessage.body_text).where(OutboxMessage.kind == "portal_reset")).scalars().all()
    assert len(bodies) == 1
    link = re.search(r"http://testserver(/nouveau-mot-de-passe/\S+)", bodies[0]).group(1)
    r = post(anon, link, {"nouveau": "Mon-nouveau-2026!", "confirmation": "Mon-nouveau-2026!"})
    assert r.headers["location"] == "/connexion"
    again = anon.get(link)
    assert again.status_code == 400 and "plus valable (déjà utilisé ou expiré)" in again.text
    r = post(anon, "/connexion", {"identifiant": login, "mot_de_passe": "Mon-nouveau-2026!"})
    assert r.headers["location"] == "/accueil"
    # The session opened before the reset has ended.
    assert client.get("/accueil", follow_redirects=False).headers["location"] == "/connexion"


def test_an_expired_reset_link_is_refused(desk, portal_base, clock):
    import re
    from sqlalchemy import select
    from gandrange_desk.models import Family, OutboxMessage

    signed_in(desk, portal_base["martin"])
    with desk.read() as s:
        login = s.get(Family, portal_base["martin"]).portal_login
    anon = make_client(desk)
    post(anon, "/mot-de-passe-oublie", {"identifiant": login})
    with desk.read() as s:
        body = s.execute(select(OutboxMessage.body_text).where(OutboxMessage.kind == "portal_reset")).scalar_one()
    link = re.search(r"http://testserver(/nouveau-mot-de-passe/\S+)", body).group(1)
    clock.set(2026, 11, 26, 10, 1)
    assert "plus valable (déjà utilisé ou expiré)" in anon.get(link).text


def test_demo_logins_open_the_portal(desk, portal_base):
    from gandrange_desk.services.portal.demo import demo_logins, demo_logins_text

    from tests.builders import make_family

    make_family(desk, "Petit")  # an account already open (login set), as in the demo
    make_family(desk, "Grand")
    logins = demo_logins(desk, 2)
    assert len(logins) == 2
    login, password, name = logins[0]
    assert f"{login} / {password}  (famille {name})" in demo_logins_text(logins)
    r = post(make_client(desk), "/connexion", {"identifiant": login, "mot_de_passe": password})
    assert r.headers["location"] == "/mot-de-passe"
