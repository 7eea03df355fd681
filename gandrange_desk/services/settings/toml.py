"""The settings file of DESIGN §7: parse and validate it into a `SettingsSpec`, and write one back.

Validation collects every problem (one French line each, with its place in the file such as
`activity[2].unit[1].prices[0].price`) instead of stopping at the first, so a supervisor fixes
a file in one pass. Nothing here touches the database.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import WEEKDAY_CODES, Opens
from gandrange_desk.models.base import money_str
from gandrange_desk.services import validation as v
from gandrange_desk.services.settings.fields import ACTIVITY_FIELDS, ATTENDANCE_FIELD, STRUCTURE_FIELDS, UNIT_FIELDS
from gandrange_desk.services.settings.limits import (  # noqa: F401 (parse_price is read from here too)
    MAX_CAPACITY, check_closure_window, check_structure_identities, parse_price, text_limit,
)
# Writing a file back lives beside; its names stay importable from here.
from gandrange_desk.services.settings.toml_write import DEFAULT_CLOSURE_LABEL, HEADER, render_settings  # noqa: F401

HEADLINE = "Paramètres refusés, rien n'a été enregistré :"
SECURITIES = ("starttls", "ssl", "none")
DEFAULT_WEEKDAYS = {
    Opens.SCHOOL_DAYS.value: ["mon", "tue", "thu", "fri"],
    Opens.WEDNESDAYS.value: ["wed"],
    Opens.HOLIDAY_WEEKDAYS.value: ["mon", "tue", "wed", "thu", "fri"],
}
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_CODE = re.compile(r"^[A-Z0-9_-]+$")

STRUCTURE_KEYS = {f.key for f in STRUCTURE_FIELDS} | {"schools", "closures"}
SMTP_KEYS = {"host", "port", "security", "user", "sender", "reply_to"}
ACTIVITY_KEYS = set(ACTIVITY_FIELDS)
UNIT_KEYS = set(UNIT_FIELDS)
DEADLINE_KEYS = {"working_days", "time"}


@dataclass(frozen=True)
class PriceRow:
    qf_max: int | None
    cents: int


@dataclass
class UnitSpec:
    name: str
    capacity: int | None = None
    meal: bool = False
    prices: list[PriceRow] = field(default_factory=list)
    # Sibling rank (2 = second child…) -> its brackets.
    sibling_prices: dict[int, list[PriceRow]] = field(default_factory=dict)
    pai_cents: int | None = None
    late_surcharge_cents: int | None = None
    valid_from: date | None = None


@dataclass
class ActivitySpec:
    code: str
    name: str
    opens: str = Opens.SCHOOL_DAYS.value
    weekdays: list[str] = field(default_factory=list)
    booking_days: int = 0
    booking_time: str = "00:00"
    cancellation_days: int = 0
    cancellation_time: str = "00:00"
    units: list[UnitSpec] = field(default_factory=list)


@dataclass
class SettingsSpec:
    structure: dict  # column -> value, one per fields.STRUCTURE_FIELDS
    schools: list[str]
    closures: list[tuple[date, date, str]]
    smtp: dict | None
    activities: list[ActivitySpec]
    # [attendance]: AttendanceRules attribute -> value; None when the file has no such section
    # (an import then leaves the saved rules as they are).
    attendance: dict | None = None
    # The [structure] keys the document names (and whether it has an [smtp] section): an import
    # leaves the others as they are unless told to replace everything.
    mentioned: frozenset = frozenset()


class Problems(list):
    """Every problem of a document, one French line each with its place in the file."""

    def add(self, place: str, message: str) -> None:
        self.append(f"{place} : {message}" if place else message)


def _show(value) -> str:
    return f"« {v.shown(value, 60)} »"


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_toml(text: str) -> dict:
    """The TOML document, or a French line naming line and column of the syntax error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)", message)
        reason = re.sub(r"\s*\(at .*\)$", "", message)
        if where:
            place = f"ligne {where.group(1)}, colonne {where.group(2)}"
        elif "end of document" in message:
            place = "en fin de fichier"
        else:
            place = "position inconnue"
        raise ValidationFailed(
            [f"Fichier TOML illisible, {place} : {_translate_toml(reason)}."], headline=HEADLINE,
        ) from None


