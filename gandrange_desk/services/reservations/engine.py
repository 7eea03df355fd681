"""Cell changes as one batch: the rules judge each, the writer writes them all at the end.

Every front-end that moves cells uses a `CellBatch` inside its own transaction: the grid (a
click or a rectangle), the validation queue (one request or "Tout accepter" on 5,000), the
portal feed, period booking, and the families' portal. Each operation returns a `Step` (what
will be written) or a `rules.Refusal` (why not); the caller chooses its policy — skip the cell,
refuse the whole round, ask about capacity — and then calls `flush()`.

The one-cell operations of `bookings` are this batch with one cell in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from sqlalchemy.orm import Session

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Billing, CellState, RequestKind, RequestSource, RequestStatus, Unit
from gandrange_desk.services.calendar import Calendar

from .rules import (
    NO_PENDING, REASON_REQUIRED, Action, Cell, PendingInfo, Refusal, Rules, check_billing, target,
)
from .writer import CellWriter, NewRequest

DEFAULT_OVERRIDE_REASON = "Choix du bureau"


@dataclass(slots=True)
class Step:
    """One planned change of one cell, and the request row that records it."""

    cell: Cell
    action: Action
    kind: str  # RequestKind.BOOKING | RequestKind.CANCELLATION
    source: str
    status: str
    to_state: CellState | None
    family_id: int
    late: bool = False
    billing: str | None = None
    reason: str = ""
    request: NewRequest | int | None = None
    # The cell's month is already invoiced: the change is carried by the next invoice.
    regularisation: bool = False

    @property
    def request_id(self) -> int:
        """Known once the batch is flushed (a new request gets its id then)."""
        return self.request.id if isinstance(self.request, NewRequest) else self.request

    @property
    def day(self) -> date:
        return self.cell[2]


class CellBatch:
    def __init__(self, s: Session, desk, cal: Calendar | None = None):
        self.s, self.desk = s, desk
        self.rules = Rules(s, desk, cal)
        self.writer = CellWriter(s, desk)
        self.now: datetime = self.writer.now
        self.steps: list[Step] = []

    @property
    def cal(self) -> Calendar:
        return self.rules.cal

    def load(self, cells: Iterable[Cell], *, places: bool = False, pending: bool = False) -> "CellBatch":
        self.rules.load(cells, places=places, pending=pending)
        return self

    def unit(self, unit_id: int) -> Unit:
        return self.rules.units[unit_id]

    def child_name(self, child_id: int) -> str:
        return self.rules.children[child_id].name

    def label(self, cell: Cell) -> str:
        return self.rules.label(cell)

    # asking --------------------------------------------------------------------------------

    def ask_booking(self, cell: Cell, *, source: str, submitted_at: datetime, ref: str | None = None,
                    family_id: int | None = None) -> Step | Refusal:
        """blank → DR: a family asks, through the portal or the desk on its behalf."""
        refusal = self.rules.check(cell, Action.ASK_BOOKING, family_id=family_id)
        if refusal:
            return refusal
        late = self.rules.late_booking(cell, submitted_at)
        step = self._new(cell, Action.ASK_BOOKING, RequestKind.BOOKING, source, RequestStatus.PENDING,
                         CellState.DR, submitted_at, ref=ref, late=late)
        self.rules.add_pending(cell, PendingInfo(None, RequestKind.BOOKING, late, None, step.request))
        return step

    def book(self, cell: Cell, *, capacity_override: bool = False, ref: str | None = None,
             submitted_at: datetime | None = None, family_id: int | None = None) -> Step | Refusal:
        """blank → R: the office books directly (nothing to validate, no e-mail)."""
        refusal = self.rules.check(cell, Action.BOOK, family_id=family_id, capacity_override=capacity_override)
        if refusal:
            return refusal
        at = submitted_at or self.now
        left = self.rules.places_left(cell[1], cell[2]) if capacity_override else None
        over = left is not None and left <= 0
        step = self._new(cell, Action.BOOK, RequestKind.BOOKING, RequestSource.DESK_OFFICE,
                         RequestStatus.ACCEPTED, CellState.R, at, ref=ref,
                         late=self.rules.late_booking(cell, at), decided=True, capacity_override=over)
        if over:
            self.writer.audit("capacity_override", step.request, step.family_id,
                              after={"unit": self.unit(cell[1]).name, "day": cell[2]})
        return step

    def ask_cancellation(self, cell: Cell, *, source: str, submitted_at: datetime, ref: str | None = None,
                         family_id: int | None = None) -> Step | Refusal:
        """R → DA: the family asks to cancel; in time it will be excusée, late facturée."""
        refusal = self.rules.check(cell, Action.ASK_CANCELLATION, family_id=family_id)
        if refusal:
            return refusal
        late = self.rules.late_cancellation(cell, submitted_at)
        proposed = Billing.BILLED if late else Billing.EXCUSED
        step = self._new(cell, Action.ASK_CANCELLATION, RequestKind.CANCELLATION, source,
                         RequestStatus.PENDING, CellState.DA, submitted_at, ref=ref, late=late,
                         proposed_billing=proposed)
        self.rules.add_pending(cell, PendingInfo(None, RequestKind.CANCELLATION, late, proposed, step.request))
        return step

    def cancel(self, cell: Cell, *, billing: str | None = None, billing_reason: str = "",
               submitted_at: datetime | None = None) -> Step | Refusal:
        """R → blank (excusée) or AF (facturée): the office cancels directly.

        Without `billing`, the deadline decides; choosing against it keeps the reason given."""
        check_billing(billing)
        refusal = self.rules.check(cell, Action.CANCEL)
        if refusal:
            return refusal
        at = submitted_at or self.now
        late = self.rules.late_cancellation(cell, at)
        proposed = Billing.BILLED if late else Billing.EXCUSED
        chosen = billing or proposed
        why = (billing_reason.strip() or DEFAULT_OVERRIDE_REASON) if chosen != proposed else ""
        step = self._new(cell, Action.CANCEL, RequestKind.CANCELLATION, RequestSource.DESK_OFFICE,
                         RequestStatus.ACCEPTED, target(Action.CANCEL, CellState.R, chosen), at,
                         late=late, decided=True, proposed_billing=proposed, billing=chosen,
                         billing_override_reason=why)
        self.writer.audit("cancel_direct", step.request, step.family_id,
                          after={"billing": chosen, "proposed": proposed, "reason": why})
        return step

    # deciding ------------------------------------------------------------------------------

    def decide(self, cell: Cell, accept: bool, *, reason: str = "", billing: str | None = None,
               billing_reason: str = "", capacity_override: bool = False,
               request_id: int | None = None) -> Step | Refusal:
        """Decide the cell's pending request: DR → R / blank, DA → blank / AF / R.

        `billing` (excusée / facturée) replaces a cancellation's proposed billing; the reason
        for choosing against the proposal is kept (`billing_reason`, else "Choix du bureau")."""
        reason = (reason or "").strip()
        if not accept and not reason:
            raise ValidationFailed([REASON_REQUIRED])
        check_billing(billing)
        pending = self.rules.pending.get(cell)
        if pending is None or (request_id is not None and pending.id != request_id):
            return NO_PENDING
        booking = pending.kind == RequestKind.BOOKING
        if booking:
            action = Action.ACCEPT_BOOKING if accept else Action.REFUSE_BOOKING
        else:
            action = Action.ACCEPT_CANCELLATION if accept else Action.REFUSE_CANCELLATION
        refusal = self.rules.check(cell, action, capacity_override=capacity_override)
        if refusal:
            return refusal
        state = self.rules.state(cell)
        values = {"decided_by": self.writer.login, "decided_at": self.now, "reason": reason,
                  "status": RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED}
        chosen = None
        if action == Action.ACCEPT_BOOKING:
            values["capacity_override"] = bool(capacity_override)
        elif action == Action.ACCEPT_CANCELLATION:
            chosen = billing or pending.proposed_billing or Billing.EXCUSED
            values["billing"] = chosen
            if pending.proposed_billing and chosen != pending.proposed_billing:
                values["billing_override_reason"] = billing_reason.strip() or DEFAULT_OVERRIDE_REASON
        new_state = target(action, state, chosen)
        values["to_state"] = new_state
        handle = pending.handle if pending.id is None else pending.id
        self.writer.decide(handle, values)
        override_reason = values.get("billing_override_reason")
        capacity = bool(capacity_override and action == Action.ACCEPT_BOOKING)
        self.writer.audit(
            "decide", handle, self.rules.children[cell[0]].family_id, before={"state": state},
            after={"status": values["status"], "state": new_state, "billing": chosen, "reason": reason,
                   "billing_override_reason": override_reason, "capacity_override": capacity},
            key=("decide", state, values["status"], new_state, chosen, reason, override_reason, capacity))
        late = pending.late if action == Action.ACCEPT_BOOKING else None
        self._move(cell, new_state, late)
        del self.rules.pending[cell]
        step = Step(cell, action, pending.kind, "", values["status"], new_state,
                    self.rules.children[cell[0]].family_id, late=pending.late, billing=chosen,
                    reason=reason, request=handle, regularisation=self.rules.regularised(cell, action))
        self.steps.append(step)
        return step

    def withdraw(self, cell: Cell, *, reason: str = "") -> Step | Refusal:
        """DR → blank, DA → R: the family takes back its pending request (a booking asked, or a
        cancellation asked), or the desk takes back what it entered for the family."""
        pending = self.rules.pending.get(cell)
        if pending is None:
            return self.rules.check(cell, Action.WITHDRAW) or NO_PENDING
        refusal = self.rules.check(cell, Action.WITHDRAW)
        if refusal:
            return refusal
        handle = pending.handle if pending.id is None else pending.id
        new_state = target(Action.WITHDRAW, self.rules.state(cell))
        values = {"status": RequestStatus.WITHDRAWN, "to_state": new_state, "decided_by": self.writer.login,
                  "decided_at": self.now, "reason": (reason or "").strip() or "Retirée par la famille"}
        self.writer.decide(handle, values)
        self._move(cell, new_state)
        del self.rules.pending[cell]
        step = Step(cell, Action.WITHDRAW, pending.kind, "", RequestStatus.WITHDRAWN, new_state,
                    self.rules.children[cell[0]].family_id, reason=values["reason"], request=handle)
        self.steps.append(step)
        return step

    def flush(self) -> list[Step]:
        """Write everything planned; the steps then know their request ids."""
        self.writer.flush()
        steps, self.steps = self.steps, []
        return steps

    # ---------------------------------------------------------------------------------------

    def _new(self, cell: Cell, action: Action, kind: str, source: str, status: str,
             to_state: CellState | None, at: datetime, *, ref: str | None = None, late: bool = False,
             decided: bool = False, **extra) -> Step:
        rules = self.rules
        family_id = rules.children[cell[0]].family_id
        login = self.writer.login
        # The whole row in one dict (the writer adds the defaults of the columns not named):
        # built ~1,000 times a rectangle, one call per cell.
        request = self.writer.new_request({
            "kind": kind, "source": source, "ref": ref, "family_id": family_id, "child_id": cell[0],
            "unit_id": cell[1], "day": cell[2], "from_state": rules.cells[cell].state, "to_state": to_state,
            "submitted_at": at, "submitted_by": None if source == RequestSource.PORTAL else login,
            "status": status, "late": late, "decided_by": login if decided else None,
            "decided_at": self.now if decided else None, **extra})
        # A cell's `late` says its booking was accepted hors délai (the surcharge): a late
        # cancellation request must not make a booking late.
        self._move(cell, to_state, late if kind == RequestKind.BOOKING else None)
        step = Step(cell, action, kind, source, status, to_state, family_id, late, extra.get("billing"), "",
                    request, rules.regularised(cell, action))
        self.steps.append(step)
        return step

    def _move(self, cell: Cell, state: CellState | None, late: bool | None = None) -> None:
        self.rules.move(cell, state, late)
        self.writer.cell(cell, self.rules.cells[cell])


__all__ = ["CellBatch", "DEFAULT_OVERRIDE_REASON", "Step"]
