"""The validation queue as the clerk reads it (DESIGN §3): pending requests, grouped.

Family → activity → unit → request lines, with counts at each level; what accepting a booking
would leave in places; requests whose day is past shown as such (the office catching up).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import select

from gandrange_desk.models import (
    Activity, Child, Family, Invoice, InvoiceStatus, Request, RequestKind, RequestStatus, Unit,
)
from gandrange_desk.services.context import Desk
from gandrange_desk.services.reservations.rules import places_used
from gandrange_desk.services.search import normalize

CELL_KINDS = (RequestKind.BOOKING, RequestKind.CANCELLATION)
USUAL_REASONS = (
    "Plus de place disponible.",
    "Demande hors délai (voir le règlement intérieur).",
    "Dossier d'inscription incomplet.",
    "Enfant non inscrit à cette activité.",
    "Demande en double.",
)


@dataclass
class QueueFilter:
    kinds: set[str] | None = None
    activity_id: int | None = None
    family_id: int | None = None
    text: str = ""  # family name / ref / child name, accent-insensitive
    late_only: bool = False


@dataclass
class QueueItem:
    id: int
    kind: str
    ref: str | None
    source: str
    submitted_at: datetime
    late: bool
    family_id: int | None = None
    family_ref: str = ""
    family_name: str = ""
    child_id: int | None = None
    child_ref: str = ""
    child_name: str = ""
    activity_id: int | None = None
    activity_code: str = ""
    activity_name: str = ""
    unit_id: int | None = None
    unit_name: str = ""
    unit_position: int = 0
    day: date | None = None
    past: bool = False  # the day is already past (the office catching up): shown as such
    proposed_billing: str | None = None
    places_left: int | None = None  # what accepting this one (and those before it) would leave
    # The day's month is already invoiced: deciding it is a regularisation on the next invoice.
    regularisation: bool = False
    payload: dict = field(default_factory=dict)

    @property
    def group_activity(self) -> str:
        if self.kind in CELL_KINDS:
            return self.activity_name
        return RequestKind(self.kind).label

    def as_json(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "ref": self.ref, "family_ref": self.family_ref or None,
            "family": self.family_name, "child_ref": self.child_ref or None, "child": self.child_name or None,
            "activity": self.activity_code or None, "unit": self.unit_name or None,
            "dates": [self.day.isoformat()] if self.day else [],
            "submitted_at": self.submitted_at.isoformat(), "late": self.late, "past": self.past,
            "proposed_billing": self.proposed_billing, "places_left": self.places_left,
            "regularisation": self.regularisation, "source": self.source,
        }


@dataclass
class UnitGroup:
    name: str
    items: list[QueueItem]


@dataclass
class ActivityGroup:
    name: str
    units: list[UnitGroup]

    @property
    def count(self) -> int:
        return sum(len(u.items) for u in self.units)


@dataclass
class FamilyGroup:
    key: str
    ref: str
    name: str
    activities: list[ActivityGroup]

    @property
    def count(self) -> int:
        return sum(a.count for a in self.activities)

    @property
    def items(self) -> list[QueueItem]:
        return [i for a in self.activities for u in a.units for i in u.items]


def pending_items(desk: Desk, flt: QueueFilter | None = None) -> list[QueueItem]:
    """Every pending request the filter lets through, family → activity → unit → day order."""
    flt = flt or QueueFilter()
    with desk.read() as s:
        stmt = (select(Request, Family.ref, Family.name, Family.search_text, Child.ref, Child.first_name,
                       Child.last_name, Unit.name, Unit.position, Activity.id, Activity.code, Activity.name)
                .outerjoin(Family, Family.id == Request.family_id)
                .outerjoin(Child, Child.id == Request.child_id)
                .outerjoin(Unit, Unit.id == Request.unit_id)
                .outerjoin(Activity, Activity.id == Unit.activity_id)
                .where(Request.status == RequestStatus.PENDING))
        if flt.kinds:
            stmt = stmt.where(Request.kind.in_(sorted(flt.kinds)))
        if flt.activity_id:
            stmt = stmt.where(Activity.id == flt.activity_id)
        if flt.family_id:
            stmt = stmt.where(Request.family_id == flt.family_id)
        if flt.late_only:
            stmt = stmt.where(Request.late.is_(True))
        rows = s.execute(stmt.order_by(Request.submitted_at, Request.id)).all()
        today = desk.today()
        needle = normalize(flt.text)
        items: list[QueueItem] = []
        for (r, fref, fname, ftext, cref, cfirst, clast, uname, upos, aid, acode, aname) in rows:
            payload = request_payload(r)
            if r.kind == RequestKind.REGISTRATION:
                fam = payload.get("family", {})
                fref, fname = fam.get("ref", ""), fam.get("name", "")
                ftext = normalize(" ".join([fref, fname] + [
                    f"{c.get('first_name', '')} {c.get('last_name', '')}" for c in fam.get("children", [])]))
            if needle and needle not in (ftext or "") and needle not in normalize(fname or ""):
                continue
            items.append(QueueItem(
                id=r.id, kind=r.kind, ref=r.ref, source=r.source, submitted_at=r.submitted_at,
                late=bool(r.late), family_id=r.family_id, family_ref=fref or "", family_name=fname or "",
                child_id=r.child_id, child_ref=cref or "",
                child_name=f"{cfirst} {clast}".strip() if cfirst else "",
                activity_id=aid, activity_code=acode or "", activity_name=aname or "",
                unit_id=r.unit_id, unit_name=uname or "", unit_position=upos or 0, day=r.day,
                past=bool(r.day and r.day < today), proposed_billing=r.proposed_billing, payload=payload))
        days = [i.day for i in items if i.day is not None and i.kind in CELL_KINDS]
        if days:
            issued = set(s.execute(select(Invoice.month).distinct().where(
                Invoice.status == InvoiceStatus.ISSUED, Invoice.month >= min(days).replace(day=1),
                Invoice.month <= max(days))).scalars())
            for item in items:
                item.regularisation = bool(item.day and item.kind in CELL_KINDS
                                           and item.day.replace(day=1) in issued)
        # Places left if accepted: bookings on one unit and day, in arrival order, each take one.
        units = {u.id: u for u in s.execute(select(Unit)).scalars()}
        keys = {(i.unit_id, i.day) for i in items if i.kind == RequestKind.BOOKING}
        used = places_used(s, keys, units)
        taken: dict[tuple[int, date], int] = defaultdict(int)
        for item in items:
            if item.kind != RequestKind.BOOKING or units[item.unit_id].capacity is None:
                continue
            key = (item.unit_id, item.day)
            taken[key] += 1
            item.places_left = units[item.unit_id].capacity - used[key] - taken[key]
    items.sort(key=lambda i: (i.family_name.casefold(), i.family_ref, i.kind not in CELL_KINDS,
                              i.group_activity, i.unit_position, i.unit_name, i.child_name,
                              i.day or date.min, i.id))
    return items


def group_items(items: Iterable[QueueItem]) -> list[FamilyGroup]:
    families: dict[str, FamilyGroup] = {}
    for item in items:
        key = item.family_ref or f"#{item.id}"
        fam = families.get(key)
        if fam is None:
            fam = families[key] = FamilyGroup(key, item.family_ref, item.family_name, [])
        act = next((a for a in fam.activities if a.name == item.group_activity), None)
        if act is None:
            act = ActivityGroup(item.group_activity, [])
            fam.activities.append(act)
        unit_name = item.unit_name or RequestKind(item.kind).label
        unit = next((u for u in act.units if u.name == unit_name), None)
        if unit is None:
            unit = UnitGroup(unit_name, [])
            act.units.append(unit)
        unit.items.append(item)
    return list(families.values())


def pending(desk: Desk, flt: QueueFilter | None = None) -> list[FamilyGroup]:
    """The queue grouped family → activity → unit, with counts at each level."""
    return group_items(pending_items(desk, flt))


def request_payload(r: Request) -> dict:
    """The JSON contents of a registration or family change (empty when unreadable)."""
    if not r.payload:
        return {}
    try:
        value = json.loads(r.payload)
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}


__all__ = ["ActivityGroup", "CELL_KINDS", "FamilyGroup", "QueueFilter", "QueueItem", "USUAL_REASONS", "UnitGroup",
           "group_items", "pending", "pending_items", "request_payload"]
