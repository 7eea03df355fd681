"""Payments: record, allocate to issued invoices, balances, the unpaid list and reminders.

An invoice's remaining amount is its total, less its credit notes, less what payments were
allocated to it. A payment is allocated oldest invoice first unless the clerk chooses; what is
left over stays unallocated on the payment: the family's credit, used by the next invoices.
A reversed payment (`reversals`) counts for nothing: its allocations are undone and it is
never the family's credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import (
    CreditNote,
    Family,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMode,
    Role,
)
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk

MODES = tuple(m.value for m in PaymentMode)
MODE_ALIASES = {
    "prélèvement": PaymentMode.PRELEVEMENT, "prelevement": PaymentMode.PRELEVEMENT,
    "chèque": PaymentMode.CHEQUE, "cheque": PaymentMode.CHEQUE,
    "espèces": PaymentMode.ESPECES, "especes": PaymentMode.ESPECES,
    "cesu": PaymentMode.CESU, "virement": PaymentMode.VIREMENT,
    "carte": PaymentMode.CARTE, "carte bancaire": PaymentMode.CARTE, "cb": PaymentMode.CARTE,
}
MAX_PAYMENT_CENTS = 100_000_00  # a periscolaire payment above 100 000 € is a typing error


of_month = formats.of_month


def mode_label(mode: str) -> str:
    # Restored: a merge dropped it while `reversals` and the reversal dialog still call it.
    return PaymentMode.label_of(mode)


def parse_mode(text: str) -> str:
    mode = MODE_ALIASES.get((text or "").strip().lower())
    if mode is None:
        choices = ", ".join(m.label.lower() for m in PaymentMode)
        raise ValidationFailed([f"Mode de paiement inconnu « {text} » (choisir parmi : {choices})."])
    return mode.value


_AMOUNT = re.compile(r"^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*(?:€)?\s*$")


def parse_amount(text: str) -> int:
    """'12,50' or '12.50' or '12' -> 1250 cents, without ever going through a float."""
    match = _AMOUNT.match((text or "").replace("\u202f", "").replace("\xa0", "").replace(" ", ""))
    if not match:
        raise ValidationFailed([f"Montant illisible « {text} » : écrivez par exemple 12,50."])
    euros_part, cents_part = match.groups()
    cents_part = (cents_part or "0").ljust(2, "0")
    return int(euros_part) * 100 + int(cents_part)


# ---------------------------------------------------------------------------------------------
# Amounts per invoice and per family (all inside the caller's session)


def paid_cents(s: Session, invoice_id: int) -> int:
    """What payments were allocated to the invoice (the invoice PDF's « déjà payé »)."""
    return int(s.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
                        .where(PaymentAllocation.invoice_id == invoice_id)) or 0)


def credited_cents(s: Session, invoice_id: int) -> int:
    return int(s.scalar(select(func.coalesce(func.sum(CreditNote.total_cents), 0))
                        .where(CreditNote.invoice_id == invoice_id)) or 0)


def remaining_cents(s: Session, invoice_id: int) -> int:
    """Left to pay on an issued invoice (never below zero; an excess is the family's credit)."""
    invoice = s.get(Invoice, invoice_id)
    if invoice is None or invoice.status != InvoiceStatus.ISSUED:
        return 0
    return max(0, invoice.total_cents - credited_cents(s, invoice_id) - paid_cents(s, invoice_id))


def _sums_by_invoice(s: Session, model, invoice_ids: list[int]) -> dict[int, int]:
    if not invoice_ids:
        return {}
    rows = s.execute(select(model.invoice_id, func.sum(model.amount_cents if model is PaymentAllocation
                                                      else model.total_cents))
                     .where(model.invoice_id.in_(invoice_ids)).group_by(model.invoice_id))
    return {i: int(v or 0) for i, v in rows}


