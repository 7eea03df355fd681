"""Unpaid invoices and reminders (relances): by e-mail, or a letter PDF for families without e-mail.

An invoice is unpaid when it is issued, its due date has passed and something is left to pay
after credit notes and allocated payments (see `payments`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk import formats
from gandrange_desk.models import AuditEntry, Family, Invoice, InvoiceStatus, Role, Structure
from gandrange_desk.services.mail import outbox
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.billing.payments import of_month, settled_subqueries


@dataclass
class UnpaidRow:
    invoice_id: int
    number: str
    family_id: int
    family_ref: str
    family_name: str
    month: date
    due_date: date
    total_cents: int
    credited_cents: int
    paid_cents: int
    emails: list[str]

    @property
    def remaining_cents(self) -> int:
        return max(0, self.total_cents - self.credited_cents - self.paid_cents)

    def days_late(self, today: date) -> int:
        return (today - self.due_date).days

    def as_json(self, today: date) -> dict:
        return {"invoice": self.number, "family_ref": self.family_ref, "family": self.family_name,
                "month": self.month.strftime("%Y-%m"), "due_date": self.due_date.isoformat(),
                "total_cents": self.total_cents, "paid_cents": self.paid_cents,
                "credited_cents": self.credited_cents, "remaining_cents": self.remaining_cents,
                "days_late": self.days_late(today), "email": bool(self.emails)}


def _unpaid(s: Session, today: date, invoice_ids: list[int] | None = None) -> list[UnpaidRow]:
    # Sums joined in SQL: the list is refreshed often and most past invoices are paid.
    cn, pa, credited, paid = settled_subqueries()
    q = (select(Invoice.id, Invoice.number, Invoice.family_id, Family.ref, Family.name, Invoice.month,
                Invoice.due_date, Invoice.total_cents, credited, paid)
         .join(Family, Family.id == Invoice.family_id)
         .outerjoin(cn, cn.c.iid == Invoice.id).outerjoin(pa, pa.c.iid == Invoice.id)
         .where(Invoice.status == InvoiceStatus.ISSUED, Invoice.due_date.is_not(None), Invoice.due_date < today,
                Invoice.total_cents - credited - paid > 0)
         .order_by(Invoice.due_date, Invoice.number))
    if invoice_ids is not None:
        q = q.where(Invoice.id.in_(invoice_ids))
    rows = s.execute(q).all()
    family_ids = sorted({r[2] for r in rows})
    emails: dict[int, list[str]] = {}
    for start in range(0, len(family_ids), 500):
        for family in s.scalars(select(Family).where(Family.id.in_(family_ids[start:start + 500]))
                                .options(selectinload(Family.guardians))):
            emails[family.id] = outbox.family_recipients(family)
    return [UnpaidRow(iid, number or "", fid, ref, name, month, due, total, int(c or 0), int(p or 0),
                      emails.get(fid, []))
            for iid, number, fid, ref, name, month, due, total, c, p in rows]


def unpaid_invoices(desk: Desk, today: date | None = None) -> list[UnpaidRow]:
    """Issued invoices whose due date has passed with something left to pay, most overdue first."""
    with desk.read() as s:
        return _unpaid(s, today or desk.today())


def reminder_text(row: UnpaidRow, structure: Structure | None) -> tuple[str, str]:
    """Subject and body of the reminder (relance), the same words in the e-mail and the letter."""
    name = structure.name if structure else "Le service périscolaire"
    subject = f"Relance : facture {row.number} impayée"
    paid = ""
    if row.paid_cents or row.credited_cents:
        paid = (f" Compte tenu de ce qui a déjà été réglé ou annulé par avoir, "
                f"il reste {formats.euros(row.remaining_cents)} à payer.")
    body = (
        f"Madame, Monsieur,\n\n"
        f"Sauf erreur de notre part, la facture {row.number} {of_month(row.month)}, "
        f"d'un montant de {formats.euros(row.total_cents)}, arrivée à échéance le "
        f"{formats.ddmmyyyy(row.due_date)}, n'est pas entièrement réglée.{paid}\n\n"
        f"Montant restant dû : {formats.euros(row.remaining_cents)}.\n\n"
        f"Nous vous remercions de bien vouloir effectuer ce règlement dans les meilleurs délais "
        f"(chèque à l'ordre du Trésor public, espèces, CESU, carte bancaire ou virement), en rappelant "
        f"la référence {row.number}. Si vous avez réglé entre-temps, merci de ne pas tenir compte de ce message.\n\n"
        f"Pour toute question, contactez-nous"
        + (f" au {structure.phone}" if structure and structure.phone else "")
        + (f" ou à {structure.email}" if structure and structure.email else "")
        + f".\n\nCordialement,\n{name}\n"
    )
    return subject, body


@dataclass
class RemindResult:
    emailed: int
    letters: int
    letters_pdf: bytes | None
    invoice_numbers: list[str]
    recently_reminded: list[str] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def summary(self) -> str:
        recent = ""
        if self.recently_reminded:
            recent = (f" {formats.count(len(self.recently_reminded), 'facture déjà relancée', 'factures déjà relancées')}"
                      f" depuis moins de {REMIND_INTERVAL_DAYS} jours : pas de nouvelle relance.")
        if not self.emailed and not self.letters:
            return "Aucune facture impayée à relancer." + recent
        parts = []
        if self.emailed:
            parts.append(f"{formats.count(self.emailed, 'relance envoyée', 'relances envoyées')} par e-mail")
        if self.letters:
            parts.append(f"{formats.count(self.letters, 'lettre de relance', 'lettres de relance')} à imprimer "
                         f"(familles sans e-mail)")
        return " ; ".join(parts) + "." + recent


REMIND_INTERVAL_DAYS = 7  # pressing "Relancer" twice must not send the same family two reminders


def remind(desk: Desk, invoice_ids: list[int] | None = None) -> RemindResult:
    """Reminders for unpaid invoices (all, or the chosen ones): e-mail, or a letter PDF without e-mail."""
    desk.require(Role.AGENT, "Relancer les impayés")
    from gandrange_desk.services.pdf.base import StructureInfo
    from gandrange_desk.services.pdf.letters import reminder_letters_pdf

    with desk.unit_of_work() as s:
        structure = s.scalar(select(Structure).limit(1))
        rows = _unpaid(s, desk.today(), invoice_ids)
        since = desk.now() - timedelta(days=REMIND_INTERVAL_DAYS)
        recent_ids = set(s.scalars(select(AuditEntry.entity_id).where(
            AuditEntry.action == "invoice.remind", AuditEntry.at >= since)))
        recent = [r.number for r in rows if r.invoice_id in recent_ids]
        rows = [r for r in rows if r.invoice_id not in recent_ids]
        emailed = 0
        letters: list[tuple[UnpaidRow, str, str, Family]] = []
        for row in rows:
            subject, body = reminder_text(row, structure)
            family = s.get(Family, row.family_id)
            if row.emails:
                outbox.enqueue(s, desk, recipients=row.emails, subject=subject, body_text=body,
                               family_id=row.family_id, kind="relance", invoice_id=row.invoice_id)
                emailed += 1
                channel = "email"
            else:
                letters.append((row, subject, body, family))
                channel = "courrier"
            desk.audit(s, "invoice.remind", "invoice", row.invoice_id, family_id=row.family_id,
                       after={"number": row.number, "remaining_cents": row.remaining_cents, "channel": channel})
        pdf = reminder_letters_pdf(StructureInfo.from_structure(structure), letters, desk.today()) if letters else None
        changes = Changes(invoices={r.invoice_id for r in rows}, outbox=emailed)
        return RemindResult(emailed, len(letters), pdf, [r.number for r in rows], recent, changes)
