"""Regularisation (DESIGN §5, "Money after issue"): what was billed against what is true today.

Every draft records, per child, unit and day, what it bills (`BilledDay`: state, price,
surcharge, PAI). Preparing a month compares, for every earlier month already invoiced, the
newest record of each day on an issued invoice with today's truth:

- the cell: R and AF are billed, DR and blank are not; a DA (cancellation still pending) keeps
  what was billed until it is decided;
- the price: the tariff in force that day (the first tariff of a unit applies from the start),
  the family's quotient in force that day (a quotient entered late, back-dated, counts), the
  child's sibling rank among the children billed that month, the PAI price the day was billed
  with (a child's PAI has no history);
- the late surcharge of a booking accepted hors délai.

Each difference becomes a "Régularisation <mois>" line on the family's next invoice — days
added, days removed, a corrected price, a surcharge added or removed — with its dates, and the
draft records the new truth of those days, so a difference is billed once.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import BigInteger, Integer, and_, case, cast, extract, func, literal, select, update
from sqlalchemy.orm import Session, aliased

from gandrange_desk import formats
from gandrange_desk.models import (
    Attendance, BilledDay, Booking, CellState, Child, Invoice, InvoiceStatus, LineKind, Presence,
)
from gandrange_desk.services.attendance.rules import AttendanceRules, Outcome, day_billing
from gandrange_desk.services.attendance.settings import load_rules
from gandrange_desk.services.billing import checked_months, draft_days
from gandrange_desk.services.billing.tariffs import PriceBook, QuotientBook

Cell = tuple[int, int, date]
# What a draft bills for one cell: (family, child, unit, day, state, price, surcharge, pai).
Record = tuple[int, int, int, date, str, int, int, bool]
BILLED = (CellState.R.value, CellState.AF.value)
_WANTED = (CellState.R.value, CellState.AF.value, CellState.DA.value)
# A billed day's state when the child came without a reservation ("présent sans réservation").
WALK_IN = "SR"
_NOTHING = ("", 0, 0, False)
_NO_SHOW, _EXCUSED = "absent", "excused"  # why a day was added or removed, for the line's words


@dataclass
class FamilyRegularisation:
    lines: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))  # child -> lines
    records: list[tuple] = field(default_factory=list)  # BilledDay rows for the draft (`Record`)
    anomalies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChildRow:
    id: int
    family_id: int
    name: str
    birth_date: date
    pai: bool


def issued_months(s: Session, before: date) -> list[date]:
    return sorted(s.execute(select(Invoice.month).distinct().where(
        Invoice.status == InvoiceStatus.ISSUED, Invoice.month < before)).scalars())


def make_current(s: Session, month: date) -> None:
    """Issuing `month`: its records become what was billed; the days it regularised stop being
    what earlier invoices billed."""
    draft_days.issue(s.connection(), month)  # its days one per row, as the comparison reads them
    mine, old = aliased(BilledDay), aliased(BilledDay)
    issued_now = select(Invoice.id).where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED)
    # Driven from the few regularised days of the new invoices (invoice index, then the cell
    # index), not from every current day before the month with a lookup each (300,000 at 8,000
    # families: 2 s of the issue).
    replaced = (select(old.id).select_from(mine)
                .join(old, and_(old.child_id == mine.child_id, old.unit_id == mine.unit_id, old.day == mine.day))
                .where(mine.invoice_id.in_(issued_now), mine.day < month, old.current.is_(True)))
    s.execute(update(BilledDay).where(BilledDay.id.in_(replaced.scalar_subquery()))
              .values(current=False).execution_options(synchronize_session=False))
    s.execute(update(BilledDay).where(BilledDay.invoice_id.in_(issued_now))
              .values(current=True).execution_options(synchronize_session=False))


class _Truth:
    """Today's price of a billed day, computed once per child, unit and month whenever neither
    the unit's tariff nor the family's quotient changes inside that month (almost always)."""

    def __init__(self, book: PriceBook, quotients: QuotientBook):
        self.book, self.quotients = book, quotients
        self._prices: dict[tuple, object] = {}
        self._surcharges: dict[tuple, int] = {}
        self._unit_stable: dict[tuple, bool] = {}
        self._family_stable: dict[tuple, bool] = {}
        self._stable_prices: dict[tuple, object] = {}
        self._stable_surcharges: dict[tuple, int | None] = {}

    def _stable(self, cache: dict, starts: list[date] | None, key: tuple, month: date) -> bool:
        found = cache.get(key)
        if found is None:
            nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            found = cache[key] = not any(month < d < nxt for d in (starts or ()))
        return found

    def price(self, family_id: int, unit_id: int, day: date, month: date, rank: int, pai: bool):
        stable = (self._stable(self._unit_stable, self.book.starts(unit_id), (unit_id, month), month)
                  and self._stable(self._family_stable, self.quotients.starts(family_id), (family_id, month), month))
        if not stable:
            return self.book.price(unit_id, day, quotient=self.quotients.on(family_id, day), sibling_rank=rank,
                                   pai=pai)
        key = (family_id, unit_id, month, rank, pai)
        found = self._prices.get(key, self)
        if found is self:
            found = self._prices[key] = self.book.price(unit_id, day, quotient=self.quotients.on(family_id, day),
                                                        sibling_rank=rank, pai=pai)
        return found

    def stable_price(self, family_id: int, unit_id: int, month: date, rank: int, pai: bool):
        """The one price of the month (None: no tariff, or it changes inside the month)."""
        key = (family_id, unit_id, month, rank, pai)
        found = self._stable_prices.get(key, self)
        if found is self:
            found = self._stable_prices[key] = self._stable_price(family_id, unit_id, month, rank, pai)
        return found

    def _stable_price(self, family_id: int, unit_id: int, month: date, rank: int, pai: bool):
        units, families = self._unit_stable, self._family_stable
        ok = units.get((unit_id, month))
        if ok is None:
            ok = self._stable(units, self.book.starts(unit_id), (unit_id, month), month)
        if not ok:
            return None
        ok = families.get((family_id, month))
        if ok is None:
            ok = self._stable(families, self.quotients.starts(family_id), (family_id, month), month)
        if not ok:
            return None
        return self.book.price(unit_id, month, quotient=self.quotients.on(family_id, month), sibling_rank=rank,
                               pai=pai)

    def stable_surcharge(self, unit_id: int, month: date) -> int | None:
        key = (unit_id, month)
        found = self._stable_surcharges.get(key, self)
        if found is self:
            if not self._stable(self._unit_stable, self.book.starts(unit_id), key, month):
                found = None
            else:
                found = self.surcharge(unit_id, month, month)
            self._stable_surcharges[key] = found
        return found

    def surcharge(self, unit_id: int, day: date, month: date) -> int:
        if not self._stable(self._unit_stable, self.book.starts(unit_id), (unit_id, month), month):
            return self.book.surcharge(unit_id, day) or 0
        key = (unit_id, month)
        found = self._surcharges.get(key)
        if found is None:
            found = self._surcharges[key] = self.book.surcharge(unit_id, day) or 0
        return found


def _day_bit(column, dialect: str):
    """1 << day of the month, in SQL: a group's sum is the exact set of its days (one row per
    cell), so two sets compare as two integers without joining the tables."""
    if dialect == "postgresql":
        return cast(literal(1), BigInteger).op("<<")(cast(extract("day", column), Integer))
    return literal(1).op("<<")(cast(func.substr(column, 9, 2), Integer))


def _marks(s: Session, first: date, before: date, unit_ids) -> tuple[list, dict]:
    """A month's attendance in two reads without a join: the marks other than "présent", as
    rows (child, unit, day, presence), and per (child, unit) the days marked "présent" as a bit
    mask. "Présent" changes nothing on an R, AF or DA cell (9 marks in 10): the caller looks only
    at the present days whose cell holds none of them any more."""
    where = (Attendance.unit_id.in_(unit_ids), Attendance.day >= first, Attendance.day < before)
    others = s.connection().execute(select(Attendance.child_id, Attendance.unit_id, Attendance.day, Attendance.presence)
                       .where(*where, Attendance.presence != Presence.PRESENT.value)).tuples().all()
    present = {(c, u): int(mask) for c, u, mask in s.connection().execute(
        select(Attendance.child_id, Attendance.unit_id, func.sum(_day_bit(Attendance.day, s.get_bind().dialect.name)))
        .where(*where, Attendance.presence == Presence.PRESENT.value)
        .group_by(Attendance.child_id, Attendance.unit_id)).tuples()}
    return others, present


# Reads below go through the connection, not the session: plain rows, without the ORM's
# per-row loading (a third of the comparison's time on 60,000 rows).


_R, _AF, _DA = CellState.R.value, CellState.AF.value, CellState.DA.value


def state_of_day(bit: int, r: int, af: int, da: int) -> str | None:
    return _R if r & bit else _AF if af & bit else _DA if da & bit else None


def compute(s: Session, month: date, units: dict, book: PriceBook, quotients: QuotientBook,
            label_of, rules: AttendanceRules | None = None,
            fingerprints: "checked_months.Fingerprints | None" = None) -> dict[int, FamilyRegularisation]:
    """family -> its regularisation lines (per child), the records to keep and the anomalies.

    The database does the bulk of the comparison, two single-table grouped queries per issued
    month: per child and unit, the set of R and AF days (and of late ones) as a bit mask, and
    the set of days billed with their lowest and highest prices and surcharges. Attendance marks
    that change billing (see `attendance.rules`) adjust today's set. A group whose sets, prices
    and surcharges all agree with today's is right; only the others are looked at day by day
    (`compare`, which `prove_draft` runs on a draft's own records before it is issued)."""
    months = issued_months(s, month)
    if not months:
        return {}
    rules = rules if rules is not None else load_rules(s)
    unit_ids = sorted(units) or [0]
    # Months found right before and unchanged since are not compared again (`checked_months`).
    if fingerprints is None:
        fingerprints = checked_months.Fingerprints(s, units, quotients, rules, unit_ids)
    prints = {m: fingerprints.of(m) for m in months}
    right = checked_months.unchanged(s, prints)
    months = [m for m in months if m not in right]
    if not months:
        return {}
    dialect = s.get_bind().dialect.name
    booked_bit, billed_bit = _day_bit(Booking.day, dialect), _day_bit(BilledDay.day, dialect)
    is_billed = BilledDay.state != ""
    surcharged = and_(is_billed, BilledDay.surcharge_cents != 0)
    truth: dict[tuple, list] = {}  # (month, child, unit) -> [days, late days, walk-in or odd]
    billed: dict[tuple, tuple] = {}  # (month, child, unit) -> days, surcharged days, prices, pai, …
    state = Booking.state
    for m in months:
        nxt = _next(m)
        booked = {}
        for c, u, r, af, da, lates in s.connection().execute(
                select(Booking.child_id, Booking.unit_id, func.sum(case((state == CellState.R.value, booked_bit), else_=0)),
                       func.sum(case((state == CellState.AF.value, booked_bit), else_=0)),
                       func.sum(case((state == CellState.DA.value, booked_bit), else_=0)),
                       func.sum(case((and_(Booking.late.is_(True), state.in_(BILLED)), booked_bit), else_=0)))
                .where(Booking.unit_id.in_(unit_ids), Booking.day >= m, Booking.day < nxt, state.in_(_WANTED))
                .group_by(Booking.child_id, Booking.unit_id)).tuples():
            booked[(c, u)] = (int(r or 0), int(af or 0), int(da or 0), int(lates or 0))
        others, present = _marks(s, m, nxt, unit_ids)
        month_truth(m, booked, others, present, rules, truth)
        for c, u, days, sur_days, low, high, pai, low_s, high_s, walk_ins in s.connection().execute(
                select(BilledDay.child_id, BilledDay.unit_id, func.sum(case((is_billed, billed_bit), else_=0)),
                       func.sum(case((surcharged, billed_bit), else_=0)),
                       func.min(case((is_billed, BilledDay.price_cents))),
                       func.max(case((is_billed, BilledDay.price_cents))),
                       func.max(case((and_(is_billed, BilledDay.pai), 1), else_=0)),
                       func.min(case((surcharged, BilledDay.surcharge_cents))),
                       func.max(case((surcharged, BilledDay.surcharge_cents))),
                       func.sum(case((BilledDay.state == WALK_IN, 1), else_=0)))
                .where(BilledDay.current.is_(True), BilledDay.day >= m, BilledDay.day < nxt)
                .group_by(BilledDay.child_id, BilledDay.unit_id)).tuples():
            billed[(m, c, u)] = (int(days or 0), int(sur_days or 0), low, high, pai, low_s, high_s, walk_ins)

    def cells_of(m: date, pairs: set[tuple[int, int]]) -> dict:
        kids = sorted({c for c, _u in pairs})
        nxt = _next(m)
        judge: dict[Cell, tuple] = {}
        for start in range(0, len(kids), 500):
            chunk = kids[start:start + 500]
            booked = {(c, u, d): (state, bool(late)) for c, u, d, state, late in s.connection().execute(
                select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state, Booking.late)
                .where(Booking.child_id.in_(chunk), Booking.unit_id.in_(unit_ids), Booking.day >= m,
                       Booking.day < nxt, Booking.state.in_(_WANTED))).tuples() if (c, u) in pairs}
            old = {(c, u, d): (st, p, sur, bool(pai)) for c, u, d, st, p, sur, pai in s.connection().execute(
                select(BilledDay.child_id, BilledDay.unit_id, BilledDay.day, BilledDay.state, BilledDay.price_cents,
                       BilledDay.surcharge_cents, BilledDay.pai)
                .where(BilledDay.current.is_(True), BilledDay.child_id.in_(chunk), BilledDay.unit_id.in_(unit_ids),
                       BilledDay.day >= m, BilledDay.day < nxt)).tuples() if (c, u) in pairs}
            marks = {(c, u, d): p for c, u, d, p in s.connection().execute(
                select(Attendance.child_id, Attendance.unit_id, Attendance.day, Attendance.presence)
                .where(Attendance.child_id.in_(chunk), Attendance.unit_id.in_(unit_ids), Attendance.day >= m,
                       Attendance.day < nxt)).tuples()
                if (c, u) in pairs}
            for cell in booked.keys() | old.keys() | marks.keys():
                state, late = booked.get(cell, ("", False))
                judge[cell] = (old.get(cell, _NOTHING), state, late, marks.get(cell))
        return judge

    touched: set[date] = set()  # months with a difference or an anomaly: compared again next time
    out = compare(truth, billed, lambda ids: _children(s, ids), cells_of, units, _Truth(book, quotients),
                  label_of, rules, touched)
    checked_months.settle(s, {m: prints[m] for m in months}, touched)
    return out


