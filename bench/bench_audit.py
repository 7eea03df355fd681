"""Journal des opérations and retention: cost on the 2,000-family base with a grown audit trail.

The trail is padded to 200,000 entries (a few school years of decisions) on a throw-away copy,
then the dialog's page queries are timed: first page, a rare action, one user, a family's
name, and a page deep in the trail (keyset, so it should cost the same as the first one).
Retention: `eligible` with 10 % of the families archived, ten years later, then anonymising them.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import date, timedelta

from sqlalchemy import func, insert, select, update

from gandrange_desk.models import AuditEntry, Family
from gandrange_desk.services.system import audit as audit_log
from gandrange_desk.services.families import retention
from gandrange_desk.services.system.audit import AuditFilter

TRAIL = 200_000


def _median_ms(fn, runs: int = 7) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def _pad_trail(desk) -> None:
    with desk.read() as s:
        have = s.execute(select(func.count(AuditEntry.id))).scalar_one()
        families = s.execute(select(Family.id)).scalars().all()
    start = desk.now() - timedelta(days=3 * 365)
    rows = []
    logins = ("sfoncin", "mresp", "agent2", "agent3")
    after = json.dumps({"status": "accepted", "state": "R"})
    for i in range(max(0, TRAIL - have)):
        rows.append({"at": start + timedelta(minutes=i * 8), "user_login": logins[i % 4], "action": "decide",
                     "entity": "request", "entity_id": i, "family_id": families[i % len(families)],
                     "before": '{"state": "DR"}', "after": after})
    with desk.unit_of_work() as s:
        for chunk in range(0, len(rows), 20_000):
            s.execute(insert(AuditEntry.__table__), rows[chunk:chunk + 20_000])


def journal_pages(base) -> dict:
    desk = base.fresh_desk()
    _pad_trail(desk)
    with desk.read() as s:
        total = s.execute(select(func.count(AuditEntry.id))).scalar_one()
        middle = s.execute(select(AuditEntry.id).order_by(AuditEntry.id).offset(total // 2).limit(1)).scalar_one()
        name = s.execute(select(Family.name).order_by(Family.id).limit(1)).scalar_one()
    cases = {
        "first_page_ms": lambda: audit_log.query(desk),
        "rare_action_ms": lambda: audit_log.query(desk, AuditFilter(action="family.archive")),
        "one_user_ms": lambda: audit_log.query(desk, AuditFilter(user="mresp")),
        "family_name_ms": lambda: audit_log.query(desk, AuditFilter(family_text=name)),
        "deep_page_ms": lambda: audit_log.query(desk, before_id=middle),
        "count_all_ms": lambda: audit_log.count(desk),
    }
    figures = {key: _median_ms(fn) for key, fn in cases.items()}
    return {"value": figures["first_page_ms"], "unit": "ms", "target": "≤ 100 ms", "entries": total, **figures}


def retention_run(base) -> dict:
    desk = base.fresh_desk()
    with desk.unit_of_work() as s:
        s.execute(update(Family).where(Family.id % 10 == 0).values(archived=True))
    later = date(desk.today().year + 10, 1, 1)
    start = time.perf_counter()
    found = retention.eligible(desk, later)
    eligible_ms = (time.perf_counter() - start) * 1000
    ids = [c.family_id for c in found]
    start = time.perf_counter()
    result = retention.anonymise(desk, ids, today=later) if ids else None
    anonymise_ms = (time.perf_counter() - start) * 1000
    return {"value": round(eligible_ms, 1), "unit": "ms", "target": "≤ 2000 ms", "eligible": len(ids),
            "anonymise_ms": round(anonymise_ms, 1),
            "anonymise_per_family_ms": round(anonymise_ms / len(ids), 1) if ids else None,
            "audit_entries_redacted": result.audit_entries if result else 0}


FIGURES = {"audit_journal_page": journal_pages, "retention_eligible": retention_run}
