"""One family's draft of a month, as `invoicing.prepare` builds it: the month's cells read once
(attendance applied), the lines per child (unit and price, cancellations billed, no-shows and
walk-ins on their own lines, surcharges, days not billed at 0 €), what each day bills, and the
drafts written in bulk. `prepare` owns the transaction, the families' addresses and anomalies.
"""

from __future__ import annotations

import contextlib
import gc
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.models import (
    Activity, Booking, CellState, DraftDay, Invoice, InvoiceLine, InvoiceStatus, LineKind, Presence, Unit,
)
from gandrange_desk.services.attendance.rules import AttendanceRules, Outcome, day_billing
from gandrange_desk.services.billing import draft_days, regularisation
from gandrange_desk.services.billing.rows import replace_rows

BILLED_STATES = (CellState.R.value, CellState.AF.value)
_R, _AF = BILLED_STATES


@contextlib.contextmanager
def no_cycle_collection():
    """The run allocates a million small tuples (cells, lines, billed days) that live until its
    end: each allocation burst made Python's cycle collector walk the whole heap again, a quarter
    of the run's CPU at 8,000 families. Nothing the run builds is a reference cycle; the
    collector resumes, as it was, when the run ends: after the run's objects are freed (the
    caller's frame gone), or its first collection walks all of them, young and still alive,
    to free none (0.1–0.2 s at 8,000 families: `invoicing.prepare`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_units(s: Session) -> dict[int, tuple[str, str, int, int, bool]]:
    rows = s.execute(select(Unit.id, Unit.name, Activity.name, Activity.position, Unit.position, Unit.meal)
                     .join(Activity, Activity.id == Unit.activity_id)).all()
    return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}


def unit_label(units, unit_id: int) -> str:
    name, activity, *_ = units.get(unit_id, ("Unité supprimée", "", 0, 0, False))
    return f"{activity} — {name}" if activity else name


def _ordinal(n: int) -> str:
    return "1er" if n == 1 else f"{n}e"


@dataclass
class Draft:
    """One family's draft as it is built: its lines, what it bills per day, its anomalies."""

    lines: list[dict] = field(default_factory=list)
    # What it bills per child, unit and day, as written (`draft_days`: days as a mask per state, price...).
    day_rows: list[tuple] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    no_quotient_days: int = 0
    free_lines: int = 0  # lines of days not billed, at 0 €: alone, they make no invoice


# How a day of the month is billed once attendance is applied (the key of its invoice line).
AS_BOOKED, NO_SHOW, WALK_IN = "", "absent", regularisation.WALK_IN
_HOW_ORDER = {CellState.R.value: 0, NO_SHOW: 1, CellState.AF.value: 2, WALK_IN: 3}
# Days the door saw that are not billed: said on the invoice at 0 €, never silently dropped.
_FREE_WORDS = {
    Outcome.EXCUSED: ("absence excusée, non facturée", "absences excusées, non facturées"),
    Outcome.NO_SHOW_FREE: ("absence non excusée, non facturée", "absences non excusées, non facturées"),
    Outcome.WALK_IN_FREE: ("présence sans réservation, non facturée", "présences sans réservation, non facturées"),
}


def _read_masks(s: Session, month: date, last: date, unit_ids: list[int]) -> dict[tuple[int, int], list[int]]:
    """The month's R, AF and DA cells grouped by the database per (child, unit) as day masks:
    [R, AF, DA, late among R and AF]. The largest read of the run (160,000 cells at 8,000
    families) reaches Python as 20,000 rows; a cell is unique per (child, unit, day), so a
    group's sum of day bits is its exact set of days."""
    state, late = Booking.state, Booking.late
    bit = regularisation._day_bit(Booking.day, s.get_bind().dialect.name)
    rows = s.connection().execute(
        select(Booking.child_id, Booking.unit_id, func.sum(case((state == CellState.R.value, bit), else_=0)),
               func.sum(case((state == CellState.AF.value, bit), else_=0)),
               func.sum(case((state == CellState.DA.value, bit), else_=0)),
               func.sum(case((and_(late.is_(True), state.in_(BILLED_STATES)), bit), else_=0)))
        .where(Booking.unit_id.in_(unit_ids), Booking.day >= month, Booking.day <= last,
               state.in_((CellState.R.value, CellState.AF.value, CellState.DA.value)))
        .group_by(Booking.child_id, Booking.unit_id)).tuples().all()
    return {(c, u): [int(r or 0), int(af or 0), int(da or 0), int(lates or 0)] for c, u, r, af, da, lates in rows}


