"""What attendance changes in what is billed, for one child, unit and day. Pure: no database.

The grid alone bills R and AF cells (DESIGN §5). Attendance refines that, as the supervisor's
settings say (`AttendanceRules`, read by `attendance.settings`):

| cell        | door says                 | billed?                                             |
|-------------|---------------------------|-----------------------------------------------------|
| R           | présent / nothing marked  | yes, as booked                                      |
| R           | absent                    | yes if "bill no-shows", else no                     |
| R           | absent excusé             | no (like an excused cancellation)                   |
| AF          | anything                  | yes, as booked (cancelled late: billed whatever the door saw) |
| DA          | anything                  | no, as today: the pending cancellation decides      |
| blank or DR | présent sans réservation  | yes if "bill walk-ins", at the price plus the walk-in surcharge |
| blank or DR | nothing marked            | no                                                  |

A booked child nobody marked is billed as booked: forgetting to mark a child never loses a
family's bill, and never bills a family for a day it did not book.

`day_billing` answers for one day; `billed_days` combines a month's cells and attendance into the
days to bill, for the monthly run (the integrator wires it into `billing.invoicing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Mapping

from gandrange_desk.models import CellState, Labelled, Presence

Key = tuple[int, int, date]  # (child_id, unit_id, day)

BOOKED_BILLED = frozenset({CellState.R.value, CellState.AF.value})  # what the grid alone bills
EXPECTED = frozenset({CellState.R.value, CellState.DA.value})  # who the door expects
PRESENCES = frozenset(p.value for p in Presence)


@dataclass(frozen=True)
class AttendanceRules:
    """The supervisor's billing choices for absences and walk-ins (see `attendance.settings`)."""

    bill_no_shows: bool = True
    bill_walk_ins: bool = True
    walk_in_surcharge_percent: int = 0  # of the unit price, rounded half up to the cent
    walk_in_surcharge_cents: int = 0  # fixed, added to the percentage

    def walk_in_surcharge(self, unit_price_cents: int) -> int:
        percent = (2 * unit_price_cents * self.walk_in_surcharge_percent + 100) // 200
        return percent + self.walk_in_surcharge_cents


class Outcome(Labelled):
    """How one day is billed, in the words of an invoice line or an export."""

    AS_BOOKED = "as_booked", "Facturé comme réservé"
    NOTHING = "nothing", "Rien à facturer"
    PENDING_CANCELLATION = "pending_cancellation", "Annulation en attente : non facturé"
    NO_SHOW_BILLED = "no_show_billed", "Absence non excusée : facturée"
    NO_SHOW_FREE = "no_show_free", "Absence non excusée : non facturée"
    EXCUSED = "excused", "Absence excusée : non facturée"
    WALK_IN_BILLED = "walk_in_billed", "Présence sans réservation : facturée"
    WALK_IN_FREE = "walk_in_free", "Présence sans réservation : non facturée"


@dataclass(frozen=True)
class DayBilling:
    outcome: Outcome
    billed: bool
    walk_in: bool = False  # billed as a walk-in: the surcharge applies on top of the price

    @property
    def label(self) -> str:
        return self.outcome.label

    def changes_booking(self, state: str | None) -> bool:
        """Whether attendance made this day differ from what the grid alone bills."""
        return self.billed != (state in BOOKED_BILLED) or self.walk_in

    def amount_cents(self, unit_price_cents: int, rules: AttendanceRules) -> int:
        """What the day costs at `unit_price_cents` (the tariff's price for that family and day)."""
        if not self.billed:
            return 0
        return unit_price_cents + (rules.walk_in_surcharge(unit_price_cents) if self.walk_in else 0)

    def surcharge_cents(self, unit_price_cents: int, rules: AttendanceRules) -> int:
        """The walk-in surcharge alone, for its own invoice line."""
        return rules.walk_in_surcharge(unit_price_cents) if self.billed and self.walk_in else 0


@lru_cache(maxsize=512)  # few distinct (state, presence, rules): a month's 40,000 days cost one lookup each
def day_billing(state: str | None, presence: str | None, rules: AttendanceRules) -> DayBilling:
    """What is billed for one child, unit and day: `state` is the cell's code (None when blank),
    `presence` the attendance mark (None when nobody marked the child)."""
    if presence is not None and presence not in PRESENCES:
        raise ValueError(f"unknown presence {presence!r}")
    if state == CellState.AF:
        return DayBilling(Outcome.AS_BOOKED, True)
    if state == CellState.DA:
        return DayBilling(Outcome.PENDING_CANCELLATION, False)
    if state == CellState.R:
        if presence == Presence.ABSENT:
            return DayBilling(Outcome.NO_SHOW_BILLED, True) if rules.bill_no_shows else \
                DayBilling(Outcome.NO_SHOW_FREE, False)
        if presence == Presence.EXCUSED:
            return DayBilling(Outcome.EXCUSED, False)
        return DayBilling(Outcome.AS_BOOKED, True)
    # Blank or a booking request still waiting: no reservation.
    if presence in (Presence.WALK_IN, Presence.PRESENT):
        return DayBilling(Outcome.WALK_IN_BILLED, True, walk_in=True) if rules.bill_walk_ins else \
            DayBilling(Outcome.WALK_IN_FREE, False)
    return DayBilling(Outcome.NOTHING, False)


def billed_days(cells: Mapping[Key, str], presences: Mapping[Key, str], rules: AttendanceRules
                ) -> dict[Key, DayBilling]:
    """Every day to bill among a period's cells (key → state) and attendance (key → presence):
    the billed ones only, walk-ins included."""
    out: dict[Key, DayBilling] = {}
    for key in set(cells) | set(presences):
        found = day_billing(cells.get(key), presences.get(key), rules)
        if found.billed:
            out[key] = found
    return out


def attended(state: str | None, presence: str | None) -> bool | None:
    """Whether the child was there: True or False when the door said so, None when a booked (R)
    child was not marked (counted as there "d'après la réservation" by reports)."""
    if presence in (Presence.PRESENT, Presence.WALK_IN):
        return True
    if presence in (Presence.ABSENT, Presence.EXCUSED):
        return False
    return None if state == CellState.R else False
