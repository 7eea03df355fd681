"""« Payer » on the portal: a family not on prélèvement pays an issued invoice by card online.

Starting a payment writes an `OnlinePayment` (the amount still due, a fresh `refdet`), then asks
the provider for an operation outside any transaction. The provider's notification is never
trusted: the outcome is fetched back from the provider by its operation id, checked against
what was asked (reference, amount, client number), and a paid outcome becomes one `Payment`
through the payments service in the same transaction that marks the online payment paid; a
second notification, or the family's browser coming back, finds it paid and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, NotFound
from gandrange_desk.models import Family, Invoice, InvoiceStatus, OnlinePayment, PaymentMode
from gandrange_desk.services.billing import payments
from gandrange_desk.services.context import Actor, Desk
from gandrange_desk.services.mail.outbox import family_recipients

from .payfip import Order, PaymentProvider, Started

MIN_CENTS = 100  # PayFiP takes 1,00 € at least
PROVIDER_ACTOR = Actor("portail:paiement", "Paiement en ligne (PayFiP)", "agent")
NOT_FOUND = "Facture introuvable."


@dataclass(frozen=True)
class Decision:
    status: str  # paid | refused | abandoned | pending
    amount_cents: int
    invoice_number: str
    family_id: int
    recorded_now: bool

    def sentence(self) -> str:
        amount = formats.euros(self.amount_cents)
        if self.status == "paid":
            return f"Votre paiement de {amount} pour la facture {self.invoice_number} est enregistré. Merci."
        if self.status == "refused":
            return (f"Le paiement de {amount} pour la facture {self.invoice_number} a été refusé : "
                    "rien n'a été débité.")
        if self.status == "abandoned":
            return f"Le paiement de la facture {self.invoice_number} a été abandonné : rien n'a été débité."
        return f"Le paiement de la facture {self.invoice_number} est en cours de traitement."


def can_pay(family: Family) -> bool:
    return family.payment_mode != PaymentMode.PRELEVEMENT


def start(desk: Desk, family_id: int, invoice_id: int, provider: PaymentProvider, notify_url: str,
          return_url: str) -> Started:
    """The address of the provider's payment page for what is still due on the invoice."""
    with desk.unit_of_work() as s:
        invoice = s.get(Invoice, invoice_id)
        if invoice is None or invoice.family_id != family_id or invoice.status != InvoiceStatus.ISSUED:
            raise NotFound(NOT_FOUND)
        family = s.get(Family, family_id)
        if not can_pay(family):
            raise DeskError("Le prélèvement étant en place, vous n'aurez pas de facture à payer directement "
                            "par le portail.")
        due = payments.remaining_cents(s, invoice_id)
        if due <= 0:
            raise DeskError(f"La facture {invoice.number} est déjà payée.")
        if due < MIN_CENTS:
            raise DeskError(f"Le paiement en ligne demande au moins {formats.euros(MIN_CENTS)} : réglez les "
                            f"{formats.euros(due)} restants par un autre moyen.")
        emails = family_recipients(family)
        if not emails:
            raise DeskError("Le paiement en ligne demande une adresse e-mail : faites-la ajouter à votre "
                            "dossier (Ma famille).")
        row = OnlinePayment(refdet="", family_id=family_id, invoice_id=invoice_id, amount_cents=due,
                            email=emails[0], status="pending", created_at=desk.now(), numauto="")
        s.add(row)
        s.flush()
        # Letters and digits only, unique: the invoice number's digits and the attempt's id.
        row.refdet = f"{re.sub(r'[^0-9A-Za-z]', '', invoice.number or '')[:16]}P{row.id}"[:30]
        order = Order(row.refdet, due, row.email, f"Facture {invoice.number}", desk.today().year,
                      notify_url, return_url)
        row_id = row.id
        desk.audit(s, "portal.pay_start", "online_payment", row.id, family_id=family_id,
                   after={"invoice": invoice.number, "amount_cents": due, "refdet": row.refdet})
    started = provider.start(order)
    with desk.unit_of_work() as s:
        s.get(OnlinePayment, row_id).idop = started.idop
    return started


def _day(text: str, fallback: date) -> date:
    try:
        return date(int(text[4:8]), int(text[2:4]), int(text[0:2]))
    except ValueError:
        return fallback


def notified(desk: Desk, provider: PaymentProvider, idop: str, family_id: int | None = None) -> Decision:
    """The provider's outcome of the operation, recorded once. `family_id`: the family's browser
    coming back may only read its own payment."""
    idop = (idop or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", idop):
        raise NotFound("Paiement inconnu.")
    with desk.read() as s:
        row = s.execute(select(OnlinePayment).where(OnlinePayment.idop == idop)).scalar_one_or_none()
        if row is None or (family_id is not None and row.family_id != family_id):
            raise NotFound("Paiement inconnu.")
    outcome = provider.outcome(idop)
    recorder = desk.as_actor(PROVIDER_ACTOR)
    with recorder.unit_of_work() as s:
        row = s.execute(select(OnlinePayment).where(OnlinePayment.idop == idop)
                        .with_for_update()).scalar_one()
        invoice = s.get(Invoice, row.invoice_id)
        decision = Decision(row.status, row.amount_cents, invoice.number or "", row.family_id, False)
        if row.status != "pending":
            return decision  # already decided: a repeated notification changes nothing
        if (outcome.refdet, outcome.amount_cents, outcome.numcli) != (row.refdet, row.amount_cents, provider.numcli):
            raise DeskError("La réponse du prestataire de paiement ne correspond pas au paiement demandé.")
        if not outcome.paid:
            if outcome.result not in ("R", "A"):
                return decision  # not decided yet at the provider
            row.status = "refused" if outcome.result == "R" else "abandoned"
            row.decided_at = desk.now()
            recorder.audit(s, "portal.pay_" + row.status, "online_payment", row.id, family_id=row.family_id)
            return Decision(row.status, row.amount_cents, decision.invoice_number, row.family_id, False)
        due = payments.remaining_cents(s, row.invoice_id)
        test = " (test)" if outcome.mode == "T" else ""
        result = payments.record_payment_in(
            s, recorder, row.family_id, mode=PaymentMode.CARTE, received_on=_day(outcome.day, desk.today()),
            amount_cents=row.amount_cents, reference=f"PayFiP{test} {row.refdet} autorisation {outcome.numauto}",
            allocations=[(row.invoice_id, min(due, row.amount_cents))] if due > 0 else [])
        row.status, row.numauto, row.payment_id, row.decided_at = "paid", outcome.numauto, result.payment_id, desk.now()
        recorder.audit(s, "portal.pay_paid", "online_payment", row.id, family_id=row.family_id,
                       after={"payment_id": result.payment_id, "numauto": outcome.numauto})
        return Decision("paid", row.amount_cents, decision.invoice_number, row.family_id, True)


__all__ = ["Decision", "MIN_CENTS", "can_pay", "notified", "start"]
