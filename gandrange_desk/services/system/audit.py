"""The whole audit trail for supervisors: who did what, when, before → after, in French.

The trail grows by thousands of rows a week (every decision is one entry), so it is read a page
at a time, newest first, by keyset on the primary key (`before_id`): a page costs the same at
the end of the trail as at its start, where OFFSET would scan everything skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, distinct, func, select

from gandrange_desk.clock import PARIS
from gandrange_desk.models import AuditEntry, DeskUser, Family, Role
from gandrange_desk.services.context import SYSTEM, Desk
from gandrange_desk.services.families.data import can_see_health, can_see_medical, medical_roles
from gandrange_desk.services.search import normalize
from gandrange_desk.services.system.audit_words import ENTITY_LABELS, VALUE_LABELS, action_label, change_lines

WHAT = "Consulter le journal des opérations"
PAGE = 200


def _readable(value):
    if isinstance(value, dict):
        return {k: (VALUE_LABELS.get(v, v) if isinstance(v, str) else v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) if isinstance(v, dict) else v for v in value]
    return value


@dataclass(frozen=True)
class AuditFilter:
    user: str | None = None  # login
    action: str | None = None  # exact action, or a prefix ending with "." ("invoice.")
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    family_id: int | None = None
    family_text: str = ""  # ref or name words, as the Familles search


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    user_login: str
    user_name: str
    action: str
    action_label: str
    entity: str
    entity_label: str
    entity_id: int | None
    family_id: int | None
    family_ref: str
    family_name: str
    change: str  # before → after, readable
    entity_name: str = ""  # what the clerk knows it by: an invoice's number, a family's ref

    @property
    def entity_text(self) -> str:
        if self.entity_name:
            return f"{self.entity_label} {self.entity_name}"
        if self.entity_id is not None and self.entity in NUMBERED_BY_ID:
            return f"{self.entity_label} n° {self.entity_id}"
        return self.entity_label


# Entities whose id the clerk meets elsewhere (the queue and the command line show request ids).
NUMBERED_BY_ID = {"request", "outbox_message", "appointment"}


def entity_name(entity: str, before: str, after: str, family_ref: str | None) -> str:
    """An invoice's or credit note's number, a mandate's RUM, a family's ref — never an internal id."""
    if entity == "family":
        return family_ref or ""
    key = {"invoice": "number", "credit_note": "number", "mandate": "rum"}.get(entity)
    if key is None:
        return ""
    for text in (after, before):
        if text and text[:1] == "{":
            try:
                value = json.loads(text).get(key)
            except (ValueError, AttributeError):
                continue
            if value:
                return str(value)
    return "(brouillon)" if entity == "invoice" else ""


def _conditions(f: AuditFilter) -> list:
    conds = []
    if f.user:
        conds.append(AuditEntry.user_login == f.user)
    if f.action:
        if f.action.endswith("."):
            conds.append(AuditEntry.action.like(f.action.replace("%", "") + "%"))
        else:
            conds.append(AuditEntry.action == f.action)
    if f.date_from:
        conds.append(AuditEntry.at >= datetime.combine(f.date_from, time(0), tzinfo=PARIS))
    if f.date_to:
        conds.append(AuditEntry.at < datetime.combine(f.date_to + timedelta(days=1), time(0), tzinfo=PARIS))
    if f.family_id is not None:
        conds.append(AuditEntry.family_id == f.family_id)
    words = normalize(f.family_text).split()
    if words:
        fams = select(Family.id).where(and_(*[
            Family.search_text.like("%" + w.replace("\\", "").replace("%", "").replace("_", "") + "%")
            for w in words]))
        conds.append(AuditEntry.family_id.in_(fams))
    return conds


def _change_text(before: str, after: str, health: bool, medical: bool = True) -> str:
    def parse(text):
        if text and text[:1] in "{[":
            try:
                return json.loads(text)
            except ValueError:
                return None
        return None

    b, a = _readable(parse(before)), _readable(parse(after))
    if b is None and a is None:
        raw = " → ".join(t for t in (before, after) if t)
        return raw if len(raw) <= 300 else raw[:297] + "…"
    lines = change_lines(b, a, health, medical)
    if not lines and (isinstance(a, dict) or isinstance(b, dict)):
        lines = change_lines({}, a if isinstance(a, dict) else b, health, medical)
    text = " ; ".join(lines)
    return text if len(text) <= 400 else text[:397] + "…"


def query(desk: Desk, filters: AuditFilter | None = None, *, before_id: int | None = None,
          limit: int = PAGE) -> list[AuditRow]:
    """One page of the trail, newest first; pass the last row's id as `before_id` for the next."""
    desk.require(Role.RESPONSABLE, WHAT)
    filters = filters or AuditFilter()
    health = can_see_health(desk.actor)
    conds = _conditions(filters)
    if before_id is not None:
        conds.append(AuditEntry.id < before_id)
    stmt = (select(AuditEntry, Family.ref, Family.name, DeskUser.full_name)
            .outerjoin(Family, Family.id == AuditEntry.family_id)
            .outerjoin(DeskUser, DeskUser.login == AuditEntry.user_login)
            .order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 2000))))
    if conds:
        stmt = stmt.where(and_(*conds))
    with desk.read() as s:
        found = s.execute(stmt).all()
        medical = can_see_medical(desk.actor, medical_roles(s))
    return [AuditRow(
        id=e.id, at=e.at, user_login=e.user_login, user_name=uname or (SYSTEM.full_name if e.user_login == SYSTEM.login else ""), action=e.action,
        action_label=action_label(e.action), entity=e.entity, entity_label=ENTITY_LABELS.get(e.entity, e.entity),
        entity_id=e.entity_id, family_id=e.family_id, family_ref=ref or "", family_name=fname or "",
        change=_change_text(e.before, e.after, health, medical),
        entity_name=entity_name(e.entity, e.before, e.after, ref),
    ) for e, ref, fname, uname in found]


def count(desk: Desk, filters: AuditFilter | None = None) -> int:
    desk.require(Role.RESPONSABLE, WHAT)
    conds = _conditions(filters or AuditFilter())
    stmt = select(func.count(AuditEntry.id))
    if conds:
        stmt = stmt.where(and_(*conds))
    with desk.read() as s:
        return int(s.execute(stmt).scalar_one())


def users(desk: Desk) -> list[tuple[str, str]]:
    """(login, display name) of everyone who appears in the trail."""
    desk.require(Role.RESPONSABLE, WHAT)
    with desk.read() as s:
        logins = s.execute(select(distinct(AuditEntry.user_login))).scalars().all()
        names = dict(s.execute(select(DeskUser.login, DeskUser.full_name)).all())
    names.setdefault(SYSTEM.login, SYSTEM.full_name)
    return sorted(((login, names.get(login, login)) for login in logins), key=lambda p: normalize(p[1]))


def actions(desk: Desk) -> list[tuple[str, str]]:
    """(action, French label) of the actions present in the trail, by label."""
    desk.require(Role.RESPONSABLE, WHAT)
    with desk.read() as s:
        found = s.execute(select(distinct(AuditEntry.action))).scalars().all()
    return sorted(((a, action_label(a)) for a in found), key=lambda p: normalize(p[1]))
