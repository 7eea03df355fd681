"""Every list the desk exports, as `Table`s: one builder per list, columns declared once.

    LISTS["invoices"].build(desk, month=date(2026, 11, 1)) -> [Table]
    export(desk, "invoices", "factures.xlsx", month=...) -> ExportResult

The figures are the desk's own (a family's balance as the Familles list shows it, an invoice's
remaining amount as the unpaid list computes it), read in a few grouped queries so a year of
invoices of 2,000 families exports in about a second.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from gandrange_desk import formats
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import (
    Activity, Billing, CellState, Child, CreditNote, Family, Guardian, Invoice, InvoiceLine, InvoiceStatus,
    PaymentMode, Payment, PaymentAllocation, PortalState, Presence, QuotientRecord, Request, RequestKind,
    RequestSource, RequestStatus, Role, School, Unit,
)
from gandrange_desk.services.attendance.periods import cells as period_cells, presences as period_presences
from gandrange_desk.services.attendance.rules import day_billing
from gandrange_desk.services.attendance.settings import load_rules
from gandrange_desk.services.billing.reminders import unpaid_invoices
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk
from gandrange_desk.services.exports.table import (
    BOOL, DATE, DATETIME, INT, MONEY, MONTH, TEXT, Column, Table,
)
from gandrange_desk.services.exports.titles import TITLES
from gandrange_desk.services.exports.writer import ExportResult, format_of, save
from gandrange_desk.services.families.data import can_see_health
from gandrange_desk.services.queue.listing import pending_items
from gandrange_desk.services.reservations.grid import CODES, load_grid
from gandrange_desk.services.search import normalize


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _span(month: date | None, year: int | None) -> tuple[date | None, date | None, str]:
    """(first, last, words) of the period asked: a month, a calendar year, or everything."""
    if month is not None:
        month = month.replace(day=1)
        return month, month_end(month), formats.month_year(month)
    if year is not None:
        return date(year, 1, 1), date(year, 12, 31), str(year)
    return None, None, "toutes périodes"


# ----------------------------------------------------------------------------------- families
FAMILY_COLUMNS = (
    Column("Réf.", TEXT), Column("Famille", TEXT), Column("Enfants", TEXT, 30),
    Column("Solde", MONEY, total=True), Column("Paiement", TEXT), Column("Portail", TEXT),
    Column("Demandes en attente", INT, total=True), Column("Accusé rendu", BOOL), Column("Archivée", BOOL),
    Column("Adresse", TEXT, 30), Column("Code postal", TEXT, 8), Column("Ville", TEXT, 18),
    Column("Téléphone", TEXT, 15), Column("Responsables légaux", TEXT, 30), Column("E-mails", TEXT, 34),
    Column("Quotient familial", INT),
)


def families(desk: Desk, *, text: str = "", include_archived: bool = False) -> list[Table]:
    """Every family the Familles list would find for `text` (all of them, not its first page)."""
    today = desk.today()
    with desk.read() as s:
        stmt = select(Family).order_by(Family.name, Family.ref)
        for word in normalize(text).split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Family.search_text.like(f"%{escaped}%", escape="\\"))
        if not include_archived:
            stmt = stmt.where(Family.archived.is_(False))
        rows = s.execute(stmt).scalars().all()
        issued = dict(s.execute(select(Invoice.family_id, func.sum(Invoice.total_cents))
                                .where(Invoice.status == InvoiceStatus.ISSUED).group_by(Invoice.family_id)).all())
        credited = dict(s.execute(select(Invoice.family_id, func.sum(CreditNote.total_cents))
                                  .join(Invoice, Invoice.id == CreditNote.invoice_id)
                                  .group_by(Invoice.family_id)).all())
        paid = dict(s.execute(select(Invoice.family_id, func.sum(PaymentAllocation.amount_cents))
                              .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                              .group_by(Invoice.family_id)).all())
        pending = dict(s.execute(select(Request.family_id, func.count(Request.id))
                                 .where(Request.status == RequestStatus.PENDING).group_by(Request.family_id)).all())
        kids: dict[int, list[str]] = defaultdict(list)
        for fid, first in s.execute(select(Child.family_id, Child.first_name).where(Child.archived.is_(False))
                                    .order_by(Child.birth_date, Child.id)):
            kids[fid].append(first)
        people: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for fid, first, last, email in s.execute(select(Guardian.family_id, Guardian.first_name, Guardian.last_name,
                                                        Guardian.email).order_by(Guardian.position, Guardian.id)):
            people[fid].append((f"{first} {last}".strip(), email or ""))
        quotient: dict[int, int] = {}
        for fid, value, since in s.execute(select(QuotientRecord.family_id, QuotientRecord.value,
                                                  QuotientRecord.valid_from).order_by(QuotientRecord.valid_from)):
            if since <= today:
                quotient[fid] = value
    table = Table("Familles", f"Familles au {formats.ddmmyyyy(today)}", FAMILY_COLUMNS)
    for f in rows:
        balance = int(issued.get(f.id) or 0) - int(credited.get(f.id) or 0) - int(paid.get(f.id) or 0)
        table.rows.append((
            f.ref, f.name, ", ".join(kids.get(f.id, [])), balance,
            PaymentMode(f.payment_mode).label if f.payment_mode in PaymentMode.labels() else f.payment_mode,
            PortalState(f.portal_state).label if f.portal_state in PortalState.labels() else f.portal_state,
            int(pending.get(f.id) or 0), bool(f.acknowledgement_returned), bool(f.archived),
            f.street, f.postcode, f.city, f.phone,
            ", ".join(n for n, _ in people.get(f.id, [])), ", ".join(e for _, e in people.get(f.id, []) if e),
            quotient.get(f.id)))
    return [table]


# --------------------------------------------------------------------------------------- grid
def grid(desk: Desk, *, month: date | None = None, activity_id: int | None = None,
         school_id: int | None = None, class_name: str | None = None) -> list[Table]:
    """The reservation grid of a month as the Réservations tab shows it: one row per child, one
    column per open day and unit, the cell's code; places held and capacity under it."""
    month = (month or desk.today()).replace(day=1)
    health = can_see_health(desk.actor)
    with desk.read() as s:
        if activity_id is None:
            activity_id = s.execute(select(Activity.id).order_by(Activity.position, Activity.id)).scalar()
            if activity_id is None:
                raise NotFound("Aucune activité : importez d'abord les réglages.")
        school = s.get(School, school_id).name if school_id is not None else "toutes les écoles"
        data = load_grid(s, Calendar.load(s), month, activity_id, school_id=school_id,
                         class_name=class_name or None, show_health=health)
    open_days = sorted({d for (d, _u), closed in zip(data.columns, data.closed) if closed is None})
    shown = [c for c, (d, _u) in enumerate(data.columns) if d in set(open_days)]
    columns = [Column("Enfant", TEXT, 26), Column("Classe", TEXT, 7)] + ([Column("Santé", TEXT, 9)] if health else [])
    fixed = len(columns)
    for c in shown:
        d, u = data.columns[c]
        day = data.days[d]
        columns.append(Column(f"{formats.WEEKDAYS_SHORT_FR[day.weekday()]} {formats.ddmm(day)} {data.units[u].short}",
                              TEXT, 7))
    columns.append(Column("Total", INT, 7, total=True))
    title = f"Réservations {formats.of_month(month)} — {data.activity_name}, {school}"
    table = Table("Réservations", title, columns, freeze_columns=fixed)
    for row in range(len(data.child_ids)):
        states = data.states[row]
        values = [data.names[row], data.classes[row]] + ([data.marks[row]] if health else [])
        values += ["—" if data.closed[c] else (CODES[states[c]] or None) for c in shown]
        values.append(data.total(row))
        table.rows.append(tuple(values))
    blanks = [None] * (fixed - 1)
    table.footer.append(("Places occupées (R + DA, toutes écoles)", *blanks,
                         *[None if data.closed[c] else data.used[c] for c in shown]))
    table.footer.append(("Capacité", *blanks,
                         *[None if data.closed[c] else data.units[data.columns[c][1]].capacity for c in shown]))
    return [table]