@dataclass
class OpenInvoice:
    invoice_id: int
    number: str
    month: date
    issue_date: date | None
    due_date: date | None
    total_cents: int
    credited_cents: int
    paid_cents: int

    @property
    def remaining_cents(self) -> int:
        return max(0, self.total_cents - self.credited_cents - self.paid_cents)


def family_invoices(s: Session, family_id: int, *, open_only: bool = False) -> list[OpenInvoice]:
    """The family's issued invoices, oldest first, with what was credited and paid on each."""
    invoices = s.scalars(select(Invoice).where(Invoice.family_id == family_id,
                                               Invoice.status == InvoiceStatus.ISSUED)
                         .order_by(Invoice.issue_date, Invoice.month, Invoice.number)).all()
    ids = [i.id for i in invoices]
    credited = _sums_by_invoice(s, CreditNote, ids)
    paid = _sums_by_invoice(s, PaymentAllocation, ids)
    rows = [OpenInvoice(i.id, i.number or "", i.month, i.issue_date, i.due_date, i.total_cents,
                        credited.get(i.id, 0), paid.get(i.id, 0)) for i in invoices]
    return [r for r in rows if r.remaining_cents > 0] if open_only else rows


@dataclass
class Balance:
    family_id: int
    invoiced_cents: int
    credited_cents: int
    paid_cents: int
    unallocated_cents: int  # payments not yet allocated: the family's credit

    @property
    def balance_cents(self) -> int:
        """Positive: the family owes this much; negative: the family is in credit."""
        return self.invoiced_cents - self.credited_cents - self.paid_cents


def family_balance(s: Session, family_id: int) -> Balance:
    invoiced = s.scalar(select(func.coalesce(func.sum(Invoice.total_cents), 0)).where(
        Invoice.family_id == family_id, Invoice.status == InvoiceStatus.ISSUED)) or 0
    credited = s.scalar(select(func.coalesce(func.sum(CreditNote.total_cents), 0))
                        .join(Invoice, Invoice.id == CreditNote.invoice_id)
                        .where(Invoice.family_id == family_id)) or 0
    paid = s.scalar(select(func.coalesce(func.sum(Payment.amount_cents), 0))
                    .where(Payment.family_id == family_id, Payment.reversed_at.is_(None))) or 0
    allocated = s.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
                         .join(Payment, Payment.id == PaymentAllocation.payment_id)
                         .where(Payment.family_id == family_id)) or 0
    return Balance(family_id, int(invoiced), int(credited), int(paid), int(paid) - int(allocated))


def settled_subqueries():
    """(credit notes, allocations) summed per invoice, to outer-join on Invoice.id, and the two
    coalesced sums: `Invoice.total_cents - credited - paid` is what is left, in one query."""
    cn = (select(CreditNote.invoice_id.label("iid"), func.sum(CreditNote.total_cents).label("cents"))
          .group_by(CreditNote.invoice_id).subquery())
    pa = (select(PaymentAllocation.invoice_id.label("iid"), func.sum(PaymentAllocation.amount_cents).label("cents"))
          .group_by(PaymentAllocation.invoice_id).subquery())
    return cn, pa, func.coalesce(cn.c.cents, 0), func.coalesce(pa.c.cents, 0)


