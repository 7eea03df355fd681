"""The reservation grid's operations: one transaction each, over one cell or a thousand.

A cell is `(child_id, unit_id, day)`. Each operation loads the rules' picture of its cells once
(`engine.CellBatch`), plans every cell, and writes them together. Cells the action does not
apply to (a closed day, a cell in another state) are skipped with their reason;
when no cell at all could change, the operation is refused with the first reason, so a single
click gets the precise French sentence. A cell of a month already invoiced changes like any
other; the result counts it (`regularisations`): the next invoice carries the difference. Going over capacity refuses the whole operation unless
the override is given. Decisions go through the validation queue's round, so a family gets the
same e-mail whichever screen decided.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

from sqlalchemy import and_, select

from gandrange_desk import formats
from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Billing, Request, RequestSource, RequestStatus
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.queue.round import DecisionRound

from .engine import CellBatch, Step
from .periods import plan_for
from .rules import (
    NO_CELL, BookingRefused, Cell, Refusal, cells_table, check_billing, nothing_changed, over_capacity,
    override_reason_required, regularisation_note,
)


# Actions whose requests are created already decided (never pending).
SETTLED_ACTIONS = frozenset(("book", "cancel"))


@dataclass
class CellsResult:
    changed: dict[Cell, str | None] = field(default_factory=dict)  # cell -> its new state
    skipped: dict[Cell, str] = field(default_factory=dict)  # cell -> why it was left alone
    request_ids: list[int] = field(default_factory=list)
    messages: int = 0  # e-mails queued (inline decisions)
    action: str = ""  # book | ask | cancel | ask_cancel | withdraw | decide | undo: what `undo` takes back
    regularisations: int = 0  # changed cells of a month already invoiced

    @property
    def changes(self) -> Changes:
        requests = set(self.request_ids)
        # An office booking or cancellation is written decided: no pending request moves.
        settled = requests if self.action in SETTLED_ACTIONS else set()
        return Changes(cells=set(self.changed), requests=requests, settled=set(settled), outbox=self.messages)

    def summary(self, verb: tuple[str, str]) -> str:
        text = formats.count(len(self.changed), "case", "cases") + " " + formats.plural(
            len(self.changed), *verb)
        if self.skipped:
            text += f", {formats.count(len(self.skipped), 'case ignorée', 'cases ignorées')}"
        text += "."
        if self.regularisations:
            text += f" {regularisation_note(self.regularisations)}."
        return text


def _unique(cells: Iterable[Cell]) -> list[Cell]:
    cells = sorted(set(cells))  # (child, unit, day): the tuples' own order, compared in C
    if not cells:
        raise BookingRefused(NO_CELL)
    return cells


class _Outcomes:
    """Sorts a batch's outcomes into steps, skipped cells and capacity refusals."""

    def __init__(self, batch: CellBatch):
        self.batch = batch
        self.result = CellsResult()
        self.steps: list[Step] = []
        self.full: list[Cell] = []

    def add(self, cell: Cell, outcome: Step | Refusal) -> None:
        if isinstance(outcome, Step):
            self.steps.append(outcome)
        elif outcome.code == "capacity":
            self.full.append(cell)
        else:
            self.result.skipped[cell] = outcome.reason

    def refuse_if_empty(self) -> None:
        if self.steps or self.full:
            return
        cell, reason = next(iter(self.result.skipped.items()))
        raise nothing_changed(self.batch.label(cell), reason, len(self.result.skipped) - 1)

    def refuse_over_capacity(self) -> None:
        if self.full:
            wanted = Counter((s.cell[1], s.cell[2]) for s in self.steps) + Counter((c[1], c[2]) for c in self.full)
            wanted = Counter({k: n for k, n in wanted.items() if k in {(c[1], c[2]) for c in self.full}})
            raise over_capacity(self.batch.rules.units, wanted, self.batch.rules.used_at_load)

    def done(self, action: str) -> CellsResult:
        self.result.action = action
        for step in self.batch.flush():
            self.result.changed[step.cell] = step.to_state
            self.result.request_ids.append(step.request_id)
            self.result.regularisations += step.regularisation
        return self.result


