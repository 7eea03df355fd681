"""Anonymisation after the retention period: what goes, what the law makes us keep, who may do it."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from gandrange_desk import clock as real_clock
from gandrange_desk.clock import PARIS
from gandrange_desk.errors import PermissionDenied, ValidationFailed
from gandrange_desk.models import (
    Appointment, AuditEntry, Child, Document, Family, FeedEntry, Guardian, Invoice, InvoiceLine,
    Mandate, OutboxAttachment, OutboxMessage, Payment, PaymentAllocation, PaymentMode, PickupPerson,
    QuotientRecord, Request, RequestKind,
)
from gandrange_desk.services.families import file as families
from gandrange_desk.services.families import retention
from gandrange_desk.services.families.export import export_data
from gandrange_desk.services.mail.outbox import enqueue
from tests import payments_builders as pb
from tests.builders import make_booking, make_family

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

OLD_WORDS = ("Muller", "Claire", "Léa", "claire.muller", "06 12 34 56 78", "Mamie Jeanne", "arachide",
             "Dr Weber", "rue de la Gare")


def old_family(desk, name="Muller", *, last_day=date(2020, 3, 10), archived=True, paid=True,
               ref=None) -> int:
    """A family whose last activity was `last_day`, with every kind of personal data on file."""
    pb.structure(desk)
    unit = pb.units(desk)["Midi"]
    with desk.unit_of_work() as s:
        f = make_family(s, name, ref=ref, payment_mode=PaymentMode.PRELEVEMENT, phone="03 87 12 34 56",
                        guardians=[{"first_name": "Claire", "last_name": name,
                                    "email": f"claire.{name.lower()}@example.org", "phone": "06 12 34 56 78"},
                                   {"first_name": "Marc", "last_name": name, "email": "", "phone": "06 98 76 54 32"}],
                        children=[{"first_name": "Léa", "birth_date": date(2014, 4, 12), "health_notes": "asthme",
                                   "allergies": "arachide", "pai": True, "doctor": "Dr Weber",
                                   "pickup": [{"name": "Mamie Jeanne", "relation": "grand-mère",
                                               "phone": "03 87 11 22 33"}]},
                                  {"first_name": "Hugo", "birth_date": date(2016, 9, 30)}])
        f.notes = f"Famille {name}, voir Claire le mardi"
        f.portal_password_hash = "$argon2id$fake"
        f.created_at = datetime(2019, 8, 20, 10, 0, tzinfo=PARIS)
        family_id, child_id = f.id, f.children[0].id
        s.add(Document(family_id=family_id, kind="Attestation CAF", title=f"Attestation CAF {name}",
                       filename=f"caf_{name.lower()}.pdf", content=b"%PDF-1.4 secret", version=1))
        s.add(Request(kind=RequestKind.REGISTRATION, source="portal", ref=f"P-{family_id:05d}", family_id=family_id,
                      submitted_at=datetime(2019, 8, 25, 9, 0, tzinfo=PARIS), status="accepted",
                      decided_at=datetime(2019, 8, 26, 9, 0, tzinfo=PARIS),
                      payload=json.dumps({"child": {"first_name": "Léa", "last_name": name}})))
        s.add(FeedEntry(ref=f"P-{family_id:05d}", kind="registration", submitted_at=datetime(2019, 8, 25, tzinfo=PARIS),
                        imported_at=datetime(2019, 8, 25, 10, 0, tzinfo=PARIS),
                        payload=json.dumps({"guardian": f"Claire {name}"})))
        s.add(Appointment(starts_at=datetime(2019, 9, 3, 17, 0, tzinfo=PARIS), family_id=family_id,
                          visitor_name=f"Claire {name}", visitor_phone="06 12 34 56 78", status="done",
                          notes="aide pour Léa"))
        enqueue(s, desk, recipients=[f"claire.{name.lower()}@example.org"], subject=f"Réservation de Léa {name}",
                body_text=f"Bonjour Claire {name}, la réservation de Léa est acceptée.", family_id=family_id,
                kind="decision", attachments=[("lettre.pdf", "application/pdf", b"%PDF secret")])
        desk.audit(s, "family.foyer", "family", family_id, family_id=family_id,
                   before={"name": name, "phone": ""}, after={"name": name, "phone": "03 87 12 34 56"})
    make_booking(desk, child_id, unit, last_day)
    month = date(last_day.year, last_day.month, 1)
    # Issued on the 2nd of the next month, due on the 28th (the builder's defaults).
    invoice_id = pb.invoice(desk, family_id, month, [(unit, child_id, "Repas", 4, 450)])
    if paid:
        with desk.unit_of_work() as s:
            p = Payment(family_id=family_id, mode="cheque", received_on=_next_month(month, 20), amount_cents=1800,
                        reference="Chèque n° 1234567")
            p.allocations.append(PaymentAllocation(invoice_id=invoice_id, amount_cents=1800))
            s.add(p)
    if archived:
        snap = families.get_family(desk, family_id)
        families.archive_family(desk, family_id, snap.version)
    return family_id


def _next_month(month: date, day: int) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, day)


def _dump_family_rows(desk, family_id) -> str:
    """Every text column of the family's non-accounting rows, to look for the old words."""
    with desk.read() as s:
        rows = [s.get(Family, family_id)]
        rows += s.execute(select(Guardian).where(Guardian.family_id == family_id)).scalars().all()
        rows += s.execute(select(Child).where(Child.family_id == family_id)).scalars().all()
        rows += s.execute(select(Document).where(Document.family_id == family_id)).scalars().all()
        rows += s.execute(select(Request).where(Request.family_id == family_id)).scalars().all()
        rows += s.execute(select(OutboxMessage).where(OutboxMessage.family_id == family_id)).scalars().all()
        rows += s.execute(select(Appointment).where(Appointment.family_id == family_id)).scalars().all()
        rows += s.execute(select(Mandate).where(Mandate.family_id == family_id)).scalars().all()
        rows += s.execute(select(FeedEntry)).scalars().all()
        rows += s.execute(select(AuditEntry).where(AuditEntry.family_id == family_id,
                                                   AuditEntry.entity != "invoice")).scalars().all()
        out = []
        for row in rows:
            for col in row.__table__.columns:
                value = getattr(row, col.key, None)
                if isinstance(value, (str, bytes)):
                    out.append(value if isinstance(value, str) else value.decode("latin-1"))
        return "\n".join(out)


