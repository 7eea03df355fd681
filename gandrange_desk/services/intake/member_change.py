"""The values of a family change beyond one plain field: a new guardian or child, a child's PAI,
an authorised pick-up person. Each is checked as the family file's form checks it and kept in
the form's words, so the clerk reads, and the desk writes, what the form would have.

The same checks run at intake (the feed is refused, naming the entry's ref and the field) and
again when the clerk accepts (a school removed since must not be written).
"""

from __future__ import annotations

from datetime import date

from gandrange_desk.formats import ddmmyyyy
from gandrange_desk.models import Child, Guardian, PickupPerson
from gandrange_desk.services import validation as v
from gandrange_desk.services.intake.family_change import NEW, clean_value

NEW_GUARDIAN_KEYS = ("first_name", "last_name", "relation", "email", "phone")
NEW_CHILD_KEYS = ("first_name", "last_name", "birth_date", "school", "class")
PICKUP_KEYS = ("name", "relation", "phone", "forbidden")
YES, NO = "oui", "non"


class PartInvalid(v.Invalid):
    """A refused part of an object value: `part` names it ("birth_date") after the change's path."""

    def __init__(self, part: str, reason: str):
        super().__init__(reason)
        self.part = part


def clean_change(parsed: tuple, value, schools: set[str], today: date):
    """The value of any change path as the desk keeps it (a text, or a dict for a new member or a
    pick-up person, None to remove one); `v.Invalid` (or `PartInvalid`) when the form would refuse it."""
    group, key, attr = parsed
    if attr == NEW:
        return new_guardian(value) if group == "guardians" else new_child(value, schools, today)
    if group == "pickups":
        if value is None:
            if attr.startswith("+"):
                raise v.Invalid("une personne à ajouter ne peut pas être vide (null)")
            return None
        return pickup(value)
    if attr == "pai":
        return yes_no(value)
    if not isinstance(value, str):
        raise v.Invalid(f"la nouvelle valeur doit être un texte, pas {v.type_fr(value)}")
    return clean_value(group, attr, value, schools)  # a family field's attr is its path


def _object(value, keys: tuple[str, ...], what: str) -> dict:
    if not isinstance(value, dict):
        raise v.Invalid(f"{what} (un objet JSON : {', '.join(keys)}), pas {v.type_fr(value)}")
    unknown = sorted(str(k) for k in value if k not in keys)
    if unknown:
        names = ", ".join(f"« {v.shown(k)} »" for k in unknown[:5])
        raise v.Invalid(f"{'clé inconnue' if len(unknown) == 1 else 'clés inconnues'} : {names}")
    return value


def _part(value: dict, part: str, check, *args):
    try:
        return check(value.get(part), *args)
    except v.Invalid as exc:
        raise PartInvalid(part, exc.reason) from None


def _line(required: bool, max_len: int):
    def check(value):
        if value is not None and not isinstance(value, str):
            raise v.Invalid(f"doit être un texte, pas {v.type_fr(value)}")
        return v.line(value, max_len=max_len, required=required)
    return check


def _optional(check):
    def run(value):
        text = _line(False, 200)(value)
        return check(text) if text else ""
    return run


def new_guardian(value) -> dict:
    g = _object(value, NEW_GUARDIAN_KEYS, "un responsable attendu")
    return {
        "first_name": _part(g, "first_name", _line(True, v.limit(Guardian.first_name))),
        "last_name": _part(g, "last_name", _line(True, v.limit(Guardian.last_name))),
        "relation": _part(g, "relation", _line(False, v.limit(Guardian.relation))),
        "email": _part(g, "email", _optional(lambda t: v.email(t, max_len=v.limit(Guardian.email)))),
        "phone": _part(g, "phone", _optional(v.phone)),
    }


def new_child(value, schools: set[str], today: date) -> dict:
    c = _object(value, NEW_CHILD_KEYS, "un enfant attendu")

    def school(name):
        name = _line(True, 200)(name)
        if name not in schools:
            raise v.Invalid(f"école inconnue « {v.shown(name)} »")
        return name

    def born(raw):
        if raw is None:
            raise v.Invalid("la date de naissance est obligatoire (AAAA-MM-JJ)")
        return v.birth_date(raw, today).isoformat()

    return {
        "first_name": _part(c, "first_name", _line(True, v.limit(Child.first_name))),
        "last_name": _part(c, "last_name", _line(True, v.limit(Child.last_name))),
        "birth_date": _part(c, "birth_date", born),
        "school": _part(c, "school", school),
        "class": _part(c, "class", _line(False, v.limit(Child.class_name))),
    }


def pickup(value) -> dict:
    p = _object(value, PICKUP_KEYS, "une personne autorisée attendue")

    def forbidden(flag):
        if flag is None:
            return False
        if not isinstance(flag, bool):
            raise v.Invalid(f"true ou false attendu, pas {v.type_fr(flag)}")
        return flag

    return {
        "name": _part(p, "name", _line(True, v.limit(PickupPerson.name))),
        "relation": _part(p, "relation", _line(False, v.limit(PickupPerson.relation))),
        "phone": _part(p, "phone", _optional(v.phone)),
        "forbidden": _part(p, "forbidden", forbidden),
    }


def yes_no(value) -> str:
    """A PAI in the feed: true/false (or "oui"/"non"), kept as the word the clerk reads."""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, str) and value.strip().lower() in (YES, NO):
        return value.strip().lower()
    raise v.Invalid("true ou false attendu, pas " + (f"« {v.shown(value)} »" if isinstance(value, str) else v.type_fr(value)))


# --- what the clerk reads ------------------------------------------------------------------


def guardian_text(g: dict) -> str:
    name = f"{g['first_name']} {g['last_name']}".strip()
    parts = [f"{name} ({g['relation']})" if g.get("relation") else name]
    parts += [x for x in (g.get("email"), g.get("phone")) if x]
    return ", ".join(parts)


def child_text(c: dict) -> str:
    parts = [f"{c['first_name']} {c['last_name']}".strip(),
             f"né(e) le {ddmmyyyy(date.fromisoformat(c['birth_date']))}", c["school"]]
    if c.get("class"):
        parts.append(c["class"])
    return ", ".join(parts)


def pickup_text(p: dict | None) -> str:
    if p is None:
        return "(retirée de la liste)"
    parts = [f"{p['name']} ({p['relation']})" if p.get("relation") else p["name"]]
    if p.get("phone"):
        parts.append(p["phone"])
    text = ", ".join(parts)
    return f"{text} — NE PEUT PAS venir chercher l'enfant" if p.get("forbidden") else text


def pickup_dict(p: PickupPerson) -> dict:
    return {"name": p.name, "relation": p.relation, "phone": p.phone, "forbidden": bool(p.forbidden)}
