"""The validation queue (DESIGN §3): pending requests grouped, decided once, announced once.

A decision round is one transaction: the chosen requests are locked (PostgreSQL `FOR UPDATE`,
SQLite's `BEGIN IMMEDIATE`), those another workstation decided meanwhile are reported, not
decided again; cell decisions go through `bookings.apply_decision`; the e-mails — one per family
and activity — are written to the outbox in the same transaction.
"""

from __future__ import annotations

import json
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gandrange_desk.errors import AlreadyDecided, DeskError, NotFound, ValidationFailed
from gandrange_desk.formats import count
from gandrange_desk.models import (
    Activity, Billing, Child, Family, Guardian, OutboxMessage, OutboxStatus, Request, RequestKind, RequestStatus,
    Role, Structure, Unit,
)
from gandrange_desk.services.mail import texts as mail_texts
from gandrange_desk.services.reservations import bulk_decide as queue_bulk
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.outbox import family_recipients, new_message_id

CELL_KINDS = (RequestKind.BOOKING, RequestKind.CANCELLATION)
DECIDABLE = (*CELL_KINDS, RequestKind.REGISTRATION, RequestKind.FAMILY_CHANGE)
KIND_LABELS = {
    RequestKind.BOOKING: "Réservation",
    RequestKind.CANCELLATION: "Annulation",
    RequestKind.REGISTRATION: "Inscription",
    RequestKind.FAMILY_CHANGE: "Modification",
    RequestKind.DOCUMENT: "Document",
}
USUAL_REASONS = (
    "Plus de place disponible.",
    "Demande hors délai (voir le règlement intérieur).",
    "Dossier d'inscription incomplet.",
    "Enfant non inscrit à cette activité.",
    "Demande en double.",
)
BILLING_LABELS = {Billing.EXCUSED: "excusée", Billing.BILLED: "facturée"}
_CHUNK = 900
# From this many cell requests in one round, decide them set-based (queue_bulk), same rules.
BULK_THRESHOLD = 100


# --- reading the queue --------------------------------------------------------------------


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
    payload: dict = field(default_factory=dict)

    @property
    def group_activity(self) -> str:
        if self.kind in CELL_KINDS:
            return self.activity_name
        return KIND_LABELS.get(self.kind, self.kind)

    def as_json(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "ref": self.ref, "family_ref": self.family_ref or None,
            "family": self.family_name, "child_ref": self.child_ref or None, "child": self.child_name or None,
            "activity": self.activity_code or None, "unit": self.unit_name or None,
            "dates": [self.day.isoformat()] if self.day else [],
            "submitted_at": self.submitted_at.isoformat(), "late": self.late, "past": self.past,
            "proposed_billing": self.proposed_billing, "places_left": self.places_left,
            "source": self.source,
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
    from gandrange_desk.services.search import normalize

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
            payload = _payload(r)
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
        # Places left if accepted: bookings on one unit and day, in arrival order, each take one.
        units = {u.id: u for u in s.execute(select(Unit)).scalars()}
        left_cache = queue_bulk._capacity_left(
            s, {(i.unit_id, i.day) for i in items if i.kind == RequestKind.BOOKING}, units)
        taken: dict[tuple[int, date], int] = defaultdict(int)
        for item in items:
            if item.kind != RequestKind.BOOKING:
                continue
            key = (item.unit_id, item.day)
            if left_cache[key] is not None:
                taken[key] += 1
                item.places_left = left_cache[key] - taken[key]
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
        unit_name = item.unit_name or KIND_LABELS.get(item.kind, item.kind)
        unit = next((u for u in act.units if u.name == unit_name), None)
        if unit is None:
            unit = UnitGroup(unit_name, [])
            act.units.append(unit)
        unit.items.append(item)
    return list(families.values())


def pending(desk: Desk, flt: QueueFilter | None = None) -> list[FamilyGroup]:
    """The queue grouped family → activity → unit, with counts at each level."""
    return group_items(pending_items(desk, flt))


def _payload(r: Request) -> dict:
    if not r.payload:
        return {}
    try:
        value = json.loads(r.payload)
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}


# --- deciding ----------------------------------------------------------------------------------


