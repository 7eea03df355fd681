"""Families that look like the one being entered: the same household must not get two files.

"Nouvelle famille" and a portal registration both ask before a file is made: a family with the
same name and address, the same e-mail, or the same phone (accents, case, spaces and the +33
prefix ignored) is shown with why it matches, so the clerk opens the existing file instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from gandrange_desk.models import Family, Guardian, Request, RequestKind
from gandrange_desk.services.context import Desk
from gandrange_desk.services.queue.listing import request_payload
from gandrange_desk.services.search import normalize

LIMIT = 10


@dataclass(frozen=True)
class LookAlike:
    id: int
    ref: str
    name: str
    address: str
    archived: bool
    reasons: list[str] = field(default_factory=list)  # "même e-mail (claire.martin@example.org)"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.ref})" + (" — archivée" if self.archived else "")

    @property
    def why(self) -> str:
        return ", ".join(self.reasons)


def phone_key(phone: str) -> str:
    """The last nine digits: "06 12 34 56 78", "06.12.34.56.78" and "+33 6 12 34 56 78" match."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 9 else ""


def _street_key(street: str) -> str:
    return " ".join(re.sub(r"[^\w ]", " ", normalize(street)).split())


def look_alikes(desk: Desk, *, name: str = "", street: str = "", postcode: str = "",
                emails: Iterable[str] = (), phones: Iterable[str] = (), exclude_id: int | None = None,
                limit: int = LIMIT) -> list[LookAlike]:
    """Families matching by name and address, e-mail, or phone; the strongest first."""
    name_key, street_key = normalize(name), _street_key(street)
    email_keys = {e.strip().lower() for e in emails if e and e.strip()}
    phone_keys = {k for k in (phone_key(p) for p in phones) if k}
    conditions = []
    if name_key and street_key:
        conditions.append(Family.search_text.contains(name_key, autoescape=True))
    if email_keys:
        conditions.append(Family.id.in_(select(Guardian.family_id).where(
            func.lower(func.trim(Guardian.email)).in_(sorted(email_keys)))))
    for key in sorted(phone_keys):
        # search_text holds every phone without its spaces: the last nine digits are inside.
        conditions.append(Family.search_text.contains(key, autoescape=True))
    if not conditions:
        return []
    query = (select(Family).where(or_(*conditions), Family.anonymised_at.is_(None))
             .options(selectinload(Family.guardians)).order_by(Family.name, Family.id))
    if exclude_id is not None:
        query = query.where(Family.id != exclude_id)
    out = []
    with desk.read() as s:
        for family in s.execute(query).scalars():
            reasons = []
            if name_key and street_key and normalize(family.name) == name_key \
                    and _street_key(family.street) == street_key \
                    and (not postcode or not family.postcode or family.postcode.strip() == postcode.strip()):
                reasons.append("même nom et même adresse")
            same_mail = sorted({g.email.strip().lower() for g in family.guardians if g.email} & email_keys)
            if same_mail:
                reasons.append(f"même e-mail ({', '.join(same_mail)})")
            theirs = {phone_key(p) for p in [family.phone, *(g.phone for g in family.guardians)]} - {""}
            same_phone = [p for p in phones if phone_key(p) in theirs]
            if same_phone:
                reasons.append(f"même téléphone ({same_phone[0].strip()})")
            if reasons:
                address = ", ".join(x for x in (family.street, f"{family.postcode} {family.city}".strip()) if x)
                out.append(LookAlike(family.id, family.ref, family.name, address, family.archived, reasons))
    out.sort(key=lambda f: (-len(f.reasons), f.archived, f.name))
    return out[:limit]


def registration_look_alikes(desk: Desk, request_id: int) -> list[LookAlike]:
    """The families that look like the one a portal registration submitted."""
    with desk.read() as s:
        request = s.get(Request, request_id)
        if request is None or request.kind != RequestKind.REGISTRATION:
            return []
        family = request_payload(request).get("family", {})
    address = family.get("address") or {}
    guardians = family.get("guardians") or []
    return look_alikes(desk, name=family.get("name", ""), street=address.get("street", ""),
                       postcode=address.get("postcode", ""),
                       emails=[g.get("email", "") for g in guardians],
                       phones=[g.get("phone", "") for g in guardians])


__all__ = ["LookAlike", "look_alikes", "phone_key", "registration_look_alikes"]
