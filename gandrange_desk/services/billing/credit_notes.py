"""Credit notes (avoirs): the only way to correct an issued invoice.

Whole or by line, never more than what was billed less earlier credit notes; numbered
AV-YYYY-NNNNNN in their own gap-free sequence, locked in the issuing transaction; the PDF is made
at issue and kept; a credit note is never changed afterwards (models/billing.py refuses it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import (
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceStatus,
    PaymentAllocation,
    Role,
)
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.billing.invoicing import next_number
from gandrange_desk.services.billing.payments import lock_family_money
from gandrange_desk.services.pdf.base import load_structure
from gandrange_desk.services.pdf.credit_note import CreditNoteDoc, credit_note_pdf

SEQUENCE = "credit_note"


@dataclass
class CreditableLine:
    line_id: int
    child_name: str
    label: str
    billed_quantity: int
    credited_quantity: int
    unit_price_cents: int
    amount_cents: int
    credited_cents: int

    @property
    def creditable_quantity(self) -> int:
        return max(0, self.billed_quantity - self.credited_quantity)


@dataclass
class CreditableInvoice:
    invoice_id: int
    number: str
    family_id: int
    billed_name: str
    month: date
    total_cents: int
    credited_cents: int
    lines: list[CreditableLine] = field(default_factory=list)
    notes: list[tuple[str, int, str]] = field(default_factory=list)  # earlier: number, cents, reason


def _creditable(s: Session, invoice: Invoice) -> CreditableInvoice:
    done = {lid: (int(q or 0), int(a or 0)) for lid, q, a in s.execute(
        select(CreditNoteLine.invoice_line_id, func.sum(CreditNoteLine.quantity), func.sum(CreditNoteLine.amount_cents))
        .join(CreditNote, CreditNote.id == CreditNoteLine.credit_note_id)
        .where(CreditNote.invoice_id == invoice.id).group_by(CreditNoteLine.invoice_line_id))}
    notes = s.execute(select(CreditNote.number, CreditNote.total_cents, CreditNote.reason)
                      .where(CreditNote.invoice_id == invoice.id).order_by(CreditNote.id)).all()
    result = CreditableInvoice(invoice.id, invoice.number or "", invoice.family_id, invoice.billed_name,
                               invoice.month, invoice.total_cents, sum(n[1] for n in notes),
                               notes=[tuple(n) for n in notes])
    for line in invoice.lines:
        q, a = done.get(line.id, (0, 0))
        result.lines.append(CreditableLine(line.id, line.child_name, line.label, line.quantity, q,
                                           line.unit_price_cents, line.amount_cents, a))
    return result


def _issued_invoice(s: Session, invoice_id: int) -> Invoice:
    invoice = s.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound("Facture introuvable.")
    if invoice.status != InvoiceStatus.ISSUED:
        raise ValidationFailed(["Un avoir ne peut porter que sur une facture émise ; "
                                "un brouillon se corrige en préparant à nouveau le mois."])
    return invoice


def creditable(desk: Desk, invoice_id: int) -> CreditableInvoice:
    """What can still be credited on an issued invoice, line by line (the dialog shows it)."""
    with desk.read() as s:
        return _creditable(s, _issued_invoice(s, invoice_id))


@dataclass
class CreditNoteResult:
    credit_note_id: int
    number: str
    total_cents: int
    released_cents: int  # payment money freed from the invoice: now the family's credit
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def summary(self) -> str:
        text = f"Avoir {self.number} émis : {formats.euros(self.total_cents)}."
        if self.released_cents:
            text += (f" La facture étant déjà réglée, {formats.euros(self.released_cents)} "
                     f"restent au crédit de la famille.")
        return text


def issue_credit_note(desk: Desk, invoice_id: int, *, reason: str,
                      quantities: dict[int, int] | None = None) -> CreditNoteResult:
    """Issue a credit note: `quantities` {invoice line id: quantity}, or None for all that remains."""
    desk.require(Role.RESPONSABLE, "Émettre un avoir")
    reason = (reason or "").strip()
    with desk.unit_of_work() as s:
        invoice = _issued_invoice(s, invoice_id)
        lock_family_money(s, invoice.family_id)
        info = _creditable(s, invoice)
        by_id = {line.line_id: line for line in info.lines}
        problems = []
        if not reason:
            problems.append("Indiquez le motif de l'avoir : il figure sur le document remis à la famille.")
        elif len(reason) > 1000:
            problems.append("Le motif ne peut dépasser 1 000 caractères.")
        if quantities is None:
            wanted = {line.line_id: line.creditable_quantity for line in info.lines if line.creditable_quantity}
        else:
            wanted = {}
            for line_id, qty in quantities.items():
                line = by_id.get(line_id)
                if line is None:
                    problems.append("Une des lignes choisies n'appartient pas à cette facture.")
                    continue
                if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
                    problems.append(f"« {line.label} » : la quantité doit être un entier positif.")
                    continue
                if qty > line.creditable_quantity:
                    problems.append(f"« {line.label} » ({line.child_name}) : au plus {line.creditable_quantity} "
                                    f"à créditer (facturé {line.billed_quantity}, déjà crédité "
                                    f"{line.credited_quantity}), pas {qty}.")
                    continue
                if qty:
                    wanted[line_id] = qty
        if not wanted and not problems:
            problems.append("Rien à créditer : choisissez au moins une ligne et une quantité."
                            if quantities is not None else "Cette facture a déjà été entièrement créditée.")
        note_lines = []
        for line_id, qty in wanted.items():
            line = by_id[line_id]
            if qty == line.creditable_quantity:
                # The last units take what is left of the line's amount: the sum never drifts from it.
                amount = line.amount_cents - line.credited_cents
            else:
                amount = qty * line.unit_price_cents
            note_lines.append((line, qty, amount))
        total = sum(a for _, _, a in note_lines)
        if not problems and total <= 0:
            problems.append("Le montant de l'avoir doit être positif.")
        if not problems and total > info.total_cents - info.credited_cents:
            problems.append(f"L'avoir ({formats.euros(total)}) dépasserait ce qui reste de la facture après "
                            f"les avoirs précédents ({formats.euros(info.total_cents - info.credited_cents)}).")
        if problems:
            raise ValidationFailed(problems, "Avoir non émis :")

        today = desk.today()
        number = f"AV-{today.year}-{next_number(s, SEQUENCE, today.year):06d}"
        note = CreditNote(invoice_id=invoice.id, number=number, issued_at=desk.now(), issued_by=desk.actor.login,
                          reason=reason, total_cents=total)
        for line, qty, amount in note_lines:
            note.lines.append(CreditNoteLine(invoice_line_id=line.line_id,
                                             label=f"{line.label}" + (f" — {line.child_name}" if line.child_name else ""),
                                             quantity=qty, unit_price_cents=line.unit_price_cents, amount_cents=amount))
        # The PDF is part of the row from its first INSERT: an issued note is never updated.
        note.pdf = credit_note_pdf(load_structure(s), CreditNoteDoc(
            number=number, issued_on=today, invoice_number=invoice.number or "", invoice_month=invoice.month,
            invoice_total_cents=invoice.total_cents, billed_name=invoice.billed_name,
            billed_address=invoice.billed_address, reason=reason,
            lines=[(line.child_name, line.label, qty, line.unit_price_cents, amount)
                   for line, qty, amount in note_lines],
            total_cents=total, issued_by=desk.actor.full_name))
        s.add(note)
        s.flush()
        desk.audit(s, "credit_note.issue", "credit_note", note.id, family_id=invoice.family_id,
                   after={"number": number, "invoice": invoice.number, "total_cents": total, "reason": reason,
                          "lines": {str(line.line_id): qty for line, qty, _ in note_lines}})
        released = _release_overpaid(s, desk, invoice, info.credited_cents + total)
        return CreditNoteResult(note.id, number, total, released,
                                Changes(invoices={invoice.id}, payments={invoice.family_id}))


def _release_overpaid(s: Session, desk: Desk, invoice: Invoice, credited: int) -> int:
    """Payments allocated beyond what the invoice now asks go back to the family's credit."""
    allocations = s.scalars(select(PaymentAllocation).where(PaymentAllocation.invoice_id == invoice.id)
                            .order_by(PaymentAllocation.id.desc())).all()
    excess = sum(a.amount_cents for a in allocations) - max(0, invoice.total_cents - credited)
    released = 0
    for allocation in allocations:
        if excess <= 0:
            break
        take = min(excess, allocation.amount_cents)
        before = allocation.amount_cents
        allocation.amount_cents -= take
        if allocation.amount_cents == 0:
            s.delete(allocation)
        excess -= take
        released += take
        desk.audit(s, "payment.release", "payment_allocation", allocation.id, family_id=invoice.family_id,
                   before={"amount_cents": before, "invoice": invoice.number},
                   after={"amount_cents": before - take, "reason": "avoir"})
    s.flush()
    return released