def balances(desk: Desk, family_ids: list[int] | None = None) -> dict[int, Balance]:
    """Balances of many families in four grouped queries (the family list shows them)."""
    with desk.read() as s:
        inv_q = (select(Invoice.family_id, func.sum(Invoice.total_cents))
                 .where(Invoice.status == InvoiceStatus.ISSUED).group_by(Invoice.family_id))
        cn_q = (select(Invoice.family_id, func.sum(CreditNote.total_cents))
                .join(Invoice, Invoice.id == CreditNote.invoice_id).group_by(Invoice.family_id))
        pay_q = (select(Payment.family_id, func.sum(Payment.amount_cents)).where(Payment.reversed_at.is_(None))
                 .group_by(Payment.family_id))
        alloc_q = (select(Payment.family_id, func.sum(PaymentAllocation.amount_cents))
                   .join(Payment, Payment.id == PaymentAllocation.payment_id).group_by(Payment.family_id))
        if family_ids is not None:
            inv_q = inv_q.where(Invoice.family_id.in_(family_ids))
            cn_q = cn_q.where(Invoice.family_id.in_(family_ids))
            pay_q = pay_q.where(Payment.family_id.in_(family_ids))
            alloc_q = alloc_q.where(Payment.family_id.in_(family_ids))
        inv = {f: int(v or 0) for f, v in s.execute(inv_q)}
        cn = {f: int(v or 0) for f, v in s.execute(cn_q)}
        pay = {f: int(v or 0) for f, v in s.execute(pay_q)}
        alloc = {f: int(v or 0) for f, v in s.execute(alloc_q)}
    ids = set(inv) | set(cn) | set(pay)
    return {f: Balance(f, inv.get(f, 0), cn.get(f, 0), pay.get(f, 0), pay.get(f, 0) - alloc.get(f, 0))
            for f in ids}


# ---------------------------------------------------------------------------------------------
# Recording and allocating


@dataclass
class PaymentResult:
    payment_id: int
    family_id: int
    amount_cents: int
    allocations: list[tuple[str, int]] = field(default_factory=list)  # (invoice number, cents)
    unallocated_cents: int = 0
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def summary(self) -> str:
        text = f"Paiement de {formats.euros(self.amount_cents)} enregistré."
        if self.allocations:
            parts = ", ".join(f"{formats.euros(c)} sur la facture {n}" for n, c in self.allocations)
            text += f" Affecté : {parts}."
        if self.unallocated_cents:
            text += f" {formats.euros(self.unallocated_cents)} restent en avoir (crédit) pour la famille."
        return text


