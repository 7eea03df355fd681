"""« Payer » through PayFiP (a local stand-in of its SOAP service): the request the provider
receives, the notification recorded once as a card payment on the invoice, refusals, forged
answers, prélèvement families and other families' invoices."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.models import Family, Invoice, OnlinePayment, Payment, PaymentAllocation
from gandrange_desk.services.portal.payfip import PayFiP

from .conftest import make_client, post, signed_in
from .payfip_standin import PayFiPStandIn

NUMCLI = "012345"


@pytest.fixture
def payfip():
    with PayFiPStandIn() as standin:
        standin.provider = PayFiP(NUMCLI, "T", endpoint=standin.endpoint, pay_url=standin.pay_url)
        yield standin


def invoice_of(desk, invoice_id):
    with desk.read() as s:
        i = s.get(Invoice, invoice_id)
        email = s.get(Family, i.family_id).guardians[0].email
        return i.number, i.total_cents, email


def payments_of(desk, family_id):
    with desk.read() as s:
        return s.execute(select(Payment.mode, Payment.amount_cents, Payment.reference, Payment.received_on)
                         .where(Payment.family_id == family_id)).all()


def pay(client, invoice_id):
    return post(client, f"/factures/payer/{invoice_id}", {}, page="/factures")


def test_payer_sends_the_request_and_the_notification_records_the_payment_once(desk, portal_base, invoices, payfip):
    martin_id = portal_base["martin"]
    iid = invoices[martin_id]
    number, total, email = invoice_of(desk, iid)
    client = signed_in(desk, martin_id, payments=payfip.provider)
    page = client.get("/factures").text
    assert f"Payer {formats.amount(total)} €" in page
    r = pay(client, iid)
    assert r.status_code == 303
    [(idop, op)] = payfip.operations.items()
    assert r.headers["location"] == f"{payfip.pay_url}?idop={idop}"
    assert op["numcli"] == NUMCLI and op["saisie"] == "T" and op["exer"] == "2026"
    assert op["montant"] == str(total) and op["mel"] == email
    assert op["objet"] == f"Facture {number}".replace("-", " ")
    assert op["urlnotif"] == "http://testserver/paiement/notification"
    assert op["urlredirect"] == "http://testserver/paiement/retour"
    assert op["refdet"].isalnum() and 6 <= len(op["refdet"]) <= 30
    # Before the family pays, a notification records nothing.
    provider_side = make_client(desk, payments=payfip.provider)
    assert provider_side.post("/paiement/notification", data={"idop": idop}).text == "OK"
    assert payments_of(desk, martin_id) == []
    payfip.settle(idop, "P", numauto="AUT999")
    for _ in range(3):  # the provider may call again; the family's browser comes back too
        assert provider_side.post("/paiement/notification", data={"idop": idop}).status_code == 200
    back = client.get(f"/paiement/retour?idop={idop}")
    assert f"Votre paiement de {formats.euros(total)} pour la facture {number} est enregistré. Merci." in back.text
    [(mode, amount, reference, day)] = payments_of(desk, martin_id)
    assert (mode, amount, day.isoformat()) == ("carte", total, "2026-12-02")
    assert reference == f"PayFiP (test) {op['refdet']} autorisation AUT999"
    with desk.read() as s:
        assert s.execute(select(PaymentAllocation.invoice_id, PaymentAllocation.amount_cents)).all() == [(iid, total)]
        assert s.execute(select(OnlinePayment.status)).scalar_one() == "paid"
    page = client.get("/factures").text
    assert "Payer " not in page and "reste à payer" not in page
    # Paid: a second « Payer » is refused.
    pay(client, iid)
    assert f"La facture {number} est déjà payée." in client.get("/factures").text


def test_a_refused_or_abandoned_payment_records_nothing(desk, portal_base, invoices, payfip):
    martin_id = portal_base["martin"]
    iid = invoices[martin_id]
    client = signed_in(desk, martin_id, payments=payfip.provider)
    for result, words in (("R", "a été refusé : rien n&#39;a été débité"), ("A", "a été abandonné")):
        pay(client, iid)
        idop = list(payfip.operations)[-1]
        payfip.settle(idop, result)
        assert words in client.get(f"/paiement/retour?idop={idop}").text
    assert payments_of(desk, martin_id) == []
    assert "Payer " in client.get("/factures").text


def test_a_forged_or_wrong_answer_is_refused(desk, portal_base, invoices, payfip):
    martin_id = portal_base["martin"]
    client = signed_in(desk, martin_id, payments=payfip.provider)
    pay(client, invoices[martin_id])
    [idop] = payfip.operations
    payfip.settle(idop, "P")
    provider_side = make_client(desk, payments=payfip.provider)
    assert provider_side.post("/paiement/notification", data={"idop": "op-9999"}).status_code == 404
    assert provider_side.post("/paiement/notification", data={"idop": "<script>"}).status_code == 404
    payfip.tamper = {"montant": "1"}
    r = provider_side.post("/paiement/notification", data={"idop": idop})
    assert r.status_code == 400 and "ne correspond pas au paiement demandé" in r.text
    payfip.tamper = {"numcli": "999999"}
    assert provider_side.post("/paiement/notification", data={"idop": idop}).status_code == 400
    assert payments_of(desk, martin_id) == []
    payfip.tamper = {}
    assert provider_side.post("/paiement/notification", data={"idop": idop}).text == "OK"
    assert len(payments_of(desk, martin_id)) == 1


def test_prelevement_families_and_other_families_cannot_pay(desk, portal_base, invoices, payfip):
    muller = signed_in(desk, invoices["muller"], payments=payfip.provider)
    with desk.read() as s:
        muller_invoice = s.execute(select(Invoice.id).where(Invoice.family_id == invoices["muller"])).scalar_one()
    page = muller.get("/factures").text
    assert "Payer " not in page and "Le prélèvement étant en place" in page
    pay(muller, muller_invoice)
    assert payfip.operations == {}
    durand = signed_in(desk, portal_base["durand"], payments=payfip.provider)
    assert pay(durand, invoices[portal_base["martin"]]).status_code == 404
    assert payfip.operations == {}
    # The Martins' payment cannot be read back by the Durands.
    martin = signed_in(desk, portal_base["martin"], payments=payfip.provider)
    pay(martin, invoices[portal_base["martin"]])
    [idop] = payfip.operations
    assert durand.get(f"/paiement/retour?idop={idop}").status_code == 404


def test_without_a_provider_there_is_no_payer(desk, portal_base, invoices, martin):
    assert "Payer " not in martin.get("/factures").text
    assert pay(martin, invoices[portal_base["martin"]]).status_code == 404


def test_payfip_refuses_a_bad_client_number_and_an_unreachable_service(payfip):
    with pytest.raises(DeskError, match="six chiffres"):
        PayFiP("12AB")
    from gandrange_desk.services.portal.payfip import Order

    from tests.ports import closed_port

    dead = PayFiP(NUMCLI, endpoint=f"http://127.0.0.1:{closed_port()}/none", timeout=5)
    with pytest.raises(DeskError, match="momentanément indisponible"):
        dead.start(Order("F2026P1", 1000, "a@example.org", "Facture", 2026, "http://x/n", "http://x/r"))
