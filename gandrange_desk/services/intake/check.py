"""Checking a portal feed against the database before anything is written (DESIGN §7).

One French line per problem, naming the entry's `ref`; the result is a list of plans that
`intake.import_feed` writes in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk.formats import ddmmyyyy
from gandrange_desk.models import (
    WEEKDAY_CODES, Activity, Child, Family, FeedEntry, Request, RequestKind, RequestStatus, School, Unit,
)
from gandrange_desk.services import validation as v
from gandrange_desk.services.context import Desk
from gandrange_desk.services.intake.family_change import (  # noqa: F401 (the queue reads them here)
    CHILD_FIELDS, FAMILY_FIELDS, GUARDIAN_FIELDS, NEW, clean_value, member_words, parse_change_path, pin, pin_change,
    waiting_has,
)
from gandrange_desk.services.intake.member_change import PartInvalid, clean_change

MAX_PERIOD_DAYS = 400
KINDS = ("booking", "period_booking", "cancellation", "registration", "family_change")
CELL_KINDS = ("booking", "period_booking", "cancellation")
WEEK_TYPES = ("all", "even", "odd")

# The keys each kind of entry may carry: anything else is refused, never stored unread.
_COMMON_KEYS = {"ref", "kind", "submitted_at"}
CELL_KEYS = _COMMON_KEYS | {"family_ref", "child_ref", "activity", "unit", "dates"}
ALLOWED_KEYS = {
    "booking": CELL_KEYS,
    "cancellation": CELL_KEYS,
    "period_booking": (CELL_KEYS - {"dates"}) | {"from", "to", "week_type", "weekdays"},
    "registration": _COMMON_KEYS | {"family"},
    "family_change": _COMMON_KEYS | {"family_ref", "changes"},
}
REGISTRATION_KEYS = {"ref", "name", "address", "guardians", "children"}
ADDRESS_KEYS = {"street", "postcode", "city"}
GUARDIAN_KEYS = {"first_name", "last_name", "email", "phone"}
CHILD_KEYS = {"ref", "first_name", "last_name", "birth_date", "school", "class"}


@dataclass
class CellPlan:
    ref: str
    kind: str  # booking | cancellation
    submitted_at: datetime
    family_ref: str
    child_ref: str
    activity: Activity
    unit: Unit
    days: list[date]
    raw: dict
    waiting: bool = False  # the family's registration is still waiting: the entry is held


@dataclass
class _Context:
    desk: Desk
    now: datetime
    families: dict[str, Family]
    children: dict[str, Child]
    activities: dict[str, Activity]
    schools: set[str]
    taken_refs: set[str]
    waiting_families: dict[str, dict]  # family ref -> registration entry (feed or queue)
    cal: Any
    problems: list[str] = field(default_factory=list)


class _Entry:
    """Reads one entry's fields, recording a French problem for each bad one."""

    def __init__(self, ctx: _Context, raw: dict, label: str):
        self.ctx, self.raw, self.label = ctx, raw, label
        self.ok = True

    def problem(self, text: str) -> None:
        self.ok = False
        self.ctx.problems.append(f"{self.label} : {text}")

    def text(self, key: str, *, required=True, where: dict | None = None, place: str = "",
             max_len: int = 300) -> str | None:
        table = self.raw if where is None else where
        name = f"{place}{key}"
        if key not in table or table[key] is None:
            if required:
                self.problem(f"« {name} » manquant.")
            return None if required else ""
        value = table[key]
        if not isinstance(value, str):
            self.problem(f"« {name} » doit être un texte, pas {_type_fr(value)}.")
            return None
        try:
            return v.line(value, max_len=max_len, required=required)
        except v.Invalid as exc:
            self.problem(f"« {name} » {_verb(exc.reason)}.")
            return None

    def checked(self, name: str, check, *args) -> str | None:
        """A value through one of the validation layer's checks, the problem named after the field."""
        try:
            return check(*args)
        except v.Invalid as exc:
            self.problem(f"« {name} » : {exc.reason}.")
            return None

    def day(self, value, name: str) -> date | None:
        """A booking day: AAAA-MM-JJ, within two years of today."""
        try:
            return v.booking_day(value, self.ctx.now.date())
        except v.Invalid as exc:
            if exc.reason.startswith("date invalide "):
                self.problem(f"date invalide dans « {name} » : {exc.reason[len('date invalide '):]}.")
            else:
                self.problem(f"« {name} » : {exc.reason}.")
            return None


