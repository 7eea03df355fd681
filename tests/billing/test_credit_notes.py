"""Credit notes: whole or by line, quantities bounded, reason required, gap-free AV numbers, PDF kept."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from gandrange_desk.errors import PermissionDenied, ValidationFailed
from gandrange_desk.models import AuditEntry, CreditNote, Invoice, NumberSequence
from gandrange_desk.services.billing import credit_notes
from gandrange_desk.services.billing import payments
from tests import payments_builders as b


@pytest.fixture
def inv(desk):
    b.structure(desk)
    u = b.units(desk)
    fam = b.family(desk, "Schneider", children=[("Léa", date(2021, 5, 4)), ("Noé", date(2018, 2, 1))])
    noe, lea = b.child_ids(desk, fam)  # ordered by birth date
    invoice_id = b.invoice(desk, fam, date(2026, 10, 1), [
        (u["Soir"], lea, "Soir", 17, 415),      # 70,55 €
        (u["Midi"], noe, "Midi", 12, 380),      # 45,60 €
    ], number="2026-000042")
    with desk.read() as s:
        lines = [line.id for line in s.get(Invoice, invoice_id).lines]
    return {"id": invoice_id, "lines": lines, "fam": fam}


def _text(pdf: bytes) -> str:
    return b.plain("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_credit_note_by_line_with_pdf(responsable_desk, inv):
    desk = responsable_desk
    result = credit_notes.issue_credit_note(desk, inv["id"], reason="Sortie scolaire : garderie du soir annulée",
                                            quantities={inv["lines"][0]: 3})
    assert result.number == "AV-2026-000001" and result.total_cents == 3 * 415
    with desk.read() as s:
        note = s.get(CreditNote, result.credit_note_id)
        assert [(l.quantity, l.amount_cents) for l in note.lines] == [(3, 1245)]
        text = _text(note.pdf)
        audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "credit_note.issue"))
        assert audit.user_login == "mresp" and "AV-2026-000001" in audit.after
    assert "AVOIR" in text and "AV-2026-000001" in text and "2026-000042" in text
    assert "Sortie scolaire : garderie du soir annulée" in text
    assert "Léa Schneider" in text and "12,45 €" in text and "4,15 €" in text
    assert "Commune de Gandrange" in text and "SIRET" in text and "21570242500018" in text
    # Remaining after the first note: 14 Soir; asking for 15 is refused and writes nothing.
    with pytest.raises(ValidationFailed) as exc:
        credit_notes.issue_credit_note(desk, inv["id"], reason="x", quantities={inv["lines"][0]: 15})
    assert "au plus 14" in str(exc.value) and "déjà crédité 3" in str(exc.value)
    info = credit_notes.creditable(desk, inv["id"])
    assert [l.creditable_quantity for l in info.lines] == [14, 12]
    # The whole remaining invoice: the sum of both notes is exactly the invoice.
    whole = credit_notes.issue_credit_note(desk, inv["id"], reason="Facture émise par erreur")
    assert whole.number == "AV-2026-000002"
    assert whole.total_cents == 7055 + 4560 - 1245
    with desk.read() as s:
        assert payments.remaining_cents(s, inv["id"]) == 0
    with pytest.raises(ValidationFailed) as exc:
        credit_notes.issue_credit_note(desk, inv["id"], reason="encore")
    assert "déjà été entièrement créditée" in str(exc.value)


def test_reason_required_and_nothing_written(responsable_desk, inv):
    with pytest.raises(ValidationFailed) as exc:
        credit_notes.issue_credit_note(responsable_desk, inv["id"], reason="  ", quantities={inv["lines"][1]: 1})
    assert "motif" in str(exc.value)
    with pytest.raises(ValidationFailed) as exc:
        credit_notes.issue_credit_note(responsable_desk, inv["id"], reason="x", quantities={inv["lines"][1]: 0})
    assert "Rien à créditer" in str(exc.value)
    with responsable_desk.read() as s:
        assert s.scalar(select(func.count(CreditNote.id))) == 0
        # The refused attempts consumed no number.
        assert s.scalar(select(func.coalesce(func.max(NumberSequence.last_value), 0))) == 0
    ok = credit_notes.issue_credit_note(responsable_desk, inv["id"], reason="ok", quantities={inv["lines"][1]: 1})
    assert ok.number == "AV-2026-000001"


def test_role_responsable_required(agent_desk, inv):
    with pytest.raises(PermissionDenied) as exc:
        credit_notes.issue_credit_note(agent_desk, inv["id"], reason="x")
    assert "responsable" in str(exc.value)


def test_credit_on_paid_invoice_becomes_family_credit(desk, inv):
    payments.record_payment(desk, inv["fam"], mode="especes", received_on=date(2026, 11, 5), amount_cents=11615)
    result = credit_notes.issue_credit_note(desk, inv["id"], reason="Absence justifiée",
                                            quantities={inv["lines"][1]: 2})
    assert result.released_cents == 760
    assert "7,60 €" in b.plain(result.summary())
    with desk.read() as s:
        bal = payments.family_balance(s, inv["fam"])
        assert bal.balance_cents == -760 and bal.unallocated_cents == 760
        assert payments.paid_cents(s, inv["id"]) == 11615 - 760


def test_numbering_gap_free_across_years_and_invoices(desk, inv, clock):
    u = b.units(desk)
    other = b.invoice(desk, inv["fam"], date(2026, 11, 1), [(u["Matin"], None, "Matin", 4, 250)])
    numbers = [credit_notes.issue_credit_note(desk, i, reason="r", quantities=None).number
               for i in (inv["id"], other)]
    clock.set(2027, 1, 4, 9, 0)
    third = b.invoice(desk, inv["fam"], date(2026, 12, 1), [(u["Matin"], None, "Matin", 2, 250)])
    numbers.append(credit_notes.issue_credit_note(desk, third, reason="r").number)
    assert numbers == ["AV-2026-000001", "AV-2026-000002", "AV-2027-000001"]


def test_draft_invoice_refused(desk, inv):
    u = b.units(desk)
    draft = b.invoice(desk, inv["fam"], date(2026, 11, 1), [(u["Matin"], None, "Matin", 4, 250)],
                      status="draft")
    with pytest.raises(ValidationFailed) as exc:
        credit_notes.issue_credit_note(desk, draft, reason="x")
    assert "facture émise" in str(exc.value)


def test_two_workstations_at_once_get_consecutive_numbers(desk, inv, backend):
    """Two desks issuing at the same moment: no duplicate, no gap (locked counter)."""
    import threading

    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import Desk

    u = b.units(desk)
    invoices = [b.invoice(desk, inv["fam"], date(2026, m, 1), [(u["Matin"], None, "Matin", 2, 250)])
                for m in (3, 4, 5, 6)]
    engines = [make_engine(desk.engine.url) for _ in invoices]
    barrier = threading.Barrier(len(invoices))
    numbers, errors = [], []

    def work(engine, invoice_id):
        other = Desk(engine, desk.actor, desk.now)
        barrier.wait()
        try:
            numbers.append(credit_notes.issue_credit_note(other, invoice_id, reason="simultané").number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(e, i)) for e, i in zip(engines, invoices)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert errors == []
    assert sorted(numbers) == [f"AV-2026-{n:06d}" for n in range(1, 5)]


def test_send_credit_note_by_email(desk, inv):
    from gandrange_desk.models import OutboxMessage

    note = credit_notes.issue_credit_note(desk, inv["id"], reason="Grève du 12/10", quantities={inv["lines"][0]: 1})
    assert credit_notes.send_credit_note(desk, note.credit_note_id) == 1
    with desk.read() as s:
        msg = s.scalar(select(OutboxMessage))
        assert msg.kind == "avoir" and "AV-2026-000001" in msg.subject and "2026-000042" in msg.subject
        assert "Motif : Grève du 12/10" in msg.body_text and "4,15 €" in b.plain(msg.body_text)
        assert [a.filename for a in msg.attachments] == ["avoir-AV-2026-000001.pdf"]
        assert msg.attachments[0].content.startswith(b"%PDF")
    no_mail = b.family(desk, "Sansmail", email=None)
    u = b.units(desk)
    other = b.invoice(desk, no_mail, date(2026, 10, 1), [(u["Matin"], None, "Matin", 2, 250)])
    note2 = credit_notes.issue_credit_note(desk, other, reason="r")
    with pytest.raises(ValidationFailed) as exc:
        credit_notes.send_credit_note(desk, note2.credit_note_id)
    assert "pas d'adresse e-mail" in str(exc.value)


def test_issued_credit_note_never_changes(desk, inv):
    from gandrange_desk.errors import AlreadyDecided

    note = credit_notes.issue_credit_note(desk, inv["id"], reason="Motif", quantities={inv["lines"][0]: 1})
    with pytest.raises(AlreadyDecided):
        with desk.unit_of_work() as s:
            s.get(CreditNote, note.credit_note_id).total_cents = 1
    with pytest.raises(AlreadyDecided):
        with desk.unit_of_work() as s:
            s.get(CreditNote, note.credit_note_id).lines[0].quantity = 5
    with desk.read() as s:
        row = s.get(CreditNote, note.credit_note_id)
        assert row.total_cents == 415 and row.lines[0].quantity == 1
