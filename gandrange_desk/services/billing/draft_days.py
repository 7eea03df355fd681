"""A draft's billed days, written compactly (`draft_day`), and made one per row when issued.

A draft records what it will bill per child, unit and day (`regularisation.Record`); prepare
proves them against the month's truth in memory (`regularisation.prove_draft`). Written one per
row, a month's first prepare at 8,000 families inserted 171,812 rows (a fifth of its time);
grouped by child, unit, month, state, price, surcharge and PAI with the days as a bit mask, the
same days are ~25,000 rows. Nothing reads a draft's days one by one before it is issued: the
draft's key and the proof's totals use their sums (`sums`), the issue's stale check the few days
of earlier months. Issuing a month writes its days one per row into `billed_day` (`issue`),
which the comparison of invoiced months reads exactly as before, and drops the compact rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from gandrange_desk.models import InvoiceStatus

# As the columns of `draft_day` (but its id), in the driver's order.
COLUMNS = ("invoice_id", "family_id", "child_id", "unit_id", "month", "days", "state", "price_cents",
           "surcharge_cents", "pai")
_BILLED_DAY = ("invoice_id", "family_id", "child_id", "unit_id", "day", "state", "price_cents", "surcharge_cents",
               "pai", "current")
_P = 2_147_483_647
_F = (1_103_515_245, 69_069, 40_503, 2_654_435_761 % _P, 1_664_525, 22_695_477, 134_775_813, 214_013)
_STATES = {"R": 1, "AF": 2, "SR": 3, "": 4}
_CHUNK = 900


class _DayInfo(dict):
    """day -> (its month's first day, its bit), made once per day."""

    def __missing__(self, day: date):
        found = self[day] = (day.replace(day=1), 1 << day.day)
        return found


DAY_INFO = _DayInfo()


def compact(records) -> list[tuple]:
    """A draft's records (family, child, unit, day, state, price, surcharge, PAI) as compact rows
    (family, child, unit, month, days, state, price, surcharge, PAI), in the order first met. A
    cell met twice in one group (no draft is built so) goes to a row of its own: nothing is lost."""
    info = DAY_INFO
    masks: dict[tuple, int] = {}
    again = []
    for f, c, u, d, st, p, sur, pai in records:
        m, bit = info[d]
        key = (f, c, u, m, st, p, sur, bool(pai))
        mask = masks.get(key, 0)
        if mask & bit:
            again.append((f, c, u, d, st, p, sur, pai))
        else:
            masks[key] = mask | bit
    rows = [(f, c, u, m, days, st, p, sur, pai) for (f, c, u, m, st, p, sur, pai), days in masks.items()]
    return rows + compact(again) if again else rows


def values(dialect_name: str, invoice_id: int, rows) -> list[tuple]:
    """Compact rows as the driver stores and reads them back (SQLite: ISO months, 0/1 flags)."""
    if dialect_name == "sqlite":
        return [(invoice_id, f, c, u, m.isoformat(), days, st, p, sur, 1 if pai else 0)
                for f, c, u, m, days, st, p, sur, pai in rows]
    return [(invoice_id, f, c, u, m, days, st, p, sur, bool(pai)) for f, c, u, m, days, st, p, sur, pai in rows]


class _MonthNumbers(dict):
    """A month as the driver gives it (a date, or SQLite's ISO text) -> year * 100 + month."""

    def __missing__(self, month) -> int:
        text = month if isinstance(month, str) else month.isoformat()
        found = self[month] = int(text[:4]) * 100 + int(text[5:7])
        return found


_MONTHS = _MonthNumbers()


def sums(rows) -> tuple[int, int, int, int]:
    """(days, their prices, their surcharges, a hash of the rows) of compact rows, as made
    (`compact`) or read back (`read`): the draft's key and the proof's totals (`draft_keys`)."""
    f0, f1, f2, f3, f4, f5, f6, f7 = _F
    months, states = _MONTHS, _STATES
    n = price = sur = digest = 0
    for _f, c, u, m, days, st, p, extra, pai in rows:
        count = days.bit_count()
        code = states.get(st)
        n += count
        price += p * count
        sur += extra * count
        digest += (c * f0 + u * f1 + months[m] * f2 + (len(st) + 10 if code is None else code) * f3 + p * f4
                   + extra * f5 + (f6 if pai else 0) + days * f7) % _P
    return n, price, sur, digest


def _cursor_rows(connection, sql: str, params: tuple) -> list[tuple]:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.dbapi_connection.cursor()  # plain tuples: no Row per row
    try:
        cursor.execute(sql.replace("?", mark), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def read(connection, invoice_ids: list[int]) -> dict[int, list[tuple]]:
    """invoice -> its compact rows (family, child, unit, month, days, state, price, surcharge, PAI)
    as the database holds them now."""
    out: dict[int, list[tuple]] = defaultdict(list)
    for start in range(0, len(invoice_ids), _CHUNK):
        chunk = tuple(invoice_ids[start:start + _CHUNK])
        for row in _cursor_rows(connection, f"SELECT {', '.join(COLUMNS)} FROM draft_day "
                                            f"WHERE invoice_id IN ({', '.join('?' * len(chunk))})", chunk):
            out[row[0]].append(row[1:])
    return out


def read_month(connection, month: date, status: str = InvoiceStatus.DRAFT.value) -> dict[int, list[tuple]]:
    """invoice -> its compact rows, for `month`'s invoices of `status`, in one read."""
    out: dict[int, list[tuple]] = defaultdict(list)
    month_value = month.isoformat() if connection.dialect.name == "sqlite" else month
    for row in _cursor_rows(connection, f"SELECT {', '.join(COLUMNS)} FROM draft_day WHERE invoice_id IN "
                                        "(SELECT id FROM invoice WHERE month = ? AND status = ?)",
                            (month_value, status)):
        out[row[0]].append(row[1:])
    return out


def _first_day(month) -> date:
    return date.fromisoformat(month[:10]) if isinstance(month, str) else month


def expand(rows) -> list[tuple]:
    """Compact rows -> one record per day (family, child, unit, day, state, price, surcharge, PAI)."""
    out = []
    for f, c, u, m, days, st, p, sur, pai in rows:
        first = _first_day(m)
        rest = days
        while rest:
            low = rest & -rest
            rest ^= low
            out.append((f, c, u, first.replace(day=low.bit_length() - 1), st, p, sur, bool(pai)))
    return out


def issue(connection, month: date) -> None:
    """`month`'s invoices just issued: their days written one per row into `billed_day` (not
    current: `regularisation.make_current` makes them so), their compact rows dropped."""
    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    found = read_month(connection, month, InvoiceStatus.ISSUED.value)
    if not found:
        return
    rows = []
    for invoice_id, compact_rows in found.items():
        if sqlite:
            rows += [(invoice_id, f, c, u, d.isoformat(), st, p, sur, 1 if pai else 0, 0)
                     for f, c, u, d, st, p, sur, pai in expand(compact_rows)]
        else:
            rows += [(invoice_id, f, c, u, d, st, p, sur, pai, False)
                     for f, c, u, d, st, p, sur, pai in expand(compact_rows)]
    if rows:
        connection.exec_driver_sql(f"INSERT INTO billed_day ({', '.join(_BILLED_DAY)}) "
                                   f"VALUES ({', '.join([mark] * len(_BILLED_DAY))})", rows)
    connection.exec_driver_sql(
        f"DELETE FROM draft_day WHERE invoice_id IN (SELECT id FROM invoice WHERE month = {mark} AND status = {mark})",
        (month.isoformat() if sqlite else month, InvoiceStatus.ISSUED.value))


def earlier_cells(connection, invoice_ids: list[int], month: date) -> set[tuple[int, int, date]]:
    """The (child, unit, day) before `month` that the drafts `invoice_ids` bill: their
    regularisations of earlier months, few."""
    month_value = month.isoformat() if connection.dialect.name == "sqlite" else month
    cells: set[tuple[int, int, date]] = set()
    for start in range(0, len(invoice_ids), _CHUNK):
        chunk = tuple(invoice_ids[start:start + _CHUNK])
        rows = _cursor_rows(connection, f"SELECT {', '.join(COLUMNS[1:])} FROM draft_day "
                                        f"WHERE month < ? AND invoice_id IN ({', '.join('?' * len(chunk))})",
                            (month_value, *chunk))
        cells.update((c, u, d) for _f, c, u, d, *_rest in expand(rows))
    return cells
