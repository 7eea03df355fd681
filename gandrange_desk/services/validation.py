"""The one validation layer for every text that enters the desk (DESIGN §7, §8).

The portal feed, family changes, the family file's forms, the settings file and command
arguments all clean their input here, so a value is refused for the same reason, in the same
words, whichever door it came through, and before the database sees it: SQLite would store a
NUL and cut the family out of search, PostgreSQL would refuse the whole transaction.

Each check returns the clean value or raises `Invalid` with a French fragment ("caractère de
contrôle interdit (position 3)"); the caller names the field and the feed entry around it.
No Qt, no session.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from sqlalchemy.orm import InstrumentedAttribute


class Invalid(ValueError):
    """A value refused at the boundary; `reason` is a French fragment without the field's name."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def limit(column: InstrumentedAttribute) -> int:
    """The length a String column holds, so a check can never let through what the base refuses."""
    length = getattr(column.property.columns[0].type, "length", None)
    return length or TEXT_LIMIT


TEXT_LIMIT = 10_000  # Text columns: a note, an allergy list, the appeal text


# ------------------------------------------------------------------------------- text


def _bad_character(ch: str, multiline: bool) -> str | None:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return "caractère invalide (moitié de paire UTF-16 isolée)"
    if ch in "\n\t" and multiline:
        return None
    if ch == "\r" and multiline:
        return None
    category = unicodedata.category(ch)
    if category == "Cc" or ch in "\u2028\u2029" or code in (0xFFFE, 0xFFFF):
        return "caractère de contrôle interdit" + (" (NUL)" if code == 0 else "")
    return None


# Everything below U+0020, DEL, C1 controls, surrogates, line/paragraph separators, non-characters:
# one regex search finds the first suspect so a clean value (nearly all of them) costs one scan.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def suspect(value: str) -> bool:
    """Whether a text holds a character `text` would look at twice (control, surrogate…)."""
    return _SUSPECT.search(value) is not None


