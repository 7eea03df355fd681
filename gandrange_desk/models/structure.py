"""The organiser, its schools, closures, SMTP settings and numbering counters."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Versioned


class Structure(Versioned, Base):
    """Single row: the structure that organises care (legal details, portal, calendar zone)."""

    __tablename__ = "structure"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    siret: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    portal_url: Mapped[str] = mapped_column(String(300), default="")
    school_zone: Mapped[str] = mapped_column(String(4), default="B")
    holiday_subdivision: Mapped[str] = mapped_column(String(8), default="57")
    issuer_name: Mapped[str] = mapped_column(String(200), default="")
    issuer_role: Mapped[str] = mapped_column(String(200), default="")
    # SEPA creditor identifier and the creditor account for direct debits.
    sepa_ics: Mapped[str] = mapped_column(String(40), default="")
    sepa_iban: Mapped[str] = mapped_column(String(40), default="")
    sepa_bic: Mapped[str] = mapped_column(String(16), default="")
    collection_day: Mapped[int] = mapped_column(Integer, default=10)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    # SEPA pre-notification: calendar days between the notice (the invoice) and the debit. The
    # rulebook's default is 14; a shorter delay only when the mandates say so.
    prenotification_days: Mapped[int] = mapped_column(Integer, default=14)
    appeal_text: Mapped[str] = mapped_column(Text, default="")


class School(Base):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Closure(Base):
    """Days the structure is closed, first and last day inclusive."""

    __tablename__ = "closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200), default="Fermeture")


class SchoolHoliday(Base):
    """School holidays of the structure's zone entered by the clerk (or imported from the
    ministry's calendar) for the school years the `vacances-scolaires-france` data does not cover.
    First and last day inclusive."""

    __tablename__ = "school_holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200), default="Vacances scolaires")


class SmtpSettings(Versioned, Base):
    """Single row. The password is never here: keyring or GANDRANGE_DESK_SMTP_PASSWORD."""

    __tablename__ = "smtp_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(200), default="")
    port: Mapped[int] = mapped_column(Integer, default=587)
    security: Mapped[str] = mapped_column(String(16), default="starttls")
    user: Mapped[str] = mapped_column(String(200), default="")
    sender: Mapped[str] = mapped_column(String(300), default="")
    reply_to: Mapped[str] = mapped_column(String(300), default="")


class NumberSequence(Base):
    """Gap-free counters (invoices, credit notes) per year, locked in the issuing transaction."""

    __tablename__ = "number_sequence"
    __table_args__ = (UniqueConstraint("name", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class AppSetting(Base):
    """Small typed-by-convention key/value settings that do not deserve a column."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


__all__ = ["Structure", "School", "Closure", "SmtpSettings", "NumberSequence", "AppSetting"]