_TOML_MESSAGES = (
    ("Expected '=' after a key in a key/value pair", "« = » attendu après une clé"),
    ("Cannot declare", "déclaration en double"),
    ("Cannot overwrite a value", "valeur déjà définie"),
    ("Invalid value", "valeur invalide"),
    ("Invalid initial character for a key part", "caractère invalide au début d'une clé"),
    ("Unclosed array", "tableau non fermé"),
    ("Unterminated string", "chaîne non terminée"),
    ("Illegal character", "caractère interdit"),
    ("Expected newline or end of document after a statement", "fin de ligne attendue après une instruction"),
    ("Invalid date or datetime", "date invalide"),
    ("Found invalid character in escape sequence", "séquence d'échappement invalide"),
)


def _translate_toml(reason: str) -> str:
    for en, fr in _TOML_MESSAGES:
        if reason.startswith(en):
            return fr + (reason[len(en):] if reason[len(en):].strip() else "")
    return f"erreur de syntaxe ({reason})"


def parse_settings(text: str, *, known_subdivisions: tuple[str, ...] | None = None,
                   today: date | None = None) -> SettingsSpec:
    """Validate a whole settings file; raise ValidationFailed with every problem found."""
    return check_document(parse_toml(text), known_subdivisions=known_subdivisions, today=today)


def check_document(doc: dict, *, known_subdivisions: tuple[str, ...] | None = None,
                   today: date | None = None) -> SettingsSpec:
    """Validate a settings document (a parsed file, or the Réglages window's); raise
    ValidationFailed with every problem found."""
    problems = Problems()
    spec = _read(doc, problems, known_subdivisions or _subdivisions())
    check_closure_window(spec.closures, problems, today)
    if problems:
        raise ValidationFailed(problems, headline=HEADLINE)
    return spec


def _subdivisions() -> tuple[str, ...]:
    import holidays

    return tuple(holidays.France.subdivisions)


def _unknown_keys(table: dict, allowed: set[str], place: str, problems: Problems) -> None:
    for key in table:
        if key not in allowed:
            problems.add(f"{place}.{key}" if place else key, "clé inconnue")


def _text(table: dict, key: str, place: str, problems: Problems, *, required=False, default="", strip=True,
          max_len: int = 200, multiline: bool = False):
    if key not in table:
        if required:
            problems.add(f"{place}.{key}", "clé obligatoire manquante")
        return default
    value = table[key]
    if not isinstance(value, str):
        problems.add(f"{place}.{key}", f"texte attendu, trouvé {_show(value)}")
        return default
    try:
        return v.text(value, max_len=max_len, required=required, multiline=not strip or multiline, strip=strip)
    except v.Invalid as exc:
        problems.add(f"{place}.{key}", exc.reason)
        return default


def _integer(table: dict, key: str, place: str, problems: Problems, low: int, high: int | None,
             default=None):
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(f"{place}.{key}", f"nombre entier attendu, trouvé {_show(value)}")
        return default
    if value < low or (high is not None and value > high):
        bounds = f"entre {low} et {high}" if high is not None else f"au moins {low}"
        problems.add(f"{place}.{key}", f"valeur {value} hors limites ({bounds})")
        return default
    return value


def _day(value, place: str, problems: Problems) -> date | None:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                return date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.add(place, f"date invalide {_show(value)} (attendu AAAA-MM-JJ, par exemple \"2026-05-15\")")
    return None


def _time(value, place: str, problems: Problems) -> str | None:
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        problems.add(place, f"heure invalide {_show(value)} (attendu HH:MM, par exemple \"10:00\")")
        return None
    return value


def _read(doc: dict, problems: Problems, subdivisions: tuple[str, ...]) -> SettingsSpec:
    _unknown_keys(doc, {"structure", "smtp", "activity", "attendance"}, "", problems)
    structure_table = doc.get("structure")
    if not isinstance(structure_table, dict):
        problems.add("structure", "section [structure] obligatoire manquante")
        structure_table = {}
    structure, schools, closures = _read_structure(structure_table, problems, subdivisions)
    check_structure_identities(structure_table, structure, problems)
    smtp = None
    if "smtp" in doc:
        if isinstance(doc["smtp"], dict):
            smtp = _read_smtp(doc["smtp"], problems)
        else:
            problems.add("smtp", "section [smtp] attendue")
    activities = []
    raw_activities = doc.get("activity")
    if not raw_activities:
        problems.add("activity", "au moins une activité [[activity]] est obligatoire")
    elif not isinstance(raw_activities, list) or not all(isinstance(a, dict) for a in raw_activities):
        problems.add("activity", "tableau de sections [[activity]] attendu")
    else:
        codes: dict[str, int] = {}
        for index, table in enumerate(raw_activities):
            place = f"activity[{index}]"
            activity = _read_activity(table, place, problems)
            if activity.code in codes:
                problems.add(f"{place}.code", f"code d'activité en double {_show(activity.code)} "
                                              f"(déjà utilisé par activity[{codes[activity.code]}])")
            elif activity.code:
                codes[activity.code] = index
            activities.append(activity)
    attendance = None
    if "attendance" in doc:
        if isinstance(doc["attendance"], dict):
            attendance = _read_attendance(doc["attendance"], problems)
        else:
            problems.add("attendance", "section [attendance] attendue")
    mentioned = frozenset(structure_table) | ({"[smtp]"} if "smtp" in doc else frozenset())
    return SettingsSpec(structure, schools, closures, smtp, activities, attendance, mentioned)


