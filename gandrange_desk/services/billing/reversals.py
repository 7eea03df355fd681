"""Reversing a payment (DESIGN §5): a rejected direct debit, a bounced cheque, an entry mistake.

A payment is never deleted. Reversing it keeps the row (who, when, why, the SEPA reason code),
undoes its allocations — the invoices it paid are due again, the unpaid list and the balances
follow — and writes the audit trail with what it had paid. A rejected debit is re-presented in
the next SEPA file (`sepa` finds the invoices whose last transaction was rejected), unless the
family is switched to another payment mode, which this operation does in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from gandrange_desk import formats
from gandrange_desk.errors import AlreadyDecided, NotFound, ValidationFailed
from gandrange_desk.models import (
    SEPA_REASON_CODES, Family, Invoice, Payment, PaymentAllocation, PaymentMode, ReversalKind, Role, SepaDebit,
    SepaDebitStatus,
)
from gandrange_desk.services.billing.payments import lock_family_money
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk, stamp

_CODE = re.compile(r"^[A-Z]{2}[0-9]{2}$")
KINDS = tuple(k.value for k in ReversalKind)


@dataclass
class ReversalResult:
    payment_id: int
    family_id: int
    amount_cents: int
    kind: str
    code: str = ""
    reopened: list[tuple[str, int]] = field(default_factory=list)  # (invoice number, cents due again)
    represent: bool = False  # a rejected debit to present again in the next SEPA file
    new_mode: str | None = None  # the family's new payment mode, when switched
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        what = ReversalKind(self.kind).phrase
        code = f", {self.code} : {SEPA_REASON_CODES[self.code]}" if self.code in SEPA_REASON_CODES else (
            f", {self.code}" if self.code else "")
        text = f"Paiement de {formats.euros(self.amount_cents)} annulé ({what}{code})."
        if self.reopened:
            parts = ", ".join(f"{number} ({formats.euros(cents)})" for number, cents in self.reopened)
            text += (f" {formats.plural(len(self.reopened), 'Facture', 'Factures')} à nouveau "
                     f"{formats.plural(len(self.reopened), 'due', 'dues')} : {parts}.")
        if self.new_mode:
            text += f" La famille passe au paiement par {PaymentMode.label_of(self.new_mode).lower()}."
        elif self.represent and self.reopened:
            text += " Le montant sera représenté au prochain fichier de prélèvement."
        return text


def reverse_payment(desk: Desk, payment_id: int, *, kind: str, reason: str, code: str = "",
                    new_mode: str | None = None) -> ReversalResult:
    """Reverse a payment; `new_mode` (rejected debit only) switches the family off prélèvement
    instead of presenting the debit again."""
    desk.require(Role.AGENT, "Annuler un paiement")
    reason = " ".join((reason or "").split())
    code = (code or "").strip().upper()
    problems = []
    if kind not in KINDS:
        problems.append(f"Motif d'annulation inconnu « {kind} » (prélèvement rejeté, chèque impayé ou erreur "
                        "de saisie).")
    if not reason:
        problems.append("Indiquez la raison de l'annulation (elle est gardée dans l'historique).")
    if kind == ReversalKind.REJECTED_DEBIT:
        if not code:
            problems.append("Indiquez le code motif du rejet donné par la banque (AM04, MD01, AC04…).")
        elif not _CODE.match(code):
            problems.append(f"Code motif de rejet illisible « {code} » : quatre caractères, par exemple AM04.")
    elif code:
        problems.append("Un code motif SEPA ne s'indique que pour un prélèvement rejeté.")
    if new_mode is not None:
        if kind != ReversalKind.REJECTED_DEBIT:
            problems.append("Changer le mode de paiement de la famille ne se fait ici qu'après un prélèvement rejeté.")
        elif new_mode not in {m.value for m in PaymentMode} or new_mode == PaymentMode.PRELEVEMENT:
            problems.append(f"Nouveau mode de paiement invalide « {new_mode} » (chèque, espèces, virement…).")
    if problems:
        raise ValidationFailed(problems, "Paiement non annulé :")
    with desk.unit_of_work() as s:
        payment = s.get(Payment, payment_id)
        if payment is None:
            raise NotFound(f"Paiement introuvable : n° {payment_id}.")
        lock_family_money(s, payment.family_id)
        s.refresh(payment)
        if payment.reversed_at is not None:
            raise AlreadyDecided(f"Ce paiement a déjà été annulé le {formats.instant(payment.reversed_at)} "
                                 f"par {payment.reversed_by}.")
        if kind == ReversalKind.REJECTED_DEBIT and payment.mode != PaymentMode.PRELEVEMENT:
            raise ValidationFailed([f"Ce paiement est un règlement par {PaymentMode.label_of(payment.mode).lower()}, "
                                    "pas un prélèvement."], "Paiement non annulé :")
        if kind == ReversalKind.BOUNCED_CHEQUE and payment.mode != PaymentMode.CHEQUE:
            raise ValidationFailed([f"Ce paiement est un règlement par {PaymentMode.label_of(payment.mode).lower()}, "
                                    "pas un chèque."], "Paiement non annulé :")
        allocations = s.scalars(select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)
                                .order_by(PaymentAllocation.id)).all()
        numbers = dict(s.execute(select(Invoice.id, Invoice.number).where(
            Invoice.id.in_([a.invoice_id for a in allocations]))).all()) if allocations else {}
        result = ReversalResult(payment.id, payment.family_id, payment.amount_cents, kind, code,
                                [(numbers.get(a.invoice_id) or "", a.amount_cents) for a in allocations])
        payment.reversed_allocations = ",".join(f"{a.invoice_id}:{a.amount_cents}" for a in allocations)
        payment.reversed_at = desk.now()
        payment.reversed_by = desk.actor.login
        payment.reversal_kind = kind
        payment.reversal_code = code
        payment.reversal_reason = reason
        for allocation in allocations:
            s.delete(allocation)
        desk.audit(s, "payment.reverse", "payment", payment.id, family_id=payment.family_id,
                   before={"amount_cents": payment.amount_cents, "mode": payment.mode,
                           "allocations": [{"invoice": n, "amount_cents": c} for n, c in result.reopened]},
                   after={"kind": kind, "code": code, "reason": reason, "new_mode": new_mode})
        if kind == ReversalKind.REJECTED_DEBIT:
            # The file's transaction is rejected: its invoices are presented again next time.
            debits = s.scalars(select(SepaDebit).where(SepaDebit.payment_id == payment.id)).all()
            for debit in debits:
                debit.status = SepaDebitStatus.REJECTED
                debit.reason_code = code
            if new_mode:
                family = s.get(Family, payment.family_id)
                before = family.payment_mode
                family.payment_mode = new_mode
                stamp(family, desk)
                desk.audit(s, "family.payment_mode", "family", family.id, family_id=family.id,
                           before={"payment_mode": before}, after={"payment_mode": new_mode,
                                                                   "reason": f"prélèvement rejeté ({code})"})
                result.new_mode = new_mode
                result.changes.families.add(family.id)
            else:
                result.represent = bool(debits)
        s.flush()
        result.changes.payments.add(payment.family_id)
        result.changes.invoices |= {a.invoice_id for a in allocations}
    return result


__all__ = ["KINDS", "ReversalResult", "reverse_payment"]