def lock_family_money(s: Session, family_id: int) -> None:
    """Serialise the money decisions of one family (allocations, credit notes) across
    workstations: two clerks must never both allocate the same remaining amount. SQLite's
    BEGIN IMMEDIATE already serialises writers; PostgreSQL locks the family row."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(Family.id).where(Family.id == family_id).with_for_update())


def _family(s: Session, family_id: int) -> Family:
    family = s.get(Family, family_id)
    if family is None:
        raise NotFound("Famille introuvable : elle a peut-être été supprimée sur un autre poste.")
    return family


def family_by_ref(s: Session, ref: str) -> Family:
    family = s.scalar(select(Family).where(Family.ref == ref.strip()))
    if family is None:
        raise NotFound(f"Aucune famille n'a la référence « {ref} ».")
    return family


def _validate_payment(desk: Desk, mode: str, received_on, amount_cents, reference: str) -> list[str]:
    problems = []
    if mode not in MODES:
        problems.append(f"Mode de paiement inconnu « {mode} ».")
    if not isinstance(received_on, date):
        problems.append("La date de réception du paiement est obligatoire.")
    elif received_on > desk.today():
        problems.append(f"La date de réception ({formats.ddmmyyyy(received_on)}) est dans le futur.")
    elif received_on < desk.today() - timedelta(days=3 * 366):
        problems.append(f"La date de réception ({formats.ddmmyyyy(received_on)}) a plus de trois ans.")
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        problems.append("Le montant doit être un nombre entier de centimes.")
    elif amount_cents <= 0:
        problems.append("Le montant du paiement doit être supérieur à zéro.")
    elif amount_cents > MAX_PAYMENT_CENTS:
        problems.append(f"Montant de {formats.euros(amount_cents)} invraisemblable : vérifiez la saisie.")
    if len(reference or "") > 200:
        problems.append("La référence ne peut dépasser 200 caractères.")
    if mode == PaymentMode.CHEQUE and not (reference or "").strip():
        problems.append("Pour un chèque, indiquez la référence (numéro du chèque et banque).")
    return problems


def _allocate(s: Session, desk: Desk, payment: Payment, wanted: list[tuple[int, int]] | None,
              available: int) -> list[tuple[str, int]]:
    """Allocate up to `available` cents of `payment`; `wanted` None means oldest invoice first."""
    open_rows = {r.invoice_id: r for r in family_invoices(s, payment.family_id, open_only=True)}
    done: list[tuple[str, int]] = []
    if wanted is None:
        plan = []
        left = available
        for row in open_rows.values():  # already oldest first
            if left <= 0:
                break
            take = min(left, row.remaining_cents)
            plan.append((row.invoice_id, take))
            left -= take
    else:
        problems = []
        total = 0
        seen = set()
        for invoice_id, cents in wanted:
            row = open_rows.get(invoice_id)
            invoice = s.get(Invoice, invoice_id)
            label = invoice.number if invoice and invoice.number else f"n° {invoice_id}"
            if invoice_id in seen:
                problems.append(f"La facture {label} apparaît deux fois dans l'affectation.")
            seen.add(invoice_id)
            if invoice is None or invoice.family_id != payment.family_id or invoice.status != InvoiceStatus.ISSUED:
                problems.append(f"La facture {label} n'est pas une facture émise de cette famille.")
                continue
            if not isinstance(cents, int) or cents <= 0:
                problems.append(f"Montant affecté à la facture {label} : il doit être supérieur à zéro.")
                continue
            remaining = row.remaining_cents if row else 0
            if cents > remaining:
                problems.append(f"La facture {label} n'a plus que {formats.euros(remaining)} à payer : "
                                f"impossible d'y affecter {formats.euros(cents)}.")
            total += cents
        if total > available:
            problems.append(f"L'affectation totale ({formats.euros(total)}) dépasse le montant "
                            f"disponible du paiement ({formats.euros(available)}).")
        if problems:
            raise ValidationFailed(problems, "Affectation refusée :")
        plan = wanted
    for invoice_id, cents in plan:
        if cents <= 0:
            continue
        allocation = PaymentAllocation(invoice_id=invoice_id, amount_cents=cents)
        payment.allocations.append(allocation)
        s.flush()
        number = s.get(Invoice, invoice_id).number or ""
        desk.audit(s, "payment.allocate", "payment_allocation", allocation.id, family_id=payment.family_id,
                   after={"payment_id": payment.id, "invoice": number, "amount_cents": cents})
        done.append((number, cents))
    return done


def record_payment(desk: Desk, family_id: int, *, mode: str, received_on: date, amount_cents: int,
                   reference: str = "", allocations: list[tuple[int, int]] | None = None) -> PaymentResult:
    """Record a payment and allocate it (oldest first unless `allocations` says how)."""
    desk.require(Role.AGENT, "Enregistrer un paiement")
    problems = _validate_payment(desk, mode, received_on, amount_cents, reference)
    if problems:
        raise ValidationFailed(problems, "Paiement non enregistré :")
    with desk.unit_of_work() as s:
        return record_payment_in(s, desk, family_id, mode=mode, received_on=received_on,
                                 amount_cents=amount_cents, reference=reference, allocations=allocations)


def record_payment_in(s: Session, desk: Desk, family_id: int, *, mode: str, received_on: date, amount_cents: int,
                      reference: str = "", allocations: list[tuple[int, int]] | None = None) -> PaymentResult:
    """`record_payment` inside the caller's transaction (an online payment's notification
    records the payment and marks itself paid in one commit: recorded once, never twice)."""
    desk.require(Role.AGENT, "Enregistrer un paiement")
    problems = _validate_payment(desk, mode, received_on, amount_cents, reference)
    if problems:
        raise ValidationFailed(problems, "Paiement non enregistré :")
    family = _family(s, family_id)
    lock_family_money(s, family.id)
    payment = Payment(family_id=family.id, mode=mode, received_on=received_on, amount_cents=amount_cents,
                      reference=(reference or "").strip(), recorded_at=desk.now(),
                      recorded_by=desk.actor.login)
    s.add(payment)
    s.flush()
    desk.audit(s, "payment.record", "payment", payment.id, family_id=family.id,
               after={"mode": mode, "received_on": received_on, "amount_cents": amount_cents,
                      "reference": payment.reference})
    done = _allocate(s, desk, payment, allocations, amount_cents)
    allocated = sum(c for _, c in done)
    return PaymentResult(payment.id, family.id, amount_cents, done, amount_cents - allocated,
                         _moved(payment))


def payment_unallocated(s: Session, payment: Payment) -> int:
    if payment.reversed_at is not None:
        return 0
    return payment.amount_cents - sum(a.amount_cents for a in payment.allocations)


def allocate_payment(desk: Desk, payment_id: int, allocations: list[tuple[int, int]] | None = None) -> PaymentResult:
    """Allocate what is still free on a payment, by hand or (None) oldest invoice first."""
    desk.require(Role.AGENT, "Affecter un paiement")
    with desk.unit_of_work() as s:
        payment = s.get(Payment, payment_id)
        if payment is None:
            raise NotFound("Paiement introuvable.")
        lock_family_money(s, payment.family_id)
        s.refresh(payment)
        if payment.reversed_at is not None:
            raise ValidationFailed(["Ce paiement a été annulé : il ne peut plus être affecté."],
                                   "Affectation refusée :")
        free = payment_unallocated(s, payment)
        if free <= 0:
            raise ValidationFailed(["Ce paiement est déjà entièrement affecté."], "Affectation refusée :")
        done = _allocate(s, desk, payment, allocations, free)
        return PaymentResult(payment.id, payment.family_id, payment.amount_cents, done,
                             free - sum(c for _, c in done), _moved(payment))


def _moved(payment: Payment) -> Changes:
    """The family's balance and the invoices the payment now settles."""
    return Changes(payments={payment.family_id}, invoices={a.invoice_id for a in payment.allocations})