def month_truth(m: date, booked: dict, others, present: dict, rules: AttendanceRules, truth: dict) -> None:
    """Today's truth of month `m` per (child, unit), into `truth`: [billed days, late days, walk-in
    or odd], from the cells' masks `booked` ((child, unit) -> R, AF, DA, late days) and the marks
    (`_marks`). The same for the comparison of an issued month and the proof of a draft."""
    for (c, u), (r, af, _da, lates) in booked.items():
        truth[(m, c, u)] = [r | af, lates, False]
    nothing = (0, 0, 0, 0)
    for c, u, d, presence in others:
        bit = 1 << d.day
        cell = state_of_day(bit, *booked.get((c, u), nothing)[:3])
        found = day_billing(cell, presence, rules)
        if cell in BILLED and not found.billed:
            row = truth[(m, c, u)]
            row[0] &= ~bit
            row[1] &= ~bit
        elif found.walk_in:  # priced with its surcharge day by day
            truth.setdefault((m, c, u), [0, 0, False])[2] = True
    if day_billing(None, Presence.PRESENT.value, rules).billed:
        for (c, u), days in present.items():
            r, af, da, _l = booked.get((c, u), nothing)
            if days & ~(r | af | da):  # marked present, the cell since emptied: a walk-in
                truth.setdefault((m, c, u), [0, 0, False])[2] = True


