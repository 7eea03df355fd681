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
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gandrange_desk.formats import count
from gandrange_desk.models import (
    Activity, Child, Family, Guardian, OutboxMessage, OutboxStatus, Request, RequestKind, RequestStatus,
    Structure, Unit,
)
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
    held_until: datetime | None = None  # the round's e-mails wait until then for the next decisions
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
             related: list[int], family_label: str, secrets: dict[str, str] | None = None) -> None:
        if not recipients:
            if family_label not in self.result.without_email:
                self.result.without_email.append(family_label)
            return
        self._outgoing.append(Outgoing(recipients, mail.subject, mail.text, mail.html, family_id, kind,
                                       tuple(related), secrets=dict(secrets or {})))

    def close(self, hold: timedelta | None = None) -> DecisionResult:
        """Compose the cell e-mails and write every message of the round; returns the result.

        With `hold`, the cell e-mails wait that long: a decision taken meanwhile for the same
        family and activity joins the same message (the clerk deciding line by line still sends
        one e-mail per round). Without it, they leave at once, with anything held for them."""
        if self._cells:
            self._cell_mails(hold)
        if self._outgoing:
            enqueue_many(self.s, self.desk, self._outgoing)
            self.result.messages += len(self._outgoing)
            self.result.changes.outbox += len(self._outgoing)
            self._outgoing = []
        return self.result

    def _cell_mails(self, hold: timedelta | None) -> None:
        now = self.desk.now()
        until = now + hold if hold else None
        keys = {group: announce_key(*group) for group in self._cells}
        held = self._held(set(keys.values()), now)
        families = _mail_families(self.s, {fid for fid, _ in self._cells})
        activities = {a.id: a.name for a in self.s.execute(
            select(Activity).where(Activity.id.in_({aid for _, aid in self._cells}))).scalars()}
        for (family_id, activity_id), entries in sorted(self._cells.items()):
            family = families[family_id]
            key = keys[(family_id, activity_id)]
            related = [rid for rid, _ in entries]
            lines = [line for _, line in entries]
            earlier = held.get(key)
            if earlier is not None:
                before = [int(i) for i in earlier.related_requests.split(",") if i]
                lines = request_lines(self.s, before) + lines
                related = before + related
            mail = mail_texts.cell_decisions_mail(self.sender, activities[activity_id], lines)
            recipients = family_recipients(family)
            label = f"{family.name} ({family.ref})"
            if earlier is not None and recipients and self._merge(earlier, recipients, mail, related, until, key):
                self.result.messages += 1
                self.result.changes.outbox += 1
                continue
            if recipients and earlier is not None:
                related, mail = [rid for rid, _ in entries], mail_texts.cell_decisions_mail(
                    self.sender, activities[activity_id], [line for _, line in entries])
            if recipients:
                self._outgoing.append(Outgoing(recipients, mail.subject, mail.text, mail.html, family_id,
                                               "decision", tuple(related), not_before=until,
                                               announce_key=key if until else None))
            elif label not in self.result.without_email:
                self.result.without_email.append(label)
        self.result.held_until = until
        self._cells.clear()

    def _held(self, keys: set[str], now: datetime) -> dict[str, OutboxMessage]:
        """Decision e-mails still held (not due, never tried) for these families and activities."""
        if not keys:
            return {}
        stmt = select(OutboxMessage).where(
            OutboxMessage.announce_key.in_(sorted(keys)), OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.attempts == 0, OutboxMessage.next_attempt_at > now).order_by(OutboxMessage.id)
        if self.desk.backend == "postgresql":
            stmt = stmt.with_for_update()
        return {m.announce_key: m for m in self.s.execute(stmt).scalars()}

    def _merge(self, earlier: OutboxMessage, recipients: list[str], mail: mail_texts.Mail,
               related: list[int], until: datetime | None, key: str) -> bool:
        """Rewrite the held message with every line; False when a sender took it meanwhile."""
        table = OutboxMessage.__table__
        done = self.s.execute(update(table).where(
            table.c.id == earlier.id, table.c.status == OutboxStatus.PENDING, table.c.attempts == 0
        ).values(recipients=", ".join(recipients), subject=mail.subject, body_text=mail.text,
                 body_html=mail.html, related_requests=",".join(str(i) for i in related),
                 next_attempt_at=until or self.desk.now(), announce_key=key if until else None)).rowcount
        return done == 1


def announce_key(family_id: int, activity_id: int) -> str:
    return f"decision:{family_id}:{activity_id}"


def request_lines(s: Session, request_ids: list[int]) -> list[mail_texts.CellLine]:
    """The e-mail lines of decided cell requests, read back (to rewrite a held message)."""
    if not request_ids:
        return []
    rows = s.execute(
        select(Request.kind, Request.status, Request.day, Request.billing, Request.reason, Unit.name,
               Unit.position, Child.first_name, Child.last_name)
        .join(Unit, Unit.id == Request.unit_id).join(Child, Child.id == Request.child_id)
        .where(Request.id.in_(request_ids)).order_by(Request.id)).all()
    return [mail_texts.CellLine(
        kind=mail_texts.BOOKING if kind == RequestKind.BOOKING else mail_texts.CANCELLATION,
        accepted=status == RequestStatus.ACCEPTED, unit=unit, day=day, unit_position=position,
        child=f"{first} {last}".strip(), billing=billing, reason=reason or "")
        for kind, status, day, billing, reason, unit, position, first, last in rows]


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


__all__ = ["DecisionResult", "DecisionRound", "announce_key", "request_lines", "sender"]