def apply_credit(s: Session, desk: Desk, family_id: int) -> int:
    """Inside the caller's transaction (e.g. right after issuing): use the family's unallocated
    payments on its open invoices, oldest first. Returns the cents allocated."""
    lock_family_money(s, family_id)
    used = 0
    payments = s.scalars(select(Payment).where(Payment.family_id == family_id, Payment.reversed_at.is_(None))
                         .order_by(Payment.received_on, Payment.id)).all()
    for payment in payments:
        free = payment_unallocated(s, payment)
        if free > 0:
            used += sum(c for _, c in _allocate(s, desk, payment, None, free))
    return used


def apply_family_credit(desk: Desk, family_id: int) -> int:
    """Use the family's unallocated payments on its open invoices, oldest first; returns cents used."""
    desk.require(Role.AGENT, "Affecter un paiement")
    with desk.unit_of_work() as s:
        return apply_credit(s, desk, family_id)


@dataclass
class PaymentRow:
    payment_id: int
    family_id: int
    family_ref: str
    family_name: str
    mode: str
    received_on: date
    amount_cents: int
    reference: str
    allocated_cents: int
    invoices: str  # numbers it was allocated to
    reversal: str = ""  # "Prélèvement rejeté (AM04 : provision insuffisante) le 05/01/2027 : motif"

    @property
    def reversed(self) -> bool:
        return bool(self.reversal)

    @property
    def unallocated_cents(self) -> int:
        return 0 if self.reversed else self.amount_cents - self.allocated_cents


