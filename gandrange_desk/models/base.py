"""Declarative base, naming convention, and the column types every aggregate shares."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from gandrange_desk.clock import PARIS
from gandrange_desk.roles import Labelled  # noqa: F401 - declared without SQLAlchemy (see roles)

# Stable constraint names: Alembic batch mode on SQLite needs them to alter tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AwareDateTime(TypeDecorator):
    """Stores UTC, returns Europe/Paris; refuses naive values.

    SQLite has no time zone type, so the offset would otherwise be lost on the way back.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: instants must carry their time zone")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect):
        """`process_bind_param` then the driver's conversion, remembered for the last value.

        A batch writes the same instant on every row (the time of the operation: a 1,000-cell
        rectangle binds it ~3,000 times); an equal aware datetime is the same UTC instant, so
        the converted value is the same. A naive value never equals the aware one remembered
        and still goes through the check. The (value, converted) pair is swapped in one
        assignment: statements are shared between threads."""
        convert = super().bind_processor(dialect)
        if convert is None:  # pragma: no cover - TypeDecorator always converts
            return None
        memo = [(None, None)]

        def process(value):
            if value is None:
                return None
            last, converted = memo[0]
            if last is not None and value == last:
                return converted
            converted = convert(value)
            memo[0] = (value, converted)
            return converted

        return process

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(PARIS)


class Versioned:
    """Optimistic locking for aggregates a person edits.

    A stale save raises StaleDataError; services turn it into a French refusal naming
    `updated_by` and `updated_at` of the row that won.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}


def money_str(cents: int) -> str:
    """Plain decimal for files (TOML, CSV): 415 -> '4.15'."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"
