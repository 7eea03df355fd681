"""What a month's draft was built from and what it holds, so that preparing again skips it.

A family's draft depends on its children's cells and marks of the month, its children (name,
birth date, PAI), its address, first guardian, mandate and pending cancellations, its
regularisation lines, and on what every draft depends on (tariffs, brackets, units, every
family's quotients, every child's family, the attendance settings: `checked_months`' common
part). `inputs_key` hashes all of it from the rows prepare has already read.

A draft's key (`invoice.draft_key`) is that inputs key and a sum of its rows as written (billed
days and lines: count, prices, surcharges, and per-row hashes summed the same way in Python and
in SQL, `content_of_drafts`). Preparing again skips a family whose inputs key is unchanged and
whose rows still sum as written: a row edited or deleted by hand since shows, and the family is
rebuilt. Everything else is built as before; the skip only spares rebuilding what would come out
the same.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date

from sqlalchemy import BigInteger, Integer, case, cast, extract, func, select
from sqlalchemy.engine import Connection

from gandrange_desk.models import BilledDay, Invoice, InvoiceLine, InvoiceStatus

_P = 2_147_483_647
_DAY_F = (1_103_515_245, 69_069, 40_503, 2_654_435_761 % _P, 1_664_525, 22_695_477, 134_775_813)
_LINE_F = (1_103_515_245, 69_069, 40_503, 2_654_435_761 % _P, 1_664_525, 22_695_477, 134_775_813,
           214_013, 16_807)
_STATES = {"R": 1, "AF": 2, "SR": 3, "": 4}
_KINDS = {"normal": 1, "surcharge": 2, "regularisation": 3}


def _cmod(x: int) -> int:
    """`x % P` as SQLite and PostgreSQL compute it (the sign of `x`)."""
    r = abs(x) % _P
    return -r if x < 0 else r


def _terms(values, factors) -> int:
    return _cmod(sum(v * f for v, f in zip(values, factors)))


def _day_number(d) -> int:
    if isinstance(d, str):  # SQLite's ISO day
        return int(d[0:4]) * 10000 + int(d[5:7]) * 100 + int(d[8:10])
    return d.year * 10000 + d.month * 100 + d.day


def _code(table: dict, text: str) -> int:
    found = table.get(text)
    return found if found is not None else len(text) + 10


def days_content(values: list[tuple]) -> dict[int, list[int]]:
    """invoice -> [count, sum of prices, sum of surcharges, hash] of billed-day rows as the
    driver stores them (`regularisation._day_values`: invoice, family, child, unit, day, state,
    price, surcharge, pai, current)."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for invoice_id, _f, c, u, d, st, price, sur, pai, _cur in values:
        found = out[invoice_id]
        found[0] += 1
        found[1] += price
        found[2] += sur
        found[3] += _terms((c, u, _day_number(d), _code(_STATES, st), price, sur, 1 if pai else 0), _DAY_F)
    return out


def lines_content(values: list[tuple]) -> dict[int, list[int]]:
    """invoice -> [count, hash] of invoice-line rows (`drafts._LINE_COLUMNS` order)."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for invoice_id, position, child_id, _name, unit_id, kind, label, dates, qty, unit_cents, amount in values:
        found = out[invoice_id]
        found[0] += 1
        found[1] += _terms((position, child_id or 0, unit_id or 0, _code(_KINDS, kind), qty, unit_cents, amount,
                            len(label), len(dates)), _LINE_F)
    return out


def content(days: list[int] | None, lines: list[int] | None) -> str:
    days, lines = days or (0, 0, 0, 0), lines or (0, 0)
    return ",".join(str(int(x)) for x in (*days, *lines))


def _sql_terms(columns, factors):
    # One remainder per row: the products stay below 2^58 (ids and days below 2^26, factors 2^31).
    total = None
    for column, f in zip(columns, factors):
        term = cast(column, BigInteger) * f
        total = term if total is None else total + term
    return total % _P


def content_of_drafts(connection: Connection, month: date) -> dict[int, str]:
    """draft id -> `content` of its rows as they are in the database now (two grouped reads)."""
    drafts = select(Invoice.id).where(Invoice.month == month, Invoice.status == InvoiceStatus.DRAFT)
    if connection.dialect.name == "postgresql":
        day_number = (extract("year", BilledDay.day) * 10000 + extract("month", BilledDay.day) * 100
                      + extract("day", BilledDay.day))
    else:
        day_number = func.replace(BilledDay.day, "-", "")
    state = case(*[(BilledDay.state == k, v) for k, v in _STATES.items()], else_=func.length(BilledDay.state) + 10)
    kind = case(*[(InvoiceLine.kind == k, v) for k, v in _KINDS.items()], else_=func.length(InvoiceLine.kind) + 10)
    days = {}
    for invoice_id, n, price, sur, digest in connection.execute(
            select(BilledDay.invoice_id, func.count(), func.sum(BilledDay.price_cents),
                   func.sum(BilledDay.surcharge_cents),
                   func.sum(_sql_terms((BilledDay.child_id, BilledDay.unit_id, cast(day_number, Integer), state,
                                        BilledDay.price_cents, BilledDay.surcharge_cents,
                                        case((BilledDay.pai.is_(True), 1), else_=0)), _DAY_F)))
            .where(BilledDay.invoice_id.in_(drafts)).group_by(BilledDay.invoice_id)):
        days[invoice_id] = [n, price, sur, digest]
    lines = {}
    for invoice_id, n, digest in connection.execute(
            select(InvoiceLine.invoice_id, func.count(),
                   func.sum(_sql_terms((InvoiceLine.position, func.coalesce(InvoiceLine.child_id, 0),
                                        func.coalesce(InvoiceLine.unit_id, 0), kind, InvoiceLine.quantity,
                                        InvoiceLine.unit_price_cents, InvoiceLine.amount_cents,
                                        func.length(InvoiceLine.label), func.length(InvoiceLine.dates)), _LINE_F)))
            .where(InvoiceLine.invoice_id.in_(drafts)).group_by(InvoiceLine.invoice_id)):
        lines[invoice_id] = [n, digest]
    return {i: content(days.get(i), lines.get(i)) for i in days.keys() | lines.keys()}


def billed_totals(content_text: str) -> tuple[int, int, int]:
    """(count, prices, surcharges) of a draft's billed days, from its `content`."""
    n, price, sur, *_ = (int(x) for x in content_text.split(","))
    return n, price, sur


def inputs_key(common: bytes, *parts) -> str:
    digest = hashlib.sha256(common)
    digest.update(repr(parts).encode())
    return digest.hexdigest()[:40]


def split(key: str | None) -> tuple[str | None, str | None]:
    if not key or "|" not in key:
        return None, None
    inputs, rows = key.split("|", 1)
    return inputs, rows
