"""What an operation changed, so every front-end can refresh what it shows and nothing more.

A service operation returns (or carries on its result) one `Changes`: the cells, requests,
families, invoices… it wrote. The window rebroadcasts it to every tab, which refreshes itself
when it shows any of it, or marks itself stale when hidden. The command line ignores it; the
portal uses it to say what the family now sees. Plain data, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

Cell = tuple[int, int, date]  # (child_id, unit_id, day)


@dataclass
class Changes:
    cells: set[Cell] = field(default_factory=set)
    requests: set[int] = field(default_factory=set)  # requests created or decided (the queue)
    # Those of `requests` created already decided (an office booking or cancellation): they
    # never were pending, so the count of pending requests did not move for them.
    settled: set[int] = field(default_factory=set)
    families: set[int] = field(default_factory=set)  # family files (members, quotients, mandates…)
    invoices: set[int] = field(default_factory=set)  # invoices and credit notes of those families
    payments: set[int] = field(default_factory=set)  # families whose payments or balances moved
    attendance: set[Cell] = field(default_factory=set)  # presences marked or cleared (pointage)
    outbox: int = 0  # e-mails queued (or re-queued) by the operation
    appointments: bool = False
    settings: bool = False  # structure, activities, units, tariffs, closures, SMTP, users
    everything: bool = False

    def merge(self, other: "Changes | None") -> "Changes":
        """Add `other` into this record (in place) and return it."""
        if other is None:
            return self
        self.cells |= other.cells
        self.requests |= other.requests
        self.settled |= other.settled
        self.families |= other.families
        self.invoices |= other.invoices
        self.payments |= other.payments
        self.attendance |= other.attendance
        self.outbox += other.outbox
        self.appointments = self.appointments or other.appointments
        self.settings = self.settings or other.settings
        self.everything = self.everything or other.everything
        return self

    def __bool__(self) -> bool:
        return any(bool(getattr(self, f.name)) for f in fields(self))

    def touches(self, *topics: str) -> bool:
        """Whether any of the named topics (field names) changed: `changes.touches("cells")`."""
        return self.everything or any(bool(getattr(self, t)) for t in topics)

    def moves_pending(self) -> bool:
        """Whether the number of pending requests may have changed (the status bar's count)."""
        if self.everything:
            return True
        if self.requests:
            return bool(self.requests - self.settled)
        return bool(self.cells)  # a cell change said without its requests: count again

    @classmethod
    def all(cls) -> "Changes":
        """Anything may have changed (a restore, a settings import, F5): every view reloads."""
        return cls(everything=True)
