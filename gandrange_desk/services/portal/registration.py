"""S'inscrire (« Vous n'êtes pas encore inscrit »): the first details become a registration
request in the desk's queue, the very kind the JSON feed brings (`{"family": {...}}` with refs,
address, guardians, children), so `queue.registrations.accept` creates the family and sends the
guide's e-mail with the login and temporary password once the desk validates it.

Nothing tells whether an address is already known. Submissions count like failed sign-ins
(per address and per e-mail, in `PortalThrottle`), so the form cannot flood the queue.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import Child, Family, Request, RequestKind, RequestSource, RequestStatus, School
from gandrange_desk.services.context import Actor, Desk
from gandrange_desk.services.intake.check import pending_registrations

from .accounts import throttle_count, throttle_locked

MAX_PER_ADDRESS = 5
MAX_PER_EMAIL = 3
TOO_MANY = ("Trop de demandes d'inscription depuis cette connexion : réessayez dans 15 minutes ou "
            "contactez le bureau périscolaire.")
SENT = ("Votre demande d'inscription est envoyée à la structure. Une fois validée, vous recevrez un mail "
        "avec vos identifiants pour terminer votre inscription.")
MAX_CHILDREN = 4
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class ChildForm:
    first_name: str = ""
    last_name: str = ""
    birth_date: str = ""  # YYYY-MM-DD, as the date field sends it
    school: str = ""
    class_name: str = ""

    def blank(self) -> bool:
        return not any((self.first_name.strip(), self.last_name.strip(), self.birth_date.strip()))


@dataclass
class RegistrationForm:
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    children: list[ChildForm] = field(default_factory=list)


def schools(desk: Desk) -> list[str]:
    with desk.read() as s:
        return [sc.name for sc in s.execute(select(School).order_by(School.name)).scalars()]


def _text(value: str, label: str, problems: list[str], *, required: bool = True, max_len: int = 100) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        problems.append(f"{label} : obligatoire.")
    elif len(value) > max_len:
        problems.append(f"{label} : {max_len} caractères au plus.")
    return value


def _check(form: RegistrationForm, known_schools: set[str], today: date) -> tuple[dict, list[str]]:
    p: list[str] = []
    name = _text(form.name, "Nom de famille", p)
    first = _text(form.first_name, "Prénom du responsable", p)
    last = _text(form.last_name, "Nom du responsable", p)
    email = _text(form.email, "E-mail", p, max_len=200).lower()
    if email and not _EMAIL.match(email):
        p.append(f"E-mail : « {email} » n'est pas une adresse valide.")
    phone = _text(form.phone, "Téléphone", p, required=False, max_len=40)
    street = _text(form.street, "Adresse", p, max_len=300)
    postcode = _text(form.postcode, "Code postal", p, max_len=10)
    if postcode and not re.fullmatch(r"\d{5}", postcode):
        p.append("Code postal : cinq chiffres.")
    city = _text(form.city, "Ville", p, max_len=100)
    children = []
    for n, c in enumerate(form.children[:MAX_CHILDREN], 1):
        if c.blank():
            continue
        where = f"Enfant {n}"
        cfirst = _text(c.first_name, f"{where}, prénom", p)
        clast = _text(c.last_name, f"{where}, nom", p, required=False) or name
        try:
            born = date.fromisoformat(c.birth_date.strip())
        except ValueError:
            p.append(f"{where}, date de naissance : obligatoire (jj/mm/aaaa).")
            born = None
        if born and not (date(today.year - 20, 1, 1) <= born <= today):
            p.append(f"{where}, date de naissance invraisemblable.")
        school = " ".join(c.school.split())
        if school and school not in known_schools:
            p.append(f"{where}, école inconnue : choisissez une école de la liste.")
        klass = _text(c.class_name, f"{where}, classe", p, required=False, max_len=40)
        children.append({"first_name": cfirst, "last_name": clast, "birth_date": born.isoformat() if born else None,
                         "school": school or None, "class": klass})
    if not children:
        p.append("Inscrivez au moins un enfant.")
    data = {"name": name, "address": {"street": street, "postcode": postcode, "city": city},
            "guardians": [{"first_name": first, "last_name": last, "email": email, "phone": phone}],
            "children": children}
    return data, p


def _next(refs, prefix: str) -> int:
    return max([int(r[len(prefix):]) for r in refs if r and r.startswith(prefix) and r[len(prefix):].isdigit()],
               default=0) + 1


def register(desk: Desk, form: RegistrationForm, address: str | None = None) -> int:
    """The registration request's id; ValidationFailed (French) or DeskError when rate-limited."""
    now = desk.now()
    keys = [(f"inscription:ip:{address}"[:220], MAX_PER_ADDRESS)] if address else []
    keys.append((f"inscription:mel:{(form.email or '').strip().lower()}"[:220], MAX_PER_EMAIL))
    with desk.read() as s:
        if throttle_locked(s, keys, now):
            raise DeskError(TOO_MANY)
        known = {sc.name for sc in s.execute(select(School)).scalars()}
    data, problems = _check(form, known, now.date())
    with desk.unit_of_work() as s:
        throttle_count(s, keys, now)  # every submission counts, good or bad
    if problems:
        raise ValidationFailed(problems)
    actor = desk.as_actor(Actor(f"portail:{data['guardians'][0]['email']}"[:64],
                                f"{form.first_name} {form.last_name}".strip()[:100], "famille"))
    with actor.unit_of_work() as s:
        pending = pending_registrations(s)
        # Refs of the desk's own series, past those of families and of registrations waiting.
        family_refs = list(s.execute(select(Family.ref)).scalars()) + list(pending)
        width = max([5, *(len(r) - 2 for r in family_refs if r and r.startswith("F-"))])
        data["ref"] = f"F-{_next(family_refs, 'F-'):0{width}d}"
        child_refs = list(s.execute(select(Child.ref)).scalars()) + [
            c.get("ref") for reg in pending.values() for c in reg.get("children", [])]
        first_child = _next(child_refs, "E-")
        for i, c in enumerate(data["children"]):
            c["ref"] = f"E-{first_child + i:05d}"
        r = Request(kind=RequestKind.REGISTRATION, source=RequestSource.PORTAL, ref="portail:inscription",
                    submitted_at=now, status=RequestStatus.PENDING,
                    payload=json.dumps({"family": data}, ensure_ascii=False))
        s.add(r)
        s.flush()
        actor.audit(s, "portal.register", "request", r.id, after={"ref": data["ref"], "name": data["name"],
                                                                  "children": len(data["children"])})
        return r.id


__all__ = ["ChildForm", "MAX_CHILDREN", "RegistrationForm", "SENT", "TOO_MANY", "register", "schools"]