def _invoice_state(desk, family_id):
    with desk.read() as s:
        inv = s.execute(select(Invoice).where(Invoice.family_id == family_id)).scalar_one()
        lines = [(ln.label, ln.child_name, ln.quantity, ln.unit_price_cents, ln.amount_cents)
                 for ln in s.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)).scalars()]
        pays = [(p.amount_cents, p.reference, p.received_on)
                for p in s.execute(select(Payment).where(Payment.family_id == family_id)).scalars()]
        return (inv.number, inv.total_cents, inv.billed_name, inv.billed_address, inv.status, lines, pays)


def test_anonymise_keeps_invoices_and_payments_and_removes_personal_data(desk):
    fid = old_family(desk)
    before = _invoice_state(desk, fid)
    assert "Muller" in _dump_family_rows(desk, fid)
    found = retention.eligible(desk)
    assert [c.family_id for c in found] == [fid]
    assert found[0].last_activity == date(2020, 4, 20)  # the payment
    assert found[0].eligible_from == date(2026, 9, 1)

    result = retention.anonymise(desk, [fid])
    assert result.families == [(fid, found[0].ref)] and result.children == 2 and result.guardians == 2

    # Accounting records: untouched, numbers, amounts, billed name and the child on the line.
    after = _invoice_state(desk, fid)
    assert after == before
    assert after[2] == "Muller" and after[5][0][1] == "Léa Muller"
    assert pb.plain(families.get_family(desk, fid).name) == f"Famille anonymisée {found[0].ref}"
    assert families.get_family(desk, fid).balance_cents == 0

    text = _dump_family_rows(desk, fid)
    for word in OLD_WORDS:
        assert word.lower() not in text.lower(), word
    with desk.read() as s:
        f = s.get(Family, fid)
        assert f.portal_login is None and f.portal_password_hash is None and f.anonymised_at == desk.now()
        kids = s.execute(select(Child).where(Child.family_id == fid).order_by(Child.first_name)).scalars().all()
        assert [(c.full_name, c.birth_date, c.health_notes, c.allergies, c.pai, c.doctor) for c in kids] == [
            ("Enfant 1", date(2014, 1, 1), "", "", False, ""), ("Enfant 2", date(2016, 1, 1), "", "", False, "")]
        assert s.execute(select(func.count(PickupPerson.id))).scalar_one() == 0
        assert s.execute(select(func.count(QuotientRecord.id))).scalar_one() == 0
        assert s.execute(select(func.count(OutboxAttachment.id))).scalar_one() == 0
        doc = s.execute(select(Document).where(Document.family_id == fid)).scalar_one()
        assert doc.content is None and doc.filename == ""
        mail = s.execute(select(OutboxMessage).where(OutboxMessage.family_id == fid)).scalar_one()
        assert mail.body_text == "" and mail.recipients == "" and mail.status == "failed"
        req = s.execute(select(Request).where(Request.kind == RequestKind.REGISTRATION)).scalar_one()
        assert req.payload == ""
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "family.anonymise")).scalar_one()
        assert entry.user_login == desk.actor.login and entry.family_id == fid
        assert "Muller" not in entry.before + entry.after

    # Search: nothing under the old name, the ref still finds the file.
    assert families.search(desk, "muller", include_archived=True).rows == []
    assert families.search(desk, "lea", include_archived=True).rows == []
    assert [r.id for r in families.search(desk, found[0].ref, include_archived=True).rows] == [fid]
    # An access request now shows the anonymised file, invoices and payments still there.
    data = export_data(desk, fid)
    dumped = json.dumps(data, ensure_ascii=False).lower()
    for word in OLD_WORDS:
        assert word.lower() not in dumped, word
    assert data["famille"]["nom"] == f"Famille anonymisée {found[0].ref}"
    assert [e["prenom"] for e in data["enfants"]] == ["Enfant 1", "Enfant 2"]
    assert data["factures"][0]["total_centimes"] == 1800 and data["reglements"][0]["montant_centimes"] == 1800
    assert retention.eligible(desk) == []


