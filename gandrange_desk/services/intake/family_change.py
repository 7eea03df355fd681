"""A family's change from the portal: which fields it may touch, each value checked like the
family file's form, and which member it targets.

A child is named by its ref (`children[E-0107].class`); the older position form
(`children[0].class`, `guardians[1].phone`) is still read, and pinned at intake to the member it
meant then (the child's ref, the guardian's id, kept in the request's `targets`), so a sibling
added before the clerk decides can never move the change onto another child.

Beyond the plain fields a change may add a member (`guardians[+1]`, `children[+1]`: an object,
checked as the family file's form checks a new one), change a child's allergies and PAI
(`children[E-0107].allergies`, `.pai`), and add, change or remove an authorised pick-up person
(`children[E-0107].pickups[+1]` adds, `pickups[0]` changes the first one, `null` removes it;
the person is pinned at intake like a guardian). Those values live in `member_change`.
"""

from __future__ import annotations

import re

from gandrange_desk.models import Child, Family, Guardian
from gandrange_desk.services import validation as v

# Family fields a family may change from the portal: column, how the desk names it, its check.
FAMILY_FIELDS = {
    "name": ("name", "Nom de la famille"),
    "phone": ("phone", "Téléphone du foyer"),
    "address.street": ("street", "Adresse — rue"),
    "address.postcode": ("postcode", "Adresse — code postal"),
    "address.city": ("city", "Adresse — commune"),
}
GUARDIAN_FIELDS = {"first_name": "prénom", "last_name": "nom", "email": "courriel", "phone": "téléphone"}
CHILD_FIELDS = {"first_name": "prénom", "last_name": "nom", "class": "classe", "school": "école"}
# What a clerk needs to feed a child, visible to every desk role (medical notes and the doctor
# are not here: only the roles the settings name may read them, and an agent decides the queue).
CHILD_HEALTH_FIELDS = {"allergies": "allergies", "pai": "PAI"}
NEW = "+"  # the attr of a path that adds a member: ('children', '+1', '+')

_MEMBER = re.compile(r"(guardians|children)\[([^\[\]]{1,40})\]\.([a-z_]+)")
_NEW_MEMBER = re.compile(r"(guardians|children)\[\+([1-9][0-9]?)\]")
_PICKUP = re.compile(r"children\[([^\[\]]{1,40})\]\.pickups\[(\+[1-9][0-9]?|[0-9]{1,2})\]")


def _member_key(group: str, key: str) -> int | str | None:
    if key.isdigit() and key.isascii():
        return int(key) if len(key) < 4 else None
    if group == "guardians":
        return None  # guardians have no ref: the portal names them by position
    return key


def parse_change_path(path: str) -> tuple[str, int | str | None, str] | None:
    """'address.city' -> ('family', None, 'address.city'); 'guardians[0].phone' -> ('guardians', 0,
    'phone'); 'children[E-0107].class' -> ('children', 'E-0107', 'class'); 'children[+1]' ->
    ('children', '+1', '+'); 'children[E-0107].pickups[0]' -> ('pickups', 'E-0107', '0')."""
    if path in FAMILY_FIELDS:
        return ("family", None, path)
    if not isinstance(path, str):
        return None
    if match := _NEW_MEMBER.fullmatch(path):
        return (match.group(1), f"+{match.group(2)}", NEW)
    if match := _PICKUP.fullmatch(path):
        key = _member_key("children", match.group(1))
        return None if key is None else ("pickups", key, match.group(2))
    match = _MEMBER.fullmatch(path)
    if match is None:
        return None
    group, key, attr = match.groups()
    if attr not in (GUARDIAN_FIELDS if group == "guardians" else {**CHILD_FIELDS, **CHILD_HEALTH_FIELDS}):
        return None
    key = _member_key(group, key)
    return None if key is None else (group, key, attr)


