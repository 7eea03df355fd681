"""Mon compte: the e-mail address changes only through a link sent to the new address (single use,
expires), the old one told; completing the file after an accepted Inscription."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from gandrange_desk.models import AuditEntry, Child, Family, Guardian, OutboxMessage, PickupPerson, RequestKind
from gandrange_desk.services import queue
from gandrange_desk.services.portal import completion, email_change
from gandrange_desk.services.queue.listing import pending_items

from .conftest import NEW_PASSWORD, delivered_body, make_client, post
from .test_inscription import details


def holder_email(desk, family_id):
    with desk.read() as s:
        return s.execute(select(Guardian.email).where(Guardian.family_id == family_id)
                         .order_by(Guardian.position)).scalars().first()


def mails(desk, family_id, kind):
    with desk.read() as s:
        return s.execute(select(OutboxMessage).where(OutboxMessage.family_id == family_id,
                                                     OutboxMessage.kind == kind)
                         .order_by(OutboxMessage.id)).scalars().all()


def test_the_new_address_confirms_the_change_once(desk, portal_base, martin, clock):
    fid = portal_base["martin"]
    old = holder_email(desk, fid)
    assert old in martin.get("/compte").text
    # A wrong password, a bad address: said in French, nothing sent.
    r = post(martin, "/compte/email", {"email": "pas-une-adresse", "mot_de_passe": "faux"})
    assert r.status_code == 400
    assert "Mot de passe : incorrect." in r.text and "n&#39;est pas une adresse e-mail valide" in r.text
    assert mails(desk, fid, "portal_email_confirm") == []
    r = post(martin, "/compte/email", {"email": "Claire.Nouvelle@Example.org", "mot_de_passe": NEW_PASSWORD})
    assert r.status_code == 303
    assert "Un e-mail contenant un lien de confirmation vient d&#39;être envoyé à claire.nouvelle@example.org" \
        in martin.get("/compte").text
    # Nothing changes until the link is opened.
    assert holder_email(desk, fid) == old
    [confirm] = mails(desk, fid, "portal_email_confirm")
    assert confirm.recipients == "claire.nouvelle@example.org"
    [notice] = mails(desk, fid, "portal_email_notice")
    assert notice.recipients == old and "a été demandé" in notice.body_text
    link = re.search(r"(http://testserver/confirmer-email/\S+)", delivered_body(desk, confirm.id)).group(1)
    path = link.removeprefix("http://testserver")
    # Opened in another browser (not signed in): a button, then the change.
    other = make_client(desk)
    page = other.get(path)
    assert page.status_code == 200 and "claire.nouvelle@example.org" in page.text
    assert holder_email(desk, fid) == old  # opening the link alone changes nothing
    r = post(other, path, {})
    assert r.status_code == 303
    assert holder_email(desk, fid) == "claire.nouvelle@example.org"
    told = mails(desk, fid, "portal_email_notice")[-1]
    assert told.recipients == old and "a été remplacée par claire.nouvelle@example.org" in told.body_text
    with desk.read() as s:
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "portal.email")).scalar_one()
    assert audit.user_login.startswith("portail:") and old in audit.before
    # Single use.
    again = post(other, path, {}, page="/connexion")  # the form of a page opened before
    assert again.status_code == 400 and "Ce lien n&#39;est plus valable" in again.text
    # Expiry: a fresh link a day and a bit later is refused, the address unchanged.
    post(martin, "/compte/email", {"email": "troisieme@example.org", "mot_de_passe": NEW_PASSWORD})
    link = re.search(r"(/confirmer-email/\S+)", delivered_body(desk, mails(desk, fid, "portal_email_confirm")[-1].id))
    clock.value += email_change.LINK_VALID + timedelta(minutes=1)
    assert "Ce lien n&#39;est plus valable" in other.get(link.group(1)).text
    assert post(other, link.group(1), {}, page="/connexion").status_code == 400
    assert holder_email(desk, fid) == "claire.nouvelle@example.org"


def test_a_forged_link_changes_nothing(desk, portal_base, martin):
    fid = portal_base["martin"]
    old = holder_email(desk, fid)
    post(martin, "/compte/email", {"email": "a@example.org", "mot_de_passe": NEW_PASSWORD})
    token = re.search(r"/confirmer-email/(\S+)",
                      delivered_body(desk, mails(desk, fid, "portal_email_confirm")[0].id)).group(1)
    fid_, gid, expires, _email, sig = token.split(".")
    import base64

    forged = ".".join([fid_, gid, expires, base64.urlsafe_b64encode(b"pirate@example.org").decode().rstrip("="), sig])
    assert post(martin, f"/confirmer-email/{forged}", {}, page="/compte").status_code == 400
    assert post(martin, "/confirmer-email/n.importe.quoi", {}, page="/compte").status_code == 400
    assert holder_email(desk, fid) == old


# --- completing the file after an accepted Inscription ---------------------------------------------


def accepted_family(desk):
    client = make_client(desk)
    post(client, "/inscription", details(desk))
    [item] = [i for i in pending_items(desk) if i.kind == RequestKind.REGISTRATION]
    queue.accept(desk, [item.id])
    with desk.read() as s:
        family = s.execute(select(Family).where(Family.name == "Weber")).scalar_one()
        mail = s.execute(select(OutboxMessage).where(OutboxMessage.family_id == family.id)).scalar_one()
    login = re.search(r"Identifiant : (\S+)", mail.body_text).group(1)
    password = re.search(r"Mot de passe provisoire : (\S+)", delivered_body(desk, mail.id)).group(1)
    client = make_client(desk)
    post(client, "/connexion", {"identifiant": login, "mot_de_passe": password})
    r = post(client, "/mot-de-passe", {"actuel": password, "nouveau": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert r.headers["location"] == "/accueil"
    return family.id, client


def test_the_first_visit_after_acceptance_completes_the_file(desk, portal_base, martin):
    fid, client = accepted_family(desk)
    r = client.get("/accueil", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/completer"
    page = client.get("/completer").text
    assert "Renseignez les derniers éléments utiles à votre inscription." in page
    assert "Tom Weber — santé" in page and "Zoé Weber — santé" in page
    with desk.read() as s:
        tom, zoe = [c.id for c in s.execute(select(Child).where(Child.family_id == fid)
                                             .order_by(Child.first_name)).scalars()]
    # Bad input: listed in French, nothing written.
    r = post(client, "/completer", {f"enfant{tom}_allergies": "Arachide", "personne1_nom": "Mamie Weber",
                                    "personne1_telephone": "12"})
    assert r.status_code == 400 and "Personne autorisée 1, téléphone : « 12 » n&#39;est pas un numéro" in r.text
    assert completion.needed(desk, fid)
    # The banner stays on Accueil until done; no second redirect in the same session.
    assert "Renseignez les derniers éléments" in client.get("/accueil").text
    r = post(client, "/completer", {f"enfant{tom}_allergies": "Arachide", f"enfant{tom}_pai": "oui",
                                    f"enfant{tom}_medecin": "Dr Klein, Amnéville", f"enfant{zoe}_sante": "Asthme léger",
                                    "personne1_nom": "Mamie Weber", "personne1_lien": "Grand-mère",
                                    "personne1_telephone": "0612345678"})
    assert r.status_code == 303 and r.headers["location"] == "/accueil"
    page = client.get("/accueil").text
    assert "Merci : votre inscription est complète." in page and "Renseignez les derniers" not in page
    with desk.read() as s:
        t, z = s.get(Child, tom), s.get(Child, zoe)
        assert (t.allergies, t.pai, t.doctor, z.health_notes) == ("Arachide", True, "Dr Klein, Amnéville",
                                                                  "Asthme léger")
        pickups = s.execute(select(PickupPerson.child_id, PickupPerson.name, PickupPerson.phone)
                            .order_by(PickupPerson.child_id)).all()
        actor = s.execute(select(AuditEntry.user_login).where(AuditEntry.action == "portal.complete")).scalar_one()
    assert pickups == [(tom, "Mamie Weber", "06 12 34 56 78"), (zoe, "Mamie Weber", "06 12 34 56 78")]
    assert actor.startswith("portail:")
    # Once only: afterwards changes go through Ma famille.
    r = client.get("/completer", follow_redirects=False)
    assert r.headers["location"] == "/famille"
    # A family the desk created itself (not from S'inscrire) is never led there; nor another's children.
    assert martin.get("/accueil", follow_redirects=False).status_code == 200
    assert martin.get("/completer", follow_redirects=False).headers["location"] == "/famille"
    with desk.read() as s:
        assert s.scalar(select(func.count()).select_from(PickupPerson)) == 2