def test_refusals_in_french_and_nothing_written(desk):
    ok = old_family(desk, "Muller")
    recent = old_family(desk, "Schmitt", last_day=date(2021, 6, 15))
    active = old_family(desk, "Klein", archived=False)
    unpaid = old_family(desk, "Weber", paid=False)
    assert [c.family_id for c in retention.eligible(desk)] == [ok]

    with pytest.raises(ValidationFailed) as caught:
        retention.anonymise(desk, [ok, recent, active, unpaid])
    message = pb.plain(str(caught.value))
    assert message.startswith("Anonymisation refusée, rien n'a été modifié :")
    assert "(Schmitt) est encore dans sa durée de conservation : dernière activité le 20/07/2021, " \
           "anonymisable à partir du 01/09/2027." in message
    assert "(Klein) n'est pas archivée : seule une famille archivée peut être anonymisée." in message
    assert "(Weber) a un solde impayé de 18,00 € : il doit être réglé ou annulé par un avoir" in message
    assert "Muller" not in message
    with desk.read() as s:
        assert s.execute(select(func.count(Family.id)).where(Family.anonymised_at.is_not(None))).scalar_one() == 0
        assert s.get(Family, ok).name == "Muller"

    retention.anonymise(desk, [ok])
    with pytest.raises(ValidationFailed, match="déjà anonymisée le 26/11/2026"):
        retention.anonymise(desk, [ok])


def test_retention_setting_moves_the_date(desk):
    fid = old_family(desk, last_day=date(2021, 3, 10))
    assert retention.eligible(desk) == []
    retention.set_retention_years(desk, 5)
    assert [c.eligible_from for c in retention.eligible(desk)] == [date(2026, 9, 1)]
    assert retention.retention_years(desk) == 5
    with pytest.raises(ValidationFailed, match="entre 1 et 30"):
        retention.set_retention_years(desk, 0)
    assert retention.school_year_end(date(2021, 9, 1)) == date(2022, 8, 31)
    assert retention.school_year_end(date(2021, 8, 31)) == date(2021, 8, 31)
    assert fid


