"""Reading the month's invoices (review list, detail, PDF), printing them together, sending them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, NotFound
from gandrange_desk.models import (
    Family, Invoice, InvoiceLine, InvoiceStatus, Mandate, MandateState, PaymentAllocation, Role,
)
from gandrange_desk.services.mail import outbox
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.billing.invoicing import debit_date, month_start
from gandrange_desk.services.pdf.base import StructureInfo, load_structure, merge_pdfs


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    family_id: int
    family_ref: str
    family_name: str
    number: str | None
    status: str
    line_count: int
    total_cents: int
    paid_cents: int
    anomalies: str
    payment_mode: str
    sent_at: object | None
    billed_name: str

    @property
    def status_label(self) -> str:
        label = InvoiceStatus.label_of(self.status)
        if self.status == InvoiceStatus.ISSUED and self.sent_at:
            label += ", envoyée"
        return label

    def as_json(self) -> dict:
        return {
            "id": self.id, "family_ref": self.family_ref, "family": self.family_name,
            "number": self.number, "status": self.status, "lines": self.line_count,
            "total_cents": self.total_cents, "total": formats.amount(self.total_cents).replace("\u202f", " "),
            "paid_cents": self.paid_cents, "anomalies": [a for a in self.anomalies.splitlines() if a],
            "payment_mode": self.payment_mode, "sent": self.sent_at is not None,
        }


@dataclass(frozen=True)
class LineView:
    child_name: str
    kind: str
    label: str
    days: tuple[date, ...]
    quantity: int
    unit_price_cents: int
    amount_cents: int


@dataclass(frozen=True)
class InvoiceDetail:
    row: InvoiceRow
    month: date
    issue_date: date | None
    due_date: date | None
    billed_address: str
    lines: tuple[LineView, ...]


def list_month(desk: Desk, month: date | str) -> list[InvoiceRow]:
    month = month_start(month)
    with desk.read() as s:
        counts = (select(InvoiceLine.invoice_id, func.count().label("n"))
                  .group_by(InvoiceLine.invoice_id).subquery())
        paid = (select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents).label("p"))
                .group_by(PaymentAllocation.invoice_id).subquery())
        rows = s.execute(
            select(Invoice.id, Invoice.family_id, Family.ref, Family.name, Invoice.number, Invoice.status,
                   func.coalesce(counts.c.n, 0), Invoice.total_cents, func.coalesce(paid.c.p, 0),
                   Invoice.anomalies, Invoice.payment_mode, Invoice.sent_at, Invoice.billed_name)
            .join(Family, Family.id == Invoice.family_id)
            .outerjoin(counts, counts.c.invoice_id == Invoice.id)
            .outerjoin(paid, paid.c.invoice_id == Invoice.id)
            .where(Invoice.month == month)
            .order_by(Invoice.number.is_(None), Invoice.number, Family.name, Family.ref)
        ).all()
        return [InvoiceRow(*r) for r in rows]


def _invoice_with_lines(s, invoice_id: int) -> Invoice:
    inv = s.execute(select(Invoice).where(Invoice.id == invoice_id)
                    .options(selectinload(Invoice.lines))).scalar_one_or_none()
    if inv is None:
        raise NotFound("Facture introuvable : elle a peut-être été remplacée par une nouvelle préparation.")
    return inv


def detail(desk: Desk, invoice_id: int) -> InvoiceDetail:
    with desk.read() as s:
        inv = _invoice_with_lines(s, invoice_id)
        fam = s.get(Family, inv.family_id)
        paid = s.execute(select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
                         .where(PaymentAllocation.invoice_id == inv.id)).scalar_one()
        row = InvoiceRow(inv.id, inv.family_id, fam.ref, fam.name, inv.number, inv.status, len(inv.lines),
                         inv.total_cents, paid, inv.anomalies, inv.payment_mode, inv.sent_at, inv.billed_name)
        lines = tuple(LineView(l.child_name, l.kind, l.label,
                               tuple(date.fromisoformat(d) for d in (l.dates or "").split(",") if d),
                               l.quantity, l.unit_price_cents, l.amount_cents) for l in inv.lines)
        return InvoiceDetail(row, inv.month, inv.issue_date, inv.due_date, inv.billed_address, lines)


def pdf_filename(number: str | None, family_ref: str, month: date) -> str:
    if number:
        return f"Facture-{number}.pdf"
    return f"Facture-brouillon-{month:%Y-%m}-{family_ref}.pdf"


def invoice_pdf(desk: Desk, invoice_id: int) -> tuple[str, bytes]:
    """The stored PDF of an issued invoice; a preview (marked BROUILLON) of a draft."""
    from gandrange_desk.services.pdf.invoice import document_for, render_invoice

    with desk.read() as s:
        inv = _invoice_with_lines(s, invoice_id)
        fam = s.get(Family, inv.family_id)
        name = pdf_filename(inv.number, fam.ref, inv.month)
        if inv.status == InvoiceStatus.ISSUED and inv.pdf:
            return name, inv.pdf
        structure = load_structure(s)
        mandate = s.execute(select(Mandate).where(Mandate.family_id == fam.id,
                                                  Mandate.state == MandateState.ACTIVE)).scalars().first()
        from gandrange_desk.models import Structure
        st = s.execute(select(Structure).limit(1)).scalar_one_or_none()
        debit = debit_date(st, inv.month, desk.today()) if st else None
        return name, render_invoice(document_for(inv, fam, structure, mandate, debit_date=debit))


def print_month(desk: Desk, month: date | str, out_path: str | Path) -> int:
    """Write one PDF with every issued invoice of the month, by number, for printing."""
    month = month_start(month)
    with desk.read() as s:
        pdfs = s.execute(select(Invoice.pdf).where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED)
                         .order_by(Invoice.number)).scalars().all()
    pdfs = [p for p in pdfs if p]
    if not pdfs:
        raise DeskError(f"Aucune facture émise pour {formats.month_year(month)} : rien à imprimer.")
    data = merge_pdfs(pdfs)
    path = Path(out_path)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise DeskError(f"Impossible d'écrire {path} : {exc.strerror or exc}.") from None
    return len(pdfs)


def pdf_for_printing(desk: Desk, month: date | str, invoice_ids: list[int] | None = None) -> bytes:
    """The chosen issued invoices (several), or the whole month's, as one PDF to print."""
    if not invoice_ids:
        return month_pdf(desk, month)
    with desk.read() as s:
        pdfs = [p for p in s.execute(select(Invoice.pdf).where(
            Invoice.id.in_(invoice_ids), Invoice.status == InvoiceStatus.ISSUED).order_by(Invoice.number)).scalars() if p]
    if not pdfs:
        raise DeskError("Aucune facture émise parmi celles choisies : rien à imprimer.")
    return merge_pdfs(pdfs)


