"""The family's account statement: invoices, credit notes and payments in date order, the running
balance, and the same balance as the rest of the desk — in its file's « Compte » tab."""

from __future__ import annotations

from datetime import date

from gandrange_desk.models import CreditNote
from gandrange_desk.services.billing import payments
from gandrange_desk.services.billing.statement import family_statement
from tests import payments_builders as b


def test_statement_in_date_order_with_the_running_balance(desk):
    b.structure(desk)
    u = b.units(desk)
    fam = b.family(desk)
    child = b.child_ids(desk, fam)[0]
    sept = b.invoice(desk, fam, date(2026, 9, 1), [(u["Soir"], child, "Soir", 10, 300)], number="2026-000010")
    b.invoice(desk, fam, date(2026, 10, 1), [(u["Soir"], child, "Soir", 17, 415)], number="2026-000020")
    b.invoice(desk, fam, date(2026, 11, 1), [(u["Soir"], child, "Soir", 1, 100)], status="draft")  # not billed yet
    payments.record_payment(desk, fam, mode="cheque", received_on=date(2026, 10, 15), amount_cents=3000,
                            reference="Chèque 123")
    with desk.unit_of_work() as s:
        s.add(CreditNote(invoice_id=sept, number="AV-2026-000001", issued_at=desk.now(), issued_by="x",
                         reason="Absence maladie", total_cents=500))
    st = family_statement(desk, fam)
    assert [(l.day, l.label, l.debit_cents, l.credit_cents, l.balance_cents) for l in st.lines] == [
        (date(2026, 10, 2), "Facture 2026-000010 — septembre 2026", 3000, 0, 3000),
        (date(2026, 10, 15), "Règlement", 0, 3000, 0),
        (date(2026, 11, 2), "Facture 2026-000020 — octobre 2026", 7055, 0, 7055),
        (date(2026, 11, 26), "Avoir AV-2026-000001 sur la facture 2026-000010", 0, 500, 6555),
    ]
    assert st.lines[1].detail == "Chèque — Chèque 123"
    with desk.read() as s:
        assert st.balance_cents == payments.family_balance(s, fam).balance_cents == 6555
    assert b.plain(st.summary()) == "Facturé 100,55 € ; avoirs 5,00 € ; réglé 30,00 € — reste à payer 65,55 €."


def test_the_family_file_shows_its_account(qtbot, desk):
    from gandrange_desk.ui.families.file import FamilyFileDialog

    b.structure(desk)
    u = b.units(desk)
    fam = b.family(desk)
    b.invoice(desk, fam, date(2026, 9, 1), [(u["Midi"], b.child_ids(desk, fam)[0], "Midi", 4, 350)],
              number="2026-000031")
    payments.record_payment(desk, fam, mode="especes", received_on=date(2026, 11, 2), amount_cents=2000)
    dialog = FamilyFileDialog(desk, fam)
    qtbot.addWidget(dialog)
    assert dialog.tabs.tabText(5) == "Compte"
    page = dialog.account
    assert b.plain(page.summary.text()).startswith("Facturé 14,00 € ; avoirs 0,00 € ; réglé 20,00 € — en crédit de 6,00 €.")
    assert [page.model.index(r, 1).data() for r in range(page.model.rowCount())] == [
        "Facture 2026-000031 — septembre 2026", "Règlement"]
    assert b.plain(page.model.index(1, 4).data()) == "-6,00 €"