def test_roles(desk, agent_desk, responsable_desk):
    fid = old_family(desk)
    for other in (agent_desk, responsable_desk):
        with pytest.raises(PermissionDenied, match="Anonymiser des familles : réservé au rôle « administrateur »"):
            retention.anonymise(other, [fid])
        with pytest.raises(PermissionDenied):
            retention.eligible(other)
        with pytest.raises(PermissionDenied):
            retention.set_retention_years(other, 8)
    with desk.read() as s:
        assert s.get(Family, fid).anonymised_at is None


def test_dry_run_writes_nothing(desk):
    fid = old_family(desk)
    snapshot = _dump_family_rows(desk, fid)
    with desk.read() as s:
        audits = s.execute(select(func.count(AuditEntry.id))).scalar_one()
    result = retention.anonymise(desk, [fid], dry_run=True)
    assert result.dry_run and result.families and result.children == 2 and result.messages == 1
    assert "Simulation : 1 famille serait anonymisée" in result.text()
    assert _dump_family_rows(desk, fid) == snapshot
    with desk.read() as s:
        assert s.execute(select(func.count(AuditEntry.id))).scalar_one() == audits
        assert s.execute(select(func.count(QuotientRecord.id))).scalar_one() == 1


def test_commands(desk, db_url, capsys):
    from gandrange_desk.cli import main

    fid = old_family(desk)
    # The commands run on the real clock: Schmitt's last activity is in January of last year,
    # eligible about five years after the day the test runs (a fixed date would become
    # eligible one day and fail the test from then on).
    schmitt_year = real_clock.today().year - 1
    old_family(desk, "Schmitt", last_day=date(schmitt_year, 1, 10))
    assert main(["--db", db_url, "families", "eligible", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in listed["families"]] == [fid] and listed["retention_years"] == 6

    assert main(["--db", db_url, "families", "anonymise", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] is True and [f["id"] for f in dry["families"]] == [fid]
    with desk.read() as s:
        assert s.get(Family, fid).name == "Muller"

    assert main(["--db", db_url, "families", "anonymise"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 famille anonymisée (2 enfants, 2 responsables")
    with desk.read() as s:
        assert s.get(Family, fid).name.startswith("Famille anonymisée")
        schmitt = s.execute(select(Family.ref).where(Family.name == "Schmitt")).scalar_one()

    assert main(["--db", db_url, "families", "anonymise", schmitt]) == 1
    err = capsys.readouterr().err
    assert f"anonymisable à partir du 01/09/{schmitt_year + 6}" in err
    assert main(["--db", db_url, "families", "anonymise", "F-NOPE"]) == 1
    assert "Famille introuvable : F-NOPE." in capsys.readouterr().err


def test_retention_command(desk, db_url, capsys):
    from gandrange_desk.cli import main

    assert main(["--db", db_url, "families", "retention"]) == 0
    assert capsys.readouterr().out.startswith("Durée de conservation : 6 ans après la fin de l'année scolaire")
    assert main(["--db", db_url, "families", "retention", "8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"retention_years": 8}
    assert main(["--db", db_url, "families", "retention", "0"]) == 1
    assert "Durée de conservation : un nombre d'années entre 1 et 30." in capsys.readouterr().err
    assert retention.retention_years(desk) == 8


def test_a_draft_invoice_blocks_anonymisation(desk):
    from gandrange_desk.models import InvoiceStatus

    fid = old_family(desk)
    unit = pb.units(desk)["Midi"]
    with desk.read() as s:
        child = s.execute(select(Child.id).where(Child.family_id == fid)).scalars().first()
    pb.invoice(desk, fid, date(2020, 5, 1), [(unit, child, "Repas", 1, 450)], status=InvoiceStatus.DRAFT)
    assert retention.eligible(desk) == []
    with pytest.raises(ValidationFailed, match=r"\(Muller\) a 1 facture en brouillon à émettre ou supprimer"):
        retention.anonymise(desk, [fid])
