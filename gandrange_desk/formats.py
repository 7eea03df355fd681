"""French formats for everything a person reads: money, dates, plurals (babel, fr_FR)."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from gandrange_desk.clock import PARIS

LOCALE = "fr_FR"


def euros(cents: int) -> str:
    """1234567 -> '12 345,67 €' (narrow no-break spaces, as babel writes French)."""
    # Integer arithmetic up to the last step: money is never a float in this program.
    from decimal import Decimal

    return format_currency(Decimal(cents) / 100, "EUR", locale=LOCALE)


def amount(cents: int) -> str:
    """Without the currency sign: '4,15'."""
    from decimal import Decimal

    return format_decimal(Decimal(cents) / 100, format="#,##0.00", locale=LOCALE)


def ddmm(day: date) -> str:
    return day.strftime("%d/%m")


def ddmmyyyy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def long_date(day: date) -> str:
    """'jeudi 26 novembre 2026'."""
    return format_date(day, format="full", locale=LOCALE)


def month_year(day: date) -> str:
    """'novembre 2026'."""
    return format_date(day, format="LLLL yyyy", locale=LOCALE)


def short_month_year(day: date) -> str:
    """'nov. 2026', for chart axes."""
    return format_date(day, format="LLL yyyy", locale=LOCALE)


def de(word: str) -> str:
    """'de facturée', "d'excusée": French elides « de » before a vowel or a mute h."""
    return f"d'{word}" if word[:1].lower() in "aeiouyéèêàâîôûh" else f"de {word}"


def of_month(day: date) -> str:
    """'de novembre 2026', "d'octobre 2026" (avril, août, octobre)."""
    return de(month_year(day))


def instant(value: datetime) -> str:
    """'26/11/2026 à 09:12' in Paris time."""
    return format_datetime(value.astimezone(PARIS), "dd/MM/yyyy 'à' HH:mm", locale=LOCALE)


def hhmm(value: datetime) -> str:
    """'10:43' in Paris time."""
    return value.astimezone(PARIS).strftime("%H:%M")


def plural(count: int, singular: str, plural_form: str) -> str:
    # French: 0 and 1 take the singular.
    return singular if abs(count) < 2 else plural_form


def count(n: int, singular: str, plural_form: str) -> str:
    """'1 réservation', '2 réservations'."""
    return f"{n} {plural(n, singular, plural_form)}"


WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WEEKDAYS_SHORT_FR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
