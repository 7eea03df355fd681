"""What a month's draft was built from and what it holds, so that preparing again skips it.

A family's draft depends on its children's cells and marks of the month, its children (family,
name, birth date, PAI), its address, quotients, first guardian, mandate and pending
cancellations, its regularisation lines, and on what every draft depends on (tariffs, brackets,
units and activities, the attendance settings: `checked_months.Fingerprints.shared`, and the
billing code itself, `code_digest`). `inputs_key` hashes all of it from the rows prepare has
already read: a quotient entered for one family rebuilds that family's draft only.

A draft's key (`invoice.draft_key`) is that inputs key and the sums of its rows as the database
holds them once written (billed days and lines: count, prices, surcharges, and per-row hashes
summed, `content_of_drafts`; when written, the same sums from the values written,
`content_of_rows`; the billed days' by the one function `draft_days.sums`). Preparing again
skips a family whose inputs key is unchanged and whose rows still sum as written: a row edited or
deleted by hand since shows, and the family is rebuilt. Everything else is built as before; the
skip only spares rebuilding what would come out the same.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.engine import Connection

from gandrange_desk.models import Invoice, InvoiceLine, InvoiceStatus
from gandrange_desk.services.billing import draft_days

_P = 2_147_483_647
_LINE_F = (1_103_515_245, 69_069, 40_503, 2_654_435_761 % _P, 1_664_525, 22_695_477, 134_775_813,
           214_013, 16_807)
_CHUNK = 500
_KINDS = {"normal": 1, "surcharge": 2, "regularisation": 3}


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


def content_of_drafts(connection: Connection, month: date, ids: list[int] | None = None) -> dict[int, str]:
    """draft id -> `content` of its rows as they are in the database now: the month's drafts, or
    those of `ids`. Its billed days are read back as they are stored (`draft_days`, ~25,000
    compact rows a month at 8,000 families) and summed by the one function that sums them when
    written; its lines are summed in SQL."""
    if ids is not None and len(ids) > _CHUNK:
        out: dict[int, str] = {}
        for start in range(0, len(ids), _CHUNK):
            out.update(content_of_drafts(connection, month, ids[start:start + _CHUNK]))
        return out
    drafts = (select(Invoice.id).where(Invoice.month == month, Invoice.status == InvoiceStatus.DRAFT)
              if ids is None else ids)
    found = draft_days.read_month(connection, month) if ids is None else draft_days.read(connection, ids)
    days = {invoice_id: draft_days.sums(rows) for invoice_id, rows in found.items()}
    kind = case(*[(InvoiceLine.kind == k, v) for k, v in _KINDS.items()], else_=func.length(InvoiceLine.kind) + 10)
    lines = {}
    for invoice_id, n, digest in connection.execute(
            select(InvoiceLine.invoice_id, func.count(),
                   func.sum(_sql_terms((InvoiceLine.position, func.coalesce(InvoiceLine.child_id, 0),
                                        func.coalesce(InvoiceLine.unit_id, 0), kind, InvoiceLine.quantity,
                                        InvoiceLine.unit_price_cents, InvoiceLine.amount_cents,
                                        func.length(InvoiceLine.label), func.length(InvoiceLine.dates)), _LINE_F)))
            .where(InvoiceLine.invoice_id.in_(drafts)).group_by(InvoiceLine.invoice_id)):
        lines[invoice_id] = [n, digest]
    return {i: content(days.get(i), lines.get(i)) for i in (days.keys() | lines.keys() if ids is None else ids)}


def _truncated_mod(value: int) -> int:
    # SQL's `%` keeps the dividend's sign (SQLite and PostgreSQL alike); Python's follows the divisor.
    return value % _P if value >= 0 else -(-value % _P)


def content_of_rows(day_rows, lines) -> str:
    """`content` of a draft's rows from the values written: its billed days as compact rows
    (`draft_days.compact`) and its lines (`drafts._line` dicts, in position order). The same
    sums, term for term, as `content_of_drafts` reads back once they are in the database
    (written as given: `rows.replace_rows`), without reading them back."""
    line_digest = 0
    g0, g1, g2, g3, g4, g5, g6, g7, g8 = _LINE_F  # written out: a generator per line cost 0.05 s
    for position, line in enumerate(lines):
        kind = _KINDS.get(line["kind"])
        value = (position * g0 + (line["child_id"] or 0) * g1 + (line["unit_id"] or 0) * g2
                 + (len(line["kind"]) + 10 if kind is None else kind) * g3 + line["quantity"] * g4
                 + line["unit_price_cents"] * g5 + line["amount_cents"] * g6 + len(line["label"]) * g7
                 + len(line["dates"]) * g8)
        line_digest += value % _P if value >= 0 else _truncated_mod(value)
    return content(draft_days.sums(day_rows), (len(lines), line_digest))




def billed_totals(content_text: str) -> tuple[int, int, int]:
    """(count, prices, surcharges) of a draft's billed days, from its `content`."""
    n, price, sur, *_ = (int(x) for x in content_text.split(","))
    return n, price, sur


def inputs_key(common: bytes, *parts) -> str:
    digest = hashlib.sha256(common)
    digest.update(code_digest())
    digest.update(repr(parts).encode())
    return digest.hexdigest()[:40]


_CODE: list[bytes] = []
# The code that makes a draft from its inputs: another version of it (new words, a rule
# changed) builds every draft again.
_MODULES = ("gandrange_desk.services.billing.drafts", "gandrange_desk.services.billing.invoicing",
            "gandrange_desk.services.billing.regularisation", "gandrange_desk.services.billing.tariffs",
            "gandrange_desk.services.billing.draft_keys",
            "gandrange_desk.services.billing.draft_days", "gandrange_desk.services.attendance.rules",
            "gandrange_desk.formats")


def code_digest() -> bytes:
    if not _CODE:
        import importlib
        from pathlib import Path

        import gandrange_desk

        digest = hashlib.sha256(gandrange_desk.__version__.encode())
        for name in _MODULES:
            try:
                digest.update(Path(importlib.import_module(name).__file__).read_bytes())
            except (OSError, TypeError):  # no source beside the code (a frozen build): its version says it
                digest.update(name.encode())
        _CODE.append(digest.digest())
    return _CODE[0]


def split(key: str | None) -> tuple[str | None, str | None]:
    if not key or "|" not in key:
        return None, None
    inputs, rows = key.split("|", 1)
    return inputs, rows