# -------------------------------------------------------------------------------------- queue
QUEUE_COLUMNS = (
    Column("Réf. famille", TEXT), Column("Famille", TEXT, 24), Column("Demande", TEXT), Column("Enfant", TEXT, 22),
    Column("Activité", TEXT, 18), Column("Unité", TEXT, 16), Column("Jour", DATE), Column("Reçue le", DATETIME),
    Column("Hors délai", BOOL), Column("Jour passé", BOOL), Column("Facturation proposée", TEXT),
    Column("Places restantes", INT), Column("Source", TEXT), Column("Réf. portail", TEXT),
)


def queue(desk: Desk) -> list[Table]:
    """The pending requests, in the validation queue's order."""
    items = pending_items(desk)
    table = Table("Demandes", f"Demandes en attente au {formats.ddmmyyyy(desk.today())}", QUEUE_COLUMNS)
    for i in items:
        table.rows.append((
            i.family_ref, i.family_name, RequestKind(i.kind).label, i.child_name, i.activity_name, i.unit_name,
            i.day, i.submitted_at, i.late, i.past,
            Billing(i.proposed_billing).label if i.proposed_billing else "", i.places_left,
            RequestSource(i.source).label if i.source in RequestSource.labels() else i.source, i.ref or ""))
    return [table]


