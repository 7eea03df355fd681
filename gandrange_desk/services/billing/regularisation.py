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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.models import (
    BilledDay, Booking, CellState, Child, Invoice, InvoiceStatus, LineKind,
)
from gandrange_desk.services.billing.tariffs import PriceBook, QuotientBook

Cell = tuple[int, int, date]
BILLED = (CellState.R.value, CellState.AF.value)
_WANTED = (CellState.R.value, CellState.AF.value, CellState.DA.value)


@dataclass(frozen=True)
class Billed:
    """A day as billed (or as it should be billed): nothing when `state` is ""."""

    state: str
    price: int = 0
    surcharge: int = 0
    pai: bool = False

    @property
    def billed(self) -> bool:
        return self.state in BILLED


NOTHING = Billed("")


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


def month_of(day: date) -> date:
    return day.replace(day=1)


def issued_months(s: Session, before: date) -> list[date]:
    return sorted(s.execute(select(Invoice.month).distinct().where(
        Invoice.status == InvoiceStatus.ISSUED, Invoice.month < before)).scalars())


def latest_billed(s: Session, first: date, before: date) -> dict[Cell, tuple[int, Billed]]:
    """(child, unit, day) -> (family, what issued invoices billed last), for days in [first, before)."""
    out: dict[Cell, tuple[int, Billed]] = {}
    rows = s.execute(
        select(BilledDay.child_id, BilledDay.unit_id, BilledDay.day, BilledDay.family_id, BilledDay.state,
               BilledDay.price_cents, BilledDay.surcharge_cents, BilledDay.pai)
        .join(Invoice, Invoice.id == BilledDay.invoice_id)
        .where(Invoice.status == InvoiceStatus.ISSUED, BilledDay.day >= first, BilledDay.day < before)
        .order_by(BilledDay.id))
    for child_id, unit_id, day, family_id, state, price, surcharge, pai in rows:
        out[(child_id, unit_id, day)] = (family_id, Billed(state, price, surcharge, bool(pai)))
    return out


def compute(s: Session, month: date, units: dict, book: PriceBook, quotients: QuotientBook,
            label_of) -> dict[int, FamilyRegularisation]:
    """family -> its regularisation lines (per child), the records to keep and the anomalies."""
    months = issued_months(s, month)
    if not months:
        return {}
    wanted_months = set(months)
    first = months[0]
    billed = latest_billed(s, first, month)
    unit_ids = sorted(units) or [0]
    truth: dict[Cell, tuple[str, bool]] = {}
    for child_id, unit_id, day, state, late in s.execute(
            select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state, Booking.late)
            .where(Booking.unit_id.in_(unit_ids), Booking.day >= first, Booking.day < month,
                   Booking.state.in_(_WANTED))):
        if month_of(day) in wanted_months:
            truth[(child_id, unit_id, day)] = (state, bool(late))
    if not billed and not truth:
        return {}
    children = _children(s, {c[0] for c in billed} | {c[0] for c in truth})
    # Sibling rank per family and month: the children billed that month, eldest first.
    billed_kids: dict[tuple[int, date], set[int]] = defaultdict(set)
    for (child_id, _unit, day), (state, _late) in truth.items():
        if state in BILLED and child_id in children:
            billed_kids[(children[child_id].family_id, month_of(day))].add(child_id)
    rank: dict[tuple[int, date], int] = {}
    for (family_id, m), kids in billed_kids.items():
        for n, kid in enumerate(sorted(kids, key=lambda k: (children[k].birth_date, k))):
            rank[(kid, m)] = n + 1

    out: dict[int, FamilyRegularisation] = {}
    changes: dict[int, dict[tuple, list[date]]] = defaultdict(lambda: defaultdict(list))
    for cell in billed.keys() | truth.keys():
        child_id, unit_id, day = cell
        child = children.get(child_id)
        if child is None or unit_id not in units:
            continue
        family_id, old = billed.get(cell, (child.family_id, None))
        state, late = truth.get(cell, ("", False))
        if state == CellState.DA:
            continue  # the cancellation is not decided yet: what was billed stands
        if state in BILLED:
            pai = old.pai if old is not None and old.billed else child.pai
            price = book.price(unit_id, day, quotient=quotients.on(child.family_id, day),
                               sibling_rank=rank.get((child_id, month_of(day)), 1), pai=pai)
            if price is None:
                reg = out.setdefault(child.family_id, FamilyRegularisation())
                reg.anomalies.append(f"Pas de tarif pour {label_of(unit_id)} le {formats.ddmmyyyy(day)} "
                                     f"({child.name}) : jour non régularisé.")
                continue
            surcharge = (book.surcharge(unit_id, day) or 0) if late else 0
            new = Billed(state, price.cents, surcharge, price.pai)
        else:
            new = NOTHING
        before = old if old is not None else NOTHING
        if (before.billed, before.price if before.billed else 0, before.surcharge if before.billed else 0) == (
                new.billed, new.price if new.billed else 0, new.surcharge if new.billed else 0):
            continue
        reg = out.setdefault(child.family_id, FamilyRegularisation())
        reg.records.append({"family_id": child.family_id, "child_id": child_id, "unit_id": unit_id, "day": day,
                            "state": new.state if new.billed else "", "price_cents": new.price if new.billed else 0,
                            "surcharge_cents": new.surcharge if new.billed else 0, "pai": new.pai})
        m = month_of(day)
        if not before.billed:
            changes[child_id][("add", m, unit_id, new.state == CellState.AF, new.price, 0)].append(day)
        elif not new.billed:
            changes[child_id][("remove", m, unit_id, False, before.price, 0)].append(day)
        elif before.price != new.price:
            changes[child_id][("price", m, unit_id, False, before.price, new.price)].append(day)
        old_s = before.surcharge if before.billed else 0
        new_s = new.surcharge if new.billed else 0
        if old_s != new_s:
            changes[child_id][("surcharge", m, unit_id, False, old_s, new_s)].append(day)
    order = {"add": 0, "price": 1, "remove": 2, "surcharge": 3}
    for child_id, groups in changes.items():
        child = children[child_id]
        lines = out[child.family_id].lines[child_id]
        for key in sorted(groups, key=lambda k: (k[1], _unit_order(units, k[2]), order[k[0]], k[3:])):
            lines.append(_line(key, sorted(groups[key]), child, label_of))
    return out


def _unit_order(units: dict, unit_id: int):
    return units.get(unit_id, ("", "", 0, 0))[2:4], unit_id


def _line(key: tuple, days: list[date], child: ChildRow, label_of) -> dict:
    kind, m, unit_id, af, a, b = key
    head = f"Régularisation {formats.month_year(m)} — "
    n = len(days)
    if kind == "add":
        what = "annulations hors délai facturées" if af else "jours ajoutés"
        label, quantity, cents = f"{head}{label_of(unit_id)} : {what}", n, a
    elif kind == "remove":
        label, quantity, cents = f"{head}{label_of(unit_id)} : jours retirés", -n, a
    elif kind == "price":
        label = (f"{head}{label_of(unit_id)} : prix corrigé ({formats.euros(b)} au lieu de "
                 f"{formats.euros(a)})")
        quantity, cents = n, b - a
    else:
        label = f"{head}Majoration hors délai — {label_of(unit_id)}"
        if a and b:
            label += f" ({formats.euros(b)} au lieu de {formats.euros(a)})"
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


__all__ = ["Billed", "FamilyRegularisation", "compute", "issued_months", "latest_billed"]