def _verb(reason: str) -> str:
    """'ne doit pas être vide' reads after the field's name; other reasons after a colon."""
    return reason if reason.startswith(("ne doit", "doit")) else f": {reason}"


def _unknown_keys(keys, place: str) -> str:
    names = ", ".join(f"« {place}{v.shown(str(k))} »" for k in keys[:5])
    return f"{'clé inconnue' if len(keys) == 1 else 'clés inconnues'} : {names}."


def _check_keys(e: "_Entry", table: dict, allowed: set[str], place: str) -> None:
    unknown = sorted(k for k in table if k not in allowed)
    if unknown:
        e.problem(_unknown_keys(unknown, place))


_type_fr = v.type_fr
_short = v.shown


def _submitted_at(e: _Entry) -> datetime | None:
    value = e.raw.get("submitted_at")
    if value is None:
        e.problem("« submitted_at » manquant.")
        return None
    try:
        return v.submitted_at(value, e.ctx.now)
    except v.Invalid as exc:
        e.problem(f"« submitted_at » {exc.reason}.")
        return None


def first_bad_string(value, place: str = "", depth: int = 0, multiline: bool = False) -> tuple[str, str] | None:
    """(place, reason) of the first key or text anywhere in an entry that the validation layer
    refuses (a control character, a lone surrogate): nothing of it may reach the stored payload.
    Only a child's allergies may hold line breaks, as the family file's note does."""
    if isinstance(value, str):
        try:
            v.text(value, max_len=len(value), strip=False, multiline=multiline)
        except v.Invalid as exc:
            return place, exc.reason
        return None
    if depth > 8:
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{place}.{v.shown(str(key))}" if place else v.shown(str(key))
            notes = isinstance(key, str) and key.endswith(".allergies")
            found = first_bad_string(key, here, depth + 1) or first_bad_string(item, here, depth + 1, notes)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = first_bad_string(item, f"{place}[{i}]", depth + 1)
            if found:
                return found
    return None


def _check_cell(e: _Entry, ref: str, kind: str, submitted_at: datetime | None) -> CellPlan | None:
    ctx = e.ctx
    family_ref = e.text("family_ref", max_len=40)
    child_ref = e.text("child_ref", max_len=40)
    code = e.text("activity", max_len=40)
    unit_name = e.text("unit", max_len=100)
    activity = unit = None
    if code is not None:
        activity = ctx.activities.get(code)
        if activity is None:
            e.problem(f"activité inconnue : « {code} ».")
        elif unit_name is not None:
            unit = next((u for u in activity.units if u.name == unit_name), None)
            if unit is None:
                e.problem(f"unité inconnue pour l'activité {code} : « {unit_name} ».")
    waiting = None
    if family_ref is not None:
        family = ctx.families.get(family_ref)
        waiting = ctx.waiting_families.get(family_ref) if family is None else None
        if family is None and waiting is None:
            e.problem(f"famille inconnue : « {family_ref} ».")
        elif child_ref is not None:
            if family is not None:
                child = ctx.children.get(child_ref)
                if child is None:
                    e.problem(f"enfant inconnu : « {child_ref} ».")
                elif child.family_id != family.id:
                    e.problem(f"l'enfant {child_ref} n'est pas un enfant de la famille {family_ref}.")
            else:
                refs = {c.get("ref") for c in waiting.get("children", []) if isinstance(c, dict)}
                if child_ref not in refs:
                    e.problem(f"l'enfant {child_ref} n'est pas un enfant de la famille {family_ref} "
                              "(inscription en attente).")
    days = _cell_days(e, kind, activity)
    if not e.ok or activity is None or unit is None or days is None:
        return None
    return CellPlan(ref, "cancellation" if kind == "cancellation" else "booking", submitted_at,
                    family_ref, child_ref, activity, unit, days, e.raw, waiting=waiting is not None)