# ----------------------------------------------------------------------------------- invoices
INVOICE_COLUMNS = (
    Column("Numéro", TEXT, 13), Column("Mois", MONTH), Column("Statut", TEXT), Column("Réf. famille", TEXT),
    Column("Famille", TEXT, 24), Column("Facturé à", TEXT, 24), Column("Émise le", DATE), Column("Échéance", DATE),
    Column("Mode de paiement", TEXT), Column("Lignes", INT), Column("Montant", MONEY, total=True),
    Column("Avoirs", MONEY, total=True), Column("Payé", MONEY, total=True), Column("Reste à payer", MONEY, total=True),
    Column("Envoyée", BOOL), Column("Anomalies", TEXT, 40),
)


def invoices(desk: Desk, *, month: date | None = None, year: int | None = None) -> list[Table]:
    """Invoices of a month, of a year (by billed month), or all, drafts included."""
    first, last, words = _span(month, year)
    with desk.read() as s:
        lines = (select(InvoiceLine.invoice_id, func.count().label("n")).group_by(InvoiceLine.invoice_id).subquery())
        cn = (select(CreditNote.invoice_id.label("iid"), func.sum(CreditNote.total_cents).label("c"))
              .group_by(CreditNote.invoice_id).subquery())
        pa = (select(PaymentAllocation.invoice_id.label("iid"), func.sum(PaymentAllocation.amount_cents).label("p"))
              .group_by(PaymentAllocation.invoice_id).subquery())
        stmt = (select(Invoice.number, Invoice.month, Invoice.status, Family.ref, Family.name, Invoice.billed_name,
                       Invoice.issue_date, Invoice.due_date, Invoice.payment_mode, func.coalesce(lines.c.n, 0),
                       Invoice.total_cents, func.coalesce(cn.c.c, 0), func.coalesce(pa.c.p, 0), Invoice.sent_at,
                       Invoice.anomalies)
                .join(Family, Family.id == Invoice.family_id)
                .outerjoin(lines, lines.c.invoice_id == Invoice.id)
                .outerjoin(cn, cn.c.iid == Invoice.id).outerjoin(pa, pa.c.iid == Invoice.id)
                .order_by(Invoice.month, Invoice.number.is_(None), Invoice.number, Family.name, Family.ref))
        if first is not None:
            stmt = stmt.where(Invoice.month >= first, Invoice.month <= last)
        rows = s.execute(stmt).all()
    table = Table("Factures", f"Factures — {words}", INVOICE_COLUMNS)
    for (number, billed_month, status, ref, name, billed, issued_on, due, mode, n, total, credited, paid, sent,
         anomalies) in rows:
        remaining = max(0, total - int(credited) - int(paid)) if status == InvoiceStatus.ISSUED else 0
        table.rows.append((
            number or "", billed_month, InvoiceStatus(status).label, ref, name, billed, issued_on, due,
            PaymentMode(mode).label if mode in PaymentMode.labels() else mode, int(n), total, int(credited),
            int(paid), remaining, sent is not None, " ; ".join(a for a in (anomalies or "").splitlines() if a)))
    return [table]


