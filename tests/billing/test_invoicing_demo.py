"""Demo billing: past months issued on their own (chronological) dates, the current one left open."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from gandrange_desk.models import Invoice
from gandrange_desk.demo.billing import add_billing, past_months
from tests.builders import load_example_settings, make_family, unit_id
from tests.billing.test_invoicing import book


def test_add_billing_issues_past_months_in_order(desk, clock, monkeypatch):
    import gandrange_desk.demo.billing as demo_billing

    load_example_settings(desk)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Demo")
    book(desk, fam.children[0].id, repas, [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 2)])
    clock.set(2026, 11, 26, 9, 0)
    assert past_months(desk) == [date(2026, 9, 1), date(2026, 10, 1)]
    # The payments step has its own tests; here only the billing step.
    monkeypatch.setattr(demo_billing.demo_payments, "add_payments", lambda desk, rng: "")
    text = add_billing(desk, random.Random(1))
    assert text == "Facturation : 2 factures émises (septembre 2026, octobre 2026)."
    with desk.read() as s:
        rows = s.execute(select(Invoice.number, Invoice.month, Invoice.issue_date, Invoice.issued_by)
                         .order_by(Invoice.number)).all()
    assert [(r.number, r.month, r.issue_date, r.issued_by) for r in rows] == [
        ("2026-000001", date(2026, 9, 1), date(2026, 10, 2), "nbecker"),
        ("2026-000002", date(2026, 10, 1), date(2026, 11, 2), "nbecker"),
    ]
    # Running it again changes nothing.
    assert add_billing(desk, random.Random(1)) == "Facturation : 0 facture émise."