def book_cells(desk, cells: Iterable[Cell], *, for_family: bool = False,
               capacity_override: bool = False, cal: Calendar | None = None) -> CellsResult:
    """Blank cells → R (the office books), or → DR "pour la famille" (help sessions)."""
    cells = _unique(cells)
    with desk.unit_of_work() as s:
        batch = CellBatch(s, desk, cal).load(cells, places=not for_family)
        out = _Outcomes(batch)
        for cell in cells:
            if for_family:
                out.add(cell, batch.ask_booking(cell, source=RequestSource.DESK_FAMILY, submitted_at=batch.now))
            else:
                out.add(cell, batch.book(cell, capacity_override=capacity_override))
        out.refuse_if_empty()
        out.refuse_over_capacity()
        return out.done("ask" if for_family else "book")


def book_period(desk, child_ids: Iterable[int], unit_id: int, first: date, last: date,
                week_type: str, weekdays: Iterable[int], *, for_family: bool = False,
                capacity_override: bool = False) -> CellsResult:
    """One R (office) or DR (pour la famille) per open day of the period; one transaction."""
    with desk.read() as s:
        cal = Calendar.load(s)
        plan = plan_for(s, cal, unit_id, first, last, week_type, weekdays)
    if not plan.days:
        raise ValidationFailed(["Aucun jour d'ouverture dans cette période pour ces choix."])
    cells = [(child_id, unit_id, day) for child_id in sorted(set(child_ids)) for day in plan.days]
    return book_cells(desk, cells, for_family=for_family, capacity_override=capacity_override, cal=cal)


def cancel_cells(desk, cells: Iterable[Cell], *, billing: str, reason: str = "",
                 cal: Calendar | None = None) -> CellsResult:
    """R cells cancelled by the office: → blank (excusée) or → AF (facturée).

    Choosing against what the cancellation deadline proposes needs a reason, which is kept.
    """
    check_billing(billing, required=True)
    cells = _unique(cells)
    reason = (reason or "").strip()
    with desk.unit_of_work() as s:
        batch = CellBatch(s, desk, cal).load(cells)
        out = _Outcomes(batch)
        for cell in cells:
            out.add(cell, batch.cancel(cell, billing=billing, billing_reason=reason))
        out.refuse_if_empty()
        overrides = sum(1 for step in out.steps if step.billing != batch.rules.proposed_billing(step.cell, batch.now))
        if overrides and not reason:
            raise override_reason_required(overrides, billing)
        return out.done("cancel")


def ask_cancel_cells(desk, cells: Iterable[Cell], *, cal: Calendar | None = None) -> CellsResult:
    """R → DA entered at the desk for the family ("pour la famille")."""
    cells = _unique(cells)
    with desk.unit_of_work() as s:
        batch = CellBatch(s, desk, cal).load(cells)
        out = _Outcomes(batch)
        for cell in cells:
            out.add(cell, batch.ask_cancellation(cell, source=RequestSource.DESK_FAMILY, submitted_at=batch.now))
        out.refuse_if_empty()
        return out.done("ask_cancel")


def withdraw_cells(desk, cells: Iterable[Cell]) -> CellsResult:
    """DR → blank, DA → R: the family (or the desk for it) withdraws its pending requests."""
    cells = _unique(cells)
    with desk.unit_of_work() as s:
        batch = CellBatch(s, desk).load(cells, pending=True)
        out = _Outcomes(batch)
        for cell in cells:
            out.add(cell, batch.withdraw(cell))
        out.refuse_if_empty()
        return out.done("withdraw")


def decide_cells(desk, cells: Iterable[Cell], accept: bool, *, reason: str = "",
                 billing: str | None = None, billing_reason: str = "",
                 capacity_override: bool = False, hold: timedelta | None = None) -> CellsResult:
    """Decide the pending requests of DR / DA cells, announced as the queue announces them."""
    cells = _unique(cells)
    with desk.unit_of_work() as s:
        batch = CellBatch(s, desk).load(cells, places=accept, pending=True)
        out = _Outcomes(batch)
        for cell in cells:
            out.add(cell, batch.decide(cell, accept, reason=reason, billing=billing,
                                       billing_reason=billing_reason, capacity_override=capacity_override))
        out.refuse_if_empty()
        out.refuse_over_capacity()
        steps = list(out.steps)
        result = out.done("decide")
        rnd = DecisionRound(s, desk)
        rnd.cells_decided(batch, steps)
        result.messages = rnd.close(hold).messages
        return result


