"""A list to export: its columns declared once (French header, type) and its typed rows.

Every list the desk exports (families, grid, queue, invoices, payments, unpaid, attendance, the
day's lists, the CAF report) is built as one or more `Table`s; `writer` turns them into XLSX
(typed cells, euro and date formats, frozen header, filters, a total row) or CSV (UTF-8 with
BOM, `;`, French decimals) without knowing which list it is.

Values are Python's own types: str, int, `Money` columns hold integer cents, `Hours` Decimal,
dates `date` (a `MONTH` column: the month's first day), instants aware `datetime` (written in Paris time), booleans `bool`; None is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

TEXT, INT, MONEY, HOURS, DATE, MONTH, DATETIME, BOOL = (
    "text", "int", "money", "hours", "date", "month", "datetime", "bool")
NUMERIC = (INT, MONEY, HOURS)


@dataclass(frozen=True)
class Column:
    header: str  # French, as the desk's own list says it
    kind: str = TEXT
    width: float | None = None  # in characters; None: from the header and the first rows
    total: bool = False  # summed on the total row


@dataclass
class Table:
    name: str  # the sheet's name (31 characters at most)
    title: str  # the document's title: "Familles au 04/12/2026"
    columns: Sequence[Column]
    rows: list[tuple] = field(default_factory=list)
    # Labelled rows after the data in XLSX only (the grid's places used and capacity): (label, values…).
    footer: list[tuple] = field(default_factory=list)
    freeze_columns: int = 0  # columns kept in view when scrolling right (the grid's names)
    total_label: str = "Total"

    @property
    def has_totals(self) -> bool:
        return any(c.total for c in self.columns)

    def totals(self) -> list[int | Decimal | None]:
        """Per column: the exact sum of a total column (cents for money), None for the others."""
        out: list[int | Decimal | None] = []
        for i, column in enumerate(self.columns):
            if not column.total:
                out.append(None)
                continue
            zero = Decimal(0) if column.kind == HOURS else 0
            out.append(sum((row[i] for row in self.rows if row[i] is not None), zero))
        return out


def sheet_name(text: str) -> str:
    """Excel refuses []:*?/\\ in a sheet name and more than 31 characters."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip()
    return (cleaned or "Liste")[:31]
