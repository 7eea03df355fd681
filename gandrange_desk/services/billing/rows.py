"""Rewriting a set of rows by difference (the drafts of a month prepared again).

Every row of `billed_day` or `invoice_line` costs its indexes to write and again to delete; a
re-run over a month that barely moved reads the previous rows (a tenth of that) and deletes and
inserts only those that differ. The table ends as a full replacement would leave it, row ids aside.
"""

from __future__ import annotations

from collections import defaultdict


def replace_rows(connection, table: str, columns: tuple[str, ...], values: list[tuple], old_where: str,
                 old_params: tuple) -> None:
    """`table`'s rows matching `old_where` become `values` (tuples in `columns` order, as the
    driver stores and gives them back: a row that reads back otherwise is rewritten, never
    kept wrong). `old_where` uses `?`; it is rewritten for `%s` drivers."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    if old_where:
        cursor = connection.connection.dbapi_connection.cursor()  # plain tuples: no Row per row
        try:
            cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table} WHERE {old_where.replace('?', mark)}",
                           old_params)
            old = cursor.fetchall()
        finally:
            cursor.close()
        spare: dict[tuple, list[int]] = defaultdict(list)
        for row in old:
            spare[row[1:]].append(row[0])
        fresh = []
        for value in values:
            ids = spare.get(value)
            if ids:
                ids.pop()
            else:
                fresh.append(value)
        stale = [(i,) for ids in spare.values() for i in ids]
        if stale:
            connection.exec_driver_sql(f"DELETE FROM {table} WHERE id = {mark}", stale)
        values = fresh
    if values:
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})", values)