def _cell_days(e: _Entry, kind: str, activity: Activity | None) -> list[date] | None:
    ctx = e.ctx
    if kind == "period_booking":
        first = e.day(e.raw.get("from"), "from") if "from" in e.raw else e.problem("« from » manquant.")
        last = e.day(e.raw.get("to"), "to") if "to" in e.raw else e.problem("« to » manquant.")
        week_type = e.raw.get("week_type", "all")
        if week_type not in WEEK_TYPES:
            e.problem(f"« week_type » doit être all, even ou odd, pas « {_short(str(week_type))} ».")
            week_type = None
        weekdays = e.raw.get("weekdays")
        codes: set[int] | None = None
        if not isinstance(weekdays, list) or not weekdays:
            e.problem("« weekdays » doit être une liste non vide de jours (mon, tue, wed, thu, fri…).")
        else:
            bad = [w for w in weekdays if not isinstance(w, str) or w not in WEEKDAY_CODES]
            if bad:
                e.problem(f"jour de semaine inconnu dans « weekdays » : « {_short(str(bad[0]))} ».")
            else:
                codes = {WEEKDAY_CODES.index(w) for w in weekdays}
        if first and last:
            if first > last:
                e.problem(f"la période commence après sa fin ({ddmmyyyy(first)} > {ddmmyyyy(last)}).")
                return None
            if (last - first).days > MAX_PERIOD_DAYS:
                e.problem(f"période trop longue ({(last - first).days} jours, au plus {MAX_PERIOD_DAYS}).")
                return None
        if not (first and last and week_type and codes is not None and activity is not None):
            return None
        days = expand_period(ctx.cal, activity, first, last, week_type, codes)
        if not days:
            e.problem(f"aucun jour ouvert de {activity.code} entre le {ddmmyyyy(first)} et le "
                      f"{ddmmyyyy(last)} pour ces jours et ce type de semaine.")
            return None
        return days
    raw_days = e.raw.get("dates")
    if not isinstance(raw_days, list) or not raw_days:
        e.problem("« dates » doit être une liste non vide de dates AAAA-MM-JJ.")
        return None
    if len(raw_days) > MAX_PERIOD_DAYS:
        e.problem(f"trop de dates ({len(raw_days)}, au plus {MAX_PERIOD_DAYS}).")
        return None
    days: list[date] = []
    for i, value in enumerate(raw_days):
        day = e.day(value, f"dates[{i}]")
        if day is None or activity is None:
            continue
        reason = ctx.cal.closed_reason(activity, day)
        if reason:
            e.problem(f"le {ddmmyyyy(day)} est fermé pour {activity.code} ({reason}).")
        elif day not in days:
            days.append(day)
    return sorted(days) if e.ok else None


def expand_period(cal, activity, first: date, last: date, week_type: str, weekdays: set[int]) -> list[date]:
    """The open days of [first, last] on the ticked weekdays and ISO-week parity; closed days never.

    The same expansion as the desk's "Réservations sur période" dialog (services.periods)."""
    from gandrange_desk.services.reservations.periods import expand_period as plan_period

    return plan_period(cal, activity, first, last, week_type, weekdays).days