def _read_attendance(table: dict, problems: Problems) -> dict:
    """The section's keys (fields.ATTENDANCE_FIELDS); a key left out keeps its saved value."""
    _unknown_keys(table, set(ATTENDANCE_FIELD), "attendance", problems)
    out = {}
    for key, f in ATTENDANCE_FIELD.items():
        if key not in table:
            continue
        where, value = f"attendance.{key}", table[key]
        if f.kind == "bool":
            if isinstance(value, bool):
                out[f.key] = value
            else:
                problems.add(where, f"true ou false attendu, trouvé {_show(value)}")
        elif f.kind == "int":
            out[f.key] = _integer(table, key, "attendance", problems, *f.bounds, f.default)
        else:
            cents = parse_price(value, where, problems)
            if cents is not None and not f.bounds[0] <= cents <= f.bounds[1]:
                problems.add(where, f"montant entre {money_str(f.bounds[0])} et {money_str(f.bounds[1])} attendu")
            elif cents is not None:
                out[f.key] = cents
    return out


def _read_structure(table: dict, problems: Problems, subdivisions):
    place = "structure"
    _unknown_keys(table, STRUCTURE_KEYS, place, problems)
    values = {f.key: _structure_value(f, table, problems, subdivisions) for f in STRUCTURE_FIELDS}

    schools: list[str] = []
    raw = table.get("schools")
    if "schools" not in table:
        problems.add(f"{place}.schools", "clé obligatoire manquante")
    elif not isinstance(raw, list) or not raw:
        problems.add(f"{place}.schools", "liste d'au moins une école attendue")
    else:
        for i, name in enumerate(raw):
            if not isinstance(name, str) or not name.strip():
                problems.add(f"{place}.schools[{i}]", f"nom d'école invalide {_show(name)}")
            elif name.strip() in schools:
                problems.add(f"{place}.schools[{i}]", f"école en double {_show(name.strip())}")
            else:
                schools.append(name.strip())

    closures: list[tuple[date, date, str]] = []
    raw = table.get("closures", [])
    if not isinstance(raw, list):
        problems.add(f"{place}.closures", "liste de périodes [premier jour, dernier jour] attendue")
        raw = []
    for i, pair in enumerate(raw):
        where = f"{place}.closures[{i}]"
        if not isinstance(pair, list) or len(pair) not in (2, 3):
            problems.add(where, "période attendue sous la forme [\"AAAA-MM-JJ\", \"AAAA-MM-JJ\"]")
            continue
        first = _day(pair[0], f"{where}[0]", problems)
        last = _day(pair[1], f"{where}[1]", problems)
        label = DEFAULT_CLOSURE_LABEL
        if len(pair) == 3:
            if isinstance(pair[2], str) and pair[2].strip():
                label = pair[2].strip()
            else:
                problems.add(f"{where}[2]", f"libellé invalide {_show(pair[2])}")
        if first and last:
            if last < first:
                problems.add(where, f"le dernier jour ({last.isoformat()}) précède le premier "
                                    f"({first.isoformat()})")
            else:
                closures.append((first, last, label))
    return values, schools, closures


