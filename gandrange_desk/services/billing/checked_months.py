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
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import BigInteger, case, cast, delete, func, insert, select
from sqlalchemy.orm import Session

from gandrange_desk.clock import now as clock_now
from gandrange_desk.models import (
    Attendance, Booking, Invoice, InvoiceStatus, Presence, RegularisationCheck, Tariff, TariffBracket,
    Unit,
)

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


class Fingerprints:
    """The fingerprint of each invoiced month's comparison, as `regularisation.compute` reads it."""

    def __init__(self, s: Session, units: dict, quotients, rules, unit_ids: list[int]):
        self.s, self.unit_ids = s, unit_ids
        self._common = self._common_digest(units, quotients, rules)

    def _common_digest(self, units: dict, quotients, rules) -> bytes:
        connection = self.s.connection()
        digest = hashlib.sha256()
        digest.update(repr(sorted(units.items())).encode())
        digest.update(repr(rules).encode())
        digest.update(repr(quotients.fingerprint()).encode())
        # Driver-level reads: plain tuples, whose repr costs a tenth of a Row's.
        for table in (Tariff.__table__, TariffBracket.__table__, Unit.__table__):
            digest.update(repr(connection.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY id").fetchall())
                          .encode())
        digest.update(repr(connection.exec_driver_sql(
            "SELECT id, family_id, birth_date, pai FROM child ORDER BY id").fetchall()).encode())
        digest.update(repr(tuple(connection.execute(
            select(func.count(), func.sum(Invoice.id), func.max(Invoice.id))
            .where(Invoice.status == InvoiceStatus.ISSUED)).one())).encode())
        return digest.digest()

    def of(self, month: date) -> str:
        nxt = _next(month)
        booked = self.s.connection().execute(
            select(func.count(), *_row_sums(Booking.id, _booking_code()))
            .where(Booking.unit_id.in_(self.unit_ids), Booking.day >= month, Booking.day < nxt)).one()
        marked = self.s.connection().execute(
            select(func.count(), func.max(Attendance.recorded_at), *_row_sums(Attendance.id, _presence_code()))
            .where(Attendance.unit_id.in_(self.unit_ids), Attendance.day >= month, Attendance.day < nxt)).one()
        digest = hashlib.sha256(self._common)
        digest.update(repr((month.isoformat(), tuple(booked), tuple(marked))).encode())
        return digest.hexdigest()


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
