"""Demo payments: most past invoices paid, a few unpaid, prélèvement on the announced debit day."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import func, select

from gandrange_desk.models import Mandate, Payment
from gandrange_desk.services.billing import payments
from gandrange_desk.services.billing import reminders
from gandrange_desk.demo.payments import add_payments
from tests import payments_builders as b


def test_add_payments(desk):
    b.structure(desk)
    u = b.units(desk)
    debit = b.family(desk, "Prel", mode="prelevement")
    b.mandate(desk, debit, rum="GDG-DEMO-1")
    fams = [b.family(desk, f"F{i}") for i in range(60)]
    for fam in [debit, *fams]:
        child = b.child_ids(desk, fam)[0]
        for m in (9, 10):
            b.invoice(desk, fam, date(2026, m, 1), [(u["Soir"], child, "Soir", 5 + m, 415)],
                      issue=date(2026, m + 1, 2), due=None if fam == debit else date(2026, m + 1, 25))
    text = add_payments(desk, random.Random(3))
    assert "paiements" in text
    unpaid = reminders.unpaid_invoices(desk)
    with desk.read() as s:
        n_pay = s.scalar(select(func.count(Payment.id)))
        debit_pay = s.scalars(select(Payment).where(Payment.family_id == debit)).all()
        mandate = s.scalar(select(Mandate).where(Mandate.rum == "GDG-DEMO-1"))
        assert all(payments.family_balance(s, f).balance_cents >= 0 for f in fams)
    # Most are paid, some stay unpaid; the prélèvement family is debited on the day its invoice
    # announced: the 10th, pushed to 14 days after the invoice dated the 2nd.
    assert 90 <= n_pay < 122 and 1 <= len(unpaid) <= 30
    assert sorted(p.received_on for p in debit_pay) == [date(2026, 10, 16), date(2026, 11, 16)]
    assert mandate.sequence_type == "RCUR" and mandate.first_collected_on == date(2026, 10, 16)
    assert all(p.mode == "prelevement" for p in debit_pay)
