"""The outbox: e-mails become rows in the same transaction as the decision that causes them.

Delivery (SMTP, retries, claiming) is in `gandrange_desk.services.mail.sender`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from gandrange_desk.clock import PARIS
from gandrange_desk.errors import DeskError, NotFound
from gandrange_desk.models import Family, OutboxAttachment, OutboxMessage, OutboxSecret, OutboxStatus
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.addresses import recipients_problem
# The waiting statuses and the status bar's counts live with its other figures (Core only, read
# before the ORM loads); named here too for this module's callers.
from gandrange_desk.services.system.overview import WAITING_STATUSES, outbox_counts  # noqa: F401

MESSAGE_ID_DOMAIN = "gandrange-desk.local"


def new_message_id(desk: Desk) -> str:
    return new_message_id_at(desk.now())


def new_message_id_at(moment: datetime) -> str:
    stamp = moment.strftime("%Y%m%d%H%M%S")
    return f"<{stamp}.{secrets.token_hex(8)}@{MESSAGE_ID_DOMAIN}>"


def family_recipients(family: Family) -> list[str]:
    """Guardians who receive the family's e-mails, in order, without duplicates."""
    seen: list[str] = []
    for guardian in family.guardians:
        address = (guardian.email or "").strip()
        if guardian.receives_email and address and address.lower() not in {a.lower() for a in seen}:
            seen.append(address)
    return seen


@dataclass
class Outgoing:
    """One message to queue: what `enqueue_many` writes as one outbox row."""

    recipients: Sequence[str]
    subject: str
    body_text: str
    body_html: str = ""
    family_id: int | None = None
    kind: str = ""
    related_requests: Iterable[int] = ()
    invoice_id: int | None = None
    attachments: Iterable[tuple[str, str, bytes]] = ()
    not_before: datetime | None = None  # held until then (decisions merged into one message)
    announce_key: str | None = None
    # Values the body names by placeholder (`secret_placeholder(name)`), e.g. a temporary portal
    # password: kept apart, filled in at send time, erased once the message is delivered.
    secrets: dict[str, str] = field(default_factory=dict)


def secret_placeholder(name: str) -> str:
    return "{{secret:" + name + "}}"


_PLACEHOLDER = re.compile(r"\{\{secret:([a-z_]+)\}\}")


