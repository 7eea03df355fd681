"""Portal fixtures: the example settings, two families with credentials sent the desk's way,
and a TestClient per family (plain http: cookies without Secure, as `--http-local`)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gandrange_desk.models import Family, OutboxMessage, PortalState
from gandrange_desk.portal.app import PortalConfig, create_app
from gandrange_desk.services.families.portal import send_credentials
from tests.builders import load_example_settings, make_family

SECRET = "test-secret-not-for-production"


def credentials(desk, family_id: int) -> tuple[str, str]:
    """Send the credentials as the desk does and read them back from the e-mail."""
    with desk.read() as s:
        version = s.get(Family, family_id).version
    result = send_credentials(desk, family_id, version)
    with desk.read() as s:
        body = s.execute(select(OutboxMessage.body_text).where(
            OutboxMessage.family_id == family_id, OutboxMessage.kind == "credentials")
            .order_by(OutboxMessage.id.desc())).scalars().first()
    password = re.search(r"Mot de passe provisoire : (\S+)", body).group(1)
    return result.login, password


@pytest.fixture
def portal_base(desk):
    load_example_settings(desk)
    martin = make_family(desk, "Martin", portal_state=PortalState.TO_CREATE,
                         children=[{"first_name": "Léa"}, {"first_name": "Hugo", "class_name": "CP"}])
    durand = make_family(desk, "Durand", portal_state=PortalState.TO_CREATE)
    return {"martin": martin.id, "durand": durand.id}


def make_client(desk, secure: bool = False) -> TestClient:
    return TestClient(create_app(desk, PortalConfig(secret=SECRET, secure_cookies=secure)),
                      base_url="https://testserver" if secure else "http://testserver")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def post(client: TestClient, url: str, data: dict, page: str | None = None, **kw):
    """A form post with the CSRF token of the page it is on (as the browser sends it)."""
    token = csrf_of(client.get(page or url).text)
    return client.post(url, data={**data, "csrf": token}, follow_redirects=False, **kw)


NEW_PASSWORD = "Un-mot-de-passe-2026"


def signed_in(desk, family_id: int) -> TestClient:
    """A client past the first sign-in (temporary password, then its own)."""
    login, temporary = credentials(desk, family_id)
    client = make_client(desk)
    r = post(client, "/connexion", {"identifiant": login, "mot_de_passe": temporary})
    assert r.headers["location"] == "/mot-de-passe"
    r = post(client, "/mot-de-passe", {"actuel": temporary, "nouveau": NEW_PASSWORD,
                                        "confirmation": NEW_PASSWORD})
    assert r.headers["location"] == "/accueil", r.text
    return client


@pytest.fixture
def martin(desk, portal_base) -> TestClient:
    return signed_in(desk, portal_base["martin"])


@pytest.fixture
def durand(desk, portal_base) -> TestClient:
    return signed_in(desk, portal_base["durand"])
