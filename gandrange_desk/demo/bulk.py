"""Bulk INSERT straight through the driver, for generated data (the demo, benchmarks).

SQLAlchemy's executemany processes every parameter of every row in Python; for a few hundred
thousand rows that costs more than the database itself. Here rows go to SQLite's executemany
with values already in SQLAlchemy's storage format, and to PostgreSQL through COPY.
Only for trusted, already valid rows: nothing is checked.
"""

from __future__ import annotations

from datetime import timezone
from enum import Enum
from typing import Sequence

from sqlalchemy import Date, DateTime, String, Table

from gandrange_desk.models.base import AwareDateTime


def _sqlite_instant(value):
    # Same text format as SQLAlchemy's SQLite DateTime; instants are stored as naive UTC.
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_day(value):
    return None if value is None else value.isoformat()


def _plain(value):
    # psycopg dumps an Enum member by its name; the columns hold its value.
    return value.value if isinstance(value, Enum) else value


def _column(table: Table, name: str, values: list, dialect: str) -> list:
    kind = table.c[name].type
    if dialect == "sqlite" and isinstance(kind, (DateTime, AwareDateTime)):
        cache: dict = {}  # generated rows share few distinct instants; convert each once
        out = []
        for v in values:
            if v not in cache:
                cache[v] = _sqlite_instant(v)
            out.append(cache[v])
        return out
    if dialect == "sqlite" and isinstance(kind, Date):
        return [_sqlite_day(v) for v in values]
    if dialect == "postgresql" and isinstance(kind, String):
        return [_plain(v) for v in values]
    return values


def bulk_insert(connection, table: Table, rows: Sequence[dict]) -> None:
    """Insert `rows` (dicts with the same keys, column names of `table`) in one go."""
    if not rows:
        return
    columns = list(rows[0].keys())
    dialect = connection.dialect.name
    raw = connection.connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    data = list(zip(*(_column(table, c, [row[c] for row in rows], dialect) for c in columns)))
    if dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
        cursor = raw.cursor()
        try:
            cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', data)
        finally:
            cursor.close()
    elif dialect == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for values in data:
                    copy.write_row(values)
    else:  # pragma: no cover - only the two supported backends exist
        connection.execute(table.insert(), list(rows))