def _check_registration(e: _Entry, claimed_families: set[str], claimed_children: set[str]) -> dict | None:
    ctx = e.ctx
    fam = e.raw.get("family")
    if not isinstance(fam, dict):
        e.problem("« family » doit être un objet (ref, name, address, guardians, children).")
        return None
    _check_keys(e, fam, REGISTRATION_KEYS, "family.")
    ref = e.text("ref", where=fam, place="family.", max_len=40)
    name = e.text("name", where=fam, place="family.", max_len=200)
    if ref is not None:
        if ref in ctx.families:
            e.problem(f"la famille {ref} existe déjà.")
        elif ref in claimed_families:
            e.problem(f"la famille {ref} est déjà en cours d'inscription.")
        claimed_families.add(ref)
    address = fam.get("address", {})
    if address is None:
        address = {}
    if not isinstance(address, dict):
        e.problem("« family.address » doit être un objet (street, postcode, city).")
        address = {}
    _check_keys(e, address, ADDRESS_KEYS, "family.address.")
    clean_address = {}
    for key in ("street", "postcode", "city"):
        clean_address[key] = e.text(key, where=address, place="family.address.", required=False,
                                    max_len=v.limit(getattr(Family, key))) or ""
    if clean_address["postcode"]:
        clean_address["postcode"] = e.checked("family.address.postcode", v.postcode, clean_address["postcode"]) or ""
    guardians = fam.get("guardians")
    clean_guardians = []
    if not isinstance(guardians, list) or not guardians:
        e.problem("« family.guardians » doit être une liste d'au moins un responsable.")
        guardians = []
    for i, g in enumerate(guardians):
        place = f"family.guardians[{i}]."
        if not isinstance(g, dict):
            e.problem(f"« {place[:-1]} » doit être un objet.")
            continue
        _check_keys(e, g, GUARDIAN_KEYS, place)
        first = e.text("first_name", where=g, place=place, max_len=100)
        last = e.text("last_name", where=g, place=place, max_len=100)
        email = e.text("email", where=g, place=place, required=False, max_len=200) or ""
        phone = e.text("phone", where=g, place=place, required=False, max_len=40) or ""
        email = email and e.checked(f"{place}email", v.email, email)
        phone = phone and e.checked(f"{place}phone", v.phone, phone)
        clean_guardians.append({"first_name": first, "last_name": last, "email": email, "phone": phone})
    children = fam.get("children", [])
    clean_children = []
    if not isinstance(children, list):
        e.problem("« family.children » doit être une liste.")
        children = []
    for i, c in enumerate(children):
        place = f"family.children[{i}]."
        if not isinstance(c, dict):
            e.problem(f"« {place[:-1]} » doit être un objet.")
            continue
        _check_keys(e, c, CHILD_KEYS, place)
        cref = e.text("ref", where=c, place=place, max_len=40)
        if cref is not None:
            if cref in ctx.children:
                e.problem(f"l'enfant {cref} existe déjà.")
            elif cref in claimed_children:
                e.problem(f"l'enfant {cref} figure deux fois.")
            claimed_children.add(cref)
        first = e.text("first_name", where=c, place=place, max_len=100)
        last = e.text("last_name", where=c, place=place, max_len=100)
        birth = e.checked(f"{place}birth_date", v.birth_date, c.get("birth_date"), ctx.now.date()) \
            if "birth_date" in c else e.problem(f"« {place}birth_date » manquant.")
        school = e.text("school", where=c, place=place, max_len=200)
        if school is not None and school not in ctx.schools:
            known = ", ".join(sorted(ctx.schools)) or "aucune école déclarée"
            e.problem(f"école inconnue pour {cref} : « {v.shown(school)} » (écoles : {known}).")
        klass = e.text("class", where=c, place=place, required=False, max_len=40) or ""
        clean_children.append({"ref": cref, "first_name": first, "last_name": last,
                               "birth_date": birth.isoformat() if birth else None,
                               "school": school, "class": klass})
    if not e.ok:
        return None
    return {"ref": ref, "name": name, "address": clean_address,
            "guardians": clean_guardians, "children": clean_children}


