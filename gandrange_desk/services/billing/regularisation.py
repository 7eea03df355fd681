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

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from gandrange_desk import formats
from gandrange_desk.models import (
    BilledDay, Booking, CellState, Child, Invoice, InvoiceStatus, LineKind,
)
from gandrange_desk.services.billing.tariffs import PriceBook, QuotientBook

Cell = tuple[int, int, date]
BILLED = (CellState.R.value, CellState.AF.value)
_WANTED = (CellState.R.value, CellState.AF.value, CellState.DA.value)


@dataclass
class FamilyRegularisation:
    lines: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))  # child -> lines
    records: list[dict] = field(default_factory=list)  # BilledDay rows for the draft
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


def _current(first: date, before: date):
    """What issued invoices billed last for each day in [first, before), as a subquery."""
    return (select(BilledDay.id, BilledDay.child_id, BilledDay.unit_id, BilledDay.day, BilledDay.state,
                   BilledDay.price_cents, BilledDay.surcharge_cents, BilledDay.pai)
            .where(BilledDay.current.is_(True), BilledDay.day >= first, BilledDay.day < before).subquery("cur"))


_DAY_COLUMNS = ("invoice_id", "family_id", "child_id", "unit_id", "day", "state", "price_cents", "surcharge_cents",
                "pai", "current")


def insert_billed_days(s: Session, rows: list[dict]) -> None:
    """A month's billed days (tens of thousands) in one driver-level executemany: binding them
    through the ORM's parameter processing costs twice the insert itself."""
    connection = s.connection()
    dialect = connection.dialect
    marks = ", ".join(["?"] * len(_DAY_COLUMNS)) if dialect.paramstyle == "qmark" else ", ".join(["%s"] * len(_DAY_COLUMNS))
    sql = f"INSERT INTO billed_day ({', '.join(_DAY_COLUMNS)}) VALUES ({marks})"
    sqlite = dialect.name == "sqlite"
    values = [(r["invoice_id"], r["family_id"], r["child_id"], r["unit_id"],
               r["day"].isoformat() if sqlite else r["day"], r["state"], r["price_cents"], r["surcharge_cents"],
               int(bool(r["pai"])) if sqlite else bool(r["pai"]), 0 if sqlite else False) for r in rows]
    connection.exec_driver_sql(sql, values)