def text(value, *, max_len: int, required: bool = False, multiline: bool = False,
         strip: bool = True) -> str:
    """A clean text: no control character (line breaks and tabs only when `multiline`), no lone
    surrogate, NFC, at most `max_len` characters; empty is "" unless `required`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"doit être un texte, pas {type_fr(value)}")
    match = _SUSPECT.search(value)
    while match is not None:
        reason = _bad_character(match.group(), multiline)
        if reason:
            raise Invalid(f"{reason} (position {match.start() + 1})")
        match = _SUSPECT.search(value, match.end())
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if strip:
        value = value.strip()
    if not value and required:
        raise Invalid("ne doit pas être vide")
    if len(value) > max_len:
        raise Invalid(f"trop long ({len(value)} caractères, au plus {max_len})")
    return value


def line(value, *, max_len: int, required: bool = False) -> str:
    """One line of text with its inner runs of spaces folded, as a form field keeps it."""
    clean = text(value, max_len=max(max_len * 4, 400), required=required)
    clean = " ".join(clean.split())
    if len(clean) > max_len:
        raise Invalid(f"trop long ({len(clean)} caractères, au plus {max_len})")
    return clean


def shown(value, n: int = 40) -> str:
    """A value safe to quote in a message, whatever came in: controls and lone surrogates become
    '�' (printing a lone surrogate would itself raise), long values end with '…'."""
    if not isinstance(value, str):
        value = repr(value)
    value = "".join("\ufffd" if _bad_character(c, False) else c for c in value[: n + 1]) \
        if _SUSPECT.search(value[: n + 1]) else value
    return value if len(value) <= n else value[:n] + "…"


def type_fr(value) -> str:
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, (int, float)):
        return "un nombre"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, dict):
        return "un objet"
    if value is None:
        return "null"
    return "un texte"


# ------------------------------------------------------------------------ identities


def email(value, *, max_len: int = 200) -> str:
    """An e-mail address checked by email-validator (syntax only, no DNS lookup); "" when empty."""
    clean = text(value, max_len=max_len)
    if not clean:
        return ""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(clean, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid(f"« {shown(clean)} » n'est pas une adresse e-mail valide "
                      "(exemple : prenom.nom@exemple.fr)") from None


def phone(value) -> str:
    """A telephone number, French by default: '0612345678', '+33 6 12…' -> '06 12 34 56 78';
    a foreign one is kept in international form ('+352 621 123 456'); "" when empty."""
    clean = text(value, max_len=40)
    if not clean:
        return ""
    formatted = _phone(clean)
    if formatted is None:
        raise Invalid(f"« {shown(clean)} » n'est pas un numéro de téléphone valide "
                      "(10 chiffres, exemple : 03 87 67 17 79, ou +352… pour l'étranger)")
    return formatted


def _phone(raw: str) -> str | None:
    import phonenumbers

    if re.search(r"[^\d\s.\-/()+]", raw):
        return None
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == 33:
        # French numbers: the plan's shape only (0 then 9 digits). phonenumbers' allocation
        # tables lag behind the operators', and refusing a family's new mobile is worse than
        # accepting a number not yet allocated.
        national = str(number.national_number)
        if number.italian_leading_zero or not re.fullmatch(r"[1-9]\d{8}", national):
            return None
        digits = "0" + national
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def french_phone(raw) -> str | None:
    """Only a French number, as '03 87 67 17 79'; None otherwise (the appointments' visitor)."""
    try:
        clean = text(raw, max_len=40)
    except Invalid:
        return None
    formatted = _phone(clean) if clean else None
    return formatted if formatted and formatted[0] == "0" else None


# Postcodes: two digits of a département (01-95, 20 for Corsica) or 97/98 overseas, then three.
_POSTCODE = re.compile(r"(?:0[1-9]|[1-8]\d|9[0-5]|97|98)\d{3}")


def postcode(value) -> str:
    clean = text(value, max_len=10).replace(" ", "")
    if clean and not _POSTCODE.fullmatch(clean):
        raise Invalid(f"« {shown(clean)} » n'est pas un code postal français "
                      "(5 chiffres, exemple : 57175)")
    return clean


def siret(value) -> str:
    """14 digits whose Luhn sum is a multiple of 10 (La Poste's own SIRETs excepted by INSEE)."""
    clean = text(value, max_len=20).replace(" ", "")
    if not clean:
        return ""
    if not re.fullmatch(r"\d{14}", clean):
        raise Invalid(f"« {shown(clean)} » n'est pas un SIRET (14 chiffres)")
    if not _luhn(clean) and not (clean.startswith("356000000") and sum(map(int, clean)) % 5 == 0):
        raise Invalid(f"« {clean} » n'est pas un SIRET valide (clé de contrôle)")
    return clean


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def iban(value) -> str:
    clean = text(value, max_len=50)
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(clean).compact
    except SchwiftyException:
        raise Invalid(f"« {shown(clean)} » n'est pas un IBAN valide (pays, longueur ou clé de contrôle)") from None


def bic(value) -> str:
    clean = text(value, max_len=20).replace(" ", "").upper()
    if not clean:
        return ""
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        BIC(clean)
    except SchwiftyException:
        raise Invalid(f"« {shown(clean)} » n'est pas un BIC valide (8 ou 11 caractères)") from None
    return clean


# ----------------------------------------------------------------------------- dates

# The windows a date must fall in: nothing in the desk happens before 2000 or after 2100, a
# child on a school file is under 26, a booking is within two years of today.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
BIRTH_YEARS = 26
BOOKING_YEARS = 2


def iso_day(value) -> date:
    """A date written AAAA-MM-JJ (or already a date)."""
    if isinstance(value, datetime):
        raise Invalid("date attendue sans heure (AAAA-MM-JJ)")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise Invalid(f"doit être une date AAAA-MM-JJ, pas {type_fr(value)}")
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"date invalide « {shown(value)} » (attendu AAAA-MM-JJ)") from None


def within(day: date, first: date, last: date, what: str = "la date") -> date:
    if day < first or day > last:
        raise Invalid(f"{what} {day:%d/%m/%Y} est hors de la période admise "
                      f"(du {first:%d/%m/%Y} au {last:%d/%m/%Y})")
    return day


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def birth_date(value, today: date) -> date:
    day = iso_day(value)
    if day > today:
        raise Invalid(f"date de naissance dans le futur ({day:%d/%m/%Y})")
    return within(day, years_before(today, BIRTH_YEARS), today, "la date de naissance")