def compare(truth: dict, billed: dict, children_of, cells_of, units: dict, prices: "_Truth", label_of,
            rules: AttendanceRules, touched: set[date]) -> dict[int, FamilyRegularisation]:
    """Today's truth against what was billed: per (month, child, unit) the sets of days, prices
    and surcharges first; the groups that differ are then judged day by day (`cells_of(month,
    pairs)` gives their cells). Months with a difference or an anomaly are added to `touched`."""
    billed_kids = {(c, m) for (m, c, _u), (days, _l, odd) in truth.items() if days or odd}
    children = children_of({c for _m, c, _u in truth} | {c for _m, c, _u in billed})
    rank = _ranks(billed_kids, children)
    flagged: dict[date, set[tuple[int, int]]] = defaultdict(set)
    nothing_billed = (0, 0, None, None, 0, None, None, 0)
    for key in truth.keys() | billed.keys():
        m, child_id, unit_id = key
        child = children.get(child_id)
        if child is None or unit_id not in units:
            continue
        days, lates, odd = truth.get(key, (0, 0, False))
        b_days, b_sur, low, high, pai, low_s, high_s, walk_ins = billed.get(key, nothing_billed)
        same = not odd and not walk_ins and days == b_days and lates == b_sur
        if same and days:
            price = prices.stable_price(child.family_id, unit_id, m, rank.get((child_id, m), 1), bool(pai))
            surcharge = prices.stable_surcharge(unit_id, m)
            same = (price is not None and surcharge is not None and low == high == price.cents
                    and (not pai or price.pai) and (not lates or low_s == high_s == surcharge))
        if not same:
            flagged[m].add((child_id, unit_id))
    judge: dict[Cell, tuple] = {}  # cell -> (what was billed, today's state, late, presence)
    for m, pairs in flagged.items():
        judge.update(cells_of(m, pairs))
    if not judge:
        return {}
    known = len(billed_kids)
    for (c, _u, d), (_old, state, _late, presence) in judge.items():
        if day_billing(state or None, presence, rules).billed:
            billed_kids.add((c, d.replace(day=1)))
    missing = {c for c, _u, _d in judge} - set(children)
    if missing:
        children.update(children_of(missing))
    if missing or len(billed_kids) != known:  # otherwise the ranks are the ones above
        rank = _ranks(billed_kids, children)
    return _judge(judge, children, units, rank, prices, label_of, rules, touched)