def make_current(s: Session, month: date) -> None:
    """Issuing `month`: its records become what was billed; the days it regularised stop being
    what earlier invoices billed."""
    mine = aliased(BilledDay)
    issued_now = select(Invoice.id).where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED)
    s.execute(update(BilledDay).where(
        BilledDay.current.is_(True), BilledDay.day < month,
        select(mine.id).where(mine.invoice_id.in_(issued_now), mine.day < month, mine.child_id == BilledDay.child_id,
                              mine.unit_id == BilledDay.unit_id, mine.day == BilledDay.day).exists())
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
        if not (self._stable(self._unit_stable, self.book.starts(unit_id), (unit_id, month), month)
                and self._stable(self._family_stable, self.quotients.starts(family_id), (family_id, month), month)):
            return None
        return self.price(family_id, unit_id, month, month, rank, pai)

    def stable_surcharge(self, unit_id: int, month: date) -> int | None:
        if not self._stable(self._unit_stable, self.book.starts(unit_id), (unit_id, month), month):
            return None
        return self.surcharge(unit_id, month, month)

    def surcharge(self, unit_id: int, day: date, month: date) -> int:
        if not self._stable(self._unit_stable, self.book.starts(unit_id), (unit_id, month), month):
            return self.book.surcharge(unit_id, day) or 0
        key = (unit_id, month)
        found = self._surcharges.get(key)
        if found is None:
            found = self._surcharges[key] = self.book.surcharge(unit_id, day) or 0
        return found


def compute(s: Session, month: date, units: dict, book: PriceBook, quotients: QuotientBook,
            label_of) -> dict[int, FamilyRegularisation]:
    """family -> its regularisation lines (per child), the records to keep and the anomalies.

    The database does the bulk of the comparison, two grouped queries per issued month: per
    child and unit, the R and AF days with what was billed for them (how many were billed, at
    which prices and surcharges), and the days billed. A group whose counts, prices and
    surcharges all agree with today's is right; only the others are looked at day by day."""
    months = issued_months(s, month)
    if not months:
        return {}
    unit_ids = sorted(units) or [0]
    late_cell = Booking.late.is_(True)
    groups, billed_counts = [], {}
    billed_kids: set[tuple[int, date]] = set()  # (child, month): the children billed, for their rank
    for m in months:
        cur = _current(m, _next(m))
        on_cell = and_(Booking.child_id == cur.c.child_id, Booking.unit_id == cur.c.unit_id,
                       Booking.day == cur.c.day, cur.c.state != "")
        for row in s.execute(
                select(Booking.child_id, Booking.unit_id, func.count(), func.count(cur.c.id),
                       func.min(cur.c.price_cents), func.max(cur.c.price_cents), func.max(case((cur.c.pai, 1), else_=0)),
                       func.sum(case((late_cell, 1), else_=0)), func.min(case((late_cell, cur.c.surcharge_cents))),
                       func.max(case((late_cell, cur.c.surcharge_cents))),
                       func.sum(case((and_(~late_cell, cur.c.surcharge_cents != 0), 1), else_=0)))
                .outerjoin(cur, on_cell)
                .where(Booking.unit_id.in_(unit_ids), Booking.day >= m, Booking.day < _next(m),
                       Booking.state.in_(BILLED))
                .group_by(Booking.child_id, Booking.unit_id)).tuples():
            groups.append((m, *row))
            billed_kids.add((row[0], m))
        for child_id, unit_id, n in s.execute(
                select(BilledDay.child_id, BilledDay.unit_id, func.count())
                .where(BilledDay.current.is_(True), BilledDay.day >= m, BilledDay.day < _next(m), BilledDay.state != "")
                .group_by(BilledDay.child_id, BilledDay.unit_id)).tuples():
            billed_counts[(m, child_id, unit_id)] = n
    children = _children(s, {c for c, _m in billed_kids} | {c for _m, c, _u in billed_counts})
    rank = _ranks(billed_kids, children)
    prices = _Truth(book, quotients)
    # Groups that may differ from today's truth: looked at day by day.
    flagged: dict[date, set[tuple[int, int]]] = defaultdict(set)
    for m, child_id, unit_id, reserved, both, low, high, pai, lates, low_s, high_s, stray in groups:
        child = children.get(child_id)
        if child is None or unit_id not in units:
            continue
        same = reserved == both == billed_counts.pop((m, child_id, unit_id), 0) and not stray
        if same:
            price = prices.stable_price(child.family_id, unit_id, m, rank.get((child_id, m), 1), bool(pai))
            surcharge = prices.stable_surcharge(unit_id, m)
            same = (price is not None and surcharge is not None and low == high == price.cents
                    and (not pai or price.pai) and (not lates or low_s == high_s == surcharge))
        if not same:
            flagged[m].add((child_id, unit_id))
    for (m, child_id, unit_id) in billed_counts:  # billed days of a child and unit with no R nor AF left
        flagged[m].add((child_id, unit_id))
    judge: dict[Cell, tuple] = {}  # cell -> (what was billed, today's state, late)
    for m, pairs in flagged.items():
        kids = sorted({c for c, _u in pairs})
        cur = _current(m, _next(m))
        on_cell = and_(Booking.child_id == cur.c.child_id, Booking.unit_id == cur.c.unit_id, Booking.day == cur.c.day)
        for start in range(0, len(kids), 500):
            chunk = kids[start:start + 500]
            for c, u, d, state, late, st, p, sur, pai in s.execute(
                    select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state, Booking.late, cur.c.state,
                           cur.c.price_cents, cur.c.surcharge_cents, cur.c.pai).outerjoin(cur, on_cell)
                    .where(Booking.child_id.in_(chunk), Booking.day >= m, Booking.day < _next(m),
                           Booking.state.in_(_WANTED))).tuples():
                if (c, u) in pairs:
                    judge[(c, u, d)] = ((st or "", p or 0, sur or 0, bool(pai)), state, bool(late))
            for c, u, d, st, p, sur, pai in s.execute(
                    select(cur.c.child_id, cur.c.unit_id, cur.c.day, cur.c.state, cur.c.price_cents,
                           cur.c.surcharge_cents, cur.c.pai).where(cur.c.child_id.in_(chunk))).tuples():
                if (c, u) in pairs and (c, u, d) not in judge:
                    judge[(c, u, d)] = ((st, p, sur, bool(pai)), "", False)  # billed, nothing reserved now
    if not judge:
        return {}
    for (c, _u, d), (_old, state, _late) in judge.items():
        if state in BILLED:
            billed_kids.add((c, d.replace(day=1)))
    missing = {c for c, _u, _d in judge} - set(children)
    if missing:
        children.update(_children(s, missing))
        rank = _ranks(billed_kids, children)
    return _judge(judge, children, units, rank, prices, label_of)


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


