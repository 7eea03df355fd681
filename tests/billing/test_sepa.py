"""SEPA: pain.008.001.02 valid against its schema, FRST then RCUR, sums, dates, pre-notifications."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import xmlschema
from sqlalchemy import func, select, update

import sepaxml
from gandrange_desk.cli import main
from gandrange_desk.errors import AlreadyDecided, PermissionDenied, ValidationFailed
from gandrange_desk.models import AuditEntry, Mandate, OutboxMessage, SepaDebit, SepaExport
from gandrange_desk.services.billing import payments
from gandrange_desk.services.billing import sepa
from tests import payments_builders as b

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.008.001.02.xsd")


@pytest.fixture
def month(desk, clock):
    clock.set(2026, 11, 3, 9, 0)  # the day after October's invoices, before the debit they announce
    b.structure(desk)
    u = b.units(desk)
    a = b.family(desk, "Muller", mode="prelevement")
    c = b.family(desk, "Zimmer", mode="prelevement", email="zimmer@example.fr")
    n = b.family(desk, "Nomandat", mode="prelevement")
    k = b.family(desk, "Cheque", mode="cheque")
    b.mandate(desk, a, rum="GDG-2025-0001")                                   # never collected: FRST
    b.mandate(desk, c, rum="GDG-2024-0007", iban="DE89370400440532013000", bic="COBADEFFXXX",
              first_collected_on=date(2026, 10, 12))                         # RCUR
    ids = {}
    for fam, qty in ((a, 17), (c, 10), (n, 3), (k, 5)):
        child = b.child_ids(desk, fam)[0]
        ids[fam] = b.invoice(desk, fam, date(2026, 10, 1), [(u["Soir"], child, "Soir", qty, 415)])
    return {"a": a, "c": c, "n": n, "k": k, "inv": ids}


def _xml_facts(xml: bytes):
    root = ET.fromstring(xml)
    txs = []
    for info in root.iterfind(".//p:PmtInf", NS):
        seq = info.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS)
        day = info.findtext("p:ReqdColltnDt", namespaces=NS)
        for tx in info.iterfind("p:DrctDbtTxInf", NS):
            txs.append((tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS), seq,
                        tx.findtext("p:InstdAmt", namespaces=NS), day))
    head = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    return sorted(txs), head.findtext("p:NbOfTxs", namespaces=NS), head.findtext("p:CtrlSum", namespaces=NS), root


def test_export_valid_frst_rcur_sums_and_prenotifications(responsable_desk, month):
    desk = responsable_desk
    # Part of Muller's invoice is already paid: only what remains is debited.
    payments.record_payment(desk, month["a"], mode="especes", received_on=date(2026, 11, 3), amount_cents=1055)
    result = sepa.export_month(desk, date(2026, 10, 1))
    assert sepa._schema().is_valid(result.xml.decode())
    txs, count, ctrl, root = _xml_facts(result.xml)
    # Collection day 10 of November, but the invoices (the pre-notification) are dated 02/11:
    # the debit comes 14 days later, on Monday 16/11 (pushed back, the notice not shortened).
    assert txs == [("GDG-2024-0007", "RCUR", "41.50", "2026-11-16"), ("GDG-2025-0001", "FRST", "60.00", "2026-11-16")]
    assert (count, ctrl) == ("2", "101.50")
    assert root.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == "FR44ZZZ123456"
    assert root.findtext(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "FR7630006000011234567890189"
    assert (result.count, result.total_cents, result.frst, result.rcur) == (2, 10150, 1, 1)
    assert any("Nomandat" in x and "aucun mandat actif" in x for x in result.skipped)
    with desk.read() as s:
        mandate = s.scalar(select(Mandate).where(Mandate.rum == "GDG-2025-0001"))
        assert mandate.first_collected_on == date(2026, 11, 16) and mandate.sequence_type == "RCUR"
        export = s.scalar(select(SepaExport))
        assert export.count == 2 and export.total_cents == 10150 and export.final
        msgs = {m.recipients: m for m in s.scalars(select(OutboxMessage))}
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "sepa.export")) == 1
    assert set(msgs) == {"claire.muller@example.fr", "zimmer@example.fr"}
    body = b.plain(msgs["claire.muller@example.fr"].body_text)
    assert "60,00 €" in body and "16/11/2026" in body
    assert "FR76 **** 0185" in body and "7630001007941234567890185" not in body
    assert "RUM) : GDG-2025-0001" in body and "ICS) : FR44ZZZ123456" in body
    assert "DE89 **** 3000" in msgs["zimmer@example.fr"].body_text
    # Exporting the month a second time is refused (it would debit twice).
    with pytest.raises(AlreadyDecided):
        sepa.export_month(desk, date(2026, 10, 1))


def test_next_month_is_rcur(desk, month):
    sepa.export_month(desk, date(2026, 10, 1), notify=False)
    u = b.units(desk)
    child = b.child_ids(desk, month["a"])[0]
    b.invoice(desk, month["a"], date(2026, 11, 1), [(u["Soir"], child, "Soir", 2, 415)])
    plan = sepa.plan_month(desk, date(2026, 11, 1))
    assert [(d.rum, d.sequence_type, d.amount_cents) for d in plan.debits] == [("GDG-2025-0001", "RCUR", 830)]
    # November's invoice is dated 02/12: 14 days later, Wednesday 16/12 (not the 10th).
    assert plan.collection_date == date(2026, 12, 16)
    # December, not invoiced yet: its collection day, 10/01/2027 a Sunday -> Monday 11.
    assert sepa.plan_month(desk, date(2026, 12, 1)).collection_date == date(2027, 1, 11)


def test_draft_export_changes_nothing(desk, month):
    result = sepa.export_month(desk, date(2026, 10, 1), final=False)
    assert not result.final and result.frst == 1
    with desk.read() as s:
        assert s.scalar(select(Mandate.first_collected_on).where(Mandate.rum == "GDG-2025-0001")) is None
        assert s.scalar(select(func.count(OutboxMessage.id))) == 0


def test_missing_creditor_settings_listed_in_french(desk, month):
    b.structure(desk, sepa_ics="", sepa_bic="", sepa_iban="FR7630006000011234567890188")
    with pytest.raises(ValidationFailed) as exc:
        sepa.export_month(desk, date(2026, 10, 1))
    text = str(exc.value)
    assert "IBAN du créancier : IBAN invalide" in text and "BIC du créancier" in text and "(ICS)" in text
    with desk.read() as s:
        assert s.scalar(select(func.count(SepaExport.id))) == 0


def test_invalid_document_is_refused():
    from gandrange_desk.errors import DeskError

    bad = b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><X/></Document>'
    with pytest.raises(DeskError) as exc:
        sepa.validate_xml(bad)
    assert "pas conforme au schéma pain.008.001.02" in str(exc.value)
    # An independent check of the same schema agrees with ours on the real files (tests above).
    assert not xmlschema.XMLSchema(XSD).is_valid(bad.decode())


def test_role_and_masking(agent_desk, month):
    with pytest.raises(PermissionDenied):
        sepa.export_month(agent_desk, date(2026, 10, 1))
    assert sepa.mask_iban("FR76 3000 1007 9412 3456 7890 185") == "FR76 **** 0185"


def test_record_collection_after_the_date(desk, month, clock):
    from gandrange_desk.errors import DeskError

    clock.set(2026, 11, 5, 9, 0)
    result = sepa.export_month(desk, date(2026, 10, 1), notify=False)
    with pytest.raises(DeskError) as exc:
        sepa.record_collection(desk, result.export_id)
    assert "pas encore passée" in str(exc.value)
    clock.set(2026, 11, 16, 9, 0)
    assert sepa.record_collection(desk, result.export_id).recorded == 2
    assert sepa.record_collection(desk, result.export_id).recorded == 0  # never twice
    with desk.read() as s:
        assert payments.remaining_cents(s, month["inv"][month["a"]]) == 0
        assert payments.remaining_cents(s, month["inv"][month["n"]]) == 1245


def test_command(desk, month, db_url, tmp_path, capsys):
    out = tmp_path / "oct.xml"
    assert main(["--db", db_url, "sepa", "export", "--month", "2026-10", "--out", str(out), "--no-notify"]) == 0
    text = b.plain(capsys.readouterr().out)
    assert "2 prélèvements pour 112,05 €" in text and "1 FRST, 1 RCUR" in text
    assert sepa._schema().is_valid(out.read_text(encoding="utf-8"))
    with desk.read() as s:
        assert s.scalar(select(func.count(OutboxMessage.id))) == 0
    assert main(["--db", db_url, "sepa", "export", "--month", "2026-13", "--out", str(out)]) == 1
    assert "Mois illisible" in capsys.readouterr().err
    # The command ran on today's clock, after the announced day: the debit moved 14 days later.
    # Pretend that day has passed.
    with desk.unit_of_work() as s:
        s.execute(update(SepaExport).values(collection_date=date(2026, 11, 20)))
        s.execute(update(SepaDebit).values(collection_date=date(2026, 11, 20)))
    assert main(["--db", db_url, "sepa", "collected", "--month", "2026-10"]) == 0
    assert "2 paiements enregistrés pour 112,05 € (prélèvements d'octobre 2026)" in b.plain(capsys.readouterr().out)
    assert main(["--db", db_url, "sepa", "collected", "--month", "2026-09"]) == 1
    assert "Aucun export définitif" in capsys.readouterr().err
