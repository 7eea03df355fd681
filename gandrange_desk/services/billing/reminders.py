"""Unpaid invoices and reminders (relances) by level: by e-mail, or a letter for families without
e-mail; the formal notice (mise en demeure) always as a letter to post.

An invoice is unpaid when it is issued, its due date has passed and something is left to pay
after credit notes and allocated payments (see `payments`). Its next reminder's level follows
the reminders already sent for it: 1re relance, 2e relance, then mise en demeure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
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
    reminders_sent: int = 0
    last_reminded_on: date | None = None

    @property
    def next_level(self) -> int:
        """1re relance, 2e relance, then mise en demeure (and again, if still unpaid)."""
        return min(self.reminders_sent + 1, FORMAL_NOTICE)

    @property
    def level_title(self) -> str:
        return LEVELS[self.next_level]

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
                "days_late": self.days_late(today), "email": bool(self.emails),
                "reminders_sent": self.reminders_sent, "next_level": self.next_level}


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
    invoice_ids_found = [r[0] for r in rows]
    sent: dict[int, tuple[int, object]] = {}
    for start in range(0, len(invoice_ids_found), 500):
        for iid, n, last in s.execute(
                select(AuditEntry.entity_id, func.count(AuditEntry.id), func.max(AuditEntry.at))
                .where(AuditEntry.action == "invoice.remind",
                       AuditEntry.entity_id.in_(invoice_ids_found[start:start + 500]))
                .group_by(AuditEntry.entity_id)):
            sent[iid] = (int(n), last)
    emails: dict[int, list[str]] = {}
    for start in range(0, len(family_ids), 500):
        for family in s.scalars(select(Family).where(Family.id.in_(family_ids[start:start + 500]))
                                .options(selectinload(Family.guardians))):
            emails[family.id] = outbox.family_recipients(family)
    out = []
    for iid, number, fid, ref, name, month, due, total, c, p in rows:
        n, last = sent.get(iid, (0, None))
        out.append(UnpaidRow(iid, number or "", fid, ref, name, month, due, total, int(c or 0), int(p or 0),
                             emails.get(fid, []), n, last.date() if last is not None else None))
    return out


def unpaid_invoices(desk: Desk, today: date | None = None) -> list[UnpaidRow]:
    """Issued invoices whose due date has passed with something left to pay, most overdue first."""
    with desk.read() as s:
        return _unpaid(s, today or desk.today())


FORMAL_NOTICE = 3
LEVELS = {1: "1re relance", 2: "2e relance", FORMAL_NOTICE: "Mise en demeure"}
LEVEL_PLURALS = {1: "1res relances", 2: "2es relances", FORMAL_NOTICE: "mises en demeure"}
FORMAL_NOTICE_DAYS = 15


def reminder_text(row: UnpaidRow, structure: Structure | None, level: int | None = None) -> tuple[str, str]:
    """Subject and body of the reminder at its level, the same words in the e-mail and the letter."""
    level = level or row.next_level
    name = structure.name if structure else "Le service périscolaire"
    paid = ""
    if row.paid_cents or row.credited_cents:
        paid = (f" Compte tenu de ce qui a déjà été réglé ou annulé par avoir, "
                f"il reste {formats.euros(row.remaining_cents)} à payer.")
    facts = (f"la facture {row.number} {of_month(row.month)}, d'un montant de {formats.euros(row.total_cents)}, "
             f"arrivée à échéance le {formats.ddmmyyyy(row.due_date)}")
    contact = ("Pour toute question, contactez-nous"
               + (f" au {structure.phone}" if structure and structure.phone else "")
               + (f" ou à {structure.email}" if structure and structure.email else "") + ".")
    how = ("(chèque à l'ordre du Trésor public, espèces, CESU, carte bancaire ou virement), en rappelant "
           f"la référence {row.number}")
    earlier = (f" du {formats.ddmmyyyy(row.last_reminded_on)}" if row.last_reminded_on else "")
    if level == 1:
        subject = f"Relance : facture {row.number} impayée"
        middle = (f"Sauf erreur de notre part, {facts}, n'est pas entièrement réglée.{paid}\n\n"
                  f"Montant restant dû : {formats.euros(row.remaining_cents)}.\n\n"
                  f"Nous vous remercions de bien vouloir effectuer ce règlement dans les meilleurs délais {how}. "
                  "Si vous avez réglé entre-temps, merci de ne pas tenir compte de ce message.")
    elif level == 2:
        subject = f"2e relance : facture {row.number} impayée"
        middle = (f"Malgré notre précédente relance{earlier}, {facts}, n'est toujours pas entièrement "
                  f"réglée.{paid}\n\nMontant restant dû : {formats.euros(row.remaining_cents)}.\n\n"
                  f"Nous vous demandons de régler cette somme sous {FORMAL_NOTICE_DAYS} jours {how}. Sans "
                  "règlement de votre part, une mise en demeure vous sera adressée. Si vous rencontrez des "
                  "difficultés de paiement, prenez contact avec nous : un échéancier peut être étudié.")
    else:
        subject = f"Mise en demeure de payer : facture {row.number}"
        middle = (f"Malgré nos relances{earlier}, {facts}, reste impayée.{paid}\n\n"
                  f"Montant restant dû : {formats.euros(row.remaining_cents)}.\n\n"
                  f"Par la présente, nous vous mettons en demeure de régler cette somme dans un délai de "
                  f"{FORMAL_NOTICE_DAYS} jours à compter de la réception de ce courrier {how}. À défaut, le "
                  "recouvrement sera confié au comptable public, qui pourra engager les poursuites prévues "
                  "par la loi, les frais restant à votre charge.")
    body = f"Madame, Monsieur,\n\n{middle}\n\n{contact}\n\nCordialement,\n{name}\n"
    return subject, body


@dataclass
class RemindResult:
    emailed: int
    letters: int
    letters_pdf: bytes | None
    invoice_numbers: list[str]
    recently_reminded: list[str] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)
    by_level: dict[int, int] = field(default_factory=dict)  # level -> reminders sent at it

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
            parts.append(f"{formats.count(self.letters, 'lettre de relance', 'lettres de relance')} à imprimer")
        levels = ", ".join(f"{n} {LEVELS[lv].lower() if n < 2 else LEVEL_PLURALS[lv]}"
                           for lv, n in sorted(self.by_level.items()) if n)
        return " ; ".join(parts) + f" ({levels})." + recent


REMIND_INTERVAL_DAYS = 7  # pressing "Relancer" twice must not send the same family two reminders


def remind(desk: Desk, invoice_ids: list[int] | None = None, *, level: int | None = None,
           letters_for_all: bool = False) -> RemindResult:
    """Reminders for unpaid invoices (all, or the chosen ones), each at its next level — or only
    those whose next level is `level`. Levels 1 and 2 go by e-mail (a letter without e-mail); a
    formal notice is always a letter to post, with an e-mail copy. `letters_for_all` prints a
    letter for every reminder."""
    desk.require(Role.AGENT, "Relancer les impayés")
    if level is not None and level not in LEVELS:
        raise DeskError(f"Niveau de relance inconnu : {level} (1, 2 ou 3 pour la mise en demeure).")
    from gandrange_desk.services.pdf.base import StructureInfo
    from gandrange_desk.services.pdf.letters import reminder_letters_pdf

    with desk.unit_of_work() as s:
        structure = s.scalar(select(Structure).limit(1))
        rows = _unpaid(s, desk.today(), invoice_ids)
        if level is not None:
            rows = [r for r in rows if r.next_level == level]
        since = desk.now() - timedelta(days=REMIND_INTERVAL_DAYS)
        recent_ids = set(s.scalars(select(AuditEntry.entity_id).where(
            AuditEntry.action == "invoice.remind", AuditEntry.at >= since)))
        recent = [r.number for r in rows if r.invoice_id in recent_ids]
        rows = [r for r in rows if r.invoice_id not in recent_ids]
        emailed = 0
        by_level: dict[int, int] = {}
        letters: list[tuple[UnpaidRow, str, str, Family]] = []
        for row in rows:
            subject, body = reminder_text(row, structure)
            family = s.get(Family, row.family_id)
            channels = []
            if row.emails:
                outbox.enqueue(s, desk, recipients=row.emails, subject=subject, body_text=body,
                               family_id=row.family_id, kind="relance", invoice_id=row.invoice_id)
                emailed += 1
                channels.append("email")
            if not row.emails or row.next_level == FORMAL_NOTICE or letters_for_all:
                letters.append((row, subject, body, family))
                channels.append("courrier")
            by_level[row.next_level] = by_level.get(row.next_level, 0) + 1
            desk.audit(s, "invoice.remind", "invoice", row.invoice_id, family_id=row.family_id,
                       after={"number": row.number, "remaining_cents": row.remaining_cents,
                              "channel": " + ".join(channels), "level": LEVELS[row.next_level]})
        pdf = reminder_letters_pdf(StructureInfo.from_structure(structure), letters, desk.today()) if letters else None
        changes = Changes(invoices={r.invoice_id for r in rows}, outbox=emailed)
        return RemindResult(emailed, len(letters), pdf, [r.number for r in rows], recent, changes, by_level)