# ----------------------------------------------------------------------------------- payments
PAYMENT_COLUMNS = (
    Column("Reçu le", DATE), Column("Réf. famille", TEXT), Column("Famille", TEXT, 24), Column("Mode", TEXT),
    Column("Référence", TEXT, 22), Column("Montant", MONEY, total=True), Column("Affecté", MONEY, total=True),
    Column("Non affecté", MONEY, total=True), Column("Factures", TEXT, 28), Column("Enregistré par", TEXT),
    Column("Enregistré le", DATETIME),
)


def payments(desk: Desk, *, month: date | None = None, year: int | None = None) -> list[Table]:
    """Payments received in a month, a year, or all, most recent first as the Règlements list."""
    first, last, words = _span(month, year)
    with desk.read() as s:
        stmt = (select(Payment, Family.ref, Family.name).join(Family, Family.id == Payment.family_id)
                .order_by(Payment.received_on.desc(), Payment.id.desc()))
        alloc_stmt = (select(PaymentAllocation.payment_id, Invoice.number, PaymentAllocation.amount_cents)
                      .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                      .join(Payment, Payment.id == PaymentAllocation.payment_id).order_by(PaymentAllocation.id))
        if first is not None:
            stmt = stmt.where(Payment.received_on >= first, Payment.received_on <= last)
            alloc_stmt = alloc_stmt.where(Payment.received_on >= first, Payment.received_on <= last)
        rows = s.execute(stmt).all()
        alloc: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for pid, number, cents in s.execute(alloc_stmt):
            alloc[pid].append((number or "", int(cents)))
    table = Table("Règlements", f"Règlements — {words}", PAYMENT_COLUMNS)
    for p, ref, name in rows:
        allocated = sum(c for _, c in alloc.get(p.id, []))
        table.rows.append((
            p.received_on, ref, name, PaymentMode(p.mode).label if p.mode in PaymentMode.labels() else p.mode,
            p.reference, p.amount_cents, allocated, p.amount_cents - allocated,
            ", ".join(n for n, _ in alloc.get(p.id, [])), p.recorded_by or "", p.recorded_at))
    return [table]


# ------------------------------------------------------------------------------------- unpaid
UNPAID_COLUMNS = (
    Column("Facture", TEXT, 13), Column("Réf. famille", TEXT), Column("Famille", TEXT, 24), Column("Mois", MONTH),
    Column("Échéance", DATE), Column("Jours de retard", INT), Column("Montant", MONEY, total=True),
    Column("Avoirs", MONEY, total=True), Column("Payé", MONEY, total=True), Column("Reste dû", MONEY, total=True),
    Column("E-mail", BOOL),
)


