"""Deciding DR / DA requests in a round: the reservation engine judges, the round announces.

One `CellBatch` for the whole round, so "Tout accepter" on 5,000 requests is a handful of
statements; one request is the same code with one row.
"""

from __future__ import annotations

from gandrange_desk.models import RequestKind
from gandrange_desk.services.reservations.engine import CellBatch
from gandrange_desk.services.reservations.rules import Refusal

from .options import DecisionOptions
from .round import DecisionRound


def decide(rnd: DecisionRound, rows: list, accept: bool, options: DecisionOptions) -> list[str]:
    """Decide locked, pending cell requests; returns the problems (then nothing is written)."""
    batch = CellBatch(rnd.s, rnd.desk, options.calendar)
    batch.rules.load_requests(rows, places=accept)
    cells = {r.id: (r.child_id, r.unit_id, r.day) for r in rows}
    problems: list[str] = []
    for r in sorted(rows, key=lambda r: r.id):
        billing, why = options.billing_for(r.id) if r.kind == RequestKind.CANCELLATION else (None, "")
        outcome = batch.decide(cells[r.id], accept, reason=options.reason, billing=billing,
                               billing_reason=why, capacity_override=options.capacity_override,
                               request_id=r.id)
        if isinstance(outcome, Refusal):
            problems.append(f"Demande n° {r.id} : {outcome.sentence(batch.label(cells[r.id]))}")
    if problems:
        return problems
    rnd.cells_decided(batch, batch.flush())
    return []


__all__ = ["decide"]
