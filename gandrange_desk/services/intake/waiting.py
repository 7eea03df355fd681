"""Feed entries held for a registration that is still waiting in the queue.

The portal lets a newly registered family ask for bookings at once, but cells need the family's
children to exist. Such entries are stored with `FeedEntry.held_for` (the family's ref) and
`hold = waiting`, then replayed as requests when the registration is accepted, or dropped with
it when it is refused.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk.formats import ddmmyyyy
from gandrange_desk.models import (
    WEEKDAY_CODES, Activity, Child, Family, FeedEntry, FeedHold, Request, RequestKind, RequestSource,
    RequestStatus, Unit,
)
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.reservations.engine import CellBatch
from gandrange_desk.services.reservations.periods import expand_period
from gandrange_desk.services.reservations.rules import Refusal

from .feed import ask_cell


def held(s: Session, family_ref: str) -> list[FeedEntry]:
    return list(s.execute(select(FeedEntry).where(
        FeedEntry.held_for == family_ref, FeedEntry.hold == FeedHold.WAITING)
        .order_by(FeedEntry.submitted_at, FeedEntry.id)).scalars())


def replay(s: Session, desk, family_ref: str, cal: Calendar | None = None) -> tuple[int, list[str], set]:
    """After a registration is accepted: what the family sent meanwhile becomes requests.

    Returns (requests created, notes, cells changed). A request that no longer fits (a day now
    closed, a cell already taken) is reported, not fatal: the family is registered either way."""
    entries = held(s, family_ref)
    if not entries:
        return 0, [], set()
    batch = CellBatch(s, desk, cal)
    family = s.execute(select(Family).where(Family.ref == family_ref)).scalar_one()
    created, notes, plans = 0, [], []
    for row in entries:
        row.hold = FeedHold.REPLAYED
        raw = json.loads(row.payload)
        if raw.get("kind") == "family_change":
            s.add(Request(kind=RequestKind.FAMILY_CHANGE, source=RequestSource.PORTAL, ref=row.ref,
                          family_id=family.id, submitted_at=row.submitted_at, status=RequestStatus.PENDING,
                          payload=json.dumps(pinned_changes(s, family, raw["changes"], desk.today()), ensure_ascii=False)))
            created += 1
            continue
        child = s.execute(select(Child).where(Child.ref == raw["child_ref"])).scalar_one_or_none()
        activity = s.execute(select(Activity).where(Activity.code == raw["activity"])).scalar_one_or_none()
        unit = s.execute(select(Unit).where(Unit.activity_id == activity.id, Unit.name == raw["unit"])
                         ).scalar_one_or_none() if activity else None
        if child is None or unit is None:
            notes.append(f"Demande {row.ref} non reprise : enfant ou unité introuvable.")
            continue
        if raw["kind"] == "period_booking":
            codes = {WEEKDAY_CODES.index(w) for w in raw["weekdays"]}
            days = expand_period(batch.cal, activity, date.fromisoformat(raw["from"]),
                                 date.fromisoformat(raw["to"]), raw.get("week_type", "all"), codes).days
        else:
            days = sorted({date.fromisoformat(d) for d in raw["dates"]})
        kind = "cancellation" if raw["kind"] == "cancellation" else "booking"
        plans += [(row, kind, (child.id, unit.id, day)) for day in days]
    batch.load([cell for _, _, cell in plans], pending=True)
    changed = set()
    for row, kind, cell in plans:
        outcome = ask_cell(batch, kind, cell, row.submitted_at, row.ref)
        if isinstance(outcome, Refusal):
            notes.append(f"Demande {row.ref} du {ddmmyyyy(cell[2])} non reprise : "
                         f"{outcome.sentence(batch.label(cell))}")
        else:
            created += 1
            changed.add(cell)
    batch.flush()
    return created, notes, changed


def drop(s: Session, family_ref: str) -> int:
    """A refused registration: what the family asked for meanwhile is dropped with it."""
    entries = held(s, family_ref)
    for row in entries:
        row.hold = FeedHold.DROPPED
    return len(entries)


def waiting_entries(s: Session) -> dict[str, list[dict]]:
    """family ref -> feed entries held until that family's registration is decided."""
    out: dict[str, list[dict]] = {}
    for ref, payload in s.execute(select(FeedEntry.held_for, FeedEntry.payload).where(
            FeedEntry.hold == FeedHold.WAITING).order_by(FeedEntry.id)):
        out.setdefault(ref, []).append(json.loads(payload))
    return out


__all__ = ["drop", "held", "replay", "waiting_entries"]


def pinned_changes(s: Session, family: Family, changes: dict, today: date) -> dict:
    """A held change, now that its family exists: values cleaned as at intake, members pinned."""
    from gandrange_desk.models import School
    from gandrange_desk.services import validation as v
    from gandrange_desk.services.intake.family_change import parse_change_path, pin_change
    from gandrange_desk.services.intake.member_change import clean_change

    s.flush()
    s.refresh(family)
    schools = set(s.execute(select(School.name)).scalars())
    clean, targets = {}, {}
    for path, value in changes.items():
        parsed = parse_change_path(path)
        if parsed is None:
            continue
        target, lacking = pin_change(family, parsed)
        if lacking:
            continue
        if target is not None:
            targets[path] = target
        try:
            clean[path] = clean_change(parsed, value, schools, today)
        except v.Invalid:
            continue  # passed at intake; a school removed since then leaves the field out
    return {"changes": clean, "targets": targets}
