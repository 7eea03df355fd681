"""Invoiced months already found right, so that preparing does not compare them again.

Preparing a month compares every month already invoiced with today's truth (`regularisation`);
at 8,000 families that was 40–60 % of the run, for months that seldom change. When the full
comparison of a month finds no difference and no anomaly, the month is recorded with a
fingerprint of everything the comparison read:

- the month's cells (R, AF, DA, DR and their late flag) and attendance marks, as per-row hashes
  summed in SQL (one aggregate each, no row reaches Python; the cells from their covering index);
- the days billed so far: they change only when an invoice is issued (`make_current`), so the
  number and ids of the issued invoices stand for them;
- the tariffs, brackets and units, every family's quotients, every child's family, birth date
  and PAI (sibling ranks), and the attendance settings.

The next run computes the same fingerprint (a few aggregates) and skips the months whose
fingerprint is unchanged: the rule is the same, only the proof that nothing changed is cheaper.
Any difference rescans the month in full.

A fingerprint is 48 hex digits of the inputs (everything above but the issued invoices) and 16 of
the issued invoices. Issuing a month (`after_issue`) keeps the months it does not bill a day of
known as right: their billed days did not move, so only the issued part is brought up to date,
and only where it was the one before the issue. The issued month itself is recorded as right
when preparing it proved that its drafts bill exactly what the comparison would find
(`regularisation.prove_draft`, `record_proof`) and the drafts issued are those proved: the inputs
part is then the one read before the drafts were made, so any change since shows at the next
prepare, which compares the month in full.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import BigInteger, case, cast, delete, func, insert, select, update
from sqlalchemy.orm import Session

from gandrange_desk.clock import now as clock_now
from gandrange_desk.models import (
    Attendance, BilledDay, Booking, Invoice, InvoiceStatus, Presence, RegularisationCheck, Tariff,
    TariffBracket, Unit,
)
from gandrange_desk.services.billing import draft_days

# Each row adds (id * A + code * B) mod P: a changed, added or removed row moves the sum, and two
# changes cancelling out would need ids and codes in an exact arithmetic relation (the second
# sum, with other factors, must cancel too). Terms stay below 2^31: no 64-bit overflow in SUM.
_P = 2_147_483_647
_FACTORS = ((1_103_515_245, 40_503), (69_069, 2_654_435_761 % _P))


def _row_sums(id_col, code) -> list:
    # 64-bit products: PostgreSQL's integer columns would overflow at 32 bits.
    big_id, big_code = cast(id_col, BigInteger), cast(code, BigInteger)
    return [func.coalesce(func.sum((big_id * a + big_code * b) % _P), 0) for a, b in _FACTORS]


def _booking_code():
    state = case((Booking.state == "R", 1), (Booking.state == "AF", 2), (Booking.state == "DA", 3),
                 (Booking.state == "DR", 4), else_=5)
    return state + case((Booking.late.is_(True), 8), else_=0)


def _presence_code():
    # The four presences of the enum; anything else by its length, still distinct from them.
    known = [(Attendance.presence == p.value, n) for n, p in enumerate(Presence, start=1)]
    return case(*known, else_=func.length(Attendance.presence) + 100)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


_INPUTS, _TAG = 48, 16  # hex digits of a fingerprint: the comparison's inputs, then the issued invoices
INPUTS = _INPUTS


def _tag(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:_TAG]


def issued_tag(s: Session) -> str:
    """The issued invoices (the billed days change only when one is issued: `make_current`)."""
    found = s.connection().execute(select(func.count(), func.sum(Invoice.id), func.max(Invoice.id))
                                   .where(Invoice.status == InvoiceStatus.ISSUED)).one()
    return _tag("issued", tuple(found))


def drafts_tag(month: date, invoice_ids, billed_days: tuple[int, int, int]) -> str:
    """A month's drafts as they were proved: which invoices, and their billed days (how many,
    the sum of their prices and of their surcharges)."""
    ids = list(invoice_ids)
    return _tag("drafts", month.isoformat(), len(ids), sum(ids), sum(i * i for i in ids), tuple(billed_days))


class Fingerprints:
    """The fingerprint of each invoiced month's comparison, as `regularisation.compute` reads it."""

    def __init__(self, s: Session, units: dict, quotients, rules, unit_ids: list[int]):
        self.s, self.unit_ids = s, unit_ids
        self._common = self._common_digest(units, quotients, rules)
        self.issued = issued_tag(s)

    def _common_digest(self, units: dict, quotients, rules) -> bytes:
        connection = self.s.connection()
        digest, shared = hashlib.sha256(), hashlib.sha256()
        for part in (repr(sorted(units.items())).encode(), repr(rules).encode()):
            digest.update(part)
            shared.update(part)
        digest.update(repr(quotients.fingerprint()).encode())
        # Driver-level reads: plain tuples, whose repr costs a tenth of a Row's.
        for table in (Tariff.__table__, TariffBracket.__table__, Unit.__table__):
            part = repr([tuple(r) for r in connection.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY id")]).encode()
            digest.update(part)
            shared.update(part)
        digest.update(repr([tuple(r) for r in connection.exec_driver_sql(
            "SELECT id, family_id, birth_date, pai FROM child ORDER BY id")]).encode())
        # What every draft of a month depends on (`draft_keys`): the same but for every family's
        # quotients and children, which a family's own draft key holds.
        self.shared = shared.digest()
        return digest.digest()

    def of(self, month: date) -> str:
        return self.inputs(month) + self.issued

    def inputs(self, month: date) -> str:
        """The part of `of(month)` that does not depend on the issued invoices."""
        nxt = _next(month)
        booked = self.s.connection().execute(
            select(func.count(), *_row_sums(Booking.id, _booking_code()))
            .where(Booking.unit_id.in_(self.unit_ids), Booking.day >= month, Booking.day < nxt)).one()
        marked = self.s.connection().execute(
            select(func.count(), func.max(Attendance.recorded_at), *_row_sums(Attendance.id, _presence_code()))
            .where(Attendance.unit_id.in_(self.unit_ids), Attendance.day >= month, Attendance.day < nxt)).one()
        digest = hashlib.sha256(self._common)
        digest.update(repr((month.isoformat(), tuple(booked), tuple(marked))).encode())
        return digest.hexdigest()[:_INPUTS]


def unchanged(s: Session, fingerprints: dict[date, str]) -> set[date]:
    """The months found right before whose fingerprint has not moved since."""
    stored = dict(s.execute(select(RegularisationCheck.month, RegularisationCheck.fingerprint)
                            .where(RegularisationCheck.month.in_(list(fingerprints)))).all())
    return {m for m, found in fingerprints.items() if stored.get(m) == found}


def settle(s: Session, compared: dict[date, str], touched: set[date]) -> None:
    """After a full comparison: the months without any difference or anomaly are recorded as
    right (skipped while unchanged); the others are compared again next time."""
    s.execute(delete(RegularisationCheck).where(RegularisationCheck.month.in_(list(compared))))
    right = [dict(month=m, fingerprint=f, checked_at=clock_now()) for m, f in compared.items() if m not in touched]
    if right:
        s.execute(insert(RegularisationCheck), right)



# --------------------------------------------------------------------------- prepare and issue
def record_proof(s: Session, month: date, inputs: str | None, invoice_ids, billed_days: tuple[int, int, int]) -> None:
    """Preparing `month`: its drafts proved right (`inputs`, read before the drafts were made) or
    not (None). Kept under the month until it is issued (`after_issue`); a month not issued is
    never looked up by `unchanged`, and the drafts' tag never equals an issued tag."""
    s.execute(delete(RegularisationCheck).where(RegularisationCheck.month == month))
    if inputs is not None:
        s.execute(insert(RegularisationCheck), [dict(month=month, checked_at=clock_now(),
                                                     fingerprint=inputs + drafts_tag(month, invoice_ids, billed_days))])


@dataclass
class BeforeIssue:
    issued: str  # the issued invoices before this issue
    drafts: str | None  # the drafts about to be issued (None: the month already has issued ones)


def before_issue(s: Session, month: date, draft_ids: list[int]) -> BeforeIssue:
    """Read in the issue's transaction before any draft changes."""
    already = s.execute(select(Invoice.id).where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED)
                        .limit(1)).first()
    days = [0, 0, 0]
    for rows in draft_days.read_month(s.connection(), month).values():
        for i, x in enumerate(draft_days.sums(rows)[:3]):
            days[i] += x
    return BeforeIssue(issued_tag(s), None if already else drafts_tag(month, draft_ids, tuple(days)))


def after_issue(s: Session, month: date, before: BeforeIssue) -> None:
    """`month` issued (its days made current): the months whose billed days did not move keep
    being known as right; the month itself is right when its drafts were proved so and are the
    ones issued. Everything else is compared in full at the next prepare."""
    now = issued_tag(s)
    issued_now = select(Invoice.id).where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED)
    moved = {date(d.year, d.month, 1) for d in s.execute(select(BilledDay.day).distinct().where(
        BilledDay.invoice_id.in_(issued_now), BilledDay.day < month)).scalars()}
    for m, fingerprint in s.execute(select(RegularisationCheck.month, RegularisationCheck.fingerprint)).all():
        inputs, tag = fingerprint[:_INPUTS], fingerprint[_INPUTS:]
        if m == month:
            right = before.drafts is not None and tag == before.drafts
        else:
            right = tag == before.issued and m not in moved
        if right:
            s.execute(update(RegularisationCheck).where(RegularisationCheck.month == m)
                      .values(fingerprint=inputs + now, checked_at=clock_now()))
        else:  # no longer known as right: compared in full at the next prepare
            s.execute(delete(RegularisationCheck).where(RegularisationCheck.month == m))