def fill_secrets(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """The text with its placeholders filled, and the names of those with no value left."""
    missing: list[str] = []

    def value(m: re.Match) -> str:
        if m.group(1) in values:
            return values[m.group(1)]
        missing.append(m.group(1))
        return m.group(0)

    return _PLACEHOLDER.sub(value, text or ""), missing


def enqueue_many(session: Session, desk: Desk, messages: Sequence[Outgoing], *,
                 with_ids: bool = False) -> list[int]:
    """Add messages to the outbox inside the caller's transaction (one INSERT for thousands).

    The only writer of outbox rows: every decision, invoice, reminder and notice goes through it,
    so a row always has its Message-ID, its status and its first attempt time. The new ids are
    returned when asked for (or when attachments need them)."""
    if not messages:
        return []
    now = desk.now()
    rows = [{
        "family_id": m.family_id, "kind": m.kind, "recipients": ", ".join(m.recipients),
        "subject": m.subject, "body_text": m.body_text, "body_html": m.body_html,
        "message_id": new_message_id_at(now), "status": OutboxStatus.PENDING, "attempts": 0,
        "next_attempt_at": m.not_before or now, "last_error": "", "created_at": now,
        "created_by": desk.actor.login, "announce_key": m.announce_key,
        "claimed_at": None, "claimed_by": None, "sent_at": None,
        "related_requests": ",".join(str(i) for i in m.related_requests), "invoice_id": m.invoice_id,
    } for m in messages]
    table = OutboxMessage.__table__
    if not with_ids and not any(m.attachments or m.secrets for m in messages):
        # A decision round's thousands of e-mails: one plain multi-row INSERT, no ids to read back.
        session.execute(insert(table), rows)
        return []
    ids: list[int] = []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    for start in range(0, len(rows), 900):
        ids += session.execute(stmt, rows[start:start + 900]).scalars().all()
    files = [{"message_id": mid, "filename": name, "mime_type": mime, "content": content}
             for mid, m in zip(ids, messages) for name, mime, content in m.attachments]
    if files:
        session.execute(insert(OutboxAttachment.__table__), files)
    kept = [{"message_id": mid, "name": name, "value": value}
            for mid, m in zip(ids, messages) for name, value in m.secrets.items()]
    if kept:
        session.execute(insert(OutboxSecret.__table__), kept)
    return ids


def enqueue(session: Session, desk: Desk, *, recipients: Sequence[str], subject: str, body_text: str,
            body_html: str = "", family_id: int | None = None, kind: str = "",
            related_requests: Iterable[int] = (), invoice_id: int | None = None,
            attachments: Iterable[tuple[str, str, bytes]] = (),
            secrets: dict[str, str] | None = None) -> OutboxMessage:
    """One message: `enqueue_many` with one row; returns it as stored."""
    [message_id] = enqueue_many(session, desk, [Outgoing(
        recipients, subject, body_text, body_html, family_id, kind, tuple(related_requests), invoice_id,
        tuple(attachments), secrets=dict(secrets or {}))], with_ids=True)
    return session.get(OutboxMessage, message_id)


# ---------------------------------------------------------------------------------------------
# Reading the outbox (the Courriels view, the family file, `outbox list`)

@dataclass(frozen=True)
class OutboxRow:
    """One line of a list of messages (no bodies: lists stay light)."""

    id: int
    created_at: datetime
    sent_at: datetime | None
    family_id: int | None
    family_ref: str
    family_name: str
    kind: str
    recipients: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    attachment_count: int
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)  # set by resend
    announce_key: str | None = None  # set while a decision e-mail waits for the clerk's next ones

    @property
    def status_label(self) -> str:
        return OutboxStatus.label_of(self.status)

    def held_until(self, now: datetime) -> datetime | None:
        """When a decision e-mail held for the next decisions leaves (None: it is not held)."""
        if (self.announce_key and self.status == OutboxStatus.PENDING and not self.attempts
                and self.next_attempt_at is not None and self.next_attempt_at > now):
            return self.next_attempt_at
        return None

    def as_json(self) -> dict:
        return {
            "id": self.id, "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "family_ref": self.family_ref or None, "kind": self.kind, "recipients": self.recipients,
            "subject": self.subject, "status": self.status, "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "last_error": self.last_error, "attachments": self.attachment_count,
        }


@dataclass(frozen=True)
class OutboxDetail:
    row: OutboxRow
    message_id: str
    body_text: str
    body_html: str
    attachments: list[tuple[str, str, int]]  # filename, mime type, size in bytes
    related_requests: str
    invoice_id: int | None
    claimed_by: str


