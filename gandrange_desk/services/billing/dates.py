"""The dates an invoice announces: its due date and, for prélèvement, the debit date.

- Due date: the payment terms after the issue date, moved to the next working day (a due date
  on a weekend or a public holiday of Moselle, 1 January for instance, moves on).
- Debit date: the structure's collection day of the month after the billed month, on a TARGET2
  business day. The invoice is the family's pre-notification, so the debit comes at least
  `prenotification_days` calendar days after it — 14 by default, the SEPA rulebook's default, a
  shorter delay only when the settings say the mandates agreed it. When the invoice is issued
  too late for the planned day, the debit is pushed back; the notice is never shortened.
"""

from __future__ import annotations

import calendar as _calendar
import functools
from datetime import date, timedelta

DEFAULT_PRENOTIFICATION_DAYS = 14


@functools.lru_cache(maxsize=16)
def _target_closed(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.financial_holidays("ECB", years=year))


def business_day(day: date) -> date:
    """`day`, or the next day the euro payment system (TARGET2) settles."""
    while day.weekday() >= 5 or day in _target_closed(day.year):
        day += timedelta(days=1)
    return day


def prenotification_days(structure) -> int:
    days = getattr(structure, "prenotification_days", None)
    return DEFAULT_PRENOTIFICATION_DAYS if days is None else max(int(days), 1)


def collection_date(structure, month: date) -> date:
    """The planned debit of a billed month: the collection day of the next month (business day)."""
    year, mon = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
    day = min(max(1, getattr(structure, "collection_day", None) or 10), _calendar.monthrange(year, mon)[1])
    return business_day(date(year, mon, day))


def earliest_debit(structure, notice_day: date) -> date:
    """The first day a debit announced on `notice_day` may be collected."""
    return business_day(notice_day + timedelta(days=prenotification_days(structure)))


def debit_date(structure, month: date, notice_day: date) -> date:
    """The debit date of `month`'s prélèvement invoices issued on `notice_day`."""
    return max(collection_date(structure, month), earliest_debit(structure, notice_day))


def due_date(cal, issue_day: date, terms_days: int) -> date:
    """Issue day + payment terms, moved to the next working day (`cal`: services.calendar.Calendar)."""
    day = issue_day + timedelta(days=terms_days)
    while not cal.is_working_day(day):
        day += timedelta(days=1)
    return day


__all__ = ["DEFAULT_PRENOTIFICATION_DAYS", "business_day", "collection_date", "debit_date", "due_date",
           "earliest_debit", "prenotification_days"]