def prove_draft(m: date, seen, day_rows, children_of, units: dict, prices: "_Truth", label_of,
                rules: AttendanceRules) -> bool:
    """Whether the comparison of month `m`, once its drafts are issued, would find nothing to
    regularise: `compare` itself, run on the month's cells and marks as prepare read them
    (`drafts.MonthSeen`) against the drafts' own days as what was billed (their compact rows,
    `draft_days`), each grouped as the database groups them for an issued month. Issuing then
    records the month as right (`checked_months`), so the next prepare does not compare it in full."""
    truth: dict[tuple, list] = {}
    month_truth(m, seen.booked, seen.others, seen.present, rules, truth)
    groups: dict[tuple, list] = {}
    for _family, c, u, first, days, st, price, surcharge, pai in day_rows:
        if first != m:
            continue  # a regularisation of an earlier month
        g = groups.get((m, c, u))
        if g is None:  # days, surcharged days, low, high, pai, low surcharge, high surcharge, walk-ins
            g = groups[(m, c, u)] = [0, 0, None, None, 0, None, None, 0]
        # A row's mask is the sum of its days' bits: the database's sum over one row per day.
        if st != "":
            g[0] += days
            if g[2] is None or price < g[2]:
                g[2] = price
            if g[3] is None or price > g[3]:
                g[3] = price
            if pai:
                g[4] = 1
            if surcharge != 0:
                g[1] += days
                if g[5] is None or surcharge < g[5]:
                    g[5] = surcharge
                if g[6] is None or surcharge > g[6]:
                    g[6] = surcharge
        if st == WALK_IN:
            g[7] += days.bit_count()
    billed = {key: tuple(g) for key, g in groups.items()}
    present_value = Presence.PRESENT.value

    def cells_of(month: date, pairs: set[tuple[int, int]]) -> dict:
        marks: dict[tuple[int, int], dict[date, str]] = defaultdict(dict)
        for c, u, d, presence in seen.others:
            if (c, u) in pairs:
                marks[(c, u)][d] = presence
        old: dict[tuple[int, int], dict] = defaultdict(dict)
        for _family, c, u, d, st, price, surcharge, pai in draft_days.expand(
                row for row in day_rows if row[3] == month and (row[1], row[2]) in pairs):
            old[(c, u)][d] = (st, price, surcharge, bool(pai))
        judge: dict[Cell, tuple] = {}
        for c, u in pairs:
            marked = marks[(c, u)]
            present = seen.present.get((c, u), 0)
            r, af, da, lates = seen.booked.get((c, u), (0, 0, 0, 0))
            cells = {}
            for n in range(1, 32):
                bit = 1 << n
                if present & bit:
                    marked[month.replace(day=n)] = present_value
                state = state_of_day(bit, r, af, da)
                if state is not None:
                    cells[month.replace(day=n)] = (state, bool(lates & bit))
            billed_days = old.get((c, u), {})
            for d in cells.keys() | billed_days.keys() | marked.keys():
                state, late = cells.get(d, ("", False))
                judge[(c, u, d)] = (billed_days.get(d, _NOTHING), state, late, marked.get(d))
        return judge

    touched: set[date] = set()
    out = compare(truth, billed, children_of, cells_of, units, prices, label_of, rules, touched)
    return not touched and not out


