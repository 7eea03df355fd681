"""The figures of the Tableau de bord: plain series the window draws (no Qt here).

- occupancy(desk, month, activity_id): places held (R + DA) against capacity, per open day and unit;
- money(desk, first, last): per billed month, what was invoiced (less credit notes), paid,
  overdue and not yet due;
- waiting(desk): the pending requests by how long they have waited, and the median time the
  office took to decide over the last 30 days;
- mail(desk): the e-mails in trouble (waiting for more than an hour, failing, failed) and the
  guardians' addresses a server refused.
Each is a few grouped queries: the tab refreshes them whenever it is shown.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from gandrange_desk import formats
from gandrange_desk.models import (
    Activity, Booking, CellState, CreditNote, Guardian, Invoice, InvoiceStatus, OutboxMessage, OutboxStatus,
    PaymentAllocation, Request, RequestStatus, Unit,
)
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass
class UnitSeries:
    unit_id: int
    name: str
    capacity: int | None
    used: list[int]  # per day of `Occupancy.days`

    def rates(self) -> list[float | None]:
        """Percent of capacity, None without a capacity."""
        if not self.capacity:
            return [None] * len(self.used)
        return [100.0 * n / self.capacity for n in self.used]


@dataclass
class Occupancy:
    month: date
    activity_name: str
    days: list[date] = field(default_factory=list)
    units: list[UnitSeries] = field(default_factory=list)

    def busiest(self) -> str:
        best = max(((u.rates()[i] or 0, u.name, d) for u in self.units for i, d in enumerate(self.days)),
                   default=None)
        if not best or not best[0]:
            return "Aucune place occupée."
        rate, name, day = best
        return f"Jour le plus chargé : {name} le {formats.ddmm(day)}, {rate:.0f} % de la capacité."


def occupancy(desk: Desk, month: date, activity_id: int | None = None) -> Occupancy:
    month = month.replace(day=1)
    with desk.read() as s:
        stmt = select(Activity).order_by(Activity.position, Activity.id)
        if activity_id is not None:
            stmt = stmt.where(Activity.id == activity_id)
        activity = s.execute(stmt.limit(1)).scalar_one_or_none()
        if activity is None:
            return Occupancy(month, "")
        out = Occupancy(month, activity.name, Calendar.load(s).open_days(activity, month, _month_end(month)))
        units = s.execute(select(Unit).where(Unit.activity_id == activity.id).order_by(Unit.position, Unit.id)).scalars().all()
        used = {(u, d): n for u, d, n in s.execute(
            select(Booking.unit_id, Booking.day, func.count()).where(
                Booking.unit_id.in_([u.id for u in units] or [-1]), Booking.day >= month,
                Booking.day <= _month_end(month), Booking.state.in_([CellState.R.value, CellState.DA.value]))
            .group_by(Booking.unit_id, Booking.day))}
    out.units = [UnitSeries(u.id, u.name, u.capacity, [used.get((u.id, d), 0) for d in out.days]) for u in units]
    return out


@dataclass(frozen=True)
class MonthMoney:
    month: date
    billed_cents: int  # issued invoices less their credit notes
    paid_cents: int
    overdue_cents: int  # left to pay, due date passed
    not_due_cents: int  # left to pay, not yet due


def money(desk: Desk, first: date, last: date) -> list[MonthMoney]:
    """Per billed month from `first` to `last` (first days of months), issued invoices only."""
    today = desk.today()
    with desk.read() as s:
        credited = (select(CreditNote.invoice_id.label("iid"), func.sum(CreditNote.total_cents).label("c"))
                    .group_by(CreditNote.invoice_id).subquery())
        paid = (select(PaymentAllocation.invoice_id.label("iid"), func.sum(PaymentAllocation.amount_cents).label("p"))
                .group_by(PaymentAllocation.invoice_id).subquery())
        rows = s.execute(
            select(Invoice.month, Invoice.due_date, Invoice.total_cents, func.coalesce(credited.c.c, 0),
                   func.coalesce(paid.c.p, 0))
            .outerjoin(credited, credited.c.iid == Invoice.id).outerjoin(paid, paid.c.iid == Invoice.id)
            .where(Invoice.status == InvoiceStatus.ISSUED, Invoice.month >= first, Invoice.month <= last)).all()
    sums: dict[date, list[int]] = {}
    for month, due, total, cn, pa in rows:
        entry = sums.setdefault(month, [0, 0, 0, 0])
        net = total - int(cn)
        left = max(0, net - int(pa))
        entry[0] += net
        entry[1] += int(pa)
        entry[2 if due is not None and due < today else 3] += left
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(MonthMoney(month, *sums.get(month, [0, 0, 0, 0])))
        month = _month_end(month) + timedelta(days=1)
    return out


BUCKETS = ((0, 1, "moins d'1 jour"), (1, 3, "1 à 2 jours"), (3, 8, "3 à 7 jours"), (8, 15, "8 à 14 jours"),
           (15, None, "15 jours et plus"))


@dataclass
class Waiting:
    buckets: list[tuple[str, int]]  # (label, pending requests that have waited that long)
    median_days: float | None  # submitted → decided, requests decided over the last 30 days
    decided: int

    def text(self) -> str:
        pending = sum(n for _, n in self.buckets)
        out = f"{formats.count(pending, 'demande en attente', 'demandes en attente')}"
        if self.median_days is not None:
            shown = f"{self.median_days:.1f}".replace(".", ",")
            out += (f" ; délai médian de décision sur 30 jours : {shown} j "
                    f"({formats.count(self.decided, 'demande décidée', 'demandes décidées')})")
        return out + "."


def waiting(desk: Desk) -> Waiting:
    now = desk.now()
    with desk.read() as s:
        pending = s.execute(select(Request.submitted_at).where(Request.status == RequestStatus.PENDING)).scalars().all()
        decided = s.execute(select(Request.submitted_at, Request.decided_at).where(
            Request.status.in_([RequestStatus.ACCEPTED.value, RequestStatus.REFUSED.value]),
            Request.decided_at >= now - timedelta(days=30), Request.decided_at <= now,
            Request.decided_by.is_not(None))).all()
    counts = [0] * len(BUCKETS)
    for submitted in pending:
        days = (now - submitted).total_seconds() / 86400
        for i, (low, high, _label) in enumerate(BUCKETS):
            if days >= low and (high is None or days < high):
                counts[i] += 1
                break
    delays = [(d - sub).total_seconds() / 86400 for sub, d in decided if d >= sub]
    return Waiting([(label, counts[i]) for i, (_l, _h, label) in enumerate(BUCKETS)],
                   statistics.median(delays) if delays else None, len(delays))


@dataclass
class MailTrouble:
    late: int  # waiting to be sent for more than an hour
    retrying: int  # temporary failure, will be retried
    failed: int  # permanent failure
    doubtful_addresses: int  # guardians whose address a server refused

    def bars(self) -> list[tuple[str, int]]:
        return [("En attente depuis plus d'1 h", self.late), ("Échec temporaire", self.retrying),
                ("Échec définitif", self.failed), ("Adresses refusées", self.doubtful_addresses)]

    def text(self) -> str:
        total = self.late + self.retrying + self.failed
        if not total and not self.doubtful_addresses:
            return "Aucun courriel en difficulté."
        return (f"{formats.count(total, 'courriel en difficulté', 'courriels en difficulté')}, "
                f"{formats.count(self.doubtful_addresses, 'adresse refusée', 'adresses refusées')}.")


def mail(desk: Desk) -> MailTrouble:
    an_hour_ago = desk.now() - timedelta(hours=1)
    with desk.read() as s:
        late = s.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]),
            OutboxMessage.created_at < an_hour_ago)).scalar_one()
        by_status = dict(s.execute(select(OutboxMessage.status, func.count()).where(
            OutboxMessage.status.in_([OutboxStatus.TEMP_FAILED.value, OutboxStatus.FAILED.value]))
            .group_by(OutboxMessage.status)).all())
        doubtful = s.execute(select(func.count()).select_from(Guardian).where(Guardian.email_doubtful.is_(True))).scalar_one()
    return MailTrouble(late, by_status.get(OutboxStatus.TEMP_FAILED.value, 0),
                       by_status.get(OutboxStatus.FAILED.value, 0), doubtful)


def activities(desk: Desk) -> list[tuple[int, str]]:
    with desk.read() as s:
        return [tuple(r) for r in s.execute(select(Activity.id, Activity.name).order_by(Activity.position, Activity.id))]
