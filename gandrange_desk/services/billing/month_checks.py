"""What the supervisor checks before a month's run goes out: is the month over, what the drafts
add up to per activity and unit, and what "Envoyer" is about to do (how many e-mails, which
families get their invoice on paper).

Reads only; the run itself is `invoicing` and the sending `invoice_views.send_invoices`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from gandrange_desk import formats
from gandrange_desk.models import Activity, Family, Invoice, InvoiceLine, InvoiceStatus, LineKind, Unit
from gandrange_desk.services.billing.invoice_views import invoice_pdf
from gandrange_desk.services.billing.invoicing import month_end, month_start
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.outbox import family_recipients
from gandrange_desk.services.pdf.base import merge_pdfs


def month_not_over(desk: Desk, month: date | str) -> str | None:
    """A warning when the month still has days to come (bookings may still change), else None."""
    month = month_start(month)
    last = month_end(month)
    today = desk.today()
    if today > last:
        return None
    if today < month:
        return (f"Le mois de {formats.month_year(month)} n'a pas encore commencé : ses réservations "
                "peuvent encore changer.")
    left = (last - today).days + 1
    return (f"Le mois de {formats.month_year(month)} n'est pas terminé : encore "
            f"{formats.count(left, 'jour', 'jours')} jusqu'au {formats.ddmmyyyy(last)}. Les réservations et "
            "annulations de ces jours-là peuvent encore changer (elles passeront alors en régularisation "
            "le mois suivant).")


@dataclass(frozen=True)
class RecapRow:
    activity: str
    unit: str
    quantity: int
    amount_cents: int
    meal: bool = False


@dataclass
class MonthRecap:
    month: date
    rows: list[RecapRow] = field(default_factory=list)
    invoices: int = 0
    drafts: int = 0
    with_anomalies: int = 0
    total_cents: int = 0
    warning: str | None = None  # the month is not over

    @property
    def meals(self) -> int:
        return sum(r.quantity for r in self.rows if r.meal)

    def text(self) -> str:
        out = [f"{formats.month_year(self.month).capitalize()} : "
               f"{formats.count(self.invoices, 'facture', 'factures')}"
               + (f" dont {formats.count(self.drafts, 'brouillon', 'brouillons')}" if self.drafts else "")
               + f", total {formats.euros(self.total_cents)}."]
        for r in self.rows:
            out.append(f"  {r.activity} — {r.unit} : {r.quantity}, {formats.euros(r.amount_cents)}")
        if self.meals:
            out.append(f"Repas : {self.meals}.")
        if self.with_anomalies:
            out.append(formats.count(self.with_anomalies, "facture avec anomalie", "factures avec anomalies") + ".")
        if self.warning:
            out.append(self.warning)
        return "\n".join(out)

    def as_json(self) -> dict:
        return {"month": self.month.isoformat(), "invoices": self.invoices, "drafts": self.drafts,
                "total_cents": self.total_cents, "with_anomalies": self.with_anomalies, "meals": self.meals,
                "warning": self.warning,
                "rows": [{"activity": r.activity, "unit": r.unit, "quantity": r.quantity,
                          "amount_cents": r.amount_cents} for r in self.rows]}


def month_recap(desk: Desk, month: date | str) -> MonthRecap:
    """The month's invoices (drafts or issued) added up per activity and unit: what issuing bills."""
    month = month_start(month)
    recap = MonthRecap(month, warning=month_not_over(desk, month))
    with desk.read() as s:
        invoices = s.execute(select(Invoice.id, Invoice.status, Invoice.total_cents, Invoice.anomalies)
                             .where(Invoice.month == month)).all()
        recap.invoices = len(invoices)
        recap.drafts = sum(1 for i in invoices if i.status == InvoiceStatus.DRAFT)
        recap.with_anomalies = sum(1 for i in invoices if i.anomalies)
        recap.total_cents = sum(i.total_cents for i in invoices)
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        lines = s.execute(
            select(Activity.position, Activity.name, Unit.position, Unit.name, Unit.meal, InvoiceLine.kind,
                   func.sum(InvoiceLine.quantity), func.sum(InvoiceLine.amount_cents))
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .outerjoin(Unit, Unit.id == InvoiceLine.unit_id).outerjoin(Activity, Activity.id == Unit.activity_id)
            .where(Invoice.month == month)
            .group_by(Activity.position, Activity.name, Unit.position, Unit.name, Unit.meal, InvoiceLine.kind)).all()
        for a_pos, activity, u_pos, unit, meal, kind, quantity, amount in lines:
            if kind != LineKind.NORMAL or unit is None:
                key = (99, "Autres lignes", 0, LineKind.label_of(kind) if kind else "", False)
            else:
                key = (a_pos or 0, activity, u_pos or 0, unit, bool(meal))
            sums[key][0] += int(quantity or 0)
            sums[key][1] += int(amount or 0)
    recap.rows = [RecapRow(activity, unit, q, cents, meal)
                  for (_a, activity, _u, unit, meal), (q, cents) in sorted(sums.items())]
    return recap


@dataclass
class SendPlan:
    """What "Envoyer" will do with the invoices chosen, before it does it."""

    to_email: int = 0
    without_email: list[tuple[int, str, str, str]] = field(default_factory=list)  # invoice id, number, ref, name
    already_sent: int = 0
    not_issued: int = 0

    def question(self) -> str:
        out = [f"Mettre en file d'envoi {formats.count(self.to_email, 'e-mail', 'e-mails')} "
               "« Votre facture est disponible », chacun avec sa facture en PDF ?"]
        if self.already_sent:
            out.append(f"{formats.count(self.already_sent, 'facture a', 'factures ont')} déjà été "
                       f"{formats.plural(self.already_sent, 'envoyée', 'envoyées')} : "
                       f"{formats.plural(self.already_sent, 'elle repart', 'elles repartent')}.")
        if self.without_email:
            out.append(f"{formats.count(len(self.without_email), 'famille n’a', 'familles n’ont')} pas d'adresse "
                       "e-mail : leurs factures sont à imprimer et à poster (liste après l'envoi).")
        if self.not_issued:
            out.append(f"{formats.count(self.not_issued, 'brouillon ignoré', 'brouillons ignorés')} "
                       "(seules les factures émises s'envoient).")
        return "\n\n".join(out)


def send_plan(desk: Desk, invoice_ids: list[int]) -> SendPlan:
    plan = SendPlan()
    with desk.read() as s:
        rows = s.execute(select(Invoice.id, Invoice.number, Invoice.status, Invoice.sent_at, Invoice.family_id)
                         .where(Invoice.id.in_(invoice_ids)).order_by(Invoice.number)).all()
        families = {f.id: f for f in s.execute(
            select(Family).where(Family.id.in_({r.family_id for r in rows}))
            .options(selectinload(Family.guardians))).scalars()} if rows else {}
        for r in rows:
            if r.status != InvoiceStatus.ISSUED:
                plan.not_issued += 1
                continue
            family = families[r.family_id]
            if not family_recipients(family):
                plan.without_email.append((r.id, r.number or "", family.ref, family.name))
                continue
            plan.to_email += 1
            plan.already_sent += bool(r.sent_at)
    return plan




def paper_invoices_pdf(desk: Desk, invoice_ids: list[int]) -> bytes:
    """The issued invoices of the families without e-mail, in one PDF to print and post."""
    return merge_pdfs(invoice_pdf(desk, i)[1] for i in invoice_ids)


__all__ = ["MonthRecap", "RecapRow", "SendPlan", "month_not_over", "month_recap", "paper_invoices_pdf", "send_plan"]
