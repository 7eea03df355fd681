"""The portal feed (DESIGN §7): parse, check every entry, then write all of it or nothing
(a long feed in chunks of bounded transactions, see `import_feed`).

Checking happens before any write so a bad feed gets one French line per problem, naming the
entry's `ref`. Cell requests go through the reservation engine (one `CellBatch` for the whole
feed), so a feed can never put a cell in a state the grid would refuse. A `ref` already taken
is skipped.

Requests for a family whose registration is still waiting (in this feed or in the queue) are
held (`intake.waiting`) and replayed when it is accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.formats import count, ddmmyyyy
from gandrange_desk.models import (
    CellState, Child, FeedEntry, FeedHold, Request, RequestKind, RequestSource, RequestStatus,
)
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.intake.check import CellPlan, check_feed, load_by
from gandrange_desk.services.progress import Progress
from gandrange_desk.services.reservations.engine import CellBatch
from gandrange_desk.services.reservations.rules import Refusal, regularisation_note

MAX_FEED_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 100_000
MAX_PROBLEMS_SHOWN = 200
# Entries written per transaction by a long import (see `import_feed`): a few seconds of work
# at most, so another workstation's save never waits long for the SQLite write lock.
CHUNK_ENTRIES = 500
FEED_LOCK = 0x47444650  # the advisory lock feed imports take turns on (PostgreSQL)


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
    regularisations: int = 0  # cell requests in a month already invoiced
    changes: Changes = field(default_factory=Changes)

    def add(self, other: "IntakeResult") -> None:
        """Count a chunk of the same feed in."""
        for name in ("entries", "requests", "registrations", "family_changes", "waiting", "past_days",
                     "late", "already", "regularisations"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skipped += other.skipped
        self.changes.merge(other.changes)

    def summary(self) -> str:
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
        if self.regularisations:
            parts.append(regularisation_note(self.regularisations))
        if self.skipped:
            parts.append(count(len(self.skipped), "entrée déjà importée ignorée",
                               "entrées déjà importées ignorées"))
        return "Flux importé : " + ", ".join(parts) + "."


# --- parsing --------------------------------------------------------------------------------


def read_feed_file(path: str | Path) -> bytes:
    import stat

    p = Path(path)
    too_big = DeskError(f"Flux refusé : le fichier {p.name} est trop volumineux "
                        f"(au plus {MAX_FEED_BYTES // (1024 * 1024)} Mo).")
    try:
        mode = p.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):
            # /dev/zero, a pipe, a terminal: it may never end; a feed is a file.
            raise DeskError(f"Flux refusé : {p} n'est pas un fichier ordinaire.")
        if p.stat().st_size > MAX_FEED_BYTES:
            raise too_big
        with p.open("rb") as stream:
            data = stream.read(MAX_FEED_BYTES + 1)  # a file that grows while read stays bounded
        if len(data) > MAX_FEED_BYTES:
            raise too_big
        return data
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


def import_feed(desk: Desk, data: bytes | str, *, chunk: int | None = None,
                progress: Progress | None = None) -> IntakeResult:
    """Take a whole feed or nothing; ValidationFailed lists every problem by entry ref.

    A feed of more than `chunk` entries (CHUNK_ENTRIES) is first checked whole, cell decisions
    included, in a read transaction (nothing written, no write lock), then written a chunk at a
    time, each chunk its own transaction: on SQLite another workstation's save waits for one
    chunk, never for the whole import. Each chunk is checked again as it is written (the base may
    have moved meanwhile); should one be refused then, the chunks before it stay and importing
    the same feed again skips their refs and takes the rest."""
    entries = parse_feed(data)
    chunk = chunk or CHUNK_ENTRIES
    if len(entries) <= chunk:
        return _import_retrying(desk, entries)
    _import_once(desk, entries, dry_run=True)
    total = IntakeResult()
    parts = _chunks(entries, chunk)
    for number, part in enumerate(parts):
        if progress is not None:
            progress.check()
        try:
            done = _import_retrying(desk, part)
        except ValidationFailed as exc:
            if number == 0:
                raise
            raise ValidationFailed(exc.problems, headline=(
                f"Flux importé en partie : {count(total.entries, 'entrée enregistrée', 'entrées enregistrées')}, "
                "la suite refusée car la base a changé pendant l'import. Relancez l'import du même "
                "fichier une fois corrigé : les entrées déjà enregistrées seront ignorées.")) from None
        total.add(done)
        if progress is not None:
            progress.step(number + 1, len(parts), f"{total.entries + len(total.skipped)} entrées sur {len(entries)}")
    return total


def _chunks(entries: list, size: int) -> list[list]:
    """The entries in the order the check reads them (registrations first: a feed may register a
    family and book for it further down), cut in chunks of `size`."""
    ordered = [e for e in entries if isinstance(e, dict) and e.get("kind") == "registration"]
    ordered += [e for e in entries if not (isinstance(e, dict) and e.get("kind") == "registration")]
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def _import_retrying(desk: Desk, entries: list) -> IntakeResult:
    from sqlalchemy.exc import IntegrityError

    try:
        return _import_once(desk, entries)
    except IntegrityError:
        # Another workstation imported the same refs at the same moment: its rows won; once
        # more, they are now skipped as already taken.
        return _import_once(desk, entries)


def _import_once(desk: Desk, entries: list, *, dry_run: bool = False) -> IntakeResult:
    """Check and plan `entries` against the base, then (unless `dry_run`) write them in one
    transaction. Nothing is written before every problem is known."""
    result = IntakeResult()
    with (desk.read() if dry_run else desk.unit_of_work()) as s:
        if not dry_run and s.get_bind().dialect.name == "postgresql":
            # Two workstations importing at once take turns: otherwise the second may check its
            # refs before the first commits and its cells after, and find its own requests
            # "déjà en attente" instead of skipping the refs already taken.
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
        cal = Calendar.load(s)
        plans, skipped, problems = check_feed(desk, s, entries, cal)
        result.skipped = skipped
        if problems:
            raise _refusal(problems)
        children = {c.ref: c.id for c in load_by(s, select(Child), Child.ref,
                                                 {p.child_ref for p in plans if isinstance(p, CellPlan)})}
        batch = CellBatch(s, desk, cal)
        batch.load([(children[p.child_ref], p.unit.id, day) for p in plans
                    if isinstance(p, CellPlan) and not p.waiting for day in p.days], pending=True)
        others = _plan_requests(plans, batch, children, desk.today(), result, problems)
        if problems:
            raise _refusal(problems)
        if dry_run:
            return result
        now = desk.now()
        # The refs before the requests: a workstation importing the same feed at the same moment
        # waits here on the unique ref, then finds them taken and skips them (`import_feed` retries once).
        for plan in plans:
            if isinstance(plan, CellPlan):
                _add_feed_entry(s, desk, plan.ref, plan.raw.get("kind"), plan.submitted_at, plan.raw,
                                held_for=plan.family_ref if plan.waiting else None, now=now)
            else:
                kind, ref, submitted_at, content, raw = plan
                waiting_for = content[2] if kind == "family_change" else None
                _add_feed_entry(s, desk, ref, kind, submitted_at, raw, held_for=waiting_for, now=now)
        s.flush()
        steps = batch.flush()
        s.add_all(others)
        s.flush()
        result.changes.requests |= {step.request_id for step in steps} | {r.id for r in others}
        desk.audit(s, "feed.import", "feed_entry", None, after={
            "entries": result.entries, "requests": result.requests, "skipped": len(skipped)})
    return result


def _plan_requests(plans: list, batch: CellBatch, children: dict, today, result: IntakeResult,
                   problems: list[str]) -> list[Request]:
    """Cell requests asked of the batch (in memory until it flushes); the registrations and
    family changes as Request rows not yet added to the session."""
    others: list[Request] = []
    for plan in plans:
        if isinstance(plan, CellPlan):
            result.entries += 1
            if plan.waiting:
                result.waiting += 1
                continue
            period = plan.raw.get("kind") == "period_booking"
            for day in plan.days:
                cell = (children[plan.child_ref], plan.unit.id, day)
                if period and batch.rules.state(cell) is not None:
                    # A period only asks for the white cells, as the portal's total counts them.
                    result.already += 1
                    continue
                outcome = ask_cell(batch, plan.kind, cell, plan.submitted_at, plan.ref)
                if isinstance(outcome, Refusal):
                    problems.append(f"Entrée {plan.ref} : {ddmmyyyy(day)} : "
                                    f"{outcome.sentence(batch.label(cell))}")
                    continue
                result.requests += 1
                result.late += bool(outcome.late)
                result.past_days += day < today
                result.regularisations += outcome.regularisation
                result.changes.cells.add(cell)
            continue
        kind, ref, submitted_at, content, raw = plan
        result.entries += 1
        if kind == "registration":
            others.append(Request(kind=RequestKind.REGISTRATION, source=RequestSource.PORTAL, ref=ref,
                                  submitted_at=submitted_at, status=RequestStatus.PENDING,
                                  payload=json.dumps({"family": content}, ensure_ascii=False)))
            result.registrations += 1
            continue
        family, changes, waiting_for = content
        if waiting_for:
            result.waiting += 1
            continue
        others.append(Request(kind=RequestKind.FAMILY_CHANGE, source=RequestSource.PORTAL, ref=ref,
                              family_id=family.id, submitted_at=submitted_at, status=RequestStatus.PENDING,
                              payload=json.dumps(changes, ensure_ascii=False)))
        result.family_changes += 1
    return others


def import_feed_file(desk: Desk, path: str | Path) -> IntakeResult:
    return import_feed(desk, read_feed_file(path))


def _add_feed_entry(s, desk, ref, kind, submitted_at, raw, *, held_for: str | None = None, now=None) -> None:
    s.add(FeedEntry(ref=ref, kind=str(kind), submitted_at=submitted_at, imported_at=now or desk.now(),
                    imported_by=desk.actor.login, payload=json.dumps(raw, ensure_ascii=False),
                    held_for=held_for, hold=FeedHold.WAITING if held_for else FeedHold.NONE))


def _refusal(problems: list[str]) -> ValidationFailed:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        shown.append(f"… et {len(problems) - MAX_PROBLEMS_SHOWN} autres problèmes.")
    return ValidationFailed(shown, headline=f"Flux refusé, rien n'a été importé "
                                            f"({count(len(problems), 'problème', 'problèmes')}) :")


def ask_cell(batch: CellBatch, kind: str, cell, submitted_at: datetime, ref: str):
    """One portal cell request. Cancelling a cell still waiting as DR withdraws that request:
    the family clicked its own pending request away before the office decided it."""
    if kind == "cancellation" and batch.rules.state(cell) == CellState.DR:
        pending = batch.rules.pending.get(cell)
        if pending is not None and pending.kind == RequestKind.BOOKING:
            return batch.withdraw(cell, reason=f"Retirée par la famille ({ref})")
    if kind == "booking":
        return batch.ask_booking(cell, source=RequestSource.PORTAL, submitted_at=submitted_at, ref=ref)
    return batch.ask_cancellation(cell, source=RequestSource.PORTAL, submitted_at=submitted_at, ref=ref)