def _structure_value(f, table: dict, problems: Problems, subdivisions):
    place = "structure"
    if f.kind in ("line", "text"):
        return _text(table, f.key, place, problems, required=f.required, default=f.default, strip=not f.verbatim,
                     max_len=text_limit(f.key), multiline=f.kind == "text")
    if f.kind == "int":
        low, high = f.bounds
        return _integer(table, f.key, place, problems, low, high, f.default)
    value = table.get(f.key)
    where = f"{place}.{f.key}"
    if f.key not in table:
        if f.required:
            problems.add(where, "clé obligatoire manquante")
    elif f.kind == "zone" and value not in f.choices:
        either = ", ".join(f.choices[:-1]) + " ou " + f.choices[-1]
        problems.add(where, f"zone inconnue {_show(value)} ({either})")
    elif f.kind == "subdivision" and (not isinstance(value, str) or value not in subdivisions):
        problems.add(where, f"subdivision inconnue {_show(value)} (par exemple \"57\" pour la Moselle)")
    if f.kind == "zone":
        return value if value in f.choices else f.default
    return value if isinstance(value, str) else f.default


def _read_smtp(table: dict, problems: Problems) -> dict:
    place = "smtp"
    if "password" in table:
        table = {k: v for k, v in table.items() if k != "password"}
        problems.add(f"{place}.password", "le mot de passe n'a pas sa place dans ce fichier : il se range "
                                          "dans le trousseau du poste ou dans GANDRANGE_DESK_SMTP_PASSWORD")
    _unknown_keys(table, SMTP_KEYS, place, problems)
    smtp = {
        "host": _text(table, "host", place, problems, required=True),
        "port": _integer(table, "port", place, problems, 1, 65535, 587),
        "user": _text(table, "user", place, problems),
        "sender": _text(table, "sender", place, problems),
        "reply_to": _text(table, "reply_to", place, problems),
        "security": "starttls",
    }
    if "security" in table:
        if table["security"] in SECURITIES:
            smtp["security"] = table["security"]
        else:
            problems.add(f"{place}.security",
                         f"sécurité inconnue {_show(table['security'])} (starttls, ssl ou none)")
    return smtp


def _read_deadline(table: dict, key: str, place: str, problems: Problems) -> tuple[int, str]:
    raw = table.get(key)
    if raw is None:
        return 0, "00:00"
    where = f"{place}.{key}"
    if not isinstance(raw, dict):
        problems.add(where, "attendu { working_days = 2, time = \"10:00\" }")
        return 0, "00:00"
    _unknown_keys(raw, DEADLINE_KEYS, where, problems)
    days = _integer(raw, "working_days", where, problems, 0, 60, 0)
    time = "00:00"
    if "time" in raw:
        time = _time(raw["time"], f"{where}.time", problems) or "00:00"
    return days, time


def _read_activity(table: dict, place: str, problems: Problems) -> ActivitySpec:
    _unknown_keys(table, ACTIVITY_KEYS, place, problems)
    code = _text(table, "code", place, problems, required=True)
    if code and not _CODE.match(code):
        problems.add(f"{place}.code", f"code invalide {_show(code)} (majuscules, chiffres, _ ou -)")
    activity = ActivitySpec(code=code, name=_text(table, "name", place, problems, required=True))
    if "opens" in table:
        if isinstance(table["opens"], str) and table["opens"] in DEFAULT_WEEKDAYS:
            activity.opens = table["opens"]
        else:
            problems.add(f"{place}.opens", f"valeur inconnue {_show(table['opens'])} "
                                           "(school_days, wednesdays ou holiday_weekdays)")
    weekdays = table.get("weekdays", DEFAULT_WEEKDAYS[activity.opens])
    if not isinstance(weekdays, list) or not weekdays:
        problems.add(f"{place}.weekdays", "liste de jours attendue, par exemple [\"mon\", \"tue\"]")
        weekdays = []
    seen = set()
    for i, day in enumerate(weekdays):
        if day not in WEEKDAY_CODES:
            problems.add(f"{place}.weekdays[{i}]",
                         f"jour inconnu {_show(day)} (mon, tue, wed, thu, fri, sat ou sun)")
        elif day in seen:
            problems.add(f"{place}.weekdays[{i}]", f"jour en double {_show(day)}")
        else:
            seen.add(day)
    activity.weekdays = [d for d in WEEKDAY_CODES if d in seen]
    if activity.opens == Opens.WEDNESDAYS.value and seen and "wed" not in seen:
        problems.add(f"{place}.weekdays", "une activité ouverte le mercredi (opens = \"wednesdays\") doit "
                                          "compter « wed » parmi ses jours")
    activity.booking_days, activity.booking_time = _read_deadline(table, "booking_deadline", place, problems)
    activity.cancellation_days, activity.cancellation_time = _read_deadline(
        table, "cancellation_deadline", place, problems)

    units = table.get("unit")
    if not units:
        problems.add(f"{place}.unit", "au moins une unité [[activity.unit]] est obligatoire")
        return activity
    if not isinstance(units, list) or not all(isinstance(u, dict) for u in units):
        problems.add(f"{place}.unit", "tableau de sections [[activity.unit]] attendu")
        return activity
    names: dict[str, int] = {}
    for index, raw in enumerate(units):
        where = f"{place}.unit[{index}]"
        unit = _read_unit(raw, where, problems)
        if unit.name in names:
            problems.add(f"{where}.name", f"unité en double {_show(unit.name)} "
                                          f"(déjà définie en unit[{names[unit.name]}])")
        elif unit.name:
            names[unit.name] = index
        activity.units.append(unit)
    return activity