def credit_note_pdf_bytes(desk: Desk, credit_note_id: int) -> tuple[str, bytes]:
    """The PDF as issued (never regenerated): (file name, bytes)."""
    with desk.read() as s:
        note = s.get(CreditNote, credit_note_id)
        if note is None or note.pdf is None:
            raise NotFound("Avoir introuvable.")
        return f"avoir-{note.number}.pdf", note.pdf


def invoice_id_by_number(desk: Desk, number: str) -> int:
    """The issued invoice with this number (the clerk types it from the family's paper)."""
    with desk.read() as s:
        invoice_id = s.scalar(select(Invoice.id).where(Invoice.number == (number or "").strip()))
    if invoice_id is None:
        raise NotFound(f"Aucune facture émise ne porte le numéro « {number.strip()} ».")
    return invoice_id


def send_credit_note(desk: Desk, credit_note_id: int) -> int:
    """Put the credit note's e-mail, its PDF attached, in the outbox; returns how many recipients."""
    from gandrange_desk.models import Family, Structure
    from gandrange_desk.services.mail import outbox

    desk.require(Role.AGENT, "Envoyer un avoir")
    with desk.unit_of_work() as s:
        note = s.get(CreditNote, credit_note_id)
        if note is None:
            raise NotFound("Avoir introuvable.")
        invoice = s.get(Invoice, note.invoice_id)
        family = s.get(Family, invoice.family_id)
        recipients = outbox.family_recipients(family)
        if not recipients:
            raise ValidationFailed([f"La famille {family.name} n'a pas d'adresse e-mail : imprimez l'avoir "
                                    f"et remettez-le-lui."])
        structure = s.scalar(select(Structure).order_by(Structure.id).limit(1))
        name = structure.name if structure else "Le service périscolaire"
        body = (f"Madame, Monsieur,\n\nVeuillez trouver ci-joint l'avoir {note.number} de "
                f"{formats.euros(note.total_cents)} sur la facture {invoice.number}.\n\nMotif : {note.reason}\n\n"
                f"Ce montant vient en déduction de la facture ; si elle est déjà réglée, il reste au crédit de "
                f"votre compte famille et sera déduit de vos prochaines factures.\n\nCordialement,\n{name}\n")
        outbox.enqueue(s, desk, recipients=recipients, subject=f"Avoir {note.number} sur la facture {invoice.number}",
                       body_text=body, family_id=family.id, kind="avoir", invoice_id=invoice.id,
                       attachments=[(f"avoir-{note.number}.pdf", "application/pdf", note.pdf)])
        desk.audit(s, "credit_note.send", "credit_note", note.id, family_id=family.id,
                   after={"number": note.number, "recipients": recipients})
        return len(recipients)