def list_payments(desk: Desk, *, family_id: int | None = None, limit: int = 2000) -> list[PaymentRow]:
    with desk.read() as s:
        q = (select(Payment, Family.ref, Family.name).join(Family, Family.id == Payment.family_id)
             .order_by(Payment.received_on.desc(), Payment.id.desc()).limit(limit))
        if family_id is not None:
            q = q.where(Payment.family_id == family_id)
        rows = s.execute(q).all()
        ids = [p.id for p, _, _ in rows]
        alloc: dict[int, list[tuple[str, int]]] = {}
        if ids:
            for pid, number, cents in s.execute(
                    select(PaymentAllocation.payment_id, Invoice.number, PaymentAllocation.amount_cents)
                    .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                    .where(PaymentAllocation.payment_id.in_(ids)).order_by(PaymentAllocation.id)):
                alloc.setdefault(pid, []).append((number or "", int(cents)))
        return [PaymentRow(p.id, p.family_id, ref, name, p.mode, p.received_on, p.amount_cents, p.reference,
                           sum(c for _, c in alloc.get(p.id, [])),
                           ", ".join(n for n, _ in alloc.get(p.id, [])), reversal_text(p))
                for p, ref, name in rows]


def reversal_text(p: Payment) -> str:
    """How a reversed payment reads in lists: kind, SEPA reason code, date and reason."""
    if p.reversed_at is None:
        return ""
    from gandrange_desk.models import SEPA_REASON_CODES, ReversalKind

    kind = ReversalKind(p.reversal_kind).label if p.reversal_kind in ReversalKind._value2member_map_ else "Annulé"
    code = ""
    if p.reversal_code:
        meaning = SEPA_REASON_CODES.get(p.reversal_code)
        code = f" ({p.reversal_code}{' : ' + meaning if meaning else ''})"
    return (f"{kind}{code} le {formats.ddmmyyyy(p.reversed_at.date())}"
            + (f" : {p.reversal_reason}" if p.reversal_reason else ""))


def family_choices(desk: Desk) -> list[tuple[int, str, str]]:
    """(id, ref, name) of the families a payment can be recorded for, by name."""
    with desk.read() as s:
        return [tuple(r) for r in s.execute(select(Family.id, Family.ref, Family.name)
                                            .where(Family.anonymised_at.is_(None))
                                            .order_by(Family.name, Family.ref))]


def open_invoices(desk: Desk, family_id: int) -> list[OpenInvoice]:
    with desk.read() as s:
        return family_invoices(s, family_id, open_only=True)


def balance_of(desk: Desk, family_id: int) -> Balance:
    with desk.read() as s:
        return family_balance(s, family_id)


def credit_new_invoices(s: Session, desk: Desk, drafts: list[Invoice]) -> dict[int, int]:
    """Money a family already paid and that no invoice used (an overpayment, a credited invoice)
    pays its new invoice at issue, so the PDF's "déjà réglé" is true on the day it is printed.

    Payments are allocated oldest first when recorded, so a family with free money has no older
    open invoice: the new one is the right place for it.
    """
    by_family = {d.family_id: d for d in drafts if d.total_cents > 0}
    if not by_family:
        return {}
    allocated = (select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount_cents).label("cents"))
                 .group_by(PaymentAllocation.payment_id).subquery())
    free_payments = s.execute(
        select(Payment.id, Payment.family_id, Payment.amount_cents - func.coalesce(allocated.c.cents, 0))
        .outerjoin(allocated, allocated.c.payment_id == Payment.id)
        .where(Payment.family_id.in_(list(by_family)), Payment.reversed_at.is_(None),
               Payment.amount_cents > func.coalesce(allocated.c.cents, 0))
        .order_by(Payment.received_on, Payment.id)).all()
    paid: dict[int, int] = {}
    for payment_id, family_id, free in free_payments:
        invoice = by_family[family_id]
        cents = min(free, invoice.total_cents - paid.get(invoice.id, 0))
        if cents <= 0:
            continue
        s.add(PaymentAllocation(payment_id=payment_id, invoice_id=invoice.id, amount_cents=cents))
        paid[invoice.id] = paid.get(invoice.id, 0) + cents
        desk.audit(s, "payment.allocate", "payment", payment_id, family_id=family_id,
                   after={"invoice_id": invoice.id, "amount_cents": cents, "at_issue": True})
    return paid
