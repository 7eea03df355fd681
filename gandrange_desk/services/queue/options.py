"""What the clerk chose for a round: the refusal reason, billing choices, capacity override."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from gandrange_desk.services.calendar import Calendar

ROUND_BILLING_REASON = "Choix du bureau (décision groupée)"
# How long a decision e-mail waits for the clerk's next decisions on the same family and activity.
ONE_BY_ONE_HOLD = timedelta(minutes=3)


@dataclass
class DecisionOptions:
    reason: str = ""
    billing: str | None = None  # every cancellation of the round (else each keeps its proposal)
    overrides: dict[int, tuple[str, str]] = field(default_factory=dict)  # request id -> (billing, why)
    capacity_override: bool = False
    fields: list[str] | None = None  # family changes: the fields accepted (None: all of them)
    calendar: Calendar | None = None
    # Decisions taken one by one: the e-mails wait this long for the next decisions of the same
    # family and activity (None: they leave now, with what was held for them).
    hold: timedelta | None = None

    def billing_for(self, request_id: int) -> tuple[str | None, str]:
        """The clerk's per-date choice wins; a round-wide choice is recorded as such."""
        if request_id in self.overrides:
            return self.overrides[request_id]
        return self.billing, (ROUND_BILLING_REASON if self.billing else "")


__all__ = ["DecisionOptions", "ONE_BY_ONE_HOLD", "ROUND_BILLING_REASON"]