def _check_family_change(e: _Entry) -> tuple[Family | None, dict, str | None] | None:
    ctx = e.ctx
    family_ref = e.text("family_ref", max_len=40)
    family = ctx.families.get(family_ref) if family_ref else None
    waiting = ctx.waiting_families.get(family_ref) if family_ref and family is None else None
    if family_ref is not None and family is None and waiting is None:
        e.problem(f"famille inconnue : « {v.shown(family_ref)} ».")
    changes = e.raw.get("changes")
    if not isinstance(changes, dict) or not changes:
        e.problem("« changes » doit être un objet non vide (champ → nouvelle valeur).")
        return None
    clean, targets = {}, {}
    for path, value in changes.items():
        parsed = parse_change_path(path)
        if parsed is None:
            e.problem(f"champ modifiable inconnu : « {v.shown(path)} ».")
            continue
        group, key, attr = parsed
        if attr != NEW and group != "pickups" and attr != "pai" and not isinstance(value, str):
            e.problem(f"la nouvelle valeur de « {path} » doit être un texte, pas {_type_fr(value)}.")
            continue
        if family is not None:
            target, lacking = pin_change(family, parsed)
            if lacking:
                e.problem(f"« {path} » : la famille {family_ref} n'a pas {lacking}.")
                continue
            if target is not None:
                targets[path] = target
        elif waiting is not None and attr != NEW and group != "family":
            member_group = "children" if group == "pickups" else group
            if not waiting_has(waiting, member_group, key):
                e.problem(f"« {path} » : la famille {family_ref} n'a pas {member_words(member_group, key)} "
                          "(inscription en attente).")
                continue
            if group == "pickups" and not attr.startswith("+"):
                e.problem(f"« {path} » : la famille {family_ref} n'a pas encore de personne autorisée "
                          "(inscription en attente) ; ajoutez-en une avec pickups[+1].")
                continue
        try:
            clean[path] = clean_change(parsed, value, ctx.schools, ctx.now.date())
        except PartInvalid as exc:
            e.problem(f"« {path}.{exc.part} » {_verb(exc.reason)}.")
        except v.Invalid as exc:
            e.problem(f"« {path} » : {exc.reason}.")
    if not e.ok or (family is None and waiting is None):
        return None
    return family, {"changes": clean, "targets": targets}, family_ref if waiting is not None else None


