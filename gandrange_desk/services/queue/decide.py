"""Accepting and refusing requests: one round, one transaction, decided once, announced once.

The chosen requests are locked; those another workstation decided meanwhile are reported, not
decided again; each kind of request goes to its handler (`HANDLERS`): cell requests through the
reservation engine, registrations, family changes. Any problem refuses the whole round with one
French line per request; otherwise the round's e-mails go to the outbox in the same transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Callable, Iterable

from sqlalchemy import select

from gandrange_desk.errors import AlreadyDecided, DeskError, NotFound, ValidationFailed
from gandrange_desk.models import Billing, Request, RequestKind, Role
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk
from gandrange_desk.services.reservations.rules import REASON_REQUIRED

from . import cell_requests, documents, family_changes, registrations
from .claims import LockedRequest, load_in, lock_rows, with_retries
from .listing import request_payload
from .options import DecisionOptions
from .round import DecisionResult, DecisionRound


def _cells(rnd: DecisionRound, rows: list[LockedRequest], accept: bool, options: DecisionOptions) -> list[str]:
    return cell_requests.decide(rnd, rows, accept, options)


def _registrations(rnd: DecisionRound, rows: list[LockedRequest], accept: bool,
                   options: DecisionOptions) -> list[str]:
    problems = []
    for r in load_in(rnd.s, select(Request), Request.id, {r.id for r in rows}):
        try:
            if accept:
                registrations.accept(rnd, r, options.calendar)
            else:
                registrations.refuse(rnd, r, options.reason)
        except DeskError as exc:
            problems.append(f"Demande n° {r.id} ({r.ref}) : {exc.message}")
    return problems


def _family_changes(rnd: DecisionRound, rows: list[LockedRequest], accept: bool,
                    options: DecisionOptions) -> list[str]:
    problems = []
    for r in load_in(rnd.s, select(Request), Request.id, {r.id for r in rows}):
        if options.fields is not None:
            fields = list(options.fields)
        else:
            fields = list(request_payload(r).get("changes", {})) if accept else []
        try:
            family_changes.decide(rnd, r, fields, options.reason)
        except DeskError as exc:
            problems.append(f"Demande n° {r.id} ({r.ref}) : {exc.message}")
    return problems


def _documents(rnd: DecisionRound, rows: list[LockedRequest], accept: bool, options: DecisionOptions) -> list[str]:
    """Accept: the document is checked; refuse: another is asked for, the reason e-mailed."""
    problems = []
    for r in load_in(rnd.s, select(Request), Request.id, {r.id for r in rows}):
        try:
            documents.decide(rnd, r, accept, options.reason)
        except DeskError as exc:
            problems.append(f"Demande n° {r.id} ({r.ref}) : {exc.message}")
    return problems


# Request kinds plug in here; cell requests are decided first (a registration's replayed
# requests must not be decided in the round that creates them).
Handler = Callable[[DecisionRound, list, bool, DecisionOptions], list[str]]
HANDLERS: dict[str, Handler] = {
    RequestKind.BOOKING: _cells,
    RequestKind.CANCELLATION: _cells,
    RequestKind.REGISTRATION: _registrations,
    RequestKind.FAMILY_CHANGE: _family_changes,
    RequestKind.DOCUMENT: _documents,
}


def decide(desk: Desk, ids: list[int] | None, accept: bool, options: DecisionOptions) -> DecisionResult:
    """One round over `ids` (None: every pending request the queue decides)."""
    if ids is not None and not ids:
        raise ValidationFailed(["Aucune demande choisie."])

    def run() -> DecisionResult:
        with desk.unit_of_work() as s:
            rows, already = lock_rows(s, desk, ids)
            rnd = DecisionRound(s, desk)
            rnd.result.already = already
            if not rows:
                if ids is None:
                    return rnd.result
                raise AlreadyDecided("\n".join(already))
            options.calendar = options.calendar or Calendar.load(s)
            groups: dict[Handler, list] = {}
            for r in rows:
                handler = HANDLERS.get(r.kind)
                if handler is None:
                    raise DeskError(f"Demande n° {r.id} : ce type de demande se traite depuis la fiche famille.")
                groups.setdefault(handler, []).append(r)
            problems: list[str] = []
            for handler, group in sorted(groups.items(), key=lambda kv: kv[0] is not _cells):
                problems += handler(rnd, group, accept, options)
            if problems:
                raise ValidationFailed(problems, headline="Rien n'a été enregistré :")
            return rnd.close(options.hold)

    return with_retries(run)


def _ids(ids: Iterable[int] | None) -> list[int] | None:
    return None if ids is None else list(dict.fromkeys(int(i) for i in ids))


def accept(desk: Desk, ids: Iterable[int] | None, *, billing: str | None = None,
           overrides: dict[int, tuple[str, str]] | None = None,
           capacity_override: bool = False, hold: timedelta | None = None) -> DecisionResult:
    """Accept requests (None: every pending one) in one transaction, with their e-mails.

    `billing` applies to every cancellation (else each keeps its proposed billing); `overrides`
    gives one cancellation its own billing and the reason (certificat médical…). With `hold`,
    the e-mails wait for the next decisions of the same family and activity (one by one).
    """
    desk.require(Role.AGENT, "Valider des demandes")
    if billing is not None and billing not in (Billing.EXCUSED, Billing.BILLED):
        raise ValidationFailed([f"Facturation inconnue : « {billing} » (excused ou billed)."])
    overrides = dict(overrides or {})
    for rid, (b, _reason) in overrides.items():
        if b not in (Billing.EXCUSED, Billing.BILLED):
            raise ValidationFailed([f"Demande n° {rid} : facturation inconnue « {b} »."])
    return decide(desk, _ids(ids), True, DecisionOptions(billing=billing, overrides=overrides,
                                                         capacity_override=capacity_override, hold=hold))


def refuse(desk: Desk, ids: Iterable[int] | None, reason: str, *, hold: timedelta | None = None) -> DecisionResult:
    desk.require(Role.AGENT, "Refuser des demandes")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed([REASON_REQUIRED])
    return decide(desk, _ids(ids), False, DecisionOptions(reason=reason, hold=hold))


def _one_of_kind(desk: Desk, request_id: int, kind: str) -> None:
    with desk.read() as s:
        found = s.execute(select(Request.kind).where(Request.id == request_id)).scalar()
    if found is None:
        raise NotFound(f"Demande introuvable : n° {request_id}.")
    if found != kind:
        raise DeskError(f"La demande n° {request_id} n'est pas une {RequestKind(kind).label.lower()}.")


def accept_registration(desk: Desk, request_id: int) -> DecisionResult:
    _one_of_kind(desk, request_id, RequestKind.REGISTRATION)
    return accept(desk, [request_id])


def refuse_registration(desk: Desk, request_id: int, reason: str) -> DecisionResult:
    _one_of_kind(desk, request_id, RequestKind.REGISTRATION)
    return refuse(desk, [request_id], reason)


def accept_family_change(desk: Desk, request_id: int, fields: Iterable[str], *, reason: str = "") -> DecisionResult:
    """Apply the chosen fields; the others are refused (with `reason`, e-mailed)."""
    desk.require(Role.AGENT, "Traiter une modification de famille")
    _one_of_kind(desk, request_id, RequestKind.FAMILY_CHANGE)
    return decide(desk, [request_id], True, DecisionOptions(reason=" ".join((reason or "").split()),
                                                            fields=list(fields)))


__all__ = ["HANDLERS", "accept", "accept_family_change", "accept_registration", "decide", "refuse",
           "refuse_registration"]
