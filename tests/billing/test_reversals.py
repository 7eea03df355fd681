"""Payments after the fact: reversals (rejected debit, bounced cheque, mistake) and rejected debits
presented again in the next SEPA file, or the family switched to another payment mode."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from sqlalchemy import func, select

from gandrange_desk.cli import main
from gandrange_desk.errors import AlreadyDecided, ValidationFailed
from gandrange_desk.models import AuditEntry, Family, OutboxMessage, Payment, PaymentAllocation, SepaDebit
from gandrange_desk.services.billing import payments, reminders, sepa
from gandrange_desk.services.billing.reversals import reverse_payment
from tests import payments_builders as b

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture
def october(desk, clock):
    """Two families on prélèvement with October invoices (issued 02/11, debit announced 16/11)
    and one paying by cheque."""
    clock.set(2026, 11, 3, 9, 0)
    b.structure(desk)
    u = b.units(desk)
    muller = b.family(desk, "Muller", mode="prelevement")
    zimmer = b.family(desk, "Zimmer", mode="prelevement", email="zimmer@example.fr")
    weber = b.family(desk, "Weber", mode="cheque", email="weber@example.fr")
    b.mandate(desk, muller, rum="GDG-2025-0001")
    b.mandate(desk, zimmer, rum="GDG-2024-0007", first_collected_on=date(2026, 10, 12))
    inv = {}
    for fam, qty in ((muller, 10), (zimmer, 4), (weber, 5)):
        inv[fam] = b.invoice(desk, fam, OCT, [(u["Soir"], b.child_ids(desk, fam)[0], "Soir", qty, 415)])
    return {"desk": desk, "u": u, "muller": muller, "zimmer": zimmer, "weber": weber, "inv": inv}


def _remaining(desk, invoice_id):
    with desk.read() as s:
        return payments.remaining_cents(s, invoice_id)


def test_bounced_cheque_reopens_the_invoice_keeps_the_payment_and_its_history(october, clock):
    desk, weber = october["desk"], october["weber"]
    paid = payments.record_payment(desk, weber, mode="cheque", received_on=date(2026, 11, 3), amount_cents=2075,
                                   reference="Chèque 1234567 CCM")
    assert _remaining(desk, october["inv"][weber]) == 0
    clock.set(2026, 12, 8, 9, 0)
    # Nothing written on bad input.
    for kwargs, message in (
            (dict(kind="bounced_cheque", reason=""), "Indiquez la raison"),
            (dict(kind="bounced_cheque", reason="Impayé", code="AM04"), "ne s'indique que pour un prélèvement"),
            (dict(kind="rejected_debit", reason="Rejet", code="AM04"), "pas un prélèvement"),
            (dict(kind="oops", reason="x"), "Motif d'annulation inconnu")):
        with pytest.raises(ValidationFailed, match=message):
            reverse_payment(desk, paid.payment_id, **kwargs)
    assert _remaining(desk, october["inv"][weber]) == 0
    result = reverse_payment(desk, paid.payment_id, kind="bounced_cheque", reason="Chèque sans provision")
    assert b.plain(result.summary()).startswith("Paiement de 20,75 € annulé (chèque impayé). Facture ")
    assert result.changes.payments == {weber}
    assert _remaining(desk, october["inv"][weber]) == 2075
    with desk.read() as s:
        row = s.get(Payment, paid.payment_id)  # never deleted
        assert row.reversed_by == "systeme" and row.reversal_reason == "Chèque sans provision"
        assert s.scalar(select(func.count(PaymentAllocation.id))) == 0
        audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "payment.reverse"))
        assert '"amount_cents": 2075' in audit.before and "Chèque sans provision" in audit.after
        balance = payments.family_balance(s, weber)
    assert (balance.balance_cents, balance.unallocated_cents) == (2075, 0)  # owed again, and no credit
    assert [r.invoice_id for r in reminders.unpaid_invoices(desk)].count(october["inv"][weber]) == 1
    [listed] = [r for r in payments.list_payments(desk) if r.payment_id == paid.payment_id]
    assert listed.reversed and listed.reversal.startswith("Chèque impayé le 08/12/2026 : Chèque sans provision")
    assert listed.unallocated_cents == 0
    with pytest.raises(AlreadyDecided, match="déjà été annulé le 08/12/2026"):
        reverse_payment(desk, paid.payment_id, kind="mistake", reason="encore")
    with pytest.raises(ValidationFailed, match="annulé"):
        payments.allocate_payment(desk, paid.payment_id)


def test_collection_with_rejected_debits_then_represented_next_month(october, clock, db_url, capsys):
    desk, muller, zimmer = october["desk"], october["muller"], october["zimmer"]
    export = sepa.export_month(desk, OCT, notify=False)
    with desk.read() as s:
        e2e = dict(s.execute(select(SepaDebit.family_id, SepaDebit.end_to_end)).all())
    assert set(e2e) == {muller, zimmer}
    clock.set(2026, 11, 17, 9, 0)
    with pytest.raises(ValidationFailed, match="inconnue dans ce fichier : NOPE"):
        sepa.record_collection(desk, export.export_id, {"NOPE": "AM04"})
    with desk.read() as s:
        assert s.scalar(select(func.count(Payment.id))) == 0
    result = sepa.record_collection(desk, export.export_id, {e2e[muller]: "AM04"})
    assert (result.recorded, result.recorded_cents) == (1, 1660)
    assert b.plain(result.summary(OCT)).startswith("1 paiement enregistré pour 16,60 € (prélèvements d'octobre 2026).")
    assert "Muller" in result.rejected[0] and "AM04 provision insuffisante" in result.rejected[0]
    assert _remaining(desk, october["inv"][muller]) == 4150 and _remaining(desk, october["inv"][zimmer]) == 0
    # November's invoices (dated 02/12, debit announced 16/12), exported on 03/12: Muller's
    # rejected October invoice is presented again, announced by this file's e-mail, 14 days on.
    u = october["u"]
    nov = {f: b.invoice(desk, f, NOV, [(u["Soir"], b.child_ids(desk, f)[0], "Soir", 2, 415)]) for f in (muller, zimmer)}
    clock.set(2026, 12, 3, 9, 0)
    plan = sepa.plan_month(desk, NOV)
    debits = {d.family_id: d for d in plan.debits}
    assert (debits[muller].amount_cents, debits[muller].collection_date) == (4150 + 830, date(2026, 12, 17))
    assert debits[muller].represented and debits[zimmer].represented == []
    assert (debits[zimmer].amount_cents, debits[zimmer].collection_date) == (830, date(2026, 12, 16))
    exported = sepa.export_month(desk, NOV)
    assert exported.represented == 1 and "Dont 1 prélèvement rejeté représenté, le 17/12/2026." in exported.summary()
    dates = {tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS): info.findtext("p:ReqdColltnDt", namespaces=NS)
             for info in ET.fromstring(exported.xml).iterfind(".//p:PmtInf", NS)
             for tx in info.iterfind("p:DrctDbtTxInf", NS)}
    assert dates == {"GDG-2025-0001": "2026-12-17", "GDG-2024-0007": "2026-12-16"}
    with desk.read() as s:
        mail = s.scalar(select(OutboxMessage).where(OutboxMessage.family_id == muller))
    text = b.plain(mail.body_text)
    assert "49,80 €" in text and "17/12/2026" in text and "précédent a été rejeté par votre banque" in text
    # Presented again once: the next month's file does not carry it while this one is out.
    assert sepa.plan_month(desk, date(2026, 12, 1)).debits == []
    # A rejection the bank reports after the money came in: reverse the payment from the
    # command line, switching the family to cheques: nothing presented again.
    with desk.read() as s:
        zimmer_payment = s.scalar(select(Payment.id).where(Payment.family_id == zimmer))
    assert main(["--db", db_url, "payments", "reverse", str(zimmer_payment), "--reason", "Rejet reçu le 20/11",
                 "--code", "MD01", "--mode", "cheque"]) == 0
    out = b.plain(capsys.readouterr().out)
    assert "annulé (prélèvement rejeté, MD01 : pas de mandat (ou mandat révoqué))" in out
    assert "La famille passe au paiement par chèque." in out
    with desk.read() as s:
        assert s.get(Family, zimmer).payment_mode == "cheque"
        assert s.scalar(select(SepaDebit.status).where(SepaDebit.payment_id == zimmer_payment)) == "rejected"
    assert _remaining(desk, october["inv"][zimmer]) == 1660
    assert zimmer not in {d.family_id for d in sepa.plan_month(desk, date(2026, 12, 1)).debits}
    assert main(["--db", db_url, "payments", "list", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[zimmer_payment]["reversed"] and "MD01" in rows[zimmer_payment]["reversal"]


def test_reversal_after_collection_represents_the_debit(october, clock):
    desk, muller = october["desk"], october["muller"]
    export = sepa.export_month(desk, OCT, notify=False)
    clock.set(2026, 11, 17, 9, 0)
    sepa.record_collection(desk, export.export_id)
    with desk.read() as s:
        payment_id = s.scalar(select(Payment.id).where(Payment.family_id == muller))
    result = reverse_payment(desk, payment_id, kind="rejected_debit", code="am04", reason="Retour banque")
    assert result.represent and result.code == "AM04"
    assert "Le montant sera représenté au prochain fichier de prélèvement." in result.summary()
    clock.set(2026, 12, 3, 9, 0)
    plan = sepa.plan_month(desk, NOV)
    assert [(d.family_id, d.amount_cents) for d in plan.debits] == [(muller, 4150)]
    assert plan.debits[0].collection_date == date(2026, 12, 17)


def test_collected_command_takes_rejected_ids(october, clock, db_url, capsys):
    desk, muller = october["desk"], october["muller"]
    sepa.export_month(desk, OCT, notify=False)
    with desk.read() as s:
        e2e = s.scalar(select(SepaDebit.end_to_end).where(SepaDebit.family_id == muller))
    # The command runs on today's clock, after 16/11.
    assert main(["--db", db_url, "sepa", "collected", "--month", "2026-10", "--rejected", "INCONNU"]) == 1
    assert "inconnue dans ce fichier : INCONNU" in capsys.readouterr().err
    assert main(["--db", db_url, "sepa", "collected", "--month", "2026-10", "--rejected", f"{e2e}:AC04"]) == 0
    out = b.plain(capsys.readouterr().out)
    assert "1 paiement enregistré pour 16,60 €" in out and "1 prélèvement rejeté" in out and "AC04 compte clôturé" in out
    assert _remaining(desk, october["inv"][muller]) == 4150