def booking_window(today: date) -> tuple[date, date]:
    return years_before(today, BOOKING_YEARS), years_before(today, -BOOKING_YEARS)


def booking_day(value, today: date) -> date:
    first, last = booking_window(today)
    return within(iso_day(value), first, last, "le jour")


def submitted_at(value, now: datetime) -> datetime:
    """An aware ISO instant, not in the future, not older than the booking window."""
    if not isinstance(value, str):
        raise Invalid(f"doit être une date et heure ISO, pas {type_fr(value)}")
    try:
        if len(value) > 40:
            raise ValueError
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"invalide : « {shown(value)} » (attendu 2026-03-11T09:12:00+01:00)") from None
    if instant.tzinfo is None:
        raise Invalid(f"sans fuseau horaire : « {shown(value)} »")
    try:
        from gandrange_desk.clock import to_paris

        instant = to_paris(instant)
    except (OverflowError, ValueError):
        raise Invalid(f"hors de la période admise : « {shown(value)} »") from None
    if instant > now:
        from gandrange_desk.formats import instant as fmt

        raise Invalid(f"est dans le futur ({fmt(instant)})")
    if instant < now - timedelta(days=366 * BOOKING_YEARS):
        raise Invalid(f"trop ancien ({instant:%d/%m/%Y}, au plus {BOOKING_YEARS} ans)")
    return instant


# --------------------------------------------------------------------------- numbers


def whole(value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"nombre entier attendu, pas {type_fr(value)}")
    if value < low or value > high:
        raise Invalid(f"valeur {value} hors limites (entre {low} et {high})")
    return value


def identifier(value: str, what: str = "numéro") -> int:
    """A database id typed on a command line: digits, and small enough for a 64-bit column."""
    raw = str(value).strip()
    if not raw.isdigit() or not raw.isascii() or len(raw) > 18 or int(raw) <= 0:
        raise Invalid(f"{what} invalide : « {shown(raw)} » (un nombre entier positif attendu)")
    return int(raw)


# ------------------------------------------------------------------------------- SEPA

# The SEPA Latin character set banks must accept (EPC guidelines): anything else is transliterated
# (é -> e, ß -> ss, Œ -> OE) or becomes a space, never passed through (XML markup, CR/LF, &).
_SEPA_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
_SEPA_SPECIAL = str.maketrans({"ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o",
                               "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Þ": "TH", "þ": "th", "&": "+",
                               "’": "'", "‘": "'", "«": "'", "»": "'", "–": "-", "—": "-", "_": "-"})


def sepa_latin(value, max_len: int, fallback: str = "") -> str:
    """A name or reference in the SEPA Latin character set, at most `max_len` characters."""
    raw = value if isinstance(value, str) else ""
    decomposed = unicodedata.normalize("NFKD", raw.translate(_SEPA_SPECIAL))
    kept = "".join(ch if ch in _SEPA_ALLOWED else " "
                   for ch in decomposed if not unicodedata.combining(ch))
    clean = " ".join(kept.split())[:max_len].strip()
    return clean or (sepa_latin(fallback, max_len) if fallback else "")


# ------------------------------------------------------------------- command arguments


def month_text(value: str) -> date:
    """'2026-11' -> 1 November 2026, within the desk's years; Invalid with the usual sentence."""
    raw = str(value).strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", raw)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise Invalid(f"« {shown(raw)} » (attendu AAAA-MM, par exemple 2026-11)")
    month = date(int(match.group(1)), int(match.group(2)), 1)
    if not EARLIEST <= month <= LATEST:
        raise Invalid(f"« {raw} » hors des années admises ({EARLIEST.year} à {LATEST.year})")
    return month


def day_text(value: str) -> date:
    """'2026-11-05' within the desk's years."""
    day = iso_day(str(value).strip())
    if not EARLIEST <= day <= LATEST:
        raise Invalid(f"« {day.isoformat()} » hors des années admises ({EARLIEST.year} à {LATEST.year})")
    return day
