"""Demo billing: the past months of the demo school year prepared and issued, then paid.

Called by `services.demo.run_demo` at the end (`add_billing(desk, rng)`). Each past month is
prepared, then issued as the supervisor would have done it: on the first working day of the
following month, so numbers and issue dates are chronological. Payments (part B,
`demo_payments.add_payments`) come after, when that module is there.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from gandrange_desk import formats
from gandrange_desk.clock import PARIS
from gandrange_desk.demo import payments as demo_payments
from gandrange_desk.errors import DeskError
from gandrange_desk.models import Booking, Invoice, InvoiceStatus, Role
from gandrange_desk.services.billing import invoicing
from gandrange_desk.services.context import Actor, Desk

SUPERVISOR = Actor("nbecker", "Nathalie Becker", Role.RESPONSABLE)


def _issue_day(month: date) -> date:
    """The second weekday of the following month: a day to check the drafts, then issue."""
    day = invoicing.month_end(month) + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def past_months(desk: Desk) -> list[date]:
    """Months of the school year containing today, before today's month, that have bookings."""
    today = desk.today()
    start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    this_month = date(today.year, today.month, 1)
    with desk.read() as s:
        first_day = s.execute(select(func.min(Booking.day))).scalar_one()
    if first_day is None:
        return []
    months, m = [], max(start, date(first_day.year, first_day.month, 1))
    while m < this_month:
        months.append(m)
        m = invoicing.month_end(m) + timedelta(days=1)
    return months


def add_billing(desk: Desk, rng: random.Random) -> str:
    issued_months, invoices = [], 0
    for month in past_months(desk):
        with desk.read() as s:
            done = s.execute(select(func.count()).select_from(Invoice).where(
                Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED)).scalar_one()
        if done:
            continue
        issue_day = _issue_day(month)
        moment = datetime.combine(issue_day, time(9, 30), PARIS)
        if moment > desk.now():
            break
        # Prepared now (after every cell of the month was decided), issued as on that day.
        invoicing.prepare(desk.as_actor(SUPERVISOR), month)
        issuer = Desk(desk.engine, SUPERVISOR, lambda moment=moment: moment)
        try:
            result = invoicing.issue(issuer, month)
        except DeskError:
            continue
        invoices += result.invoices
        issued_months.append(formats.month_year(month))
    text = (f"Facturation : {formats.count(invoices, 'facture émise', 'factures émises')}"
            + (f" ({', '.join(issued_months)})" if issued_months else "") + ".")
    # Then payments (and a few unpaid invoices) of the issued months.
    extra = demo_payments.add_payments(desk, rng)
    return text + (f"\n{extra}" if extra else "")
