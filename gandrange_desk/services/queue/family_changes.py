"""Family changes in the queue: the clerk sees old and new values and accepts field by field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk.errors import DeskError, NotFound, ValidationFailed
from gandrange_desk.models import (
    Child, Family, Guardian, PickupPerson, Request, RequestKind, RequestStatus, School,
)
from gandrange_desk.services.context import Desk, stamp
from gandrange_desk.services import validation as v
from gandrange_desk.services.families.file import next_ref
from gandrange_desk.services.intake import member_change as mc
from gandrange_desk.services.intake.family_change import (
    CHILD_FIELDS, CHILD_HEALTH_FIELDS, FAMILY_FIELDS, GUARDIAN_FIELDS, NEW, member_of, parse_change_path, pickup_of,
)
from gandrange_desk.services.mail import texts as mail_texts
from gandrange_desk.services.mail.outbox import family_recipients
from gandrange_desk.services.reservations.rules import REASON_REQUIRED
from gandrange_desk.services.search import family_search_text

from .claims import claim
from .listing import request_payload
from .round import DecisionRound


@dataclass(frozen=True)
class FieldChange:
    path: str
    label: str
    old: str
    new: str
    value: object = None  # the change as stored (a text, a new member's dict, None to remove)


def family_change_fields(family: Family, payload: dict, schools_by_id: dict[int, str]) -> list[FieldChange]:
    out = []
    targets = payload.get("targets") or {}
    added = {"guardians": 0, "children": 0}
    for path, new in (payload.get("changes") or {}).items():
        parsed = parse_change_path(path)
        if parsed is None:
            continue
        group, key, attr = parsed
        if attr == NEW:
            if not isinstance(new, dict):
                continue
            added[group] += 1
            if group == "guardians":
                out.append(FieldChange(path, "Nouveau responsable", "", mc.guardian_text(new), new))
            else:
                out.append(FieldChange(path, "Nouvel enfant", "", mc.child_text(new), new))
            continue
        if group == "pickups":
            child, person = pickup_of(family, targets, path)
            if child is None or (person is None and not attr.startswith("+")):
                continue  # the child or the person left the family since: nothing to change
            if person is None:
                label = f"Nouvelle personne autorisée pour {child.full_name}"
            else:
                label = f"Personne autorisée pour {child.full_name}"
            old = mc.pickup_text(mc.pickup_dict(person)) if person is not None else ""
            out.append(FieldChange(path, label, old, mc.pickup_text(new), new))
            continue
        if group == "family":
            column, label = FAMILY_FIELDS[path]
            old = getattr(family, column) or ""
        else:
            member = member_of(family, group, key, targets, path)
            if member is None:
                continue  # the member left the family since: nothing to change
            names = GUARDIAN_FIELDS if group == "guardians" else {**CHILD_FIELDS, **CHILD_HEALTH_FIELDS}
            name = names[attr]
            label = f"{name[0].upper() + name[1:]} de {member.full_name}"
            if attr == "class":
                old = member.class_name
            elif attr == "school":
                old = schools_by_id.get(member.school_id, "")
            elif attr == "pai":
                old = mc.YES if member.pai else mc.NO
            else:
                old = getattr(member, attr) or ""
        out.append(FieldChange(path, label, old, new if isinstance(new, str) else "", new))
    return out


def family_change_view(desk: Desk, request_id: int) -> list[FieldChange]:
    """Old and new values side by side, for the clerk to accept field by field."""
    with desk.read() as s:
        r = s.get(Request, request_id)
        if r is None or r.kind != RequestKind.FAMILY_CHANGE:
            raise NotFound(f"Demande de modification introuvable : n° {request_id}.")
        family = _family(s, r.family_id)
        schools = {sc.id: sc.name for sc in s.execute(select(School)).scalars()}
        return family_change_fields(family, request_payload(r), schools)


def _family(s: Session, family_id: int) -> Family:
    family = s.execute(select(Family).where(Family.id == family_id).options(
        selectinload(Family.guardians), selectinload(Family.children))).scalar_one_or_none()
    if family is None:
        raise NotFound("Famille introuvable.")
    return family


def _apply(s: Session, desk: Desk, family: Family, parsed: tuple, path: str, value, targets: dict,
           school_ids: dict[str, int]) -> None:
    group, key, attr = parsed
    if group == "family":
        setattr(family, FAMILY_FIELDS[path][0], value)
        return
    if attr == NEW and group == "guardians":
        family.guardians.append(Guardian(**value, position=len(family.guardians)))
        return
    if attr == NEW:
        # A new child gets the desk's next ref, as one added in the family file does.
        child = Child(ref=next_ref(s, Child.ref, "E-"), first_name=value["first_name"],
                      last_name=value["last_name"], birth_date=date.fromisoformat(value["birth_date"]),
                      school_id=school_ids[value["school"]], class_name=value["class"],
                      health_notes="", allergies="", pai=False, doctor="")
        family.children.append(child)
        s.flush()
        stamp(child, desk)
        return
    if group == "pickups":
        child, person = pickup_of(family, targets, path)
        if value is None:
            child.pickup_persons.remove(person)
        elif person is None:
            child.pickup_persons.append(PickupPerson(**value))
        else:
            for name, item in value.items():
                setattr(person, name, item)
        stamp(child, desk)
        return
    member = member_of(family, group, key, targets, path)
    if group == "guardians":
        setattr(member, attr, value)
        return
    if attr == "school":
        member.school_id = school_ids[value]
    elif attr == "class":
        member.class_name = value
    elif attr == "pai":
        member.pai = value == mc.YES
    else:
        setattr(member, attr, value)
    stamp(member, desk)


def decide(rnd: DecisionRound, r: Request, fields: list[str], reason: str) -> None:
    """Apply the accepted `fields` of the change; the others are refused with `reason`."""
    s, desk = rnd.s, rnd.desk
    family = _family(s, r.family_id)
    schools = {sc.id: sc.name for sc in s.execute(select(School)).scalars()}
    payload = request_payload(r)
    changes, targets = payload.get("changes", {}), payload.get("targets") or {}
    unknown = [f for f in fields if f not in changes]
    if unknown:
        raise DeskError(f"champ absent de la demande : {', '.join(v.shown(f) for f in unknown)}.")
    view = family_change_fields(family, payload, schools)
    accepted = [c for c in view if c.path in fields]
    refused = [c for c in view if c.path not in fields]
    if refused and not accepted and not reason:
        raise ValidationFailed([REASON_REQUIRED])
    school_ids = {name: sid for sid, name in schools.items()}
    school_names = set(school_ids)
    for c in accepted:
        parsed = parse_change_path(c.path)
        try:
            # Checked again as the form would: a request queued before this check existed, or a
            # school removed since, must not write what the family file would refuse.
            value = mc.clean_change(parsed, c.value, school_names, desk.today())
        except mc.PartInvalid as exc:
            raise ValidationFailed([f"{c.label} : {exc.part} : {exc.reason}."]) from None
        except v.Invalid as exc:
            raise ValidationFailed([f"{c.label} : {exc.reason}."]) from None
        _apply(s, desk, family, parsed, c.path, value, targets, school_ids)
    if accepted:
        family.search_text = family_search_text(family)
        stamp(family, desk)
    payload["accepted"] = [c.path for c in accepted]
    payload["refused"] = [c.path for c in refused]
    claim(s, desk, r, RequestStatus.ACCEPTED if accepted else RequestStatus.REFUSED,
                 reason if refused else "", payload=json.dumps(payload, ensure_ascii=False))
    desk.audit(s, "family_change.decide", "family", family.id, family_id=family.id,
               before={c.path: c.old for c in view}, after={
                   "request": r.id, "accepted": {c.path: c.new for c in accepted},
                   "refused": [c.path for c in refused], "reason": reason})
    mail = mail_texts.family_change_mail(rnd.sender, [(c.label, c.new) for c in accepted],
                                         [c.label for c in refused], reason if refused else "")
    rnd.mail(family.id, family_recipients(family), mail, "family_change", [r.id], f"{family.name} ({family.ref})")
    rnd.decided(r.id, family.id)


__all__ = ["FieldChange", "decide", "family_change_view"]
