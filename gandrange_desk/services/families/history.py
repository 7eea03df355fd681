"""The Historique tab: the family's audit entries in words a clerk reads."""

from __future__ import annotations

import json

from sqlalchemy import select

from gandrange_desk.models import AuditEntry, School
from gandrange_desk.services.context import Desk
from gandrange_desk.services.families.data import HistoryEntry, can_see_health, can_see_medical, medical_roles
from gandrange_desk.services.system.audit_words import action_label, change_lines, person_name, short_value


def family_history(desk: Desk, family_id: int) -> list[HistoryEntry]:
    health = can_see_health(desk.actor)
    with desk.read() as s:
        medical = can_see_medical(desk.actor, medical_roles(s))
        schools = {i: n for i, n in s.execute(select(School.id, School.name)).all()}
        rows = s.execute(select(AuditEntry).where(AuditEntry.family_id == family_id)
                         .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())).scalars().all()
    out = []
    for r in rows:
        before = json.loads(r.before) if r.before.startswith(("{", "[")) else None
        after = json.loads(r.after) if r.after.startswith(("{", "[")) else None
        for side in (before, after):
            if isinstance(side, dict) and side.get("school_id") is not None:
                side["school_id"] = schools.get(side["school_id"], side["school_id"])
        details = change_lines(before, after, health, medical)
        if r.entity == "child":
            who = after if isinstance(after, dict) else before if isinstance(before, dict) else {}
            details = [f"{person_name(who)} — {d}" for d in details] if r.action != "child.create" else \
                [f"{person_name(who)}, né(e) le {short_value(who.get('birth_date'))}"]
        out.append(HistoryEntry(r.at, r.user_login, r.action, action_label(r.action), details))
    return out
