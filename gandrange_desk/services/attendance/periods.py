"""A period's cells and attendance as plain maps, for the monthly run, reports, exports and
attestations: one place reads them, `rules` says what they mean.

    cells(s, first, last)            (child, unit, day) -> cell state (R, DA, AF; DR left out)
    presences(s, first, last)        (child, unit, day) -> Mark (presence, late time, who, when)
    presence_codes(s, first, last)   (child, unit, day) -> presence alone
    billing_for_period(s, first, last)  the days to bill and how (`rules.DayBilling`)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk.models import Attendance, Booking, CellState, Child
from gandrange_desk.services.attendance.rules import DayBilling, Key, attended, billed_days
from gandrange_desk.services.attendance.settings import load_rules

HELD = (CellState.R.value, CellState.DA.value, CellState.AF.value)


@dataclass(frozen=True)
class Mark:
    presence: str
    late_time: str
    recorded_by: str
    recorded_at: datetime


def _scope(stmt, model, unit_ids, family_id):
    if unit_ids is not None:
        stmt = stmt.where(model.unit_id.in_(list(unit_ids) or [-1]))
    if family_id is not None:
        stmt = stmt.where(model.child_id.in_(select(Child.id).where(Child.family_id == family_id)))
    return stmt


def cells(s: Session, first: date, last: date, *, unit_ids=None, family_id: int | None = None,
          states=HELD) -> dict[Key, str]:
    stmt = select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state).where(
        Booking.day >= first, Booking.day <= last, Booking.state.in_(list(states)))
    return {(c, u, d): st for c, u, d, st in s.execute(_scope(stmt, Booking, unit_ids, family_id))}


def presences(s: Session, first: date, last: date, *, unit_ids=None, family_id: int | None = None
              ) -> dict[Key, Mark]:
    stmt = select(Attendance.child_id, Attendance.unit_id, Attendance.day, Attendance.presence,
                  Attendance.late_time, Attendance.recorded_by, Attendance.recorded_at).where(
        Attendance.day >= first, Attendance.day <= last)
    return {(c, u, d): Mark(p, lt or "", by, at)
            for c, u, d, p, lt, by, at in s.execute(_scope(stmt, Attendance, unit_ids, family_id))}


def presence_codes(s: Session, first: date, last: date, *, unit_ids=None, family_id: int | None = None
                   ) -> dict[Key, str]:
    """(child, unit, day) -> presence only: what the rules need (no who and when to convert)."""
    stmt = select(Attendance.child_id, Attendance.unit_id, Attendance.day, Attendance.presence).where(
        Attendance.day >= first, Attendance.day <= last)
    return {(c, u, d): p for c, u, d, p in s.execute(_scope(stmt, Attendance, unit_ids, family_id))}


def billing_for_period(s: Session, first: date, last: date, *, unit_ids=None,
                       family_id: int | None = None) -> dict[Key, DayBilling]:
    """Every (child, unit, day) of the period to bill, and how, under the saved rules: what the
    monthly run bills once attendance is wired into it."""
    return billed_days(cells(s, first, last, unit_ids=unit_ids, family_id=family_id),
                       presence_codes(s, first, last, unit_ids=unit_ids, family_id=family_id), load_rules(s))


def attended_days(s: Session, first: date, last: date, *, unit_ids=None, family_id: int | None = None
                  ) -> dict[Key, bool]:
    """The days a child was there: (child, unit, day) -> presumed. Marked present or walk-in:
    False; booked (R) and nobody marked: True (there "d'après la réservation")."""
    marks = presence_codes(s, first, last, unit_ids=unit_ids, family_id=family_id)
    held = cells(s, first, last, unit_ids=unit_ids, family_id=family_id)
    out: dict[Key, bool] = {}
    for key in set(marks) | set(held):
        there = attended(held.get(key), marks.get(key))
        if there is not False:
            out[key] = there is None
    return out