class MonthCells:
    """child -> unit -> [(day, state, late, how)] of the days to bill, attendance applied; a
    child's days are made from the month's masks when asked for (`get`), so that a run which
    builds few drafts (`draft_keys`) does not make the month's 160,000."""

    def __init__(self, month: date, masks: dict, changed: dict, walk_ins: dict):
        self.month, self.masks, self.changed, self.walk_ins = month, masks, changed, walk_ins
        self.units: dict[int, list[int]] = defaultdict(list)  # child -> units with a day to bill
        for (c, u), (r, af, _da, _late) in masks.items():
            removed = changed.get((c, u))
            billed = r | af
            if removed:
                billed &= ~sum(1 << n for n, how in removed.items() if how is None)
            if billed or (c, u) in walk_ins:
                self.units[c].append(u)
        for c, u in walk_ins:
            if (c, u) not in masks:
                self.units[c].append(u)
        self._days: dict[int, date] = {}
        self._made: dict[int, dict[int, list]] = {}
        self._patterns: dict[tuple, tuple] = {}

    def __contains__(self, child_id) -> bool:
        return child_id in self.units

    def __iter__(self):
        return iter(self.units)

    def __len__(self) -> int:
        return len(self.units)

    def get(self, child_id: int, default=None):
        found = self._made.get(child_id)
        if found is None:
            if child_id not in self.units:
                return default
            found = self._made[child_id] = {u: self._days_of(child_id, u) for u in self.units[child_id]}
        return found

    def __getitem__(self, child_id: int):
        found = self.get(child_id)
        if found is None:
            raise KeyError(child_id)
        return found

    def _days_of(self, c: int, u: int) -> list:
        r, af, _da, lates = self.masks.get((c, u), (0, 0, 0, 0))
        how_of = self.changed.get((c, u))
        if how_of is None and (c, u) not in self.walk_ins:
            # Most children share a few weekly patterns: their days (tuples) are made once per pattern.
            key = (r, af, lates)
            found = self._patterns.get(key)
            if found is None:
                found = self._patterns[key] = tuple(self._made_days(r, af, lates, {}))
            return found  # read only (`family_draft` iterates it)
        return self._made_days(r, af, lates, how_of or {}) + self.walk_ins.get((c, u), [])

    def _made_days(self, r: int, af: int, lates: int, how_of: dict) -> list:
        days, day_of, r_state, af_state = [], self._days, _R, _AF
        rest = r | af
        while rest:
            low = rest & -rest
            rest ^= low
            n = low.bit_length() - 1
            how = how_of.get(n, AS_BOOKED)
            if how is None:
                continue  # not billed once attendance is applied
            day = day_of.get(n)
            if day is None:
                day = day_of[n] = self.month.replace(day=n)
            days.append((day, r_state if r & low else af_state, bool(lates & low), how))
        return days


