"""S'inscrire: the first details become a registration in the desk's queue; once the desk
validates it the family receives the guide's e-mail and signs in; bad input writes nothing;
submissions are rate-limited like sign-ins."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from gandrange_desk.models import Child, Family, OutboxMessage, Request, RequestKind
from gandrange_desk.services import queue
from gandrange_desk.services.portal.registration import SENT, TOO_MANY, schools
from gandrange_desk.services.queue.listing import pending_items

from .conftest import delivered_body, make_client, post


def details(desk, email="julie.weber@example.org", **extra):
    return {"nom": "Weber", "prenom": "Julie", "nom_responsable": "Weber", "email": email,
            "telephone": "06 11 22 33 44", "adresse": "4 rue du Moulin", "code_postal": "57175",
            "ville": "Gandrange", "enfant1_prenom": "Tom", "enfant1_naissance": "2019-03-14",
            "enfant1_ecole": schools(desk)[0], "enfant1_classe": "CE1", "enfant2_prenom": "Zoé",
            "enfant2_naissance": "2021-09-02", **extra}


def registrations(desk) -> int:
    with desk.read() as s:
        return s.scalar(select(func.count()).select_from(Request).where(Request.kind == RequestKind.REGISTRATION))


def test_a_registration_reaches_the_queue_and_the_accepted_family_signs_in(desk, portal_base):
    client = make_client(desk)
    assert 'href="/inscription"' in client.get("/connexion").text
    page = client.get("/inscription").text
    assert "Vous n'êtes pas encore inscrit" in page
    r = post(client, "/inscription", details(desk))
    assert r.status_code == 200 and SENT.replace("'", "&#39;") in r.text
    [item] = [i for i in pending_items(desk) if i.kind == RequestKind.REGISTRATION]
    with desk.read() as s:
        assert s.execute(select(Family.id).where(Family.name == "Weber")).first() is None  # nothing yet
    queue.accept(desk, [item.id])
    with desk.read() as s:
        family = s.execute(select(Family).where(Family.name == "Weber")).scalar_one()
        kids = sorted((c.first_name, c.last_name, c.birth_date.isoformat(), c.class_name)
                      for c in s.execute(select(Child).where(Child.family_id == family.id)).scalars())
        assert (family.street, family.postcode, family.city) == ("4 rue du Moulin", "57175", "Gandrange")
        mail = s.execute(select(OutboxMessage).where(OutboxMessage.family_id == family.id)).scalar_one()
    assert kids == [("Tom", "Weber", "2019-03-14", "CE1"), ("Zoé", "Weber", "2021-09-02", "")]
    assert mail.recipients == "julie.weber@example.org"
    assert "a été acceptée" in mail.body_text
    login = re.search(r"Identifiant : (\S+)", mail.body_text).group(1)
    password = re.search(r"Mot de passe provisoire : (\S+)", delivered_body(desk, mail.id)).group(1)
    r = post(make_client(desk), "/connexion", {"identifiant": login, "mot_de_passe": password})
    assert r.headers["location"] == "/mot-de-passe"


def test_bad_details_are_listed_in_french_and_nothing_is_written(desk, portal_base):
    client = make_client(desk)
    r = post(client, "/inscription", details(desk, email="pas-une-adresse", code_postal="5717",
                                             enfant1_prenom="", enfant1_naissance="", enfant2_prenom="",
                                             enfant2_naissance=""))
    assert r.status_code == 400
    for words in ("E-mail : « pas-une-adresse » n&#39;est pas une adresse valide.", "Code postal : cinq chiffres.",
                  "Inscrivez au moins un enfant."):
        assert words in r.text
    assert 'value="Weber"' in r.text  # what was typed stays in the form
    r = post(client, "/inscription", details(desk, enfant1_naissance="2030-01-01"))
    assert "Enfant 1, date de naissance invraisemblable." in r.text
    assert registrations(desk) == 0


def test_registrations_are_rate_limited_per_address_and_per_e_mail(desk, portal_base, clock):
    client = make_client(desk)
    for n in range(3):
        assert post(client, "/inscription", details(desk)).status_code == 200, n
    r = post(client, "/inscription", details(desk))
    assert r.status_code == 400 and TOO_MANY.replace("'", "&#39;") in r.text
    assert post(client, "/inscription", details(desk, email="autre@example.org")).status_code == 200
    assert post(client, "/inscription", details(desk, email="encore@example.org")).status_code == 200
    assert TOO_MANY.replace("'", "&#39;") in post(client, "/inscription", details(desk, email="x@example.org")).text
    assert registrations(desk) == 5
    clock.set(2026, 11, 26, 9, 31)
    assert post(client, "/inscription", details(desk, email="x@example.org")).status_code == 200