def list_messages(desk: Desk, *, status: str | Sequence[str] | None = None, family_id: int | None = None,
                  family_ref: str | None = None, family_query: str = "", date_from: date | None = None,
                  date_to: date | None = None, limit: int | None = None) -> list[OutboxRow]:
    """Newest first. `family_query` matches a family's name, ref, e-mails (accents ignored);
    `date_from`/`date_to` are days (Paris time) of creation, inclusive."""
    m = OutboxMessage
    # Counted per shown row through the index (a correlated subquery), not for the whole table.
    attachment_count = (select(func.count()).where(OutboxAttachment.message_id == m.id)
                        .correlate(m).scalar_subquery())
    # Columns, not entities: a list of thousands of rows never loads the bodies. Newest first by
    # id (the creation order): the primary key walks backwards, no sort of the whole table.
    query = (select(m.id, m.created_at, m.sent_at, m.family_id, Family.ref, Family.name, m.kind, m.recipients,
                    m.subject, m.status, m.attempts, m.next_attempt_at, m.last_error, attachment_count,
                    m.announce_key)
             .outerjoin(Family, Family.id == m.family_id)
             .order_by(m.id.desc()))
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        unknown = [s for s in statuses if s not in {str(v) for v in OutboxStatus}]
        if unknown:
            raise DeskError(f"État de courriel inconnu : {', '.join(unknown)} (attendu : "
                            + ", ".join(str(v) for v in OutboxStatus) + ").")
        query = query.where(OutboxMessage.status.in_(statuses))
    if family_id is not None:
        query = query.where(OutboxMessage.family_id == family_id)
    if family_ref:
        with desk.read() as s:
            found = s.execute(select(Family.id).where(Family.ref == family_ref)).scalar_one_or_none()
        if found is None:
            raise NotFound(f"Famille introuvable : {family_ref}.")
        query = query.where(OutboxMessage.family_id == found)
    if family_query.strip():
        from gandrange_desk.services.search import normalize

        for word in normalize(family_query).split():
            query = query.where(or_(Family.search_text.contains(word, autoescape=True),
                                    func.lower(OutboxMessage.recipients).contains(word, autoescape=True)))
    if date_from:
        query = query.where(OutboxMessage.created_at >= datetime.combine(date_from, time(), PARIS))
    if date_to:
        query = query.where(OutboxMessage.created_at < datetime.combine(date_to + timedelta(days=1), time(), PARIS))
    if limit:
        query = query.limit(limit)
    with desk.read() as s:
        return [OutboxRow(id, created, sent, fid, ref or "", name or "", kind, recipients, subject, status,
                          attempts, next_at, error or "", int(n or 0), announce_key=key)
                for (id, created, sent, fid, ref, name, kind, recipients, subject, status, attempts, next_at,
                     error, n, key) in s.execute(query).all()]


def _row(m: OutboxMessage, ref: str | None, name: str | None, n: int) -> OutboxRow:
    return OutboxRow(id=m.id, created_at=m.created_at, sent_at=m.sent_at, family_id=m.family_id,
                     family_ref=ref or "", family_name=name or "", kind=m.kind, recipients=m.recipients,
                     subject=m.subject, status=m.status, attempts=m.attempts,
                     next_attempt_at=m.next_attempt_at, last_error=m.last_error or "",
                     attachment_count=int(n or 0), announce_key=m.announce_key)


# A temporary portal password travels in its e-mail only: the desk shows the message without it.
_SECRET = re.compile(r"(Mot de passe provisoire\s*:\s*)(?:<[^>]*>)*[^\s<]+")
MASK = "•••••••• (masqué : seule la famille le reçoit)"


def mask_secrets(text: str) -> str:
    return _PLACEHOLDER.sub(MASK, _SECRET.sub(lambda m: m.group(1) + MASK, text or ""))


def message_detail(desk: Desk, message_id: int) -> OutboxDetail:
    with desk.read() as s:
        found = s.execute(select(OutboxMessage, Family.ref, Family.name)
                          .outerjoin(Family, Family.id == OutboxMessage.family_id)
                          .options(selectinload(OutboxMessage.attachments))
                          .where(OutboxMessage.id == message_id)).first()
        if found is None:
            raise NotFound(f"Courriel introuvable (n° {message_id}).")
        m, ref, name = found
        return OutboxDetail(
            row=_row(m, ref, name, len(m.attachments)), message_id=m.message_id,
            body_text=mask_secrets(m.body_text), body_html=mask_secrets(m.body_html),
            related_requests=m.related_requests, invoice_id=m.invoice_id,
            attachments=[(a.filename, a.mime_type, len(a.content)) for a in m.attachments],
            claimed_by=m.claimed_by or "")


def counts_text(waiting: int, failed: int) -> str:
    return f"{waiting} {'courriel' if waiting < 2 else 'courriels'} en attente / {failed} en échec"


