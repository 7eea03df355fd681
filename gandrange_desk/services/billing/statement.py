"""A family's account statement: its issued invoices, credit notes and payments in date order,
with the running balance — what the clerk reads out when a parent asks "où en est mon compte ?".

The balance is the same as everywhere else (`payments.family_balance`): invoiced − credited −
paid; positive, the family owes it; negative, the family is in credit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from gandrange_desk import formats
from gandrange_desk.models import CreditNote, Invoice, InvoiceStatus, Payment, PaymentMode
from gandrange_desk.services.billing.payments import family_balance
from gandrange_desk.services.context import Desk


@dataclass(frozen=True)
class StatementLine:
    day: date
    kind: str  # "invoice" | "credit_note" | "payment"
    label: str  # "Facture 2026-000123 — novembre 2026"
    debit_cents: int  # what the family owes more
    credit_cents: int  # what it owes less
    balance_cents: int  # after this line
    detail: str = ""  # left to pay on an invoice, a payment's mode and reference


@dataclass
class Statement:
    family_id: int
    lines: list[StatementLine] = field(default_factory=list)
    invoiced_cents: int = 0
    credited_cents: int = 0
    paid_cents: int = 0
    unallocated_cents: int = 0

    @property
    def balance_cents(self) -> int:
        return self.invoiced_cents - self.credited_cents - self.paid_cents

    def summary(self) -> str:
        balance = self.balance_cents
        if balance > 0:
            state = f"reste à payer {formats.euros(balance)}"
        elif balance < 0:
            state = f"en crédit de {formats.euros(-balance)}"
        else:
            state = "à jour"
        return (f"Facturé {formats.euros(self.invoiced_cents)} ; avoirs {formats.euros(self.credited_cents)} ; "
                f"réglé {formats.euros(self.paid_cents)} — {state}.")


def family_statement(desk: Desk, family_id: int) -> Statement:
    with desk.read() as s:
        balance = family_balance(s, family_id)
        invoices = s.execute(select(Invoice.id, Invoice.number, Invoice.month, Invoice.issue_date,
                                    Invoice.issued_at, Invoice.total_cents)
                             .where(Invoice.family_id == family_id, Invoice.status == InvoiceStatus.ISSUED)).all()
        numbers = {i.id: i.number for i in invoices}
        notes = s.execute(select(CreditNote.number, CreditNote.issued_at, CreditNote.total_cents,
                                 CreditNote.invoice_id, CreditNote.reason)
                          .where(CreditNote.invoice_id.in_(list(numbers) or [-1]))).all()
        payments = s.execute(select(Payment.id, Payment.received_on, Payment.amount_cents, Payment.mode,
                                    Payment.reference).where(Payment.family_id == family_id)).all()
    entries = []  # (day, order, kind, label, debit, credit, detail)
    for i in invoices:
        day = i.issue_date or (i.issued_at.date() if i.issued_at else i.month)
        entries.append((day, 0, "invoice", f"Facture {i.number} — {formats.month_year(i.month)}",
                        i.total_cents, 0, ""))
    for n in notes:
        entries.append((n.issued_at.date(), 1, "credit_note",
                        f"Avoir {n.number} sur la facture {numbers.get(n.invoice_id, '')}", 0, n.total_cents,
                        n.reason or ""))
    for p in payments:
        detail = " — ".join(x for x in (PaymentMode.label_of(p.mode), p.reference) if x)
        entries.append((p.received_on, 2, "payment", "Règlement", 0, p.amount_cents, detail))
    statement = Statement(family_id, invoiced_cents=balance.invoiced_cents, credited_cents=balance.credited_cents,
                          paid_cents=balance.paid_cents, unallocated_cents=balance.unallocated_cents)
    running = 0
    for day, _order, kind, label, debit, credit, detail in sorted(entries, key=lambda e: (e[0], e[1], e[3])):
        running += debit - credit
        statement.lines.append(StatementLine(day, kind, label, debit, credit, running, detail))
    return statement


__all__ = ["Statement", "StatementLine", "family_statement"]
