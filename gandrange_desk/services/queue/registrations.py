"""Registrations in the queue: accepting one creates the family and its portal account.

The family, its guardians and children, and its portal account (identifiant and a temporary
password, only the argon2 hash kept) are created and the credentials e-mailed; what the family
asked for while it waited is replayed (`intake.waiting`). Refusing drops those entries.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk.errors import DeskError
from gandrange_desk.formats import count
from gandrange_desk.models import Child, Family, Guardian, PortalState, Request, RequestStatus, School
from gandrange_desk.services.context import stamp
from gandrange_desk.services.intake import waiting
from gandrange_desk.services.mail import texts as mail_texts
from gandrange_desk.services.mail.outbox import family_recipients, secret_placeholder
from gandrange_desk.services.search import family_search_text

from .claims import claim, load_in
from .listing import request_payload
from .round import DecisionRound


def _portal_login(s: Session, data: dict) -> str:
    emails = [g.get("email", "").strip().lower() for g in data.get("guardians", []) if g.get("email")]
    for login in emails[:1] + [data["ref"].lower()]:
        if not s.execute(select(Family.id).where(Family.portal_login == login)).first():
            return login
    return f"{data['ref'].lower()}-{secrets.randbelow(10000):04d}"


def accept(rnd: DecisionRound, r: Request, cal) -> Family:
    s, desk = rnd.s, rnd.desk
    from gandrange_desk.services.families.portal import temporary_password
    from gandrange_desk.services.system.users import hash_password

    data = request_payload(r).get("family") or {}
    if not data.get("ref"):
        raise DeskError("inscription illisible.")
    if s.execute(select(Family.id).where(Family.ref == data["ref"])).first():
        raise DeskError(f"la famille {data['ref']} existe déjà.")
    child_refs = [c["ref"] for c in data.get("children", [])]
    taken = load_in(s, select(Child.ref), Child.ref, set(child_refs)) if child_refs else []
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
    claim(s, desk, r, RequestStatus.ACCEPTED, family_id=family.id)
    desk.audit(s, "registration.accept", "family", family.id, family_id=family.id,
               after={"request": r.id, "ref": family.ref, "portal_login": login,
                      "children": child_refs})
    recipients = family_recipients(family)
    # The stored body names the password by placeholder; it waits apart until delivered.
    mail = mail_texts.registration_accepted_mail(rnd.sender, family.name, login, secret_placeholder("password"))
    rnd.mail(family.id, recipients, mail, "registration", [r.id], f"{family.name} ({family.ref})",
             secrets={"password": password})
    if not recipients:
        family.portal_state = PortalState.TO_CREATE
    rnd.result.credentials.append((family.ref, login, password, bool(recipients)))
    rnd.decided(r.id, family.id)
    rnd.result.changes.families.add(family.id)
    created, notes, cells = waiting.replay(s, desk, family.ref, cal)
    rnd.result.changes.cells |= cells
    if created:
        rnd.result.notes.append(f"{family.ref} : {count(created, 'demande du portail reprise', 'demandes du portail reprises')} "
                                "dans la file (en attente de validation).")
    rnd.result.notes += notes
    return family


def refuse(rnd: DecisionRound, r: Request, reason: str) -> None:
    s, desk = rnd.s, rnd.desk
    data = request_payload(r).get("family") or {}
    claim(s, desk, r, RequestStatus.REFUSED, reason)
    dropped = waiting.drop(s, data.get("ref", ""))
    desk.audit(s, "registration.refuse", "request", r.id, after={"ref": data.get("ref"), "reason": reason,
                                                                 "dropped_requests": dropped})
    recipients = []
    for g in data.get("guardians", []):
        email = (g.get("email") or "").strip()
        if email and email.lower() not in {a.lower() for a in recipients}:
            recipients.append(email)
    mail = mail_texts.registration_refused_mail(rnd.sender, data.get("name", ""), reason)
    rnd.mail(None, recipients, mail, "registration", [r.id], f"{data.get('name', '')} ({data.get('ref', '')})")
    rnd.decided(r.id)


__all__ = ["accept", "refuse"]