def _ranks(billed_kids: set[tuple[int, date]], children: dict) -> dict[tuple[int, date], int]:
    """Sibling rank per family and month: the children billed that month, eldest first."""
    per_family: dict[tuple[int, date], list[int]] = defaultdict(list)
    for child_id, m in billed_kids:
        if child_id in children:
            per_family[(children[child_id].family_id, m)].append(child_id)
    rank: dict[tuple[int, date], int] = {}
    for (_family, m), kids in per_family.items():
        for n, kid in enumerate(sorted(kids, key=lambda k: (children[k].birth_date, k))):
            rank[(kid, m)] = n + 1
    return rank


def _judge(judge: dict, children: dict, units: dict, rank: dict, prices: "_Truth", label_of,
           rules: AttendanceRules, touched: set[date]) -> dict:
    """Today's truth of each cell to look at, against what was billed: the records and lines."""
    out: dict[int, FamilyRegularisation] = {}
    changes: dict[int, dict[tuple, list[date]]] = defaultdict(lambda: defaultdict(list))
    for (child_id, unit_id, day), (old, state, late, presence) in judge.items():
        child = children.get(child_id)
        if child is None or unit_id not in units:
            continue
        m = day.replace(day=1)
        if state == CellState.DA:
            continue  # the cancellation is not decided yet: what was billed stands
        found = day_billing(state or None, presence, rules)
        if found.billed:
            pai = old[3] if old[0] else child.pai
            price = prices.price(child.family_id, unit_id, day, m, rank.get((child_id, m), 1), pai)
            if price is None:
                touched.add(m)
                out.setdefault(child.family_id, FamilyRegularisation()).anomalies.append(
                    f"Pas de tarif pour {label_of(unit_id)} le {formats.ddmmyyyy(day)} ({child.name}) : "
                    "jour non régularisé.")
                continue
            if found.walk_in:
                new = (WALK_IN, price.cents, rules.walk_in_surcharge(price.cents), price.pai)
            else:
                new = (state, price.cents, prices.surcharge(unit_id, day, m) if late else 0, price.pai)
        else:
            new = _NOTHING
        if not old[0]:
            old = _NOTHING
        if (old[0] != "") == (new[0] != "") and old[1:3] == new[1:3]:
            continue
        touched.add(m)
        reg = out.setdefault(child.family_id, FamilyRegularisation())
        reg.records.append((child.family_id, child.id, unit_id, day, *new))
        per_child = changes[child.id]
        if not old[0]:
            why = new[0] if new[0] != CellState.R else _NO_SHOW if found.outcome == Outcome.NO_SHOW_BILLED else ""
            per_child[("add", m, unit_id, why, new[1], 0)].append(day)
        elif not new[0]:
            why = {Outcome.EXCUSED: _EXCUSED, Outcome.NO_SHOW_FREE: _NO_SHOW}.get(found.outcome, "")
            per_child[("remove", m, unit_id, why, old[1], 0)].append(day)
        elif old[1] != new[1]:
            per_child[("price", m, unit_id, "", old[1], new[1])].append(day)
        if old[2] != new[2]:
            walk_in = WALK_IN if WALK_IN in (old[0], new[0]) else ""
            per_child[("surcharge", m, unit_id, walk_in, old[2], new[2])].append(day)
    order = {"add": 0, "price": 1, "remove": 2, "surcharge": 3}
    for child_id, groups in changes.items():
        child = children[child_id]
        lines = out[child.family_id].lines[child_id]
        for key in sorted(groups, key=lambda k: (k[1], _unit_order(units, k[2]), order[k[0]], k[3:])):
            lines.append(_line(key, sorted(groups[key]), child, label_of))
    return out


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _unit_order(units: dict, unit_id: int):
    return units.get(unit_id, ("", "", 0, 0))[2:4], unit_id


