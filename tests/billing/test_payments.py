"""Payments: recording, allocation oldest first or by hand, credit, balances, unpaid list, reminders."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from gandrange_desk.cli import main
from gandrange_desk.errors import PermissionDenied, ValidationFailed
from gandrange_desk.models import AuditEntry, CreditNote, OutboxMessage, Payment, PaymentAllocation
from gandrange_desk.services.billing import payments
from gandrange_desk.services.billing import reminders
from tests import payments_builders as b

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


@pytest.fixture
def setup(desk):
    b.structure(desk)
    u = b.units(desk)
    fam = b.family(desk)
    child = b.child_ids(desk, fam)[0]
    sept = b.invoice(desk, fam, date(2026, 9, 1), [(u["Soir"], child, "Soir", 10, 300)],
                     due=date(2026, 10, 31))   # 30,00 €
    octo = b.invoice(desk, fam, date(2026, 10, 1), [(u["Soir"], child, "Soir", 17, 415)],
                     due=date(2026, 11, 30))   # 70,55 €
    return {"fam": fam, "sept": sept, "oct": octo, "units": u, "child": child}


def _numbers(desk, *ids):
    from gandrange_desk.models import Invoice
    with desk.read() as s:
        return [s.get(Invoice, i).number for i in ids]


def test_allocation_oldest_first_and_overpayment_stays_as_credit(desk, setup):
    result = payments.record_payment(desk, setup["fam"], mode="cheque", received_on=date(2026, 11, 20),
                                     amount_cents=120_00, reference="Chèque 1234567 CIC")
    sept, octo = _numbers(desk, setup["sept"], setup["oct"])
    assert result.allocations == [(sept, 3000), (octo, 7055)]
    assert result.unallocated_cents == 12000 - 3000 - 7055
    assert "19,45 €" in b.plain(result.summary()) and "avoir" in result.summary()
    with desk.read() as s:
        assert payments.paid_cents(s, setup["sept"]) == 3000
        assert payments.paid_cents(s, setup["oct"]) == 7055
        assert payments.remaining_cents(s, setup["oct"]) == 0
        bal = payments.family_balance(s, setup["fam"])
        assert bal.balance_cents == -1945 and bal.unallocated_cents == 1945
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["payment.record", "payment.allocate", "payment.allocate"]
    # The credit goes to the next invoice when it is issued and the clerk applies it.
    nov = b.invoice(desk, setup["fam"], date(2026, 11, 1), [(setup["units"]["Matin"], setup["child"], "Matin", 5, 250)])
    assert payments.apply_family_credit(desk, setup["fam"]) == 1250
    with desk.read() as s:
        assert payments.remaining_cents(s, nov) == 0
        assert payments.family_balance(s, setup["fam"]).unallocated_cents == 695


def test_partial_payment_covers_the_oldest_invoice_first(desk, setup):
    payments.record_payment(desk, setup["fam"], mode="especes", received_on=date(2026, 11, 2), amount_cents=4000)
    with desk.read() as s:
        assert payments.remaining_cents(s, setup["sept"]) == 0
        assert payments.remaining_cents(s, setup["oct"]) == 7055 - 1000
        assert payments.family_balance(s, setup["fam"]).balance_cents == 10055 - 4000


def test_allocation_by_hand_never_more_than_remaining(desk, setup):
    with pytest.raises(ValidationFailed) as exc:
        payments.record_payment(desk, setup["fam"], mode="virement", received_on=date(2026, 11, 2),
                                amount_cents=5000, allocations=[(setup["sept"], 4000)])
    assert "n'a plus que 30,00 €" in b.plain(str(exc.value))
    with desk.read() as s:
        assert s.scalar(select(func.count(Payment.id))) == 0  # nothing written
    result = payments.record_payment(desk, setup["fam"], mode="virement", received_on=date(2026, 11, 2),
                                     amount_cents=5000, allocations=[(setup["oct"], 5000)])
    assert result.unallocated_cents == 0
    with desk.read() as s:
        assert payments.remaining_cents(s, setup["sept"]) == 3000
        assert payments.remaining_cents(s, setup["oct"]) == 2055
    with pytest.raises(ValidationFailed) as exc:
        payments.record_payment(desk, setup["fam"], mode="virement", received_on=date(2026, 11, 2),
                                amount_cents=1000, allocations=[(setup["sept"], 800), (setup["oct"], 800)])
    assert "dépasse le montant disponible" in str(exc.value)


def test_credit_notes_reduce_what_is_left(desk, setup):
    with desk.unit_of_work() as s:
        s.add(CreditNote(invoice_id=setup["oct"], number="AV-2026-000001", issued_at=desk.now(),
                         issued_by="x", reason="test", total_cents=2055))
    payments.record_payment(desk, setup["fam"], mode="carte", received_on=date(2026, 11, 2), amount_cents=10000)
    with desk.read() as s:
        assert payments.paid_cents(s, setup["oct"]) == 5000
        bal = payments.family_balance(s, setup["fam"])
    assert (bal.invoiced_cents, bal.credited_cents, bal.paid_cents) == (10055, 2055, 10000)
    assert bal.balance_cents == -2000 and bal.unallocated_cents == 2000


def test_validation_in_french_writes_nothing(desk, setup):
    with pytest.raises(ValidationFailed) as exc:
        payments.record_payment(desk, setup["fam"], mode="cheque", received_on=date(2026, 12, 1),
                                amount_cents=0, reference="")
    text = str(exc.value)
    assert "dans le futur" in text and "supérieur à zéro" in text and "numéro du chèque" in text
    with pytest.raises(ValidationFailed):
        payments.record_payment(desk, setup["fam"], mode="bitcoin", received_on=date(2026, 11, 1), amount_cents=100)
    assert payments.parse_amount("12,50") == 1250 and payments.parse_amount("12.5") == 1250
    assert payments.parse_amount("70") == 7000
    with pytest.raises(ValidationFailed):
        payments.parse_amount("12,505")
    assert payments.parse_mode("Chèque") == "cheque" and payments.parse_mode("CESU") == "cesu"
    with desk.read() as s:
        assert s.scalar(select(func.count(Payment.id))) == 0
        assert s.scalar(select(func.count(AuditEntry.id))) == 0


def test_unpaid_list_and_reminders(desk, setup, clock):
    other = b.family(desk, "Weber", email=None)
    child = b.child_ids(desk, other)[0]
    weber = b.invoice(desk, other, date(2026, 9, 1), [(setup["units"]["Matin"], child, "Matin", 8, 250)],
                      due=date(2026, 10, 31))
    payments.record_payment(desk, setup["fam"], mode="especes", received_on=date(2026, 11, 2), amount_cents=1000)
    rows = reminders.unpaid_invoices(desk)
    # October's invoice is not yet due on 26/11: only the two September ones.
    assert [r.invoice_id for r in rows] == [setup["sept"], weber]
    assert rows[0].remaining_cents == 2000 and rows[0].days_late(date(2026, 11, 26)) == 26
    result = reminders.remind(desk)
    assert (result.emailed, result.letters) == (1, 1)
    assert "1 relance envoyée par e-mail" in result.summary()
    sept_number = _numbers(desk, setup["sept"])[0]
    with desk.read() as s:
        msg = s.scalar(select(OutboxMessage))
        assert msg.kind == "relance" and msg.recipients == "claire.muller@example.fr"
        assert sept_number in msg.subject
        body = b.plain(msg.body_text)
        assert "Montant restant dû : 20,00 €" in body
        assert "31/10/2026" in body and "30,00 €" in body
        assert f"la facture {sept_number} de septembre 2026" in body
    assert payments.of_month(date(2026, 10, 1)) == "d'octobre 2026"
    assert payments.of_month(date(2026, 8, 1)) == "d'août 2026"
    with desk.read() as s:
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "invoice.remind")) == 2
    letter = b.plain("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(result.letters_pdf)).pages))
    assert "Weber" in letter and "Montant restant dû : 20,00 €" in letter and "57175 Gandrange" in letter
    # Pressing again the same week sends nothing twice; a week later it reminds again.
    again = reminders.remind(desk)
    assert (again.emailed, again.letters) == (0, 0)
    assert "2 factures déjà relancées depuis moins de 7 jours" in again.summary()
    clock.set(2026, 12, 4, 9, 0)
    later = reminders.remind(desk)  # October, due 30/11, is now overdue too
    assert (later.emailed, later.letters) == (2, 1)
    # Paid in full: no longer in the list.
    payments.record_payment(desk, other, mode="especes", received_on=date(2026, 11, 26), amount_cents=2000)
    assert [r.invoice_id for r in reminders.unpaid_invoices(desk)] == [setup["sept"], setup["oct"]]


def test_balances_of_many_families_match_one_by_one(desk, setup):
    other = b.family(desk, "Weber")
    child = b.child_ids(desk, other)[0]
    b.invoice(desk, other, date(2026, 9, 1), [(setup["units"]["Matin"], child, "Matin", 8, 250)])
    payments.record_payment(desk, setup["fam"], mode="especes", received_on=date(2026, 11, 2), amount_cents=12000)
    payments.record_payment(desk, other, mode="especes", received_on=date(2026, 11, 2), amount_cents=500)
    many = payments.balances(desk)
    with desk.read() as s:
        for fid in (setup["fam"], other):
            assert many[fid] == payments.family_balance(s, fid)
    assert many[setup["fam"]].balance_cents == -1945 and many[other].balance_cents == 1500
    assert set(payments.balances(desk, [other])) == {other}


def test_roles_enforced(desk, setup):
    from tests.conftest import Actor

    nobody = desk.as_actor(Actor("x", "X", "lecteur"))
    with pytest.raises(PermissionDenied):
        payments.record_payment(nobody, setup["fam"], mode="especes", received_on=date(2026, 11, 2), amount_cents=100)


def test_agent_records_payment(agent_desk, setup):
    result = payments.record_payment(agent_desk, setup["fam"], mode="especes", received_on=date(2026, 11, 2),
                                     amount_cents=500)
    with agent_desk.read() as s:
        p = s.get(Payment, result.payment_id)
        assert p.recorded_by == "sfoncin"
        assert s.scalar(select(PaymentAllocation.amount_cents)) == 500
    rows = payments.list_payments(agent_desk)
    assert rows[0].invoices == _numbers(agent_desk, setup["sept"])[0]


def test_commands(desk, setup, db_url, capsys):
    ref = b.family_ref(desk, setup["fam"])
    assert main(["--db", db_url, "payments", "record", "--family", ref, "--amount", "12,50",
                 "--mode", "cheque", "--date", "2026-11-20", "--reference", "Chèque 42"]) == 0
    out = capsys.readouterr().out
    assert "12,50 €" in b.plain(out)
    assert main(["--db", db_url, "--json", "payments", "unpaid"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["remaining_cents"] == 3000 - 1250
    assert main(["--db", db_url, "payments", "record", "--family", ref, "--amount", "abc",
                 "--mode", "cheque", "--date", "2026-11-20"]) == 1
    assert "Montant illisible" in capsys.readouterr().err
    assert main(["--db", db_url, "payments", "remind"]) == 0
    assert "relance" in capsys.readouterr().out


def test_simultaneous_payments_never_over_allocate(desk, setup):
    """Four workstations record a payment for the same family at once (PostgreSQL: row lock)."""
    import threading

    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import Desk

    engines = [make_engine(desk.engine.url) for _ in range(4)]
    barrier = threading.Barrier(4)
    errors = []

    def work(engine):
        other = Desk(engine, desk.actor, desk.now)
        barrier.wait()
        try:
            payments.record_payment(other, setup["fam"], mode="especes", received_on=date(2026, 11, 20),
                                    amount_cents=4000)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert errors == []
    with desk.read() as s:
        assert payments.paid_cents(s, setup["sept"]) == 3000
        assert payments.paid_cents(s, setup["oct"]) == 7055
        assert payments.family_balance(s, setup["fam"]).unallocated_cents == 16000 - 10055


def test_reminders_by_level_first_second_then_formal_notice_on_paper(desk, setup, clock, db_url, capsys, tmp_path):
    sept = _numbers(desk, setup["sept"])[0]
    first = reminders.remind(desk, level=2)  # nothing has had a first reminder yet
    assert (first.emailed, first.letters) == (0, 0)
    first = reminders.remind(desk)
    assert first.by_level == {1: 1} and "(1 1re relance)" in first.summary()
    clock.set(2026, 12, 4, 9, 0)  # a week later: September is at its 2nd, October at its 1st
    [row_sept, row_oct] = reminders.unpaid_invoices(desk)
    assert (row_sept.next_level, row_sept.level_title, row_oct.next_level) == (2, "2e relance", 1)
    second = reminders.remind(desk, [setup["sept"]])
    with desk.read() as s:
        mail = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.subject == f"2e relance : facture {sept} impayée"
    assert "Malgré notre précédente relance du 26/11/2026" in b.plain(mail.body_text)
    assert second.letters == 0
    clock.set(2026, 12, 12, 9, 0)
    # Only the formal notices: a letter to post even for a family with e-mail (and a copy by e-mail).
    third = reminders.remind(desk, level=3)
    assert "1 relance envoyée par e-mail ; 1 lettre de relance à imprimer (1 mise en demeure)." in third.summary()
    text = b.plain("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(third.letters_pdf)).pages))
    assert "Mise en demeure" in text and f"Mise en demeure de payer : facture {sept}" in text
    assert "dans un délai de 15 jours" in text
    with desk.read() as s:
        levels = [json.loads(a) ["level"] for a in s.scalars(
            select(AuditEntry.after).where(AuditEntry.action == "invoice.remind").order_by(AuditEntry.id))]
    assert levels == ["1re relance", "2e relance", "Mise en demeure"]
    # The command line says each invoice's next level, and reminds one level at a time.
    assert main(["--db", db_url, "payments", "unpaid"]) == 0
    assert "prochaine : mise en demeure" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["--db", db_url, "payments", "remind", "--level", "9"])
    assert exit_.value.code == 2 and "choix invalide" in capsys.readouterr().err