@dataclass
class DecisionResult:
    decided: list[int] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # "Demande n° 12 déjà traitée par X à HH:MM."
    messages: int = 0  # outbox rows written
    without_email: list[str] = field(default_factory=list)  # families to tell another way
    notes: list[str] = field(default_factory=list)
    credentials: list[tuple[str, str, str, bool]] = field(default_factory=list)  # ref, login, password, mailed
    changes: Changes = field(default_factory=Changes)

    def summary(self, verb: str = "acceptée") -> str:
        plural_verb = verb + "s"
        lines = [f"{count(len(self.decided), 'demande ' + verb, 'demandes ' + plural_verb)}, "
                 f"{count(self.messages, 'e-mail mis', 'e-mails mis')} en file d'envoi."]
        lines += self.already
        if self.without_email:
            lines.append("Sans adresse électronique, à prévenir autrement : " + ", ".join(self.without_email) + ".")
        lines += self.notes
        return "\n".join(lines)


class _Round:
    """Collects what one round decided, then writes one e-mail per family and activity."""

    def __init__(self, s: Session, desk: Desk):
        self.s, self.desk = s, desk
        structure = s.execute(select(Structure).order_by(Structure.id).limit(1)).scalar()
        self.sender = mail_texts.Sender(
            structure.name if structure else "la structure", structure.phone if structure else "",
            structure.email if structure else "", structure.portal_url if structure else "")
        self.cells: dict[tuple[int, int], list[tuple[int, mail_texts.CellLine]]] = defaultdict(list)
        self.result = DecisionResult()
        self.outbox: list[dict] = []

    def add_cell(self, rid: int, family_id: int, child_id: int, unit: Unit, *, kind: str, status: str, day: date,
                 child_name: str, billing: str | None, reason: str) -> None:
        line = mail_texts.CellLine(
            kind=kind, accepted=status == RequestStatus.ACCEPTED, unit=unit.name, day=day,
            unit_position=unit.position, child=child_name, billing=billing, reason=reason)
        self.cells[(family_id, unit.activity_id)].append((rid, line))
        self.result.decided.append(rid)
        self.result.changes.cells.add((child_id, unit.id, day))
        self.result.changes.requests.add(rid)

    def mail(self, family: Family | None, recipients: list[str], mail: mail_texts.Mail, kind: str,
             related: list[int], family_label: str) -> None:
        if not recipients:
            if family_label not in self.result.without_email:
                self.result.without_email.append(family_label)
            return
        self.outbox.append(outbox_row(self.desk, recipients=recipients, subject=mail.subject,
                                      body_text=mail.text, body_html=mail.html,
                                      family_id=family.id if family else None, kind=kind,
                                      related_requests=related))
        self.result.messages += 1
        self.result.changes.outbox += 1
        self.result.changes.requests.update(related)
        if family is not None:
            self.result.changes.families.add(family.id)

    def write_outbox(self) -> None:
        """The round's e-mails in one statement, inside the round's transaction."""
        if self.outbox:
            self.s.execute(insert(OutboxMessage.__table__), self.outbox)
            self.outbox = []

    def flush_cells(self) -> None:
        if not self.cells:
            return
        s = self.s
        families = _mail_families(s, {fid for fid, _ in self.cells})
        activities = {a.id: a for a in s.execute(select(Activity)).scalars()}
        for (family_id, activity_id), entries in sorted(self.cells.items(), key=lambda kv: kv[0]):
            family = families[family_id]
            activity = activities[activity_id]
            mail = mail_texts.cell_decisions_mail(self.sender, activity.name, [line for _, line in entries])
            self.mail(family, family_recipients(family), mail, "decision",
                      [rid for rid, _ in entries], f"{family.name} ({family.ref})")


def outbox_row(desk: Desk, *, recipients, subject: str, body_text: str, body_html: str = "",
               family_id: int | None = None, kind: str = "", related_requests=()) -> dict:
    """The row `outbox.enqueue` would add, for a bulk insert: a round may write thousands.

    tests/test_queue.py checks that both give the same row, column by column."""
    now = desk.now()
    return {"family_id": family_id, "kind": kind, "recipients": ", ".join(recipients), "subject": subject,
            "body_text": body_text, "body_html": body_html, "message_id": new_message_id(desk),
            "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now,
            "created_by": desk.actor.login, "related_requests": ",".join(str(i) for i in related_requests),
            "invoice_id": None}


def _mail_families(s: Session, family_ids: set[int]) -> dict:
    """Name, ref and guardians' addresses of many families, without loading whole aggregates."""
    from types import SimpleNamespace

    ids = sorted(family_ids)
    out = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for fid, ref, name in s.execute(select(Family.id, Family.ref, Family.name).where(Family.id.in_(chunk))):
            out[fid] = SimpleNamespace(id=fid, ref=ref, name=name, guardians=[])
        for fid, email, receives in s.execute(
                select(Guardian.family_id, Guardian.email, Guardian.receives_email)
                .where(Guardian.family_id.in_(chunk)).order_by(Guardian.family_id, Guardian.position, Guardian.id)):
            out[fid].guardians.append(SimpleNamespace(email=email, receives_email=receives))
    return out