@functools.lru_cache(maxsize=256)
def _month(m: date) -> str:
    return formats.month_year(m)


@functools.lru_cache(maxsize=1024)
def _euros(cents: int) -> str:
    return formats.euros(cents)


_ADDED = {CellState.AF.value: "annulations hors délai facturées", WALK_IN: "présences sans réservation facturées",
          _NO_SHOW: "absences non excusées facturées"}
_REMOVED = {_EXCUSED: "absences excusées retirées", _NO_SHOW: "absences non excusées retirées"}


def _line(key: tuple, days: list[date], child: ChildRow, label_of) -> dict:
    kind, m, unit_id, why, a, b = key
    head = f"Régularisation {_month(m)} — "
    n = len(days)
    if kind == "add":
        label, quantity, cents = f"{head}{label_of(unit_id)} : {_ADDED.get(why, 'jours ajoutés')}", n, a
    elif kind == "remove":
        label, quantity, cents = f"{head}{label_of(unit_id)} : {_REMOVED.get(why, 'jours retirés')}", -n, a
    elif kind == "price":
        label = f"{head}{label_of(unit_id)} : prix corrigé ({_euros(b)} au lieu de {_euros(a)})"
        quantity, cents = n, b - a
    else:
        what = "Majoration présence sans réservation" if why == WALK_IN else "Majoration hors délai"
        label = f"{head}{what} — {label_of(unit_id)}"
        if a and b:
            label += f" ({_euros(b)} au lieu de {_euros(a)})"
            quantity, cents = n, b - a
        elif b:
            quantity, cents = n, b
        else:
            label += " : retirée"
            quantity, cents = -n, a
    return dict(child_id=child.id, child_name=child.name, unit_id=unit_id, kind=LineKind.REGULARISATION.value,
                label=label.replace("\u202f", "\u00a0"), dates=",".join(d.isoformat() for d in days),
                quantity=quantity, unit_price_cents=cents, amount_cents=quantity * cents)


def _children(s: Session, ids: set[int]) -> dict[int, ChildRow]:
    out: dict[int, ChildRow] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 900):
        for r in s.connection().execute(select(Child.id, Child.family_id, Child.first_name, Child.last_name,
                                               Child.birth_date, Child.pai).where(Child.id.in_(ordered[start:start + 900]))):
            out[r.id] = ChildRow(r.id, r.family_id, f"{r.first_name} {r.last_name}".strip(), r.birth_date,
                                 bool(r.pai))
    return out


__all__ = ["FamilyRegularisation", "compare", "compute", "issued_months", "make_current",
           "month_truth", "prove_draft"]