def clean_value(group: str, attr: str, value, schools: set[str]) -> str:
    """The new value as the family file's form would keep it; `v.Invalid` when it would refuse it."""
    if group == "family":
        column = FAMILY_FIELDS[attr][0]
        if column == "phone":
            return v.phone(value)
        if column == "postcode":
            return v.postcode(value)
        return v.line(value, max_len=v.limit(getattr(Family, column)), required=column == "name")
    if group == "guardians":
        if attr == "email":
            return v.email(value, max_len=v.limit(Guardian.email))
        if attr == "phone":
            return v.phone(value)
        return v.line(value, max_len=v.limit(getattr(Guardian, attr)), required=True)
    if attr == "school":
        name = v.line(value, max_len=200, required=True)
        if name not in schools:
            raise v.Invalid(f"école inconnue « {v.shown(name)} »")
        return name
    if attr == "class":
        return v.line(value, max_len=v.limit(Child.class_name))
    if attr == "allergies":
        return v.text(value, max_len=v.TEXT_LIMIT, multiline=True)
    return v.line(value, max_len=v.limit(getattr(Child, attr)), required=True)


def member_of(family: Family, group: str, key, targets: dict | None = None, path: str = ""):
    """The guardian or child a change path targets, or None when the family has no such member."""
    pinned = (targets or {}).get(path)
    if group == "guardians":
        if pinned is not None:
            return next((g for g in family.guardians if g.id == pinned), None)
        return family.guardians[key] if isinstance(key, int) and key < len(family.guardians) else None
    if pinned is not None:
        key = pinned
    if isinstance(key, int):
        return family.children[key] if key < len(family.children) else None
    return next((c for c in family.children if c.ref == key), None)


def pin_change(family: Family, parsed: tuple) -> tuple[object, str | None]:
    """(target, None) for a change of this family, or (None, what the family lacks) after « n'a pas »;
    a new member has no target, a pick-up person is pinned as [child's ref, person's id]."""
    group, key, attr = parsed
    if group == "family" or attr == NEW:
        return None, None
    if group != "pickups":
        target = pin(family, group, key)
        return (target, None) if target is not None else (None, member_words(group, key))
    child = member_of(family, "children", key)
    if child is None:
        return None, member_words("children", key)
    if attr.startswith("+"):
        return [child.ref, None], None
    persons = child.pickup_persons
    if int(attr) >= len(persons):
        return None, f"de personne autorisée n° {int(attr) + 1} pour l'enfant {v.shown(child.ref)}"
    return [child.ref, persons[int(attr)].id], None


def pickup_of(family: Family, targets: dict, path: str):
    """(child, person) a pinned pick-up path targets: person None for an addition; (None, None)
    when the child or the person has left the family since."""
    pinned = targets.get(path)
    if not isinstance(pinned, list) or len(pinned) != 2:
        return None, None
    child = next((c for c in family.children if c.ref == pinned[0]), None)
    if child is None or pinned[1] is None:
        return child, None
    person = next((p for p in child.pickup_persons if p.id == pinned[1]), None)
    return (child, person) if person is not None else (None, None)


def pin(family: Family, group: str, key) -> int | str | None:
    """What a member target is pinned to at intake: a guardian's id, a child's ref."""
    member = member_of(family, group, key)
    if member is None:
        return None
    return member.id if group == "guardians" else member.ref


def waiting_has(waiting: dict, group: str, key) -> bool:
    """A family whose registration is still waiting: does its registration hold that member?"""
    members = [m for m in waiting.get(group, []) if isinstance(m, dict)]
    if isinstance(key, int):
        return key < len(members)
    return any(m.get("ref") == key for m in members)


def member_words(group: str, key) -> str:
    """'de responsable n° 2', "d'enfant E-0107": what a family lacks, after « n'a pas »."""
    if group == "guardians":
        return f"de responsable n° {key + 1}"
    return f"d'enfant n° {key + 1}" if isinstance(key, int) else f"d'enfant {v.shown(key)}"