def unpaid(desk: Desk) -> list[Table]:
    """The unpaid list: issued invoices past their due date with something left to pay."""
    today = desk.today()
    table = Table("Impayés", f"Impayés au {formats.ddmmyyyy(today)}", UNPAID_COLUMNS)
    for r in unpaid_invoices(desk, today):
        table.rows.append((r.number, r.family_ref, r.family_name, r.month, r.due_date, r.days_late(today),
                           r.total_cents, r.credited_cents, r.paid_cents, r.remaining_cents, bool(r.emails)))
    return [table]


# --------------------------------------------------------------------------------- attendance
ATTENDANCE_COLUMNS = (
    Column("Jour", DATE), Column("École", TEXT, 18), Column("Activité", TEXT, 16), Column("Unité", TEXT, 16),
    Column("Enfant", TEXT, 24), Column("Classe", TEXT, 7), Column("Réservation", TEXT, 16),
    Column("Pointage", TEXT, 22), Column("Arrivée tardive", TEXT, 9), Column("Pointé par", TEXT),
    Column("Pointé le", DATETIME), Column("Facturé", BOOL), Column("Facturation", TEXT, 34),
)


def attendance(desk: Desk, *, month: date | None = None, activity_id: int | None = None,
               school_id: int | None = None) -> list[Table]:
    """The month's pointage up to today: every booked cell and every mark, with what it bills."""
    month = (month or desk.today()).replace(day=1)
    last = min(month_end(month), desk.today())
    with desk.read() as s:
        unit_stmt = (select(Unit.id, Unit.name, Activity.name, Activity.position, Unit.position)
                     .join(Activity, Activity.id == Unit.activity_id))
        if activity_id is not None:
            unit_stmt = unit_stmt.where(Activity.id == activity_id)
        units = {uid: (uname, aname, apos, upos) for uid, uname, aname, apos, upos in s.execute(unit_stmt)}
        held = period_cells(s, month, last, unit_ids=units) if last >= month else {}
        marks = period_presences(s, month, last, unit_ids=units) if last >= month else {}
        rules = load_rules(s)
        child_ids = sorted({k[0] for k in held} | {k[0] for k in marks})
        children = {}
        for start in range(0, len(child_ids), 500):
            for c in s.execute(select(Child.id, Child.first_name, Child.last_name, Child.class_name, Child.school_id)
                               .where(Child.id.in_(child_ids[start:start + 500]))):
                if school_id is None or c.school_id == school_id:
                    children[c.id] = c
        schools = dict(s.execute(select(School.id, School.name)).all())
    table = Table("Pointage", f"Pointage {formats.of_month(month)}", ATTENDANCE_COLUMNS)
    keys = [k for k in set(held) | set(marks) if k[0] in children]
    keys.sort(key=lambda k: (k[2], units[k[1]][2:], k[1], normalize(children[k[0]].last_name),
                             normalize(children[k[0]].first_name), k[0]))
    for key in keys:
        child_id, unit_id, day = key
        c = children[child_id]
        state, mark = held.get(key), marks.get(key)
        effect = day_billing(state, mark.presence if mark else None, rules)
        table.rows.append((
            day, schools.get(c.school_id, ""), units[unit_id][1], units[unit_id][0], f"{c.last_name.upper()} {c.first_name}",
            c.class_name or "", CellState(state).label if state else "Aucune",
            Presence(mark.presence).label if mark else "Non pointé", mark.late_time if mark else "",
            mark.recorded_by if mark else "", mark.recorded_at if mark else None, effect.billed, effect.label))
    return [table]


# ----------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ListSpec:
    title: str  # French, for the window's menus and the command's help
    build: Callable[..., list[Table]]
    options: tuple[str, ...] = ()  # keyword arguments `build` takes


# The day's lists, the CAF report and the structure's name come with the PDF layer (fpdf,
# fontTools: ~0.3 s): imported when they are built, not when a window shows an "Exporter…" button.
def _day_lists(desk: Desk, *, day: date | None = None, school_id: int | None = None) -> list[Table]:
    from gandrange_desk.services.lists.day import day_lists, day_tables

    return day_tables(day_lists(desk, day or desk.today(), school_id))