def _judge(judge: dict, children: dict, units: dict, rank: dict, prices: "_Truth", label_of) -> dict:
    """Today's truth of each cell to look at, against what was billed: the records and lines."""
    out: dict[int, FamilyRegularisation] = {}
    changes: dict[int, dict[tuple, list[date]]] = defaultdict(lambda: defaultdict(list))
    nothing = ("", 0, 0, False)
    for (child_id, unit_id, day), (old, state, late) in judge.items():
        child = children.get(child_id)
        if child is None or unit_id not in units:
            continue
        m = day.replace(day=1)
        if state == CellState.DA:
            continue  # the cancellation is not decided yet: what was billed stands
        if state:
            pai = old[3] if old[0] else child.pai
            price = prices.price(child.family_id, unit_id, day, m, rank.get((child_id, m), 1), pai)
            if price is None:
                out.setdefault(child.family_id, FamilyRegularisation()).anomalies.append(
                    f"Pas de tarif pour {label_of(unit_id)} le {formats.ddmmyyyy(day)} ({child.name}) : "
                    "jour non régularisé.")
                continue
            new = (state, price.cents, prices.surcharge(unit_id, day, m) if late else 0, price.pai)
        else:
            new = nothing
        if not old[0]:
            old = nothing
        if (old[0] != "") == (new[0] != "") and old[1:3] == new[1:3]:
            continue
        reg = out.setdefault(child.family_id, FamilyRegularisation())
        reg.records.append({"family_id": child.family_id, "child_id": child.id, "unit_id": unit_id, "day": day,
                            "state": new[0], "price_cents": new[1], "surcharge_cents": new[2], "pai": new[3]})
        per_child = changes[child.id]
        if not old[0]:
            per_child[("add", m, unit_id, new[0] == CellState.AF, new[1], 0)].append(day)
        elif not new[0]:
            per_child[("remove", m, unit_id, False, old[1], 0)].append(day)
        elif old[1] != new[1]:
            per_child[("price", m, unit_id, False, old[1], new[1])].append(day)
        if old[2] != new[2]:
            per_child[("surcharge", m, unit_id, False, old[2], new[2])].append(day)
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


def _line(key: tuple, days: list[date], child: ChildRow, label_of) -> dict:
    kind, m, unit_id, af, a, b = key
    head = f"Régularisation {_month(m)} — "
    n = len(days)
    if kind == "add":
        what = "annulations hors délai facturées" if af else "jours ajoutés"
        label, quantity, cents = f"{head}{label_of(unit_id)} : {what}", n, a
    elif kind == "remove":
        label, quantity, cents = f"{head}{label_of(unit_id)} : jours retirés", -n, a
    elif kind == "price":
        label = f"{head}{label_of(unit_id)} : prix corrigé ({_euros(b)} au lieu de {_euros(a)})"
        quantity, cents = n, b - a
    else:
        label = f"{head}Majoration hors délai — {label_of(unit_id)}"
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
        for r in s.execute(select(Child.id, Child.family_id, Child.first_name, Child.last_name, Child.birth_date,
                                  Child.pai).where(Child.id.in_(ordered[start:start + 900]))):
            out[r.id] = ChildRow(r.id, r.family_id, f"{r.first_name} {r.last_name}".strip(), r.birth_date,
                                 bool(r.pai))
    return out


__all__ = ["FamilyRegularisation", "compute", "insert_billed_days", "issued_months", "make_current"]
