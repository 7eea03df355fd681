"""Portal fixtures: the example settings, two families with credentials sent the desk's way,
and a TestClient per family (plain http: cookies without Secure, as `--http-local`)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gandrange_desk.models import Family, Invoice, OutboxMessage, OutboxSecret, PaymentMode, PortalState, Structure
from gandrange_desk.portal.app import PortalConfig, create_app
from gandrange_desk.services.billing import invoicing
from gandrange_desk.services.families.portal import send_credentials
from gandrange_desk.services.mail.outbox import fill_secrets
from tests.builders import load_example_settings, make_booking, make_family, unit_id

SECRET = "test-secret-not-for-production"


def credentials(desk, family_id: int) -> tuple[str, str]:
    """Send the credentials as the desk does and read them back from the e-mail."""
    with desk.read() as s:
        version = s.get(Family, family_id).version
    result = send_credentials(desk, family_id, version)
    with desk.read() as s:
        message_id = s.execute(select(OutboxMessage.id).where(
            OutboxMessage.family_id == family_id, OutboxMessage.kind == "credentials")
            .order_by(OutboxMessage.id.desc())).scalars().first()
    password = re.search(r"Mot de passe provisoire : (\S+)", delivered_body(desk, message_id)).group(1)
    return result.login, password


def delivered_body(desk, message_id: int) -> str:
    """The e-mail's text as the family receives it: the stored body keeps a placeholder for a
    temporary password, filled from its secret at send time (as the sender does)."""
    with desk.read() as s:
        body = s.get(OutboxMessage, message_id).body_text
        values = dict(s.execute(select(OutboxSecret.name, OutboxSecret.value)
                                .where(OutboxSecret.message_id == message_id)).all())
    return fill_secrets(body, values)[0]


@pytest.fixture
def portal_base(desk):
    load_example_settings(desk)
    martin = make_family(desk, "Martin", portal_state=PortalState.TO_CREATE,
                         children=[{"first_name": "Léa"}, {"first_name": "Hugo", "class_name": "CP"}])
    durand = make_family(desk, "Durand", portal_state=PortalState.TO_CREATE)
    return {"martin": martin.id, "durand": durand.id}


def make_client(desk, secure: bool = False, payments=None) -> TestClient:
    return TestClient(create_app(desk, PortalConfig(secret=SECRET, secure_cookies=secure, payments=payments)),
                      base_url="https://testserver" if secure else "http://testserver")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def post(client: TestClient, url: str, data: dict, page: str | None = None, **kw):
    """A form post with the CSRF token of the page it is on (as the browser sends it)."""
    token = csrf_of(client.get(page or url).text)
    return client.post(url, data={**data, "csrf": token}, follow_redirects=False, **kw)


NEW_PASSWORD = "Un-mot-de-passe-2026"


def signed_in(desk, family_id: int, payments=None) -> TestClient:
    """A client past the first sign-in (temporary password, then its own)."""
    login, temporary = credentials(desk, family_id)
    client = make_client(desk, payments=payments)
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


@pytest.fixture
def invoices(desk, portal_base, clock):
    """November 2026 invoiced for Martin and Durand (chèque) and Muller (prélèvement): their
    invoice ids by family id, and Muller's family id under "muller"."""
    with desk.unit_of_work() as s:
        st = s.execute(select(Structure)).scalar_one()
        st.issuer_name, st.issuer_role = "Marie Dupont", "Responsable du service Enfance-Jeunesse"
        st.sepa_ics, st.siret = "FR12ZZZ123456", "21570242700018"
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    debit = make_family(desk, "Muller", payment_mode=PaymentMode.PRELEVEMENT)
    for fid in (portal_base["martin"], portal_base["durand"], debit.id):
        with desk.read() as s:
            child = s.get(Family, fid).children[0].id
        for day in (date(2026, 11, 5), date(2026, 11, 6)):
            make_booking(desk, child, repas, day, "R")
    clock.set(2026, 12, 2, 10, 0)
    invoicing.prepare(desk, date(2026, 11, 1))
    invoicing.issue(desk, date(2026, 11, 1))
    with desk.read() as s:
        return {fid: iid for iid, fid in s.execute(select(Invoice.id, Invoice.family_id))} | {"muller": debit.id}
