"""The portal feed (DESIGN §7): parse, check every entry, then write all of it or nothing.

Checking happens before any write so a bad feed gets one French line per problem, naming the
entry's `ref`. Cell requests go through the reservation rules (`services.bookings`), so a feed
can never put a cell in a state the grid would refuse. A `ref` already taken is skipped.

Requests for a family whose registration is still waiting (in this feed or in the queue) are
kept with the registration and replayed when it is accepted: the portal lets a newly registered
family ask for bookings at once, but the cells need the family's children to exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.formats import ddmmyyyy
from gandrange_desk.models import (
    WEEKDAY_CODES,
    Activity,
    Child,
    Family,
    FeedEntry,
    Request,
    RequestKind,
    RequestSource,
    RequestStatus,
    Unit,
)
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk

from gandrange_desk.services.intake.check import (  # noqa: F401 - the feed's vocabulary, used by queue
    CHILD_FIELDS, FAMILY_FIELDS, GUARDIAN_FIELDS, KINDS, MAX_PERIOD_DAYS, WAITING_KEY, WEEK_TYPES, _CellPlan, _in,
    check_feed, expand_period, parse_change_path,
)

MAX_FEED_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 100_000
MAX_PROBLEMS_SHOWN = 200


@dataclass
class IntakeResult:
    entries: int = 0  # entries taken from this feed
    skipped: list[str] = field(default_factory=list)  # refs already taken earlier
    requests: int = 0  # cell requests created
    registrations: int = 0
    family_changes: int = 0
    waiting: int = 0  # entries kept until their family's registration is accepted
    past_days: int = 0  # cells whose day is already past (a late import): flagged in the queue
    late: int = 0  # cell requests past their deadline (judged on submitted_at)
    already: int = 0  # cells of a period already booked or asked: left as they are
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        from gandrange_desk.formats import count

        parts = [f"{count(self.entries, 'entrée importée', 'entrées importées')}"]
        if self.requests:
            parts.append(count(self.requests, "demande de case", "demandes de cases"))
        if self.registrations:
            parts.append(count(self.registrations, "inscription", "inscriptions"))
        if self.family_changes:
            parts.append(count(self.family_changes, "modification de famille", "modifications de famille"))
        if self.waiting:
            parts.append(f"{self.waiting} en attente d'une inscription")
        if self.late:
            parts.append(f"{self.late} hors délai")
        if self.already:
            parts.append(count(self.already, "case déjà réservée ou demandée laissée telle quelle",
                               "cases déjà réservées ou demandées laissées telles quelles"))
        if self.past_days:
            parts.append(count(self.past_days, "jour déjà passé", "jours déjà passés"))
        if self.skipped:
            parts.append(count(len(self.skipped), "entrée déjà importée ignorée",
                               "entrées déjà importées ignorées"))
        return "Flux importé : " + ", ".join(parts) + "."


# --- parsing --------------------------------------------------------------------------------


def read_feed_file(path: str | Path) -> bytes:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FEED_BYTES:
            raise DeskError(f"Flux refusé : le fichier {p.name} est trop volumineux "
                            f"({size // (1024 * 1024)} Mo, au plus {MAX_FEED_BYTES // (1024 * 1024)} Mo).")
        return p.read_bytes()
    except FileNotFoundError:
        raise DeskError(f"Fichier introuvable : {p}.") from None
    except IsADirectoryError:
        raise DeskError(f"{p} est un dossier, pas un fichier de flux.") from None
    except PermissionError:
        raise DeskError(f"Lecture impossible de {p} : accès refusé.") from None
    except OSError as exc:
        raise DeskError(f"Lecture impossible de {p} : {exc.strerror or exc}.") from None


def parse_feed(data: bytes | str) -> list[Any]:
    """The raw entries of a feed, or DeskError saying why the document itself is unreadable."""
    if isinstance(data, bytes):
        if len(data) > MAX_FEED_BYTES:
            raise DeskError("Flux refusé : le document est trop volumineux.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DeskError(f"Flux refusé : le fichier n'est pas en UTF-8 (octet {exc.start}).") from None
    else:
        text = data
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeskError(f"Flux refusé : JSON invalide ligne {exc.lineno}, colonne {exc.colno} "
                        f"({_json_reason(exc.msg)}).") from None
    except (RecursionError, ValueError):
        raise DeskError("Flux refusé : JSON invalide ou trop profondément imbriqué.") from None
    if not isinstance(doc, dict) or "requests" not in doc:
        raise DeskError("Flux refusé : le document doit être un objet JSON avec une liste « requests ».")
    entries = doc["requests"]
    if not isinstance(entries, list):
        raise DeskError("Flux refusé : « requests » doit être une liste.")
    if len(entries) > MAX_ENTRIES:
        raise DeskError(f"Flux refusé : {len(entries)} entrées, au plus {MAX_ENTRIES} par fichier.")
    return entries


def _json_reason(msg: str) -> str:
    table = {
        "Expecting value": "valeur attendue",
        "Expecting property name enclosed in double quotes": "nom de clé entre guillemets attendu",
        "Expecting ',' delimiter": "virgule attendue",
        "Expecting ':' delimiter": "deux-points attendus",
        "Unterminated string starting at": "chaîne non terminée",
        "Extra data": "données en trop après le document",
        "Invalid control character at": "caractère de contrôle interdit",
        "Invalid \\escape": "séquence d'échappement invalide",
    }
    for en, fr in table.items():
        if msg.startswith(en):
            return fr
    return msg


# --- checking -------------------------------------------------------------------------------


def import_feed(desk: Desk, data: bytes | str) -> IntakeResult:
    """Take a whole feed or nothing; ValidationFailed lists every problem by entry ref."""
    from sqlalchemy.exc import IntegrityError

    entries = parse_feed(data)
    try:
        return _import_once(desk, entries)
    except IntegrityError:
        # Another workstation imported the same refs at the same moment: its rows won; once
        # more, they are now skipped as already taken.
        return _import_once(desk, entries)


def _import_once(desk: Desk, entries: list) -> IntakeResult:
    from gandrange_desk.services.reservations import bookings
    from gandrange_desk.services.calendar import Calendar

    result = IntakeResult()
    with desk.unit_of_work() as s:
        cal = Calendar.load(s)
        plans, skipped, problems = check_feed(desk, s, entries, cal)
        result.skipped = skipped
        if problems:
            raise _refusal(problems)
        children = {c.ref: c for c in _in(s, select(Child), Child.ref,
                                            {p.child_ref for p in plans if isinstance(p, _CellPlan)})}
        today = desk.today()
        now = desk.now()
        for plan in plans:
            if isinstance(plan, _CellPlan):
                _add_feed_entry(s, desk, plan.ref, plan.raw.get("kind"), plan.submitted_at, plan.raw,
                                waiting=plan.family_ref if plan.waiting else None, now=now)
                if plan.waiting:
                    result.waiting += 1
                    result.entries += 1
                    continue
                child = children[plan.child_ref]
                period = plan.raw.get("kind") == "period_booking"
                for day in plan.days:
                    if period and bookings.cell_state(s, child.id, plan.unit.id, day) is not None:
                        # A period only asks for the white cells, as the portal's total counts them.
                        result.already += 1
                        continue
                    try:
                        request = ask_cell(s, desk, cal, plan.kind, child, plan.unit, day,
                                           plan.submitted_at, plan.ref)
                    except DeskError as exc:
                        problems.append(f"Entrée {plan.ref} : {ddmmyyyy(day)} : {exc.message}")
                        continue
                    result.requests += 1
                    result.changes.cells.add((child.id, plan.unit.id, day))
                    result.changes.requests.add(request.id)
                    result.late += bool(request.late)
                    result.past_days += day < today
                result.entries += 1
                continue
            kind, ref, submitted_at, content, raw = plan
            _add_feed_entry(s, desk, ref, kind, submitted_at, raw, now=now)
            result.entries += 1
            if kind == "registration":
                s.add(Request(kind=RequestKind.REGISTRATION, source=RequestSource.PORTAL, ref=ref,
                              submitted_at=submitted_at, status=RequestStatus.PENDING,
                              payload=json.dumps({"family": content}, ensure_ascii=False)))
                result.registrations += 1
                result.changes.requests.add(0)  # a new registration: the queue changed
            else:
                family, changes, waiting_for = content
                if waiting_for:
                    s.flush()
                    _mark_waiting(s, ref, waiting_for)
                    result.waiting += 1
                    continue
                s.add(Request(kind=RequestKind.FAMILY_CHANGE, source=RequestSource.PORTAL, ref=ref,
                              family_id=family.id, submitted_at=submitted_at,
                              status=RequestStatus.PENDING,
                              payload=json.dumps({"changes": changes}, ensure_ascii=False)))
                result.family_changes += 1
                result.changes.requests.add(0)  # a new family change: the queue changed
        if problems:
            raise _refusal(problems)
        desk.audit(s, "feed.import", "feed_entry", None, after={
            "entries": result.entries, "requests": result.requests, "skipped": len(skipped)})
    return result


def import_feed_file(desk: Desk, path: str | Path) -> IntakeResult:
    return import_feed(desk, read_feed_file(path))


def _add_feed_entry(s, desk, ref, kind, submitted_at, raw, *, waiting: str | None = None, now=None) -> None:
    payload = dict(raw)
    if waiting:
        payload = {WAITING_KEY: waiting, "entry": raw}
    s.add(FeedEntry(ref=ref, kind=str(kind), submitted_at=submitted_at, imported_at=now or desk.now(),
                    imported_by=desk.actor.login, payload=json.dumps(payload, ensure_ascii=False)))


def _refusal(problems: list[str]) -> ValidationFailed:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        shown.append(f"… et {len(problems) - MAX_PROBLEMS_SHOWN} autres problèmes.")
    from gandrange_desk.formats import count

    return ValidationFailed(shown, headline=f"Flux refusé, rien n'a été importé "
                                            f"({count(len(problems), 'problème', 'problèmes')}) :")


def replay_waiting(s: Session, desk: Desk, family_ref: str, cal=None) -> tuple[int, list[str]]:
    """After a registration is accepted: the cell requests the family sent meanwhile become DR/DA.

    A request that no longer fits (a day now closed, a cell already taken) is reported, not fatal:
    the family is registered either way.
    """
    from gandrange_desk.services.calendar import Calendar

    cal = cal or Calendar.load(s)
    rows = s.execute(select(FeedEntry).where(FeedEntry.payload.like(f'{{"{WAITING_KEY}": %'))
                     .order_by(FeedEntry.submitted_at, FeedEntry.id)).scalars().all()
    created, notes = 0, []
    for row in rows:
        payload = json.loads(row.payload)
        if payload.get(WAITING_KEY) != family_ref:
            continue
        raw = payload["entry"]
        payload[WAITING_KEY + "_done"] = payload.pop(WAITING_KEY)
        row.payload = json.dumps(payload, ensure_ascii=False)
        if raw.get("kind") == "family_change":
            family = s.execute(select(Family).where(Family.ref == family_ref)).scalar_one()
            s.add(Request(kind=RequestKind.FAMILY_CHANGE, source=RequestSource.PORTAL, ref=row.ref,
                          family_id=family.id, submitted_at=row.submitted_at, status=RequestStatus.PENDING,
                          payload=json.dumps({"changes": raw["changes"]}, ensure_ascii=False)))
            created += 1
            continue
        child = s.execute(select(Child).where(Child.ref == raw["child_ref"])).scalar_one_or_none()
        activity = s.execute(select(Activity).where(Activity.code == raw["activity"])).scalar_one_or_none()
        unit = next((u for u in activity.units if u.name == raw["unit"]), None) if activity else None
        if child is None or unit is None:
            notes.append(f"Demande {row.ref} non reprise : enfant ou unité introuvable.")
            continue
        if raw["kind"] == "period_booking":
            codes = {WEEKDAY_CODES.index(w) for w in raw["weekdays"]}
            days = expand_period(cal, activity, date.fromisoformat(raw["from"]),
                                 date.fromisoformat(raw["to"]), raw.get("week_type", "all"), codes)
        else:
            days = sorted({date.fromisoformat(d) for d in raw["dates"]})
        kind = "cancellation" if raw["kind"] == "cancellation" else "booking"
        for day in days:
            try:
                ask_cell(s, desk, cal, kind, child, unit, day, row.submitted_at, row.ref)
                created += 1
            except DeskError as exc:
                notes.append(f"Demande {row.ref} du {ddmmyyyy(day)} non reprise : {exc.message}")
    return created, notes


def ask_cell(s: Session, desk: Desk, cal, kind: str, child: Child, unit: Unit, day: date,
             submitted_at: datetime, ref: str) -> Request:
    """One portal cell request. Cancelling a cell still waiting as DR withdraws that request:
    the family clicked its own pending request away before the office decided it."""
    from gandrange_desk.models import CellState
    from gandrange_desk.services.reservations import bookings

    if kind == "cancellation" and bookings.cell_state(s, child.id, unit.id, day) == CellState.DR:
        pending = bookings.pending_request(s, child.id, unit.id, day)
        if pending is not None and pending.kind == RequestKind.BOOKING:
            return bookings.withdraw(s, desk, pending, reason=f"Retirée par la famille ({ref})")
    ask = bookings.ask_booking if kind == "booking" else bookings.ask_cancellation
    return ask(s, desk, cal, child, unit, day, source=RequestSource.PORTAL,
               submitted_at=submitted_at, ref=ref)


def _mark_waiting(s: Session, ref: str, family_ref: str) -> None:
    row = s.execute(select(FeedEntry).where(FeedEntry.ref == ref)).scalar_one()
    row.payload = json.dumps({WAITING_KEY: family_ref, "entry": json.loads(row.payload)}, ensure_ascii=False)


def drop_waiting(s: Session, family_ref: str) -> int:
    """A refused registration: what the family asked for meanwhile is dropped with it."""
    rows = s.execute(select(FeedEntry).where(FeedEntry.payload.like(f'{{"{WAITING_KEY}": %'))).scalars().all()
    n = 0
    for row in rows:
        payload = json.loads(row.payload)
        if payload.get(WAITING_KEY) == family_ref:
            payload[WAITING_KEY + "_dropped"] = payload.pop(WAITING_KEY)
            row.payload = json.dumps(payload, ensure_ascii=False)
            n += 1
    return n


def waiting_entries(s: Session) -> dict[str, list[dict]]:
    """family ref -> feed entries held until that family's registration is decided."""
    rows = s.execute(select(FeedEntry.payload).where(FeedEntry.payload.like(f'{{"{WAITING_KEY}": %'))).scalars()
    out: dict[str, list[dict]] = {}
    for payload in rows:
        data = json.loads(payload)
        out.setdefault(data[WAITING_KEY], []).append(data["entry"])
    return out
