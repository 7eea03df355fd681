"""The decision round: everything decided in one transaction, and the e-mails it owes.

Every decision goes through a round, whichever screen took it (the Validation tab, the grid's
inline decisions, the command line, later the families' portal's withdrawals): cell requests,
registrations, family changes. The round groups the cell decisions per family and activity —
one e-mail each, in the guide's words, by unit then child — writes the outbox rows in the same
transaction (`mail.outbox.enqueue_many`), and returns what was decided and what changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk.formats import count
from gandrange_desk.models import Activity, Family, Guardian, RequestKind, RequestStatus, Structure
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.mail import texts as mail_texts
from gandrange_desk.services.mail.outbox import Outgoing, enqueue_many, family_recipients
from gandrange_desk.services.reservations.engine import CellBatch, Step
from gandrange_desk.services.reservations.rules import regularisation_note

CHUNK = 900


@dataclass
class DecisionResult:
    decided: list[int] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # "Demande n° 12 déjà traitée par X à HH:MM."
    messages: int = 0  # outbox rows written
    without_email: list[str] = field(default_factory=list)  # families to tell another way
    notes: list[str] = field(default_factory=list)
    credentials: list[tuple[str, str, str, bool]] = field(default_factory=list)  # ref, login, password, mailed
    skipped: dict[int, str] = field(default_factory=dict)  # request id -> why it was left pending
    regularisations: int = 0  # decided cells of a month already invoiced
    changes: Changes = field(default_factory=Changes)

    def summary(self, verb: str = "acceptée") -> str:
        plural_verb = verb + "s"
        lines = [f"{count(len(self.decided), 'demande ' + verb, 'demandes ' + plural_verb)}, "
                 f"{count(self.messages, 'e-mail mis', 'e-mails mis')} en file d'envoi."]
        if self.regularisations:
            lines.append(regularisation_note(self.regularisations) + ".")
        lines += self.already
        if self.without_email:
            lines.append("Sans adresse électronique, à prévenir autrement : " + ", ".join(self.without_email) + ".")
        lines += self.notes
        return "\n".join(lines)


def sender(s: Session) -> mail_texts.Sender:
    """Who signs the e-mails: the structure and how to reach the bureau."""
    structure = s.execute(select(Structure).order_by(Structure.id).limit(1)).scalar()
    if structure is None:
        return mail_texts.Sender("la structure")
    return mail_texts.Sender(structure.name, structure.phone or "", structure.email or "",
                             structure.portal_url or "")


class DecisionRound:
    def __init__(self, s: Session, desk):
        self.s, self.desk = s, desk
        self.result = DecisionResult()
        self._sender: mail_texts.Sender | None = None
        self._cells: dict[tuple[int, int], list[tuple[int, mail_texts.CellLine]]] = defaultdict(list)
        self._outgoing: list[Outgoing] = []

    @property
    def sender(self) -> mail_texts.Sender:
        if self._sender is None:
            self._sender = sender(self.s)
        return self._sender

    def cells_decided(self, batch: CellBatch, steps: list[Step]) -> None:
        """Flushed steps of `batch` that decided requests: each is announced to its family."""
        for step in steps:
            unit = batch.unit(step.cell[1])
            line = mail_texts.CellLine(
                kind=mail_texts.BOOKING if step.kind == RequestKind.BOOKING else mail_texts.CANCELLATION,
                accepted=step.status == RequestStatus.ACCEPTED, unit=unit.name, day=step.day,
                unit_position=unit.position, child=batch.child_name(step.cell[0]), billing=step.billing,
                reason=step.reason)
            self._cells[(step.family_id, unit.activity_id)].append((step.request_id, line))
            self.decided(step.request_id, step.family_id)
            self.result.changes.cells.add(step.cell)
            self.result.regularisations += step.regularisation

    def decided(self, request_id: int, family_id: int | None = None) -> None:
        self.result.decided.append(request_id)
        self.result.changes.requests.add(request_id)
        if family_id is not None:
            self.result.changes.families.add(family_id)

    def mail(self, family_id: int | None, recipients: list[str], mail: mail_texts.Mail, kind: str,
             related: list[int], family_label: str) -> None:
        if not recipients:
            if family_label not in self.result.without_email:
                self.result.without_email.append(family_label)
            return
        self._outgoing.append(Outgoing(recipients, mail.subject, mail.text, mail.html, family_id, kind,
                                       tuple(related)))

    def close(self) -> DecisionResult:
        """Compose the cell e-mails and write every message of the round; returns the result."""
        if self._cells:
            families = _mail_families(self.s, {fid for fid, _ in self._cells})
            activities = {a.id: a.name for a in self.s.execute(
                select(Activity).where(Activity.id.in_({aid for _, aid in self._cells}))).scalars()}
            for (family_id, activity_id), entries in sorted(self._cells.items()):
                family = families[family_id]
                mail = mail_texts.cell_decisions_mail(self.sender, activities[activity_id],
                                                      [line for _, line in entries])
                self.mail(family_id, family_recipients(family), mail, "decision",
                          [rid for rid, _ in entries], f"{family.name} ({family.ref})")
            self._cells.clear()
        if self._outgoing:
            enqueue_many(self.s, self.desk, self._outgoing)
            self.result.messages += len(self._outgoing)
            self.result.changes.outbox += len(self._outgoing)
            self._outgoing = []
        return self.result


def _mail_families(s: Session, family_ids: set[int]) -> dict:
    """Name, ref and guardians' addresses of many families, without loading whole aggregates."""
    ids = sorted(family_ids)
    out = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for fid, ref, name in s.execute(select(Family.id, Family.ref, Family.name).where(Family.id.in_(chunk))):
            out[fid] = SimpleNamespace(id=fid, ref=ref, name=name, guardians=[])
        for fid, email, receives in s.execute(
                select(Guardian.family_id, Guardian.email, Guardian.receives_email)
                .where(Guardian.family_id.in_(chunk)).order_by(Guardian.family_id, Guardian.position, Guardian.id)):
            out[fid].guardians.append(SimpleNamespace(email=email, receives_email=receives))
    return out


__all__ = ["DecisionResult", "DecisionRound", "sender"]
