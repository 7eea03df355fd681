"""« Renseignez les derniers éléments utiles à votre inscription »: after the desk accepted its
Inscription, the family completes its file once — each child's health details (allergies, PAI,
doctor, notes) and the persons allowed to pick the children up.

S'inscrire asked only for names, address and schools; what is added here is new to the desk,
not a change of what it knows, so it is written directly (with the family as the audit trail's
actor), once. Afterwards every change goes through « Ma famille » and the desk's queue.
The step is due when the family came from an accepted Inscription and has not completed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gandrange_desk.errors import DeskError, NotFound, ValidationFailed
from gandrange_desk.models import AuditEntry, Child, Family, PickupPerson
from gandrange_desk.services import validation as v
from gandrange_desk.services.context import Desk, stamp

DONE_ACTION = "portal.complete"
MAX_PICKUPS = 3
ALREADY = ("Votre dossier est déjà complété : pour toute modification, passez par « Ma famille » "
           "(la structure la validera).")
DONE = "Merci : votre inscription est complète."


@dataclass
class ChildHealth:
    child_id: int
    name: str
    allergies: str = ""
    pai: bool = False
    doctor: str = ""
    health_notes: str = ""


@dataclass
class Pickup:
    name: str = ""
    relation: str = ""
    phone: str = ""

    def blank(self) -> bool:
        return not (self.name.strip() or self.relation.strip() or self.phone.strip())


@dataclass
class Completion:
    children: list[ChildHealth]
    pickups: list[Pickup] = field(default_factory=list)


def needed(desk: Desk, family_id: int) -> bool:
    with desk.read() as s:
        actions = set(s.execute(select(AuditEntry.action).where(
            AuditEntry.family_id == family_id,
            AuditEntry.action.in_(("registration.accept", DONE_ACTION)))).scalars())
    return "registration.accept" in actions and DONE_ACTION not in actions


def blank_form(desk: Desk, family_id: int) -> Completion:
    with desk.read() as s:
        f = s.execute(select(Family).where(Family.id == family_id)
                      .options(selectinload(Family.children))).scalar_one()
        return Completion([ChildHealth(c.id, c.full_name, c.allergies, c.pai, c.doctor, c.health_notes)
                           for c in f.children if not c.archived],
                          [Pickup() for _ in range(MAX_PICKUPS)])


def complete(desk: Desk, family_id: int, form: Completion) -> None:
    if not needed(desk, family_id):
        raise DeskError(ALREADY)
    problems: list[str] = []

    def text(value: str, label: str, max_len: int) -> str:
        try:
            return v.text(value, max_len=max_len, multiline=max_len > 200)
        except v.Invalid as exc:
            problems.append(f"{label} : {exc.reason}.")
            return ""

    for c in form.children:
        c.allergies = text(c.allergies, f"{c.name}, allergies", 1000)
        c.doctor = text(c.doctor, f"{c.name}, médecin traitant", 200)
        c.health_notes = text(c.health_notes, f"{c.name}, informations de santé", 1000)
    pickups = []
    for n, p in enumerate(form.pickups[:MAX_PICKUPS], 1):
        if p.blank():
            continue
        where = f"Personne autorisée {n}"
        name = text(p.name, f"{where}, nom et prénom", 200)
        if not name:
            problems.append(f"{where}, nom et prénom : obligatoire.")
        relation = text(p.relation, f"{where}, lien avec l'enfant", 100)
        try:
            phone = v.phone(p.phone)
            if not phone:
                problems.append(f"{where}, téléphone : obligatoire.")
        except v.Invalid as exc:
            phone = ""
            problems.append(f"{where}, téléphone : {exc.reason}.")
        pickups.append(Pickup(name, relation, phone))
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        children = {c.id: c for c in s.execute(select(Child).where(Child.family_id == family_id)
                                               .options(selectinload(Child.pickup_persons))).scalars()}
        if any(c.child_id not in children for c in form.children):
            raise NotFound("Enfant introuvable.")
        for c in form.children:
            child = children[c.child_id]
            # One flat entry per child: the audit view hides health keys from roles without access.
            before = {"allergies": child.allergies, "pai": child.pai, "doctor": child.doctor,
                      "health_notes": child.health_notes}
            child.allergies, child.pai, child.doctor, child.health_notes = (c.allergies, bool(c.pai), c.doctor,
                                                                           c.health_notes)
            for p in pickups:
                child.pickup_persons.append(PickupPerson(name=p.name, relation=p.relation, phone=p.phone))
            stamp(child, desk)
            desk.audit(s, "portal.child_health", "child", child.id, family_id=family_id, before=before,
                       after={"allergies": c.allergies, "pai": bool(c.pai), "doctor": c.doctor,
                              "health_notes": c.health_notes, "pickup": [p.name for p in pickups]})
        desk.audit(s, DONE_ACTION, "family", family_id, family_id=family_id,
                   after={"children": len(form.children), "pickup": [p.name for p in pickups]})


__all__ = ["ALREADY", "ChildHealth", "Completion", "DONE", "MAX_PICKUPS", "Pickup", "blank_form", "complete",
           "needed"]