def _load_in(s: Session, stmt, column, values, chunk: int = _CHUNK):
    values = sorted(values)
    out = []
    for start in range(0, len(values), chunk):
        out.extend(s.execute(stmt.where(column.in_(values[start:start + chunk]))).scalars().unique())
    return out


_LOCK_NAMES = ("id", "kind", "ref", "family_id", "child_id", "unit_id", "day", "status", "decided_by",
               "decided_at", "late", "proposed_billing", "billing", "billing_override_reason", "capacity_override")
_LOCK_COLUMNS = [Request.__table__.c[name] for name in _LOCK_NAMES]
# Plain named tuples: a round reads these fields tens of thousands of times.
LockedRequest = namedtuple("LockedRequest", _LOCK_NAMES)


def _lock_rows(s: Session, desk: Desk, ids: list[int] | None) -> tuple[list, list[str]]:
    """The still-pending requests among `ids` (None: all pending) as plain rows, locked on
    PostgreSQL in id order (no deadlock between workstations), and who took the others."""
    from gandrange_desk.services.reservations.bookings import already_decided_message

    table = Request.__table__
    base = select(*_LOCK_COLUMNS).order_by(table.c.id)
    if desk.backend == "postgresql":
        base = base.with_for_update()
    if ids is None:
        # "Everything": what this queue decides (documents are checked from the family file).
        return [LockedRequest(*r) for r in s.execute(base.where(
            table.c.status == RequestStatus.PENDING, table.c.kind.in_(DECIDABLE)))], []
    wanted = sorted(set(ids))
    found = []
    for start in range(0, len(wanted), _CHUNK):
        found.extend(LockedRequest(*r) for r in s.execute(base.where(table.c.id.in_(wanted[start:start + _CHUNK]))))
    seen = {r.id for r in found}
    missing = [i for i in ids if i not in seen]
    if missing:
        raise NotFound(f"Demande introuvable : n° {', '.join(str(i) for i in missing[:20])}.")
    pending, already = [], []
    for r in found:
        if r.status == RequestStatus.PENDING:
            pending.append(r)
        else:
            message = already_decided_message(desk, r.decided_by, r.decided_at, r.status)
            already.append(message.replace("Demande ", f"Demande n° {r.id} ", 1))
    return pending, already


def _run(desk: Desk, fn):
    """Retry once or twice when PostgreSQL picks this transaction as a deadlock victim."""
    for attempt in range(3):
        try:
            return fn()
        except OperationalError as exc:
            code = getattr(getattr(exc, "orig", None), "sqlstate", None)
            if code in ("40P01", "40001") and attempt < 2:
                continue
            raise DeskError("La base de données a refusé l'opération (conflit avec un autre poste) : "
                            "rien n'a été enregistré, recommencez.") from exc


def accept(desk: Desk, ids: Iterable[int] | None, *, billing: str | None = None,
           overrides: dict[int, tuple[str, str]] | None = None,
           capacity_override: bool = False) -> DecisionResult:
    """Accept requests (None: every pending one) in one transaction, with their e-mails.

    `billing` applies to every cancellation (else each keeps its proposed billing); `overrides`
    gives one cancellation its own billing and the reason (certificat médical…).
    """
    desk.require(Role.AGENT, "Valider des demandes")
    if billing is not None and billing not in (Billing.EXCUSED, Billing.BILLED):
        raise ValidationFailed([f"Facturation inconnue : « {billing} » (excused ou billed)."])
    overrides = dict(overrides or {})
    for rid, (b, _reason) in overrides.items():
        if b not in (Billing.EXCUSED, Billing.BILLED):
            raise ValidationFailed([f"Demande n° {rid} : facturation inconnue « {b} »."])
    id_list = None if ids is None else list(dict.fromkeys(int(i) for i in ids))
    return _run(desk, lambda: _decide(desk, id_list, True, billing=billing, overrides=overrides,
                                      capacity_override=capacity_override))


def refuse(desk: Desk, ids: Iterable[int] | None, reason: str) -> DecisionResult:
    desk.require(Role.AGENT, "Refuser des demandes")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed(["Un refus doit être motivé : indiquez la raison, elle est envoyée à la famille."])
    id_list = None if ids is None else list(dict.fromkeys(int(i) for i in ids))
    return _run(desk, lambda: _decide(desk, id_list, False, reason=reason))