def month_cells(s: Session, month: date, last: date, unit_ids: list[int], rules: AttendanceRules):
    """child -> unit -> [(day, state, late, how)] of the days to bill (`MonthCells`); child ->
    unit -> outcome -> [days] of the marked days not billed; child -> its pending cancellations
    (DA); and the month as `regularisation.compare` reads it (`MonthSeen`), for the draft's
    proof. One grouped read of the month's cells, two of its marks (see `regularisation._marks`)."""
    masks = _read_masks(s, month, last, unit_ids)
    pending_da: dict[int, int] = defaultdict(int)
    for (c, _u), (_r, _af, da, _late) in masks.items():
        if da:
            pending_da[c] += da.bit_count()
    free: dict[int, dict[int, dict]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    changed: dict[tuple, dict] = defaultdict(dict)  # (child, unit) -> day -> None (not billed) or NO_SHOW
    walk_ins: dict[tuple, list] = defaultdict(list)
    others, present = regularisation._marks(s, month, last + timedelta(days=1), unit_ids)
    nothing = (0, 0, 0, 0)
    marks = [(c, u, d, presence, regularisation.state_of_day(1 << d.day, *masks.get((c, u), nothing)[:3]))
             for c, u, d, presence in others]
    for (c, u), days in present.items():
        r, af, da, _late = masks.get((c, u), nothing)
        emptied = days & ~(r | af | da)  # marked present, the cell emptied since: a walk-in
        if emptied:  # seldom: most present days are on a booked cell
            marks += [(c, u, month.replace(day=n), Presence.PRESENT.value, None) for n in range(1, 32)
                      if emptied >> n & 1]
    for c, u, d, presence, state in marks:
        found = day_billing(state, presence, rules)
        if found.outcome in _FREE_WORDS:
            free[c][u][found.outcome].append(d)
        if state in BILLED_STATES and not found.billed:
            changed[(c, u)][d.day] = None
        elif state in BILLED_STATES and found.outcome == Outcome.NO_SHOW_BILLED:
            changed[(c, u)][d.day] = NO_SHOW
        elif found.walk_in:
            walk_ins[(c, u)].append((d, WALK_IN, False, WALK_IN))
    cells = MonthCells(month, masks, dict(changed), dict(walk_ins))
    return cells, free, pending_da, MonthSeen(masks, others, present)


@dataclass
class MonthSeen:
    """The month's cells and marks as the comparison of an invoiced month reads them:
    (child, unit) -> [R, AF, DA, late] day masks, the marks other than "présent", and the
    "présent" days per (child, unit) as a mask (`regularisation.month_truth`)."""

    booked: dict
    others: list
    present: dict


class Labels:
    """The words of a unit's lines, made once per run rather than once per family."""

    def __init__(self, units: dict):
        self.units = units
        self._cache: dict[tuple, str] = {}

    def unit(self, unit_id: int) -> str:
        return unit_label(self.units, unit_id)

    def order(self, unit_id: int):
        return self.units.get(unit_id, ("", "", 0, 0))[2:4], unit_id

    def line(self, unit_id: int, how: str, n: int, pai: bool, rank: int, no_quotient: bool) -> str:
        key = (unit_id, how, n > 1, pai, rank, no_quotient)
        found = self._cache.get(key)
        if found is None:
            notes = []
            if how == CellState.AF:
                notes.append("annulation hors délai")
            elif how == NO_SHOW:
                notes.append(formats.plural(n, "absence non excusée", "absences non excusées"))
            elif how == WALK_IN:
                notes.append(formats.plural(n, "présence sans réservation", "présences sans réservation"))
            if pai:
                notes.append("tarif PAI")
            if rank > 1:
                notes.append(f"tarif {_ordinal(rank)} enfant")
            if no_quotient:
                notes.append("sans quotient : tranche la plus haute")
            found = self._cache[key] = self.unit(unit_id) + (f" ({', '.join(notes)})" if notes else "")
        return found


def family_draft(family_id, month, kids, cells_by_child, free_by_child, reg, pricing, labels: Labels,
                  rules: AttendanceRules) -> Draft:
    """The month's lines of one family (per child: unit and price, AF days, no-shows and walk-ins
    on their own lines, surcharges, days not billed at 0 €), what each day bills, then the
    family's regularisation lines."""
    draft = Draft()
    # Sibling rank: eldest child billed this month first.
    billed_kids = sorted((k for k in kids if k.id in cells_by_child), key=lambda k: (k.birth_date, k.id))
    rank = {k.id: i + 1 for i, k in enumerate(billed_kids)}
    day_rows, day_info, again = draft.day_rows, draft_days.DAY_INFO, []
    for kid in sorted(kids, key=lambda k: (rank.get(k.id, 99), k.birth_date, k.id)):
        kid_rank = rank.get(kid.id, 1)
        groups: dict[tuple, list[date]] = defaultdict(list)
        surcharges: dict[tuple, list[date]] = defaultdict(list)
        for unit_id, cells in cells_by_child.get(kid.id, {}).items():
            # Almost always one price for the whole month: looked up once, not once per day.
            stable = pricing.stable_price(family_id, unit_id, month, kid_rank, kid.pai)
            late_fee = pricing.stable_surcharge(unit_id, month) if stable is not None else None
            # What each day bills, written compactly (`draft_days`): the days of one state,
            # price, surcharge and PAI as one mask.
            masks: dict[tuple, int] = {}
            for day, state, late, how in cells:
                price = stable or pricing.price(family_id, unit_id, day, month, kid_rank, kid.pai)
                if price is None:
                    draft.anomalies.append(f"Pas de tarif pour {labels.unit(unit_id)} le "
                                           f"{formats.ddmmyyyy(day)} ({kid.name}) : jour non facturé.")
                    continue
                draft.no_quotient_days += price.no_quotient
                cents = price.cents
                groups[(unit_id, state if how == AS_BOOKED else how, cents, price.pai, price.no_quotient,
                        price.sibling_rank)].append(day)
                if how == WALK_IN:
                    extra = rules.walk_in_surcharge(cents)
                    if extra:
                        surcharges[(unit_id, WALK_IN, extra)].append(day)
                elif late:
                    extra = late_fee if late_fee is not None else (pricing.book.surcharge(unit_id, day) or 0)
                    if extra:
                        surcharges[(unit_id, "", extra)].append(day)
                else:
                    extra = 0
                first, bit = day_info[day]
                key = (first, state, cents, extra, price.pai)
                mask = masks.get(key, 0)
                if mask & bit:  # the same day twice (no month's cells are so): a row of its own
                    again.append((family_id, kid.id, unit_id, day, state, cents, extra, price.pai))
                else:
                    masks[key] = mask | bit
            day_rows += [(family_id, kid.id, unit_id, first, days, state, cents, extra, pai)
                         for (first, state, cents, extra, pai), days in masks.items()]
        for (unit_id, how, cents, pai, noq, srank), days in sorted(
                groups.items(), key=lambda kv: (labels.order(kv[0][0]), _HOW_ORDER.get(kv[0][1], 9), min(kv[1]))):
            label = labels.line(unit_id, how if how != CellState.R else AS_BOOKED, len(days), pai, srank, noq)
            draft.lines.append(_line(kid.id, kid.name, unit_id, LineKind.NORMAL, label, sorted(days), cents))
        for (unit_id, how, cents), days in sorted(surcharges.items()):
            what = "Majoration présence sans réservation" if how == WALK_IN else "Majoration hors délai"
            draft.lines.append(_line(kid.id, kid.name, unit_id, LineKind.SURCHARGE,
                                     f"{what} — {labels.unit(unit_id)}", sorted(days), cents))
        for unit_id, outcomes in sorted(free_by_child.get(kid.id, {}).items(), key=lambda kv: labels.order(kv[0])):
            for outcome, days in outcomes.items():
                words = formats.plural(len(days), *_FREE_WORDS[outcome])
                draft.lines.append(_line(kid.id, kid.name, unit_id, LineKind.NORMAL,
                                         f"{labels.unit(unit_id)} ({words})", sorted(days), 0))
                draft.free_lines += 1
        if reg:
            draft.lines += reg.lines.get(kid.id, [])
    if again:
        day_rows += draft_days.compact(again)
    if reg:
        day_rows += draft_days.compact(reg.records)
        draft.anomalies += reg.anomalies
    return draft


_LINE_COLUMNS = ("invoice_id", "position", "child_id", "child_name", "unit_id", "kind", "label", "dates",
                 "quantity", "unit_price_cents", "amount_cents")


_FRESH_DRAFT = dict(number=None, issued_at=None, issued_by=None, issue_date=None, due_date=None, pdf=None, sent_at=None)
_CHUNK = 500


def write_drafts(s: Session, month: date, invoice_rows: list[dict], drafts: list[Draft | None],
                 previous: dict[int, int]) -> list[int]:
    """The month's drafts written over its `previous` ones (family -> draft id). A family's
    previous draft keeps its row, rewritten as a new one would be (its version moves on, so an
    edit begun before fails as if the draft had gone); its lines and billed days are replaced by
    difference (`rows.replace_rows`): a re-run over a month that barely moved deletes and
    inserts a few rows, not 170,000 at 8,000 families. A draft given as None was found unchanged
    (`draft_keys`): its row is stamped like the others, its lines and billed days are not read
    nor written. A built draft's row carries its key (`invoice.draft_key`: its inputs and the sums
    of the rows written here, `draft_keys`). Drafts of families with nothing to bill any more
    are deleted. Returns the drafts' ids, in the order of `invoice_rows`."""
    table = Invoice.__table__
    billed = {row["family_id"] for row in invoice_rows}
    gone = [invoice_id for family_id, invoice_id in previous.items() if family_id not in billed]
    for start in range(0, len(gone), _CHUNK):
        chunk = gone[start:start + _CHUNK]
        # Core deletes: the session holds none of these rows, so nothing to fetch back.
        s.execute(delete(DraftDay.__table__).where(DraftDay.invoice_id.in_(chunk)))
        s.execute(delete(InvoiceLine.__table__).where(InvoiceLine.invoice_id.in_(chunk)))
        s.execute(delete(table).where(table.c.id.in_(chunk)))
    if not invoice_rows:
        return []
    new_rows = [row for row in invoice_rows if row["family_id"] not in previous]
    if new_rows:
        # Core executemany without RETURNING (SQLite would fall back to one INSERT per row to
        # keep RETURNING in order); ids come back by the (family, month) unique key.
        s.execute(insert(table), new_rows)
    kept = [{**{k: v for k, v in row.items() if k not in ("family_id", "month", "version")},
             "draft_id": previous[row["family_id"]]} for row, draft in zip(invoice_rows, drafts)
            if row["family_id"] in previous and draft is not None]
    if kept:
        s.execute(update(table).where(table.c.id == bindparam("draft_id"))
                  .values(version=table.c.version + 1, **_FRESH_DRAFT), kept)
    unchanged = [(previous[row["family_id"]], row) for row, draft in zip(invoice_rows, drafts) if draft is None]
    for start in range(0, len(unchanged), _CHUNK):
        # The same row as a rebuild would write, but for the run's stamp: one statement per chunk.
        chunk = unchanged[start:start + _CHUNK]
        stamp = chunk[0][1]
        s.execute(update(table).where(table.c.id.in_([i for i, _row in chunk]))
                  .values(version=table.c.version + 1, prepared_at=stamp["prepared_at"],
                          updated_at=stamp["updated_at"], updated_by=stamp["updated_by"], **_FRESH_DRAFT))
    id_of = dict(s.execute(select(Invoice.family_id, Invoice.id).where(
        Invoice.month == month, Invoice.status == InvoiceStatus.DRAFT)).all())
    all_lines, day_values = [], []
    rebuilt: list[int] = []  # previous drafts built again
    connection = s.connection()
    sqlite = connection.dialect.name == "sqlite"
    for row, draft in zip(invoice_rows, drafts):
        if draft is None:
            continue
        invoice_id = id_of[row["family_id"]]
        if row["family_id"] in previous:
            rebuilt.append(invoice_id)
        for position, line in enumerate(draft.lines):
            all_lines.append((invoice_id, position, line["child_id"], line["child_name"], line["unit_id"],
                              line["kind"], line["label"], line["dates"], line["quantity"],
                              line["unit_price_cents"], line["amount_cents"]))
        # Compact (`draft_days`), as the driver stores and reads them back.
        day_values += draft_days.values(connection.dialect.name, invoice_id, draft.day_rows)
    # Driver-level, like the billed days: plain values, nothing for the ORM to bind.
    if not unchanged:  # every previous draft rebuilt: their rows read in one go
        where = "invoice_id IN (SELECT id FROM invoice WHERE month = ? AND status = ?)" if kept else ""
        params = (month.isoformat() if sqlite else month, InvoiceStatus.DRAFT.value)
        replace_rows(connection, "invoice_line", _LINE_COLUMNS, all_lines, where, params)
        replace_rows(connection, "draft_day", draft_days.COLUMNS, day_values, where, params)
    else:  # only the rebuilt drafts' rows are compared; the unchanged drafts' rows stay as they are
        for name, columns, values in (("invoice_line", _LINE_COLUMNS, all_lines),
                                      ("draft_day", draft_days.COLUMNS, day_values)):
            per_invoice: dict[int, list] = defaultdict(list)
            for value in values:
                per_invoice[value[0]].append(value)
            for start in range(0, len(rebuilt), _CHUNK):
                chunk = rebuilt[start:start + _CHUNK]
                replace_rows(connection, name, columns, [v for i in chunk for v in per_invoice.pop(i, ())],
                             f"invoice_id IN ({', '.join('?' * len(chunk))})", tuple(chunk))
            replace_rows(connection, name, columns, [v for rows in per_invoice.values() for v in rows], "", ())
    return [id_of[row["family_id"]] for row in invoice_rows]


class _IsoDates(dict):
    """day -> 'YYYY-MM-DD', made once per day: `map(_ISO.__getitem__, days)` stays in C for the
    180,000 days of a month's lines at 8,000 families."""

    def __missing__(self, day: date) -> str:
        found = self[day] = day.isoformat()
        return found


_ISO = _IsoDates()


def _line(child_id, child_name, unit_id, kind, label, days, cents, quantity=None) -> dict:
    qty = len(days) if quantity is None else quantity
    return dict(child_id=child_id, child_name=child_name, unit_id=unit_id, kind=kind.value, label=label,
                dates=",".join(map(_ISO.__getitem__, days)), quantity=qty, unit_price_cents=cents,
                amount_cents=qty * cents)
