"""Registrations and family changes in the validation queue.

Accepting a registration creates the family, its guardians and children and its portal account
(identifiant and a temporary password, only the argon2 hash kept) and e-mails the credentials;
a family change is accepted field by field. Both decide once, like cell requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from gandrange_desk.errors import AlreadyDecided, DeskError, NotFound, ValidationFailed
from gandrange_desk.formats import count
from gandrange_desk.models import (
    Child, Family, Guardian, PortalState, Request, RequestKind, RequestStatus, Role, School,
)
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services.mail import texts as mail_texts
from gandrange_desk.services.context import Desk, stamp
from gandrange_desk.services.mail.outbox import family_recipients
from gandrange_desk.services.queue.decisions import (
    KIND_LABELS, DecisionResult, _load_in, _lock_rows, _payload, _Round, _run, accept, refuse,
)
from gandrange_desk.services.search import family_search_text

# --- registrations -----------------------------------------------------------------------------


def _claim_other(s: Session, desk: Desk, r: Request, status: str, reason: str = "", **extra) -> None:
    from gandrange_desk.services.reservations.bookings import already_decided_message

    values = {"status": status, "decided_by": desk.actor.login, "decided_at": desk.now(),
              "reason": reason, **extra}
    done = s.execute(update(Request).where(Request.id == r.id, Request.status == RequestStatus.PENDING)
                     .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        row = s.execute(select(Request.decided_by, Request.decided_at, Request.status)
                        .where(Request.id == r.id)).one()
        raise AlreadyDecided(already_decided_message(desk, *row))
    for key, value in values.items():
        setattr(r, key, value)


def _portal_login(s: Session, data: dict) -> str:
    emails = [g.get("email", "").strip().lower() for g in data.get("guardians", []) if g.get("email")]
    for login in emails[:1] + [data["ref"].lower()]:
        if not s.execute(select(Family.id).where(Family.portal_login == login)).first():
            return login
    import secrets

    return f"{data['ref'].lower()}-{secrets.randbelow(10000):04d}"


def _accept_registration(s: Session, desk: Desk, r: Request, rnd: _Round, cal) -> Family:
    from gandrange_desk.services.families.portal import temporary_password
    from gandrange_desk.services.system.users import hash_password

    data = _payload(r).get("family") or {}
    if not data.get("ref"):
        raise DeskError("inscription illisible.")
    if s.execute(select(Family.id).where(Family.ref == data["ref"])).first():
        raise DeskError(f"la famille {data['ref']} existe déjà.")
    child_refs = [c["ref"] for c in data.get("children", [])]
    taken = _load_in(s, select(Child.ref), Child.ref, set(child_refs)) if child_refs else []
    if taken:
        raise DeskError(f"enfant déjà connu : {', '.join(taken)}.")
    schools = {sc.name: sc.id for sc in s.execute(select(School)).scalars()}
    login = _portal_login(s, data)
    password = temporary_password()
    address = data.get("address") or {}
    guardians = data.get("guardians", [])
    family = Family(ref=data["ref"], name=data.get("name", ""), street=address.get("street", ""),
                    postcode=address.get("postcode", ""), city=address.get("city", ""),
                    phone=next((g.get("phone", "") for g in guardians if g.get("phone")), ""),
                    portal_login=login, portal_password_hash=hash_password(password),
                    portal_state=PortalState.SENT, created_at=desk.now())
    for i, g in enumerate(guardians):
        family.guardians.append(Guardian(
            position=i, first_name=g.get("first_name", ""), last_name=g.get("last_name", ""),
            email=g.get("email", ""), phone=g.get("phone", ""), holds_portal_account=i == 0))
    for c in data.get("children", []):
        if c.get("school") and c["school"] not in schools:
            raise DeskError(f"école inconnue pour {c['ref']} : « {c['school']} ».")
        family.children.append(Child(
            ref=c["ref"], first_name=c.get("first_name", ""), last_name=c.get("last_name", ""),
            birth_date=date.fromisoformat(c["birth_date"]), school_id=schools.get(c.get("school")),
            class_name=c.get("class", "")))
    family.search_text = family_search_text(family)
    stamp(family, desk)
    s.add(family)
    s.flush()
    _claim_other(s, desk, r, RequestStatus.ACCEPTED, family_id=family.id)
    desk.audit(s, "registration.accept", "family", family.id, family_id=family.id,
               after={"request": r.id, "ref": family.ref, "portal_login": login,
                      "children": child_refs})
    recipients = family_recipients(family)
    mail = mail_texts.registration_accepted_mail(rnd.sender, family.name, login, password)
    rnd.mail(family, recipients, mail, "registration", [r.id], f"{family.name} ({family.ref})")
    if not recipients:
        family.portal_state = PortalState.TO_CREATE
    rnd.result.credentials.append((family.ref, login, password, bool(recipients)))
    rnd.result.decided.append(r.id)
    created, notes = intake.replay_waiting(s, desk, family.ref, cal)
    if created:
        rnd.result.notes.append(f"{family.ref} : {count(created, 'demande du portail reprise', 'demandes du portail reprises')} "
                                "dans la file (en attente de validation).")
    rnd.result.notes += notes
    return family


def _refuse_registration(s: Session, desk: Desk, r: Request, rnd: _Round, reason: str) -> None:
    data = _payload(r).get("family") or {}
    _claim_other(s, desk, r, RequestStatus.REFUSED, reason)
    dropped = intake.drop_waiting(s, data.get("ref", ""))
    desk.audit(s, "registration.refuse", "request", r.id, after={"ref": data.get("ref"), "reason": reason,
                                                                 "dropped_requests": dropped})
    recipients = []
    for g in data.get("guardians", []):
        email = (g.get("email") or "").strip()
        if email and email.lower() not in {a.lower() for a in recipients}:
            recipients.append(email)
    mail = mail_texts.registration_refused_mail(rnd.sender, data.get("name", ""), reason)
    rnd.mail(None, recipients, mail, "registration", [r.id], f"{data.get('name', '')} ({data.get('ref', '')})")
    rnd.result.decided.append(r.id)


def accept_registration(desk: Desk, request_id: int) -> DecisionResult:
    return _one_of_kind(desk, request_id, RequestKind.REGISTRATION, lambda: accept(desk, [request_id]))


def refuse_registration(desk: Desk, request_id: int, reason: str) -> DecisionResult:
    return _one_of_kind(desk, request_id, RequestKind.REGISTRATION, lambda: refuse(desk, [request_id], reason))


def _one_of_kind(desk: Desk, request_id: int, kind: str, fn):
    with desk.read() as s:
        found = s.execute(select(Request.kind).where(Request.id == request_id)).scalar()
    if found is None:
        raise NotFound(f"Demande introuvable : n° {request_id}.")
    if found != kind:
        raise DeskError(f"La demande n° {request_id} n'est pas une {KIND_LABELS[kind].lower()}.")
    return fn()


# --- family changes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    path: str
    label: str
    old: str
    new: str


def _family_change_fields(family: Family, changes: dict, schools_by_id: dict[int, str]) -> list[FieldChange]:
    out = []
    for path, new in changes.items():
        parsed = intake.parse_change_path(path)
        if parsed is None:
            continue
        group, index, attr = parsed
        if group == "family":
            column, label = intake.FAMILY_FIELDS[path]
            old = getattr(family, column) or ""
        else:
            members = family.guardians if group == "guardians" else family.children
            if index >= len(members):
                continue
            member = members[index]
            names = intake.GUARDIAN_FIELDS if group == "guardians" else intake.CHILD_FIELDS
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
        return _family_change_fields(family, _payload(r).get("changes", {}), schools)


def _family(s: Session, family_id: int) -> Family:
    family = s.execute(select(Family).where(Family.id == family_id).options(
        selectinload(Family.guardians), selectinload(Family.children))).scalar_one_or_none()
    if family is None:
        raise NotFound("Famille introuvable.")
    return family


def _decide_family_change(s: Session, desk: Desk, r: Request, rnd: _Round, fields: list[str], reason: str) -> None:
    family = _family(s, r.family_id)
    schools = {sc.id: sc.name for sc in s.execute(select(School)).scalars()}
    changes = _payload(r).get("changes", {})
    unknown = [f for f in fields if f not in changes]
    if unknown:
        raise DeskError(f"champ absent de la demande : {', '.join(unknown)}.")
    view = _family_change_fields(family, changes, schools)
    accepted = [c for c in view if c.path in fields]
    refused = [c for c in view if c.path not in fields]
    if refused and not accepted and not reason:
        raise ValidationFailed(["Un refus doit être motivé : indiquez la raison, elle est envoyée à la famille."])
    school_ids = {name: sid for sid, name in schools.items()}
    for c in accepted:
        group, index, attr = intake.parse_change_path(c.path)
        if group == "family":
            setattr(family, intake.FAMILY_FIELDS[c.path][0], c.new)
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
    payload = _payload(r)
    payload["accepted"] = [c.path for c in accepted]
    payload["refused"] = [c.path for c in refused]
    _claim_other(s, desk, r, RequestStatus.ACCEPTED if accepted else RequestStatus.REFUSED,
                 reason if refused else "", payload=json.dumps(payload, ensure_ascii=False))
    desk.audit(s, "family_change.decide", "family", family.id, family_id=family.id,
               before={c.path: c.old for c in view}, after={
                   "request": r.id, "accepted": {c.path: c.new for c in accepted},
                   "refused": [c.path for c in refused], "reason": reason})
    mail = mail_texts.family_change_mail(rnd.sender, [(c.label, c.new) for c in accepted],
                                         [c.label for c in refused], reason if refused else "")
    rnd.mail(family, family_recipients(family), mail, "family_change", [r.id], f"{family.name} ({family.ref})")
    rnd.result.decided.append(r.id)


def accept_family_change(desk: Desk, request_id: int, fields: Iterable[str], *, reason: str = "") -> DecisionResult:
    """Apply the chosen fields; the others are refused (with `reason`, e-mailed)."""
    desk.require(Role.AGENT, "Traiter une modification de famille")
    fields = list(fields)
    reason = " ".join((reason or "").split())

    def run():
        with desk.unit_of_work() as s:
            rows, already = _lock_rows(s, desk, [request_id])
            if not rows:
                raise AlreadyDecided("\n".join(already))
            r = s.get(Request, request_id)
            if r.kind != RequestKind.FAMILY_CHANGE:
                raise DeskError(f"La demande n° {request_id} n'est pas une modification de famille.")
            rnd = _Round(s, desk)
            _decide_family_change(s, desk, r, rnd, fields, reason)
            rnd.write_outbox()
            return rnd.result

    return _run(desk, run)


