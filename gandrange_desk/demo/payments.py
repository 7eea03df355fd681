"""Demo payments: most issued invoices of past months are paid, a few stay unpaid or half paid.

Called by the demo's billing step after issuing. Families paying by prélèvement are paid on the
collection day (their mandate is then RCUR); the others pay by cheque, cash, CESU, transfer or
card between the issue date and a little after the due date.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from gandrange_desk import formats
from gandrange_desk.models import (
    CreditNote,
    Family,
    Invoice,
    InvoiceStatus,
    Mandate,
    MandateState,
    Payment,
    PaymentAllocation,
    PaymentMode,
    Structure,
)
from gandrange_desk.services.context import Desk
from gandrange_desk.services.billing.sepa import collection_date

UNPAID_SHARE = 0.06  # past due, nothing paid
PARTIAL_SHARE = 0.04  # past due, paid in part
BANKS = ("Crédit Mutuel", "CIC", "Banque Populaire", "Caisse d'Épargne", "Crédit Agricole", "La Banque Postale")


def add_payments(desk: Desk, rng: random.Random) -> str:
    today = desk.today()
    now = desk.now()
    with desk.unit_of_work() as s:
        structure = s.scalar(select(Structure).order_by(Structure.id).limit(1))
        credited = dict(s.execute(select(CreditNote.invoice_id, func.sum(CreditNote.total_cents))
                                  .group_by(CreditNote.invoice_id)).all())
        allocated = dict(s.execute(select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents))
                                   .group_by(PaymentAllocation.invoice_id)).all())
        rows = s.execute(select(Invoice.id, Invoice.family_id, Invoice.month, Invoice.number, Invoice.issue_date,
                                Invoice.due_date, Invoice.total_cents, Family.payment_mode)
                         .join(Family, Family.id == Invoice.family_id)
                         .where(Invoice.status == InvoiceStatus.ISSUED)
                         .order_by(Invoice.issue_date, Invoice.number)).all()
        mandates = {m.family_id: m for m in s.scalars(select(Mandate).where(Mandate.state == MandateState.ACTIVE))}
        paid_count = unpaid = partial = 0
        paid_total = 0
        for inv_id, family_id, month, number, issue_date, due_date, total, mode in rows:
            remaining = total - int(credited.get(inv_id, 0) or 0) - int(allocated.get(inv_id, 0) or 0)
            if remaining <= 0 or issue_date is None:
                continue
            debit = mode == PaymentMode.PRELEVEMENT and family_id in mandates and structure is not None
            if debit:  # collected on the day the invoice announced
                day = due_date or collection_date(structure, month)
            else:
                due = due_date or issue_date + timedelta(days=30)
                day = issue_date + timedelta(days=rng.randrange(3, max(4, (due - issue_date).days + 10)))
            if day > today:
                continue  # not yet paid: the current month stays open
            draw = rng.random()
            past_due = due_date is not None and due_date < today
            if past_due and draw < UNPAID_SHARE and not debit:
                unpaid += 1
                continue
            amount = remaining
            if past_due and draw < UNPAID_SHARE + PARTIAL_SHARE and not debit:
                amount = max(100, remaining // 2 // 100 * 100)
                partial += 1
            if debit:
                pay_mode, reference = PaymentMode.PRELEVEMENT, f"SEPA {month:%Y-%m} {mandates[family_id].rum}"
                mandate = mandates[family_id]
                if mandate.first_collected_on is None or mandate.first_collected_on > day:
                    mandate.first_collected_on = day
                    mandate.sequence_type = "RCUR"
            else:
                pay_mode = rng.choices([PaymentMode.CHEQUE, PaymentMode.ESPECES, PaymentMode.CESU,
                                        PaymentMode.VIREMENT, PaymentMode.CARTE], [50, 12, 8, 18, 12])[0]
                if mode in (PaymentMode.CHEQUE, PaymentMode.ESPECES, PaymentMode.CESU, PaymentMode.VIREMENT,
                            PaymentMode.CARTE) and rng.random() < 0.8:
                    pay_mode = PaymentMode(mode)
                reference = {
                    PaymentMode.CHEQUE: f"Chèque n° {rng.randrange(1000000, 9999999)} {rng.choice(BANKS)}",
                    PaymentMode.VIREMENT: f"Virement {number}",
                    PaymentMode.CESU: f"{rng.randrange(1, 6)} titres CESU",
                    PaymentMode.CARTE: f"TPE {rng.randrange(100000, 999999)}",
                }.get(pay_mode, "")
            payment = Payment(family_id=family_id, mode=pay_mode, received_on=day, amount_cents=amount,
                              reference=reference, recorded_at=now, recorded_by=desk.actor.login)
            payment.allocations.append(PaymentAllocation(invoice_id=inv_id, amount_cents=amount))
            s.add(payment)
            paid_count += 1
            paid_total += amount
        s.flush()
        desk.audit(s, "demo.payments", "payment", None,
                   after={"payments": paid_count, "total_cents": paid_total, "unpaid": unpaid, "partial": partial})
    return (f"{formats.count(paid_count, 'paiement', 'paiements')} ({formats.euros(paid_total)}), "
            f"{formats.count(unpaid, 'facture laissée impayée', 'factures laissées impayées')}, "
            f"{formats.count(partial, 'payée en partie', 'payées en partie')}")