def month_pdf(desk: Desk, month: date | str) -> bytes:
    month = month_start(month)
    with desk.read() as s:
        pdfs = [p for p in s.execute(select(Invoice.pdf).where(
            Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED).order_by(Invoice.number)).scalars() if p]
    if not pdfs:
        raise DeskError(f"Aucune facture émise pour {formats.month_year(month)} : rien à imprimer.")
    return merge_pdfs(pdfs)


@dataclass
class SendResult:
    queued: int = 0
    without_email: list[str] = field(default_factory=list)  # family names: print and post
    not_issued: int = 0
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def text(self) -> str:
        parts = [f"{formats.count(self.queued, 'e-mail', 'e-mails')} de facture mis en file d'envoi."]
        if self.not_issued:
            parts.append(f"{formats.count(self.not_issued, 'brouillon ignoré', 'brouillons ignorés')} "
                         "(seules les factures émises s'envoient).")
        if self.without_email:
            parts.append("Sans adresse e-mail (à imprimer) : " + ", ".join(self.without_email) + ".")
        return "\n".join(parts)


def invoice_mail(structure: StructureInfo, number: str, month: date, total_cents: int, due: date | None,
                 prelevement: bool, *, settled_cents: int = 0, credited_cents: int = 0):
    """"Votre facture est disponible", saying what is left to pay on the day it is sent: the
    total less the credit notes and the payments already received; for prélèvement, the amount
    that will be debited and its date (nothing is debited when nothing is left)."""
    from gandrange_desk.services.mail.texts import Sender, render

    def eur(cents: int) -> str:
        return formats.euros(cents).replace("\u202f", " ")

    sender = Sender(structure.name, structure.phone, structure.email, structure.portal_url)
    period = formats.month_year(month)
    lines = [f"Votre facture n° {number} concernant {structure.name} pour la période de {period} est "
             "disponible. Vous la trouverez en pièce jointe et dans « Mes factures » sur le portail famille."]
    left = max(0, total_cents - settled_cents)
    if total_cents < 0:
        lines.append(f"Cette facture présente un solde de {eur(total_cents)} en votre faveur : "
                     "il n'y a rien à payer.")
        return render("Votre facture est disponible", [lines], sender)
    if settled_cents:
        parts = []
        if credited_cents:
            parts.append(f"avoir de {eur(credited_cents)}")
        if settled_cents - credited_cents:
            parts.append(f"déjà réglé : {eur(settled_cents - credited_cents)}")
        lines.append(f"Montant de la facture : {eur(total_cents)} ({', '.join(parts)}). "
                     + (f"Reste à payer : {eur(left)}." if left else "Il ne reste rien à payer."))
    if prelevement:
        if left:
            lines.append(f"Le montant de {eur(left)} sera prélevé sur votre compte"
                         + (f" le {formats.ddmmyyyy(due)}." if due else "."))
        else:
            lines.append("Aucun prélèvement ne sera effectué pour cette facture.")
    elif not settled_cents:
        lines.append(f"Montant : {eur(total_cents)}" + (f", à régler avant le {formats.ddmmyyyy(due)}." if due else "."))
    elif left:
        lines.append(f"À régler avant le {formats.ddmmyyyy(due)}." if due else "À régler à réception.")
    return render("Votre facture est disponible", [lines], sender)