def _decide(desk: Desk, ids: list[int] | None, accepting: bool, *, reason: str = "",
            billing: str | None = None, overrides: dict | None = None,
            capacity_override: bool = False) -> DecisionResult:
    from gandrange_desk.services.reservations import bookings
    from gandrange_desk.services.calendar import Calendar

    if ids is not None and not ids:
        raise ValidationFailed(["Aucune demande choisie."])
    with desk.unit_of_work() as s:
        rows, already = _lock_rows(s, desk, ids)
        rnd = _Round(s, desk)
        rnd.result.already = already
        if not rows:
            if ids is None:
                return rnd.result
            raise AlreadyDecided("\n".join(already))
        cell_rows = [r for r in rows if r.kind in CELL_KINDS]
        units = {u.id: u for u in s.execute(select(Unit)).scalars()}
        s.execute(select(Activity)).scalars().all()  # unit.activity from the identity map
        cal = Calendar.load(s)
        problems: list[str] = []
        if len(cell_rows) >= BULK_THRESHOLD:
            names = _child_names(s, {r.child_id for r in cell_rows})
            decided, problems = queue_bulk.decide_cells(
                s, desk, cell_rows, accepting, reason=reason, billing=billing, overrides=overrides or {},
                capacity_override=capacity_override, names=names, units=units, cal=cal)
            for r, v in decided:
                rnd.add_cell(r.id, r.family_id, r.child_id, units[r.unit_id], kind=r.kind, status=v["status"], day=r.day,
                             child_name=names[r.child_id], billing=v["billing"], reason=v["reason"])
        elif cell_rows:
            requests = _load_in(s, select(Request), Request.id, {r.id for r in cell_rows})
            children = {c.id: c for c in _load_in(s, select(Child), Child.id, {r.child_id for r in cell_rows})}
            for r in sorted(requests, key=lambda r: r.id):
                chosen, why = queue_bulk._billing_choice(r.id, billing, overrides or {})
                try:
                    bookings.apply_decision(s, desk, r, accepting, reason=reason,
                                            billing=chosen if r.kind == RequestKind.CANCELLATION else None,
                                            billing_reason=why, capacity_override=capacity_override, cal=cal)
                except AlreadyDecided as exc:
                    rnd.result.already.append(exc.message.replace("Demande ", f"Demande n° {r.id} ", 1))
                    continue
                except DeskError as exc:
                    problems.append(f"Demande n° {r.id} : {exc.message}")
                    continue
                rnd.add_cell(r.id, r.family_id, r.child_id, units[r.unit_id], kind=r.kind, status=r.status, day=r.day,
                             child_name=children[r.child_id].full_name, billing=r.billing, reason=r.reason)
        others = [r.id for r in rows if r.kind not in CELL_KINDS]
        for r in sorted(_load_in(s, select(Request), Request.id, others), key=lambda r: r.id):
            try:
                if r.kind == RequestKind.REGISTRATION and accepting:
                    _accept_registration(s, desk, r, rnd, cal)
                elif r.kind == RequestKind.REGISTRATION:
                    _refuse_registration(s, desk, r, rnd, reason)
                elif r.kind == RequestKind.FAMILY_CHANGE:
                    changes = _payload(r).get("changes", {})
                    _decide_family_change(s, desk, r, rnd, list(changes) if accepting else [], reason)
                else:
                    problems.append(f"Demande n° {r.id} : ce type de demande se traite depuis la fiche famille.")
            except DeskError as exc:
                problems.append(f"Demande n° {r.id} ({r.ref}) : {exc.message}")
        if problems:
            raise ValidationFailed(problems, headline="Rien n'a été enregistré :")
        rnd.flush_cells()
        rnd.write_outbox()
        return rnd.result


def _child_names(s: Session, child_ids: set[int]) -> dict[int, str]:
    ids = sorted(child_ids)
    out = {}
    for start in range(0, len(ids), _CHUNK):
        for cid, first, last in s.execute(select(Child.id, Child.first_name, Child.last_name)
                                          .where(Child.id.in_(ids[start:start + _CHUNK]))):
            out[cid] = f"{first} {last}".strip()
    return out


# Registrations and family changes live beside, in the same queue and the same rounds.
from gandrange_desk.services.queue.families import (  # noqa: E402
    FieldChange, _accept_registration, _decide_family_change, _refuse_registration, accept_family_change,
    accept_registration, family_change_view, refuse_registration,
)

__all__ = [
    "QueueFilter", "QueueItem", "FamilyGroup", "ActivityGroup", "UnitGroup", "DecisionResult", "FieldChange",
    "USUAL_REASONS", "KIND_LABELS", "pending", "pending_items", "group_items", "accept", "refuse",
    "accept_registration", "refuse_registration", "accept_family_change", "family_change_view",
]
