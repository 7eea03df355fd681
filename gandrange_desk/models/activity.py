"""Activities (PÉRISCOLAIRE, MERCREDI, VACANCES), their units and tariffs."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Versioned, Labelled


class Opens(Labelled):
    # The words of the Réglages page's "Ouverture" choice.
    SCHOOL_DAYS = "school_days", "Les jours d'école"
    WEDNESDAYS = "wednesdays", "Les mercredis"
    HOLIDAY_WEEKDAYS = "holiday_weekdays", "Les jours de vacances scolaires"


WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Activity(Versioned, Base):
    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    opens: Mapped[str] = mapped_column(String(20), default=Opens.SCHOOL_DAYS)
    # Comma-separated weekday codes ("mon,tue,thu,fri"), in WEEKDAY_CODES order.
    weekdays: Mapped[str] = mapped_column(String(40), default="mon,tue,thu,fri")
    booking_deadline_days: Mapped[int] = mapped_column(Integer, default=0)
    booking_deadline_time: Mapped[str] = mapped_column(String(5), default="00:00")
    cancellation_deadline_days: Mapped[int] = mapped_column(Integer, default=0)
    cancellation_deadline_time: Mapped[str] = mapped_column(String(5), default="00:00")
    position: Mapped[int] = mapped_column(Integer, default=0)

    units: Mapped[list["Unit"]] = relationship(
        back_populates="activity", order_by="Unit.position", cascade="all, delete-orphan"
    )

    @property
    def weekday_numbers(self) -> set[int]:
        return {WEEKDAY_CODES.index(code) for code in self.weekdays.split(",") if code}


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("activity_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    meal: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    activity: Mapped[Activity] = relationship(back_populates="units")
    tariffs: Mapped[list["Tariff"]] = relationship(
        back_populates="unit", order_by="Tariff.valid_from", cascade="all, delete-orphan"
    )


class Tariff(Versioned, Base):
    """The prices of one unit in force from `valid_from` until the next tariff of that unit."""

    __tablename__ = "tariff"
    __table_args__ = (UniqueConstraint("unit_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    valid_from: Mapped[date] = mapped_column(Date)
    pai_price_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    late_surcharge_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)

    unit: Mapped[Unit] = relationship(back_populates="tariffs")
    brackets: Mapped[list["TariffBracket"]] = relationship(
        back_populates="tariff", cascade="all, delete-orphan",
        order_by="(TariffBracket.sibling_rank, TariffBracket.position)",
    )


class TariffBracket(Base):
    """One price: quotient up to `qf_max` (None = top bracket), for a sibling rank (1 = first child)."""

    __tablename__ = "tariff_bracket"

    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariff.id", ondelete="CASCADE"))
    qf_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    price_cents: Mapped[int] = mapped_column(Integer)
    sibling_rank: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)

    tariff: Mapped[Tariff] = relationship(back_populates="brackets")
