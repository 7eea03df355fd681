"""Attestations: the yearly fiscal one (childcare of children under 6) and attendance/payment.

Fiscal (frais de garde des enfants de moins de 6 ans, CGI art. 200 quater B): what the family
paid during the year for the care of each child under 6 on 1 January, meals left out. Payments
are allocated to invoices, not to lines, so a payment's share for a child's care is the invoice's
care lines of that child over the invoice's net total (after credit notes); a fully paid invoice
gives exactly its care lines. CESU préfinancés are employer aid, not the family's expense: they
are left out and the attestation says so.

Attendance/payment: for a chosen period, the days each child was there (the door's pointage;
a booked day nobody marked counts, flagged "d'après la réservation"), the billed days per child
and unit, and the payments received.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, NotFound, ValidationFailed
from gandrange_desk.models import (
    Activity,
    Child,
    CreditNote,
    CreditNoteLine,
    Family,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMode,
    Role,
    Unit,
)
from gandrange_desk.services.attendance.periods import attended_days
from gandrange_desk.services.context import Desk
from gandrange_desk.services.pdf.base import load_structure
from gandrange_desk.services.progress import Progress

EXCLUDED_MODES = (PaymentMode.CESU,)


def under_six_on_first_january(birth_date: date, year: int) -> bool:
    """Under 6 on 1 January of `year`: born after 1 January of year − 6 (a child born that day is 6)."""
    return birth_date > date(year - 6, 1, 1)


@dataclass
class ChildAmount:
    child_id: int
    name: str
    birth_date: date
    amount_cents: int


@dataclass
class FiscalAttestation:
    year: int
    family_id: int
    family_ref: str
    family_name: str
    address_lines: list[str]
    guardians: list[str]
    children: list[ChildAmount] = field(default_factory=list)
    excluded_cesu_cents: int = 0

    @property
    def total_cents(self) -> int:
        return sum(c.amount_cents for c in self.children)


def _share(paid: int, part: int, whole: int) -> int:
    """paid × part / whole, rounded half up, in integers."""
    if whole <= 0 or part <= 0 or paid <= 0:
        return 0
    return (2 * paid * part + whole) // (2 * whole)


def _fiscal(s: Session, year: int, family_id: int | None) -> list[FiscalAttestation]:
    return _fiscal_years(s, [year], family_id)[year]


def _fiscal_years(s: Session, years: list[int], family_id: int | None) -> dict[int, list[FiscalAttestation]]:
    """The fiscal attestations of several years in one pass: the same statements whatever the
    number of years (payments grouped by year, the invoices' lines and credit notes, the children
    and families read once), each year then worked out on its own payments by the same rule."""
    out: dict[int, list[FiscalAttestation]] = {year: [] for year in years}
    if not years:
        return out
    start, end = date(min(years), 1, 1), date(max(years), 12, 31)
    paid_year = extract("year", Payment.received_on)
    q = (select(paid_year, PaymentAllocation.invoice_id, Payment.mode, func.sum(PaymentAllocation.amount_cents))
         .join(Payment, Payment.id == PaymentAllocation.payment_id)
         .where(Payment.received_on >= start, Payment.received_on <= end)
         .group_by(paid_year, PaymentAllocation.invoice_id, Payment.mode))
    if family_id is not None:
        q = q.where(Payment.family_id == family_id)
    paid: dict[int, dict[int, int]] = {year: defaultdict(int) for year in years}
    cesu: dict[int, dict[int, int]] = {year: defaultdict(int) for year in years}
    for paid_in, invoice_id, mode, cents in s.execute(q):
        if int(paid_in) in paid:
            (cesu if mode in EXCLUDED_MODES else paid)[int(paid_in)][invoice_id] += int(cents or 0)
    if not any(paid.values()) and not any(cesu.values()):
        return out
    # The same invoices as a subquery: a year of 2,000 families is too many for an IN list.
    paid_q = (select(PaymentAllocation.invoice_id).join(Payment, Payment.id == PaymentAllocation.payment_id)
              .where(Payment.received_on >= start, Payment.received_on <= end))
    if family_id is not None:
        paid_q = paid_q.where(Payment.family_id == family_id)
    meal_units = set(s.scalars(select(Unit.id).where(Unit.meal.is_(True))))
    credited = {lid: int(a or 0) for lid, a in s.execute(
        select(CreditNoteLine.invoice_line_id, func.sum(CreditNoteLine.amount_cents))
        .join(CreditNote, CreditNote.id == CreditNoteLine.credit_note_id)
        .where(CreditNote.invoice_id.in_(paid_q)).group_by(CreditNoteLine.invoice_line_id))}
    lines = s.execute(select(InvoiceLine.invoice_id, InvoiceLine.id, InvoiceLine.child_id, InvoiceLine.unit_id,
                             InvoiceLine.amount_cents).where(InvoiceLine.invoice_id.in_(paid_q))).all()
    net_total: dict[int, int] = defaultdict(int)
    care: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for invoice_id, line_id, child_id, unit_id, amount in lines:
        net = amount - credited.get(line_id, 0)
        net_total[invoice_id] += net
        if child_id is not None and unit_id not in meal_units:
            care[invoice_id][child_id] += net
    amounts: dict[int, dict[int, int]] = {}
    cesu_by_child: dict[int, dict[int, int]] = {}
    for year in years:
        amounts[year], cesu_by_child[year] = defaultdict(int), defaultdict(int)
        for invoice_id in sorted(set(paid[year]) | set(cesu[year])):
            for child_id, part in care[invoice_id].items():
                amounts[year][child_id] += _share(paid[year].get(invoice_id, 0), part, net_total[invoice_id])
                cesu_by_child[year][child_id] += _share(cesu[year].get(invoice_id, 0), part, net_total[invoice_id])
    children = []
    child_ids = sorted(set().union(*(amounts[year] for year in years)))
    for first in range(0, len(child_ids), 500):
        children += s.scalars(select(Child).where(Child.id.in_(child_ids[first:first + 500]))).all()
    family_ids = sorted({c.family_id for c in children})
    families: dict[int, Family] = {}
    for first in range(0, len(family_ids), 500):
        for fam in s.scalars(select(Family).where(Family.id.in_(family_ids[first:first + 500]))
                             .options(selectinload(Family.guardians))):
            families[fam.id] = fam
    for year in years:
        by_family: dict[int, FiscalAttestation] = {}
        for child in sorted(children, key=lambda c: (c.birth_date, c.first_name)):
            if not under_six_on_first_january(child.birth_date, year):
                continue
            if amounts[year][child.id] <= 0 and cesu_by_child[year][child.id] <= 0:
                continue
            att = by_family.get(child.family_id)
            if att is None:
                fam = families[child.family_id]
                att = FiscalAttestation(year, fam.id, fam.ref, fam.name, _address(fam),
                                        [g.full_name for g in fam.guardians])
                by_family[fam.id] = att
            att.children.append(ChildAmount(child.id, child.full_name, child.birth_date, amounts[year][child.id]))
            att.excluded_cesu_cents += cesu_by_child[year][child.id]
        out[year] = sorted((a for a in by_family.values() if a.total_cents > 0),
                           key=lambda a: (a.family_name, a.family_ref))
    return out


def _address(family: Family) -> list[str]:
    return [x for x in (family.street, f"{family.postcode} {family.city}".strip()) if x]


def fiscal_attestations(desk: Desk, year: int, family_id: int | None = None) -> list[FiscalAttestation]:
    with desk.read() as s:
        return _fiscal(s, year, family_id)


def fiscal_attestations_of_years(desk: Desk, years: list[int], family_id: int | None = None
                                 ) -> dict[int, list[FiscalAttestation]]:
    """`fiscal_attestations` of each year, read once for all of them (the portal's list of years)."""
    with desk.read() as s:
        return _fiscal_years(s, sorted(set(years)), family_id)


def _check_year(desk: Desk, year: int) -> None:
    if not isinstance(year, int) or year < 2000 or year > desk.today().year:
        raise ValidationFailed([f"Année invalide : {year} (une année écoulée ou l'année en cours)."])


@dataclass
class PdfResult:
    pdf: bytes
    count: int
    total_cents: int

    def summary(self, singular: str, plural: str) -> str:
        return f"{formats.count(self.count, singular, plural)}, {formats.euros(self.total_cents)} au total."


def fiscal_pdf(desk: Desk, year: int, family_id: int | None = None, progress: Progress | None = None) -> PdfResult:
    """The fiscal attestations of one family, or of all eligible families in one PDF to print."""
    from gandrange_desk.services.pdf.attestation import fiscal_attestations_pdf

    desk.require(Role.AGENT, "Éditer les attestations fiscales")
    _check_year(desk, year)
    with desk.unit_of_work() as s:
        if family_id is not None and s.get(Family, family_id) is None:
            raise NotFound("Famille introuvable.")
        items = _fiscal(s, year, family_id)
        if not items:
            who = "cette famille" if family_id is not None else "aucune famille"
            raise DeskError(f"Pas d'attestation fiscale {year} pour {who} : aucun paiement de garde reçu en {year} "
                            f"pour un enfant de moins de 6 ans au 1er janvier {year}."
                            if family_id is not None else
                            f"Aucune famille n'a droit à une attestation fiscale {year} : aucun paiement de garde "
                            f"reçu en {year} pour un enfant de moins de 6 ans au 1er janvier {year}.")
        def step(i: int) -> None:
            if progress:
                progress.check()
                progress.step(i, len(items), items[i].family_name)

        pdf = fiscal_attestations_pdf(load_structure(s), items, desk.today(), step)
        desk.audit(s, "attestation.fiscal", "family", family_id, family_id=family_id,
                   after={"year": year, "families": len(items), "total_cents": sum(a.total_cents for a in items)})
    return PdfResult(pdf, len(items), sum(a.total_cents for a in items))


# ---------------------------------------------------------------------------------------------
# Attendance / payment over a period


@dataclass
class AttendanceLine:
    child_name: str
    unit_label: str
    days: list[date]
    amount_cents: int  # billed for these days (line price × days)
    presumed: list[date] = field(default_factory=list)  # booked, nobody marked: "d'après la réservation"


@dataclass
class PeriodAttestation:
    family_id: int
    family_ref: str
    family_name: str
    address_lines: list[str]
    start: date
    end: date
    # Days present, up to today: marked present (or walk-in), or booked (R) and not marked.
    attendance: list[AttendanceLine] = field(default_factory=list)
    billed: list[AttendanceLine] = field(default_factory=list)  # issued invoice lines, days in the period
    payments: list[tuple[date, str, str, int]] = field(default_factory=list)  # date, mode, reference, cents

    @property
    def billed_cents(self) -> int:
        return sum(a.amount_cents for a in self.billed)

    @property
    def paid_cents(self) -> int:
        return sum(p[3] for p in self.payments)


def _period(s: Session, family_id: int, start: date, end: date, today: date) -> PeriodAttestation:
    from gandrange_desk.models import PaymentMode

    fam = s.get(Family, family_id)
    if fam is None:
        raise NotFound("Famille introuvable.")
    att = PeriodAttestation(fam.id, fam.ref, fam.name, _address(fam), start, end)
    first_month = date(start.year, start.month, 1)
    rows = s.execute(select(InvoiceLine, Unit.name).outerjoin(Unit, Unit.id == InvoiceLine.unit_id)
                     .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                     .where(Invoice.family_id == family_id, Invoice.status == InvoiceStatus.ISSUED,
                            Invoice.month >= first_month, Invoice.month <= end)
                     .order_by(InvoiceLine.child_name, Invoice.month, InvoiceLine.position)).all()
    merged: dict[tuple[str, str], AttendanceLine] = {}
    for line, unit_name in rows:
        days = [date.fromisoformat(d) for d in line.dates.split(",") if d]
        days = [d for d in days if start <= d <= end]
        # A line at 0 € lists days the door saw but nobody billed (an excused absence): not billed days.
        if not days or line.quantity <= 0 or (line.unit_price_cents == 0 and line.amount_cents == 0):
            continue
        key = (line.child_name, line.label)
        entry = merged.setdefault(key, AttendanceLine(line.child_name, line.label, [], 0))
        entry.days += days
        if len(days) == line.quantity:
            entry.amount_cents += line.amount_cents
        else:
            entry.amount_cents += len(days) * line.unit_price_cents
    for entry in merged.values():
        entry.days.sort()
    att.billed = sorted(merged.values(), key=lambda a: (a.child_name, a.unit_label))
    # Real attendance (pointage); a booked day nobody marked counts "d'après la réservation".
    days = attended_days(s, start, min(end, today), family_id=family_id)
    children = {c.id: c for c in s.scalars(select(Child).where(Child.family_id == family_id))}
    units = {uid: (name, activity_name, a_pos, u_pos) for uid, name, activity_name, a_pos, u_pos in s.execute(
        select(Unit.id, Unit.name, Activity.name, Activity.position, Unit.position)
        .join(Activity, Activity.id == Unit.activity_id))}
    present: dict[tuple[str, str], AttendanceLine] = {}
    for (child_id, unit_id, day), presumed in sorted(days.items(), key=lambda kv: (
            children[kv[0][0]].birth_date, kv[0][0], units[kv[0][1]][2:], kv[0][1], kv[0][2])):
        child, (unit, activity_name, *_) = children[child_id], units[unit_id]
        label = f"{activity_name} — {unit}"
        line = present.setdefault((child.full_name, label), AttendanceLine(child.full_name, label, [], 0))
        line.days.append(day)
        if presumed:
            line.presumed.append(day)
    att.attendance = list(present.values())
    for p in s.scalars(select(Payment).where(Payment.family_id == family_id, Payment.received_on >= start,
                                             Payment.received_on <= end, Payment.reversed_at.is_(None))
                       .order_by(Payment.received_on, Payment.id)):
        att.payments.append((p.received_on, PaymentMode.label_of(p.mode), p.reference, p.amount_cents))
    return att


def period_attestation(desk: Desk, family_id: int, start: date, end: date) -> PeriodAttestation:
    with desk.read() as s:
        return _period(s, family_id, start, end, desk.today())


def period_pdf(desk: Desk, family_id: int, start: date, end: date) -> PdfResult:
    from gandrange_desk.services.pdf.attestation import period_attestation_pdf

    desk.require(Role.AGENT, "Éditer une attestation de présence et de paiement")
    problems = []
    if not isinstance(start, date) or not isinstance(end, date):
        problems.append("Indiquez le premier et le dernier jour de la période.")
    elif end < start:
        problems.append("Le dernier jour de la période précède le premier.")
    elif (end - start).days > 3 * 366:
        problems.append("La période ne peut dépasser trois ans.")
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        att = _period(s, family_id, start, end, desk.today())
        if not att.attendance and not att.billed and not att.payments:
            raise DeskError(f"Rien à attester pour {att.family_name} du {formats.ddmmyyyy(start)} au "
                            f"{formats.ddmmyyyy(end)} : aucune présence facturée ni aucun paiement.")
        pdf = period_attestation_pdf(load_structure(s), att, desk.today())
        desk.audit(s, "attestation.period", "family", family_id, family_id=family_id,
                   after={"from": start, "to": end, "billed_cents": att.billed_cents, "paid_cents": att.paid_cents})
    return PdfResult(pdf, 1, att.paid_cents)