def send_invoices(desk: Desk, invoice_ids: list[int]) -> SendResult:
    """Queue "Votre facture est disponible" with the PDF for each issued invoice given."""
    from gandrange_desk.models import PaymentMode
    from gandrange_desk.services.billing.payments import credited_cents, paid_cents

    desk.require(Role.AGENT, "Envoyer les factures")
    result = SendResult()
    with desk.unit_of_work() as s:
        structure = load_structure(s)
        invoices = s.execute(select(Invoice).where(Invoice.id.in_(invoice_ids))
                             .order_by(Invoice.number)).scalars().all()
        for inv in invoices:
            if inv.status != InvoiceStatus.ISSUED or not inv.pdf:
                result.not_issued += 1
                continue
            fam = s.execute(select(Family).where(Family.id == inv.family_id)
                            .options(selectinload(Family.guardians))).scalar_one()
            recipients = outbox.family_recipients(fam)
            if not recipients:
                result.without_email.append(fam.name)
                continue
            credited, paid = credited_cents(s, inv.id), paid_cents(s, inv.id)
            # Without an active mandate the PDF asks for another means of payment: so does the mail.
            debited = inv.payment_mode == PaymentMode.PRELEVEMENT and s.scalar(
                select(Mandate.id).where(Mandate.family_id == fam.id, Mandate.state == MandateState.ACTIVE).limit(1))
            mail = invoice_mail(structure, inv.number, inv.month, inv.total_cents, inv.due_date, bool(debited),
                                settled_cents=credited + paid, credited_cents=credited)
            outbox.enqueue(s, desk, recipients=recipients, subject=mail.subject, body_text=mail.text,
                           body_html=mail.html, family_id=fam.id, kind="invoice", invoice_id=inv.id,
                           attachments=[(f"Facture-{inv.number}.pdf", "application/pdf", inv.pdf)])
            inv.sent_at = desk.now()
            desk.audit(s, "invoice.send", "invoice", inv.id, family_id=fam.id,
                       after={"number": inv.number, "recipients": recipients})
            result.queued += 1
            result.changes.invoices.add(inv.id)  # now "envoyée"
            result.changes.outbox += 1
    return result