def check_feed(desk: Desk, s: Session, entries: list[Any], cal=None) -> tuple[list, list[str], list[str]]:
    """(plans, skipped refs, problems): what the feed would write, checked against the database."""
    from gandrange_desk.services.calendar import Calendar

    cal = cal or Calendar.load(s)
    dicts = [e for e in entries if isinstance(e, dict)]
    families_in_feed = [e["family"] for e in dicts if isinstance(e.get("family"), dict)]
    refs = _strings(e.get("ref") for e in dicts)
    family_refs = _strings(e.get("family_ref") for e in dicts) | _strings(f.get("ref") for f in families_in_feed)
    child_refs = _strings(e.get("child_ref") for e in dicts) | _strings(
        c.get("ref") for f in families_in_feed if isinstance(f.get("children"), list)
        for c in f["children"] if isinstance(c, dict))
    from sqlalchemy.orm import selectinload

    ctx = _Context(
        desk=desk, now=desk.now(),
        families=_families(s, family_refs, _strings(e.get("family_ref") for e in dicts
                                                    if e.get("kind") == "family_change")),
        children={c.ref: c for c in load_by(s, select(Child), Child.ref, child_refs)},
        activities={a.code: a for a in s.execute(select(Activity).options(selectinload(Activity.units))).scalars()},
        schools=set(s.execute(select(School.name)).scalars()),
        taken_refs=set(load_by(s, select(FeedEntry.ref), FeedEntry.ref, refs)),
        waiting_families=_pending_registrations(s),
        cal=cal,
    )
    plans: list = []
    skipped: list[str] = []
    seen: set[str] = set()
    claimed_families = set(ctx.waiting_families)
    claimed_children: set[str] = set()
    for reg in ctx.waiting_families.values():
        claimed_children |= {c.get("ref") for c in reg.get("children", [])}
    # Registrations first: a feed may register a family and book for it further down.
    order = sorted(range(len(entries)), key=lambda i: 0 if isinstance(entries[i], dict)
                   and entries[i].get("kind") == "registration" else 1)
    for i in order:
        raw = entries[i]
        if not isinstance(raw, dict):
            ctx.problems.append(f"Entrée n° {i + 1} : doit être un objet JSON, pas {_type_fr(raw)}.")
            continue
        ref = raw.get("ref")
        try:
            if ref is None:
                raise v.Invalid("manquante")
            if v.line(ref, max_len=40, required=True) != ref:
                raise v.Invalid("espaces en trop")
        except v.Invalid as exc:
            ctx.problems.append(f"Entrée n° {i + 1} : « ref » invalide ({exc.reason}).")
            continue
        label = f"Entrée {ref}"
        if ref in seen:
            ctx.problems.append(f"{label} : la référence figure deux fois dans le fichier.")
            continue
        seen.add(ref)
        if ref in ctx.taken_refs:
            skipped.append(ref)
            continue
        e = _Entry(ctx, raw, label)
        kind = raw.get("kind")
        if kind not in KINDS:
            e.problem(f"« kind » inconnu : « {_short(str(kind))} » (booking, period_booking, "
                      "cancellation, registration ou family_change).")
            continue
        unknown = sorted(k for k in raw if k not in ALLOWED_KEYS[kind])
        if unknown:
            e.problem(_unknown_keys(unknown, ""))
            continue
        bad = first_bad_string(raw)
        if bad:
            e.problem(f"« {bad[0]} » : {bad[1]}.")
            continue
        submitted_at = _submitted_at(e)
        if kind in CELL_KINDS:
            plan = _check_cell(e, ref, kind, submitted_at)
            if plan and e.ok:
                plans.append(plan)
        elif kind == "registration":
            family = _check_registration(e, claimed_families, claimed_children)
            if family and e.ok:
                ctx.waiting_families[family["ref"]] = family
                plans.append(("registration", ref, submitted_at, family, raw))
        else:
            found = _check_family_change(e)
            if found and e.ok:
                plans.append(("family_change", ref, submitted_at, found, raw))
    return plans, skipped, ctx.problems


def _strings(values) -> set[str]:
    # Only what the validation layer would take may reach a query: a lone surrogate cannot even
    # be encoded for the database (its entry is refused by name further on).
    return {s for s in values if isinstance(s, str) and len(s) <= 40 and not v.suspect(s)}


def _families(s: Session, refs: set[str], changed: set[str]) -> dict[str, Family]:
    """Families by ref; only those a family change targets come with their members (pinning
    reads them): a cell request needs the family's id, and loading every booking family's
    guardians and children was most of the check's time on a big feed."""
    from sqlalchemy.orm import selectinload

    out = {f.ref: f for f in load_by(s, select(Family).options(
        selectinload(Family.guardians), selectinload(Family.children)), Family.ref, refs & changed)}
    out.update((f.ref, f) for f in load_by(s, select(Family), Family.ref, refs - changed))
    return out


def load_by(s: Session, stmt, column, values: set, chunk: int = 900):
    """Rows of `stmt` whose `column` is among `values`, a chunk of IN at a time."""
    values = list(values)
    out = []
    for start in range(0, len(values), chunk):
        out.extend(s.execute(stmt.where(column.in_(values[start:start + chunk]))).scalars())
    return out


def _pending_registrations(s: Session) -> dict[str, dict]:
    rows = s.execute(select(Request.payload).where(
        Request.kind == RequestKind.REGISTRATION, Request.status == RequestStatus.PENDING)).scalars()
    out = {}
    for payload in rows:
        try:
            family = json.loads(payload)["family"]
            out[family["ref"]] = family
        except (ValueError, KeyError, TypeError):
            continue
    return out


# --- writing --------------------------------------------------------------------------------




def pending_registrations(s: Session) -> dict[str, dict]:
    """Registrations waiting in the queue by family ref (their refs and children's are taken)."""
    return _pending_registrations(s)