def release_held(desk: Desk, family_id: int | Iterable[int] | None = None, *,
                 created_by: str | None = None) -> Changes:
    """Send now the decision e-mails held for the clerk's next decisions (all, some families', or
    those one desk user's decisions hold): the clerk left the family, or closes the window.
    `created_by` leaves alone what another workstation is still holding for its own clerk."""
    table = OutboxMessage.__table__
    now = desk.now()
    where = [table.c.announce_key.is_not(None), table.c.status == OutboxStatus.PENDING,
             table.c.next_attempt_at > now]
    if created_by is not None:
        where.append(table.c.created_by == created_by)
    if family_id is None:
        chunks: list[list[int] | None] = [None]
    else:
        ids = sorted({family_id} if isinstance(family_id, int) else set(family_id))
        chunks = [ids[i:i + 900] for i in range(0, len(ids), 900)]
    n = 0
    with desk.unit_of_work() as s:
        for chunk in chunks:
            if chunk == []:
                continue
            extra = [] if chunk is None else [table.c.family_id.in_(chunk)]
            n += s.execute(update(table).where(*where, *extra).values(next_attempt_at=now, announce_key=None)).rowcount
    return Changes(outbox=n)


def resend(desk: Desk, message_id: int, recipients: str | None = None) -> OutboxRow:
    """Put a failed message back in the queue, due now (same Message-ID: the same message);
    `recipients` corrects its addresses first (comma-separated)."""
    if recipients is not None:
        recipients = ", ".join(a.strip() for a in recipients.replace(";", ",").split(",") if a.strip())
        problem = recipients_problem(recipients)
        if problem:
            raise DeskError(problem)
    with desk.unit_of_work() as s:
        m = s.get(OutboxMessage, message_id, with_for_update=True)
        if m is None:
            raise NotFound(f"Courriel introuvable (n° {message_id}).")
        if m.status not in (OutboxStatus.FAILED, OutboxStatus.TEMP_FAILED):
            raise DeskError(f"Ce courriel est « {OutboxStatus.label_of(m.status).lower()} » : seul un courriel en "
                            "échec peut être renvoyé.")
        before = {"status": m.status, "attempts": m.attempts, "last_error": m.last_error}
        after: dict = {"status": OutboxStatus.PENDING}
        if recipients is not None and recipients != m.recipients:
            before["recipients"] = m.recipients
            after["recipients"] = recipients
            m.recipients = recipients
        m.status = OutboxStatus.PENDING
        m.next_attempt_at = desk.now()
        m.claimed_by = None
        m.claimed_at = None
        desk.audit(s, "outbox_resend", "outbox_message", m.id, family_id=m.family_id, before=before,
                   after=after)
        s.flush()
        ref, name = (m.family_id and s.execute(select(Family.ref, Family.name)
                                               .where(Family.id == m.family_id)).first()) or ("", "")
        return replace(_row(m, ref, name, len(m.attachments)), changes=Changes(outbox=1))


CANCELLABLE = (OutboxStatus.PENDING, OutboxStatus.TEMP_FAILED, OutboxStatus.FAILED)


def cancel(desk: Desk, message_id: int) -> OutboxRow:
    """The clerk gives up on a message: it is kept, marked "Annulé", and never sent."""
    with desk.unit_of_work() as s:
        m = s.get(OutboxMessage, message_id, with_for_update=True)
        if m is None:
            raise NotFound(f"Courriel introuvable (n° {message_id}).")
        if m.status not in CANCELLABLE:
            raise DeskError(f"Ce courriel est « {OutboxStatus.label_of(m.status).lower()} » : seul un courriel "
                            "en attente ou en échec peut être annulé.")
        before = {"status": m.status, "last_error": m.last_error}
        m.status = OutboxStatus.CANCELLED
        m.next_attempt_at = None
        s.execute(delete(OutboxSecret).where(OutboxSecret.message_id == m.id))  # never sent: nothing to keep
        m.announce_key = None
        m.claimed_by = None
        m.claimed_at = None
        m.last_error = f"Annulé par {desk.actor.login}. " + (m.last_error or "")
        m.last_error = m.last_error.strip()
        desk.audit(s, "outbox_cancel", "outbox_message", m.id, family_id=m.family_id, before=before,
                   after={"status": m.status})
        s.flush()
        ref, name = (m.family_id and s.execute(select(Family.ref, Family.name)
                                               .where(Family.id == m.family_id)).first()) or ("", "")
        return replace(_row(m, ref, name, len(m.attachments)), changes=Changes(outbox=1))
