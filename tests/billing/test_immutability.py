"""An issued invoice and a credit note never change: the models refuse it, whoever writes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date

import pytest
from sqlalchemy import select

from gandrange_desk.errors import IssuedInvoiceChange
from gandrange_desk.models import Invoice, InvoiceLine, InvoiceStatus
from tests import payments_builders as b


@pytest.fixture
def issued(desk):
    b.structure(desk)
    u = b.units(desk)
    fam = b.family(desk, "Schneider")
    child = b.child_ids(desk, fam)[0]
    return b.invoice(desk, fam, date(2026, 10, 1), [(u["Soir"], child, "Soir", 3, 415)], number="2026-000007")


def test_no_line_is_added_to_or_removed_from_an_issued_invoice(desk, issued):
    with pytest.raises(IssuedInvoiceChange, match="La facture 2026-000007 est émise : on ne peut pas lui ajouter"):
        with desk.unit_of_work() as s:
            s.add(InvoiceLine(invoice_id=issued, label="Soir", quantity=1, unit_price_cents=415, amount_cents=415))
    with pytest.raises(IssuedInvoiceChange, match="ses lignes ne peuvent plus être modifiées"):
        with desk.unit_of_work() as s:
            s.delete(s.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == issued)).scalars().first())
    with pytest.raises(IssuedInvoiceChange, match="elle ne peut plus être modifiée"):
        with desk.unit_of_work() as s:
            s.get(Invoice, issued).status = InvoiceStatus.DRAFT
    with desk.read() as s:
        invoice = s.get(Invoice, issued)
        assert (invoice.status, len(invoice.lines), invoice.lines[0].amount_cents) == ("issued", 1, 1245)


def test_a_draft_still_changes(desk):
    b.structure(desk)
    u = b.units(desk)
    fam = b.family(desk, "Weber")
    child = b.child_ids(desk, fam)[0]
    draft = b.invoice(desk, fam, date(2026, 10, 1), [(u["Soir"], child, "Soir", 3, 415)],
                      status=InvoiceStatus.DRAFT)
    with desk.unit_of_work() as s:
        invoice = s.get(Invoice, draft)
        invoice.lines[0].quantity = 4
        invoice.total_cents = 4 * 415
    with desk.unit_of_work() as s:
        s.delete(s.get(Invoice, draft))
    with desk.read() as s:
        assert s.get(Invoice, draft) is None


def test_the_rule_holds_with_only_the_models_imported(tmp_path):
    """No service module installs it: a script that imports the models alone is refused too."""
    script = textwrap.dedent(f"""
        import sys
        from datetime import date
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session
        from gandrange_desk.errors import IssuedInvoiceChange
        from gandrange_desk.models import Base, Invoice, InvoiceLine

        assert not any(name.startswith("gandrange_desk.services") for name in sys.modules)
        engine = create_engine("sqlite:///{tmp_path / 'models.sqlite3'}")
        Base.metadata.create_all(engine)
        with Session(engine) as s, s.begin():
            invoice = Invoice(family_id=1, month=date(2026, 10, 1), status="issued", number="2026-000001",
                              total_cents=415)
            invoice.lines.append(InvoiceLine(label="Soir", quantity=1, unit_price_cents=415, amount_cents=415))
            s.add(invoice)
        refused = []
        for change in (lambda i: setattr(i, "total_cents", 1), lambda i: setattr(i.lines[0], "quantity", 2),
                       lambda i: s.delete(i)):
            with Session(engine) as s:
                change(s.get(Invoice, 1))
                try:
                    s.commit()
                except IssuedInvoiceChange as exc:
                    refused.append(str(exc))
        with Session(engine) as s, s.begin():
            s.get(Invoice, 1).sent_at = None  # allowed, even when nothing changes
        print("\\n".join(refused))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "La facture 2026-000001 est émise : elle ne peut plus être modifiée (établissez un avoir).",
        "La facture 2026-000001 est émise : ses lignes ne peuvent plus être modifiées (établissez un avoir).",
        "La facture 2026-000001 est émise : elle ne peut pas être supprimée (établissez un avoir).",
    ]