def _read_brackets(raw, place: str, problems: Problems) -> list[PriceRow]:
    if not isinstance(raw, list) or not raw:
        problems.add(place, "liste de prix attendue, par exemple [{ qf_max = 700, price = \"3.30\" }, "
                            "{ price = \"4.15\" }]")
        return []
    rows: list[PriceRow] = []
    previous = None
    for i, item in enumerate(raw):
        where = f"{place}[{i}]"
        if not isinstance(item, dict):
            problems.add(where, "attendu { qf_max = …, price = \"…\" }")
            continue
        _unknown_keys(item, {"qf_max", "price"}, where, problems)
        if "price" not in item:
            problems.add(f"{where}.price", "clé obligatoire manquante")
            cents = None
        else:
            cents = parse_price(item["price"], f"{where}.price", problems)
        qf_max = _integer(item, "qf_max", where, problems, 0, None, None)
        last = i == len(raw) - 1
        if "qf_max" in item and last:
            problems.add(f"{where}.qf_max", "le dernier prix ne doit pas avoir de qf_max "
                                            "(il s'applique au-delà, et sans quotient connu)")
        if "qf_max" not in item and not last:
            problems.add(f"{where}.qf_max", "clé obligatoire manquante (seul le dernier prix en est dispensé)")
        if qf_max is not None and previous is not None and qf_max <= previous:
            problems.add(f"{where}.qf_max", f"les tranches doivent être croissantes ({qf_max} après {previous})")
        if qf_max is not None:
            previous = qf_max
        if cents is not None:
            rows.append(PriceRow(None if last else qf_max, cents))
    return rows


def _read_unit(table: dict, place: str, problems: Problems) -> UnitSpec:
    _unknown_keys(table, UNIT_KEYS, place, problems)
    unit = UnitSpec(name=_text(table, "name", place, problems, required=True))
    unit.capacity = _integer(table, "capacity", place, problems, 1, MAX_CAPACITY, None)
    if "meal" in table:
        if isinstance(table["meal"], bool):
            unit.meal = table["meal"]
        else:
            problems.add(f"{place}.meal", f"true ou false attendu, trouvé {_show(table['meal'])}")
    if "prices" not in table:
        problems.add(f"{place}.prices", "clé obligatoire manquante")
    else:
        unit.prices = _read_brackets(table["prices"], f"{place}.prices", problems)
    if "valid_from" in table:
        unit.valid_from = _day(table["valid_from"], f"{place}.valid_from", problems)
    for key, attr in (("pai_price", "pai_cents"), ("late_surcharge", "late_surcharge_cents")):
        if key in table:
            setattr(unit, attr, parse_price(table[key], f"{place}.{key}", problems))
    siblings = table.get("sibling_prices", [])
    if not isinstance(siblings, list):
        problems.add(f"{place}.sibling_prices", "attendu [{ rank = 2, prices = [ … ] }]")
        siblings = []
    for i, item in enumerate(siblings):
        where = f"{place}.sibling_prices[{i}]"
        if not isinstance(item, dict):
            problems.add(where, "attendu { rank = 2, prices = [ … ] }")
            continue
        _unknown_keys(item, {"rank", "prices"}, where, problems)
        rank = _integer(item, "rank", where, problems, 2, 20, None)
        if "rank" not in item:
            problems.add(f"{where}.rank", "clé obligatoire manquante")
        elif rank in unit.sibling_prices:
            problems.add(f"{where}.rank", f"rang en double {rank}")
        rows = _read_brackets(item.get("prices"), f"{where}.prices", problems)
        if rank is not None:
            unit.sibling_prices[rank] = rows
    return unit


# ---------------------------------------------------------------------------------------------
# Writing
