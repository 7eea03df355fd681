"""The settings' sane bounds, beyond their types: identities checked as a bank or INSEE would
(IBAN, BIC, SIRET), text lengths the columns hold, prices and capacities no structure has, and
closures near the school year. Every check goes through the one validation layer."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from gandrange_desk.models import Structure
from gandrange_desk.services import validation as v

if TYPE_CHECKING:  # the problems list is toml's, which imports this module
    from gandrange_desk.services.settings.toml import Problems

MAX_PRICE_CENTS = 100_000  # 1 000 € for one act: far above any day's price, far below an overflow
MAX_CAPACITY = 10_000
MAX_CLOSURE_DAYS = 366
_ICS = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{3}[A-Z0-9]{1,28}")


def text_limit(key: str) -> int:
    return v.limit(getattr(Structure, key))


def check_structure_identities(table: dict, structure: dict, problems) -> None:
    """Check (and write back in their usual form) the structure's identities the file gives."""
    checks = {"siret": v.siret, "sepa_iban": v.iban, "sepa_bic": v.bic, "email": v.email, "phone": v.phone}
    for key, check in checks.items():
        value = structure.get(key)
        if key not in table or not isinstance(value, str) or not value.strip():
            continue
        try:
            structure[key] = check(value)
        except v.Invalid as exc:
            problems.add(f"structure.{key}", exc.reason)
    ics = structure.get("sepa_ics")
    if "sepa_ics" in table and isinstance(ics, str) and ics.strip():
        compact = ics.replace(" ", "").upper()
        if not _ICS.fullmatch(compact):
            problems.add("structure.sepa_ics", f"« {v.shown(ics)} » n'est pas un identifiant créancier SEPA "
                                               "(exemple : FR42ZZZ572427)")
        else:
            structure["sepa_ics"] = compact


def school_year_of(day: date) -> tuple[date, date]:
    start = day.year if day.month >= 9 else day.year - 1
    return date(start, 9, 1), date(start + 1, 8, 31)


def check_closure_window(closures: list, problems, today: date | None = None) -> None:
    """Each closure at most a year long and, when the import's day is known, within the current
    school year give or take one: a year typed 2062 for 2026 is a mistake, not a plan."""
    if today is not None:
        first, last = school_year_of(today)
        first, last = first.replace(year=first.year - 1), last.replace(year=last.year + 1)
    else:
        first, last = v.EARLIEST, v.LATEST
    for i, (start, end, _label) in enumerate(closures):
        where = f"structure.closures[{i}]"
        if (end - start).days + 1 > MAX_CLOSURE_DAYS:
            problems.add(where, f"fermeture de {(end - start).days + 1} jours (au plus {MAX_CLOSURE_DAYS})")
        elif start < first or end > last:
            problems.add(where, f"fermeture du {start:%d/%m/%Y} au {end:%d/%m/%Y} hors de la période admise "
                                f"(du {first:%d/%m/%Y} au {last:%d/%m/%Y}, l'année scolaire à un an près)")


def _show(value) -> str:
    return f"« {v.shown(value, 60)} »"


def parse_price(value, place: str, problems: Problems) -> int | None:
    """"3.10" -> 310 cents, exactly (Decimal, never float arithmetic)."""
    if isinstance(value, bool):
        amount = None
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            amount = None
    else:
        amount = None
    if amount is None or not amount.is_finite():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            problems.add(place, f"prix négatif {_show(value)}")
        else:
            problems.add(place, f"prix invalide {_show(value)} (attendu par exemple \"3.10\")")
        return None
    if amount < 0:
        problems.add(place, f"prix négatif {_show(value)}")
        return None
    cents = amount * 100
    if cents > MAX_PRICE_CENTS:
        problems.add(place, f"prix {_show(value)} trop élevé (au plus {MAX_PRICE_CENTS // 100} €)")
        return None
    if cents != cents.to_integral_value():
        problems.add(place, f"prix invalide {_show(value)} : au plus deux décimales")
        return None
    return int(cents)