def _caf(desk: Desk, *, start: date, end: date, activity_id: int | None = None) -> list[Table]:
    from gandrange_desk.services.reports.caf import caf_report, caf_tables

    return caf_tables(caf_report(desk, start, end, activity_id))


LISTS: dict[str, ListSpec] = {
    "families": ListSpec(TITLES["families"], families, ("text", "include_archived")),
    "grid": ListSpec(TITLES["grid"], grid, ("month", "activity_id", "school_id", "class_name")),
    "queue": ListSpec(TITLES["queue"], queue),
    "invoices": ListSpec(TITLES["invoices"], invoices, ("month", "year")),
    "payments": ListSpec(TITLES["payments"], payments, ("month", "year")),
    "unpaid": ListSpec(TITLES["unpaid"], unpaid),
    "attendance": ListSpec(TITLES["attendance"], attendance, ("month", "activity_id", "school_id")),
    "day": ListSpec(TITLES["day"], _day_lists, ("day", "school_id")),
    "caf": ListSpec(TITLES["caf"], _caf, ("start", "end", "activity_id")),
}


OPTION_WORDS = {"month": "mois", "year": "année", "activity_id": "activité", "school_id": "école",
                "class_name": "classe", "text": "recherche", "include_archived": "archives", "day": "jour",
                "start": "période", "end": "période"}


def build(desk: Desk, name: str, **options) -> list[Table]:
    desk.require(Role.AGENT, "Exporter une liste")
    spec = LISTS.get(name)
    if spec is None:
        raise ValidationFailed([f"Liste inconnue « {name} » : {', '.join(LISTS)}."])
    unknown = sorted(OPTION_WORDS.get(k, k) for k, v in options.items() if v is not None and k not in spec.options)
    if unknown:
        raise ValidationFailed([f"La liste « {spec.title} » ne se choisit pas par {', '.join(unknown)}."])
    return spec.build(desk, **{k: v for k, v in options.items() if v is not None})


def export(desk: Desk, name: str, path: str | Path, **options) -> ExportResult:
    """Build the list `name` and write it to `path` (.xlsx or .csv)."""
    format_of(path)  # a wrong extension is refused before any query
    return export_tables(desk, build(desk, name, **options), path)


def export_tables(desk: Desk, tables: list[Table], path: str | Path) -> ExportResult:
    """Write tables already built (a report also shown or printed) to `path`."""
    from gandrange_desk.services.pdf.base import load_structure

    with desk.read() as s:
        author = load_structure(s).name
    return save(tables, path, title=tables[0].title if tables else "", author=author)


# ------------------------------------------------------------------ names from the command line
def activity_id_of(desk: Desk, code: str | None) -> int | None:
    """The activity whose code (or name) is `code`, accents and case aside."""
    if not code:
        return None
    with desk.read() as s:
        found = s.execute(select(Activity.id, Activity.code, Activity.name)).all()
    wanted = normalize(code)
    for aid, acode, name in found:
        if wanted in (normalize(acode), normalize(name)):
            return aid
    raise ValidationFailed([f"Activité inconnue « {code} » : {', '.join(a[1] for a in found) or 'aucune'}."])


def school_id_of(desk: Desk, name: str | None) -> int | None:
    """The school (site) whose name contains `name`, accents and case aside; refused if several."""
    if not name:
        return None
    with desk.read() as s:
        found = s.execute(select(School.id, School.name).order_by(School.position, School.name)).all()
    wanted = normalize(name)
    exact = [sid for sid, n in found if normalize(n) == wanted]
    matches = exact or [sid for sid, n in found if wanted in normalize(n)]
    if len(matches) != 1:
        raise ValidationFailed([f"École inconnue ou ambiguë « {name} » : {', '.join(n for _, n in found) or 'aucune'}."])
    return matches[0]
