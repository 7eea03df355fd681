"""Family changes in the queue: the clerk sees old and new values and accepts field by field."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk.errors import DeskError, NotFound, ValidationFailed
from gandrange_desk.models import Family, Request, RequestKind, RequestStatus, School
from gandrange_desk.services.context import Desk, stamp
from gandrange_desk.services.intake.check import CHILD_FIELDS, FAMILY_FIELDS, GUARDIAN_FIELDS, parse_change_path
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


def _family_change_fields(family: Family, changes: dict, schools_by_id: dict[int, str]) -> list[FieldChange]:
    out = []
    for path, new in changes.items():
        parsed = parse_change_path(path)
        if parsed is None:
            continue
        group, index, attr = parsed
        if group == "family":
            column, label = FAMILY_FIELDS[path]
            old = getattr(family, column) or ""
        else:
            members = family.guardians if group == "guardians" else family.children
            if index >= len(members):
                continue
            member = members[index]
            names = GUARDIAN_FIELDS if group == "guardians" else CHILD_FIELDS
            label = f"{names[attr].capitalize()} de {member.full_name}"
            if attr == "class":
                old = member.class_name
            elif attr == "school":
                old = schools_by_id.get(member.school_id, "")
            else:
                old = getattr(member, attr) or ""
        out.append(FieldChange(path, label, old, new))
    return out


def family_change_view(desk: Desk, request_id: int) -> list[FieldChange]:
    """Old and new values side by side, for the clerk to accept field by field."""
    with desk.read() as s:
        r = s.get(Request, request_id)
        if r is None or r.kind != RequestKind.FAMILY_CHANGE:
            raise NotFound(f"Demande de modification introuvable : n° {request_id}.")
        family = _family(s, r.family_id)
        schools = {sc.id: sc.name for sc in s.execute(select(School)).scalars()}
        return _family_change_fields(family, request_payload(r).get("changes", {}), schools)


def _family(s: Session, family_id: int) -> Family:
    family = s.execute(select(Family).where(Family.id == family_id).options(
        selectinload(Family.guardians), selectinload(Family.children))).scalar_one_or_none()
    if family is None:
        raise NotFound("Famille introuvable.")
    return family


def decide(rnd: DecisionRound, r: Request, fields: list[str], reason: str) -> None:
    """Apply the accepted `fields` of the change; the others are refused with `reason`."""
    s, desk = rnd.s, rnd.desk
    family = _family(s, r.family_id)
    schools = {sc.id: sc.name for sc in s.execute(select(School)).scalars()}
    changes = request_payload(r).get("changes", {})
    unknown = [f for f in fields if f not in changes]
    if unknown:
        raise DeskError(f"champ absent de la demande : {', '.join(unknown)}.")
    view = _family_change_fields(family, changes, schools)
    accepted = [c for c in view if c.path in fields]
    refused = [c for c in view if c.path not in fields]
    if refused and not accepted and not reason:
        raise ValidationFailed([REASON_REQUIRED])
    school_ids = {name: sid for sid, name in schools.items()}
    for c in accepted:
        group, index, attr = parse_change_path(c.path)
        if group == "family":
            setattr(family, FAMILY_FIELDS[c.path][0], c.new)
        elif group == "guardians":
            setattr(family.guardians[index], attr, c.new)
        else:
            child = family.children[index]
            if attr == "school":
                if c.new not in school_ids:
                    raise DeskError(f"école inconnue : « {c.new} ».")
                child.school_id = school_ids[c.new]
            elif attr == "class":
                child.class_name = c.new
            else:
                setattr(child, attr, c.new)
            stamp(child, desk)
    if accepted:
        family.search_text = family_search_text(family)
        stamp(family, desk)
    payload = request_payload(r)
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