# --- Ctrl+Z in the grid ----------------------------------------------------------------------

UNDO_REASON = "Saisie annulée par le bureau (Ctrl+Z)"
# What the grid may take back: changes no family has been told of. An office booking or
# cancellation is never announced; a request entered "pour la famille" is still pending.
UNDOABLE = {"book", "ask", "cancel", "ask_cancel"}
UNDO_WORDS = {"withdraw": "le retrait d'une demande", "decide": "une décision annoncée à la famille",
              "undo": "une annulation de saisie"}


def undo(desk, done: CellsResult) -> CellsResult:
    """Take back the grid's last change, through the rules, all its cells or none.

    An office booking is cancelled excusée (never billed), an office cancellation booked again,
    a request entered for the family withdrawn. Refused — in French, nothing written — for what
    was announced to the family (a decision), a billed cancellation, or a cell that someone
    changed since (its latest request is no longer this change's)."""
    if done.action not in UNDOABLE:
        what = UNDO_WORDS.get(done.action, "cette opération")
        raise BookingRefused(f"Impossible d'annuler {what} : seules les saisies du bureau que la famille "
                             "ne connaît pas encore s'annulent (Ctrl+Z).")
    cells = _unique(done.changed)
    ours = set(done.request_ids)
    with desk.unit_of_work() as s:
        batch = CellBatch(s, desk).load(cells, pending=True)
        latest = _latest_requests(s, cells)
        for cell in cells:
            request_id, status, who = latest.get(cell, (None, None, None))
            if request_id not in ours or done.changed[cell] != batch.rules.state(cell):
                raise BookingRefused(f"{batch.label(cell)} : la case a changé depuis"
                                     + (f" ({who})" if who else "") + ", rien n'a été annulé.")
            if done.action in ("ask", "ask_cancel") and status != RequestStatus.PENDING:
                raise BookingRefused(f"{batch.label(cell)} : la demande a déjà été traitée"
                                     + (f" par {who}" if who else "") + ", rien n'a été annulé.")
            if done.action == "cancel" and done.changed[cell] is not None:
                raise BookingRefused(f"{batch.label(cell)} : une annulation facturée ne s'annule pas ainsi "
                                     "(réservez la case de nouveau), rien n'a été annulé.")
        for cell in cells:
            if done.action == "book":
                outcome = batch.cancel(cell, billing=Billing.EXCUSED, billing_reason=UNDO_REASON)
            elif done.action == "cancel":
                outcome = batch.book(cell)
            else:
                outcome = batch.withdraw(cell, reason=UNDO_REASON)
            if isinstance(outcome, Refusal):
                raise outcome.error(batch.label(cell))
        result = CellsResult(action="undo")
        for step in batch.flush():
            result.changed[step.cell] = step.to_state
            result.request_ids.append(step.request_id)
        return result


def _latest_requests(s, cells: list[Cell]) -> dict[Cell, tuple[int, str, str]]:
    """Each cell's most recent request: (id, status, who last acted on it)."""
    out: dict[Cell, tuple[int, str, str]] = {}
    for start in range(0, len(cells), 900):
        wanted = cells_table(s, cells[start:start + 900])
        for rid, cid, uid, day, status, submitted_by, decided_by in s.execute(
                select(Request.id, Request.child_id, Request.unit_id, Request.day, Request.status,
                       Request.submitted_by, Request.decided_by)
                .join(wanted, and_(Request.child_id == wanted.c.column1, Request.unit_id == wanted.c.column2,
                                   Request.day == wanted.c.column3)).order_by(Request.id)):
            out[(cid, uid, day)] = (rid, status, decided_by or submitted_by or "")
    return out


__all__ = ["CellsResult", "UNDOABLE", "ask_cancel_cells", "book_cells", "book_period", "cancel_cells",
           "decide_cells", "undo", "withdraw_cells"]
