"""The validation queue (DESIGN §3): pending requests grouped, decided once, announced once.

`listing` reads the queue as the clerk sees it; `decide` accepts and refuses in one round
(`round.DecisionRound`), each request kind through its handler (`cell_requests`,
`registrations`, `family_changes`).
"""

from .decide import (
    HANDLERS, accept, accept_family_change, accept_registration, decide, refuse, refuse_registration,
)
from .family_changes import FieldChange, family_change_view
from .listing import (
    CELL_KINDS, USUAL_REASONS, ActivityGroup, FamilyGroup, QueueFilter, QueueItem, UnitGroup, group_items,
    pending, pending_items, request_payload,
)
from .options import ONE_BY_ONE_HOLD, DecisionOptions
from .round import DecisionResult, DecisionRound

__all__ = [
    "ActivityGroup", "CELL_KINDS", "ONE_BY_ONE_HOLD", "DecisionOptions", "DecisionResult", "DecisionRound", "FamilyGroup",
    "FieldChange", "HANDLERS", "QueueFilter", "QueueItem", "USUAL_REASONS", "UnitGroup", "accept",
    "accept_family_change", "accept_registration", "decide", "family_change_view", "group_items", "pending",
    "pending_items", "refuse", "refuse_registration", "request_payload",
]
