"""Delivering the outbox by SMTP: claim, send, record — never lost, never doubled.

A sender claims a small batch with one conditional UPDATE (only rows still waiting and due;
on PostgreSQL the candidate rows are picked `FOR UPDATE SKIP LOCKED`, on SQLite the write lock
taken by BEGIN IMMEDIATE serialises claimers) and commits the claim before talking to the server.
Each message's outcome is committed on its own right after the server's answer, so a crash
loses at most the outcome of the one message in flight; its claim goes stale and it returns to
the queue after `STALE_AFTER`. Connecting to the server, and its failures in French, is `mail.smtp`.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, parseaddr

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from gandrange_desk.errors import DeskError
from gandrange_desk.models import AppSetting, Guardian, OutboxMessage, OutboxSecret, OutboxStatus, SmtpSettings
from gandrange_desk.services.system import secrets
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.addresses import recipients_problem, visible  # noqa: F401 - used by front-ends
from gandrange_desk.services.mail.smtp import ConnectFailed, answer, close, connect, network_reason

log = logging.getLogger("gandrange_desk.mail")

# Growing delays between attempts after a temporary failure; the last one repeats.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
           timedelta(hours=6))
# About two days of trying; after that a temporary failure becomes final and visible.
MAX_ATTEMPTS = 12
# A claim older than this belongs to a sender that died; its messages go back to the queue.
# It must exceed what a live sender may spend on one batch: CLAIM_BATCH × DEFAULT_TIMEOUT (5 min).
STALE_AFTER = timedelta(minutes=10)
CLAIM_BATCH = 10
DEFAULT_TIMEOUT = 30.0
SECURITY_CHOICES = ("starttls", "ssl", "none")
WAITING = (OutboxStatus.PENDING, OutboxStatus.TEMP_FAILED)
# Settings without a column of their own (AppSetting keys).
CA_FILE_KEY = "smtp.ca_file"
TIMEOUT_KEY = "smtp.timeout"


class SmtpNotConfigured(DeskError):
    pass


class SmtpPasswordMissing(DeskError):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"
    user: str = ""
    sender: str = ""
    reply_to: str = ""
    ca_file: str = ""
    timeout: float = DEFAULT_TIMEOUT

    @property
    def envelope_from(self) -> str:
        return parseaddr(self.sender)[1] or self.sender

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


def load_config(session) -> SmtpConfig | None:
    """The [smtp] settings, or None when no server is configured (messages then wait)."""
    row = session.execute(select(SmtpSettings).order_by(SmtpSettings.id).limit(1)).scalar_one_or_none()
    if row is None or not row.host.strip():
        return None
    extra = {s.key: s.value for s in session.execute(
        select(AppSetting).where(AppSetting.key.in_((CA_FILE_KEY, TIMEOUT_KEY)))).scalars()}
    try:
        timeout = float(extra.get(TIMEOUT_KEY) or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = DEFAULT_TIMEOUT
    return SmtpConfig(host=row.host.strip(), port=row.port, security=row.security, user=row.user.strip(),
                      sender=row.sender, reply_to=row.reply_to, ca_file=extra.get(CA_FILE_KEY, ""),
                      timeout=timeout)


def smtp_config(desk: Desk) -> SmtpConfig | None:
    with desk.read() as s:
        return load_config(s)


def claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------------------------
# The message


def build_message(row: OutboxMessage, config: SmtpConfig, secrets_: dict[str, str] | None = None) -> EmailMessage:
    """The exact bytes sent for an outbox row; identical on every attempt (same Message-ID, Date).
    `secrets_` fills the body's placeholders (a temporary password), never stored in the body."""
    from gandrange_desk.services.mail.outbox import fill_secrets

    body_text, missing = fill_secrets(row.body_text, secrets_ or {})
    body_html, missing_html = fill_secrets(row.body_html, secrets_ or {})
    if missing or missing_html:
        raise _SecretLost()
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = config.sender
    msg["To"] = row.recipients
    if config.reply_to:
        msg["Reply-To"] = config.reply_to
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body_text, charset="utf-8")
    if body_html:
        msg.add_alternative(body_html, subtype="html", charset="utf-8")
    for attachment in row.attachments:
        maintype, _, subtype = (attachment.mime_type or "application/octet-stream").partition("/")
        msg.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=attachment.filename)
    return msg


class _SecretLost(Exception):
    """The body names a secret that is no longer kept (erased, or a restored backup)."""


SECRET_LOST = ("Mot de passe provisoire introuvable (base restaurée depuis une sauvegarde, qui ne les garde "
               "pas) : annulez ce courriel et renvoyez les identifiants depuis la fiche famille.")


def recipient_addresses(recipients: str) -> list[str]:
    return [addr for _name, addr in getaddresses([recipients]) if addr]


def message_problem(row: OutboxMessage, config: SmtpConfig,
                    secrets_: dict[str, str] | None = None) -> tuple[EmailMessage | None, str]:
    """The message to send, or why it can never be built (a French reason)."""
    problem = recipients_problem(row.recipients)
    if problem:
        return None, problem
    if any(ch in (row.subject or "") for ch in "\r\n\0"):
        return None, f"Objet invalide : « {visible(row.subject)} » (retour à la ligne interdit)."
    try:
        return build_message(row, config, secrets_), ""
    except _SecretLost:
        return None, SECRET_LOST
    except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
        log.warning("outbox message %s cannot be built", row.id, exc_info=True)
        return None, f"Courriel impossible à construire : {visible(str(exc))}"


def resolve_password(config: SmtpConfig, password: str | None = None) -> str | None:
    """The login password, or SmtpPasswordMissing saying where to put it (in French)."""
    if not config.user:
        return None
    found = password or secrets.get_smtp_password(config.user, config.host)
    if found:
        return found
    if not secrets.keyring_available():
        raise SmtpPasswordMissing(secrets.NO_BACKEND_SMTP)
    raise SmtpPasswordMissing(
        f"Aucun mot de passe SMTP pour {config.user}@{config.host} dans le trousseau : enregistrez-le "
        f"dans les paramètres SMTP, ou définissez {secrets.ENV_SMTP_PASSWORD}.")


# ---------------------------------------------------------------------------------------------
# Claim, send, record


@dataclass
class Delivery:
    id: int
    subject: str
    recipients: str
    status: str
    error: str = ""
    next_attempt_at: datetime | None = None


@dataclass
class SendReport:
    deliveries: list[Delivery] = field(default_factory=list)
    released: int = 0  # claimed, then handed back untried (bad password)
    requeued_stale: int = 0
    problem: str = ""  # a reason the run stopped early (server down, password refused)
    later: int = 0  # messages still waiting for a later attempt when the run ended
    next_at: datetime | None = None  # the earliest of those attempts
    hurried: int = 0  # waiting messages made due at once (`--now`)

    def count(self, status: str) -> int:
        return sum(1 for d in self.deliveries if d.status == status)

    @property
    def sent(self) -> int:
        return self.count(OutboxStatus.SENT)

    @property
    def temp_failed(self) -> int:
        return self.count(OutboxStatus.TEMP_FAILED)

    @property
    def failed(self) -> int:
        return self.count(OutboxStatus.FAILED)

    @property
    def ok(self) -> bool:
        return not self.problem and self.temp_failed == 0 and self.failed == 0


def release_stale_claims(desk: Desk, stale_after: timedelta = STALE_AFTER) -> int:
    """Claims left by a sender that died go back to the queue (they may have been delivered
    already: see the at-least-once note in `_send_one`)."""
    now = desk.now()
    table = OutboxMessage.__table__
    with desk.unit_of_work() as s:
        result = s.execute(
            update(table)
            .where(table.c.status == OutboxStatus.SENDING, table.c.claimed_at < now - stale_after)
            .values(status=OutboxStatus.TEMP_FAILED, next_attempt_at=now, claimed_by=None, claimed_at=None,
                    last_error="Envoi interrompu (expéditeur arrêté en cours d'envoi) : remis en file.")
        )
        return result.rowcount or 0


def claim_batch(desk: Desk, size: int, me: str) -> list[int]:
    """Mark up to `size` due messages as ours; committed before any byte goes to the server."""
    now = desk.now()
    table = OutboxMessage.__table__
    due = (table.c.status.in_(WAITING), or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now))
    with desk.unit_of_work() as s:
        candidates = (select(table.c.id).where(*due)
                      .order_by(table.c.next_attempt_at, table.c.id).limit(size))
        values = dict(status=OutboxStatus.SENDING, claimed_by=me, claimed_at=now)
        if s.get_bind().dialect.name == "postgresql":
            # A materialised CTE: as an IN (subquery) the LIMIT … SKIP LOCKED may be re-run per row
            # and claim more than asked.
            due_rows = candidates.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
            stmt = update(table).where(table.c.id == due_rows.c.id, *due)
        else:
            stmt = update(table).where(table.c.id.in_(candidates.scalar_subquery()), *due)
        # The WHERE repeats the due condition: a row another sender claimed meanwhile is left alone.
        stmt = stmt.values(**values).returning(table.c.id)
        return sorted(s.execute(stmt).scalars().all())


def release_claims(desk: Desk, ids: list[int], me: str, reason: str) -> int:
    """Hand untried messages back unchanged (except the reason), due at once."""
    if not ids:
        return 0
    table = OutboxMessage.__table__
    with desk.unit_of_work() as s:
        result = s.execute(
            update(table)
            .where(table.c.id.in_(ids), table.c.status == OutboxStatus.SENDING, table.c.claimed_by == me)
            .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None, last_error=reason))
        return result.rowcount or 0


def next_delay(attempts: int) -> timedelta:
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def hurry_waiting(desk: Desk) -> int:
    """Make the messages waiting for a later attempt due at once (`outbox send --now`).

    Decision e-mails held for the clerk's next decisions are left alone: they are not retries."""
    now = desk.now()
    table = OutboxMessage.__table__
    with desk.unit_of_work() as s:
        result = s.execute(
            update(table)
            .where(table.c.status.in_(WAITING), table.c.next_attempt_at > now,
                   or_(table.c.announce_key.is_(None), table.c.attempts > 0))
            .values(next_attempt_at=now))
        return result.rowcount or 0


def waiting_later(desk: Desk) -> tuple[int, datetime | None]:
    """(how many messages wait for a later attempt, when the first of them is due)."""
    now = desk.now()
    table = OutboxMessage.__table__
    with desk.read() as s:
        n, first = s.execute(select(func.count(), func.min(table.c.next_attempt_at))
                             .where(table.c.status.in_(WAITING), table.c.next_attempt_at > now)).one()
    return int(n or 0), first


def send_pending(desk: Desk, *, limit: int | None = None, password: str | None = None,
                 timeout: float | None = None, batch_size: int = CLAIM_BATCH,
                 stale_after: timedelta = STALE_AFTER, progress=None, now: bool = False) -> SendReport:
    """Deliver what is due (`now`: also what waits for a later attempt).
    Raises SmtpNotConfigured / SmtpPasswordMissing before touching a row."""
    report = _send_pending(desk, limit=limit, password=password, timeout=timeout, batch_size=batch_size,
                           stale_after=stale_after, progress=progress, now=now)
    report.later, report.next_at = waiting_later(desk)
    return report


def _send_pending(desk: Desk, *, limit: int | None, password: str | None, timeout: float | None,
                  batch_size: int, stale_after: timedelta, progress, now: bool) -> SendReport:
    config = smtp_config(desk)
    if config is None:
        from gandrange_desk.services.mail.outbox import outbox_counts

        waiting, _failed = outbox_counts(desk)
        raise SmtpNotConfigured(
            f"Aucun serveur SMTP n'est configuré : {_n_messages(waiting)} dans la boîte d'envoi. "
            "Renseignez la section [smtp] des paramètres.")
    secret = resolve_password(config, password)
    report = SendReport(requeued_stale=release_stale_claims(desk, stale_after))
    if now:
        report.hurried = hurry_waiting(desk)
    me = claimant()
    smtp: smtplib.SMTP | None = None
    untried: list[int] = []
    try:
        while limit is None or len(report.deliveries) < limit:
            size = batch_size if limit is None else min(batch_size, limit - len(report.deliveries))
            untried = claim_batch(desk, size, me)
            if not untried:
                break
            while untried:
                if progress is not None:
                    progress.step(len(report.deliveries), len(report.deliveries) + len(untried),
                                  "Envoi des courriels…")
                    progress.check()
                if smtp is None:
                    try:
                        smtp = connect(config, secret, timeout)
                    except ConnectFailed as exc:
                        report.problem = exc.text
                        if exc.auth:
                            # The password, not the messages, is at fault: they wait untouched.
                            report.released += release_claims(desk, untried, me, exc.text)
                        else:
                            for other in untried:
                                report.deliveries.append(_record(desk, other, me, "temp", exc.text, {}))
                        untried = []
                        return report
                message_id = untried[0]
                delivery, alive = _send_one(desk, smtp, config, message_id, me)
                untried.pop(0)
                report.deliveries.append(delivery)
                if not alive:
                    close(smtp)
                    smtp = None
    finally:
        # Cancelled or broken run: what we claimed but never tried goes straight back to the queue.
        if untried:
            release_claims(desk, untried, me, "")
        close(smtp)
    return report


def _send_one(desk: Desk, smtp: smtplib.SMTP, config: SmtpConfig, message_id: int,
              me: str) -> tuple[Delivery, bool]:
    with desk.read() as s:
        row = s.execute(select(OutboxMessage).options(selectinload(OutboxMessage.attachments))
                        .where(OutboxMessage.id == message_id)).scalar_one()
        kept = dict(s.execute(select(OutboxSecret.name, OutboxSecret.value)
                              .where(OutboxSecret.message_id == message_id)).all())
        msg, problem = message_problem(row, config, kept)
        to_addrs = recipient_addresses(row.recipients) if msg is not None else []
    if msg is None or not to_addrs:
        # Set aside for the clerk (correct the address, or cancel); the batch goes on.
        return _record(desk, message_id, me, "perm", problem or "Aucune adresse de destinataire valable.",
                       {}), True
    try:
        refused = smtp.send_message(msg, from_addr=config.envelope_from, to_addrs=to_addrs)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {addr: answer(code, text) for addr, (code, text) in exc.recipients.items()}
        permanent = all(code >= 500 for code, _t in exc.recipients.values())
        error = "Destinataire refusé par le serveur : " + " ; ".join(f"{a} ({c})" for a, c in codes.items())
        doubtful = {a: c for a, (code, _t) in exc.recipients.items() for c in [codes[a]] if code >= 500}
        return _record(desk, message_id, me, "perm" if permanent else "temp", error, doubtful), False
    except smtplib.SMTPResponseException as exc:
        said = answer(exc.smtp_code, exc.smtp_error)
        kind = "perm" if exc.smtp_code >= 500 else "temp"
        return _record(desk, message_id, me, kind, f"Réponse du serveur : {said}", {}), False
    except smtplib.SMTPNotSupportedError as exc:
        # An accented address needs SMTPUTF8; a server without it will never take this message.
        return _record(desk, message_id, me, "perm",
                       f"Le serveur n'accepte pas les adresses accentuées (SMTPUTF8) : {exc}", {}), True
    except (ValueError, UnicodeError) as exc:
        return _record(desk, message_id, me, "perm", f"Message impossible à transmettre : {exc}", {}), False
    except (OSError, smtplib.SMTPException) as exc:
        # Includes a disconnect before the server's answer to DATA: we cannot know whether it
        # kept the message, so it is retried (same Message-ID) — the at-least-once side.
        return _record(desk, message_id, me, "temp", network_reason(config, exc), {}), False
    except Exception as exc:  # noqa: BLE001 - one message must never stop the others
        log.exception("outbox message %s: unexpected error while sending", message_id)
        return _record(desk, message_id, me, "perm",
                       f"Message impossible à transmettre : {visible(str(exc)) or type(exc).__name__}", {}), False
    # AT-LEAST-ONCE WINDOW: the server has accepted DATA (250) but 'sent' is not committed yet.
    # A crash here leaves the row 'sending'; after STALE_AFTER it is sent again with the same
    # Message-ID. SMTP has no two-phase commit, so the window is kept to this one local commit.
    refused = refused or {}
    partial = {a: answer(code, text) for a, (code, text) in refused.items()}
    doubtful = {a: c for a, c in partial.items() if refused[a][0] >= 500}
    deferred = [a for a in to_addrs if a in refused and refused[a][0] < 500]
    if deferred:
        # Some recipients were only deferred (4xx): the message stays queued for them alone.
        delivered = [a for a in to_addrs if a not in refused]
        note = (f"Envoyé à {', '.join(delivered)} ; différé pour : "
                + " ; ".join(f"{a} ({partial[a]})" for a in deferred))
        return _record(desk, message_id, me, "temp", note, doubtful, remaining=deferred), True
    note = ("Envoyé, sauf à : " + " ; ".join(f"{a} ({c})" for a, c in partial.items())) if partial else ""
    return _record(desk, message_id, me, "sent", note, doubtful), True


def _record(desk: Desk, message_id: int, me: str, outcome: str, error: str,
            doubtful: dict[str, str], remaining: list[str] | None = None) -> Delivery:
    now = desk.now()
    with desk.unit_of_work() as s:
        row = s.get(OutboxMessage, message_id, with_for_update=s.get_bind().dialect.name == "postgresql")
        if row.status != OutboxStatus.SENDING or row.claimed_by != me:
            # Our claim went stale and another sender took the message over: its outcome wins,
            # except that a delivery is always recorded so it is not tried again.
            if outcome != "sent" or row.status == OutboxStatus.SENT:
                return _delivery(row, row.status, row.last_error)
        row.attempts += 1
        row.claimed_at = None
        row.last_error = error
        if remaining:
            row.recipients = ", ".join(remaining)
        if outcome == "sent":
            row.status = OutboxStatus.SENT
            row.sent_at = now
            row.next_attempt_at = None
            # Delivered: the temporary password now lives in the family's mailbox only.
            s.execute(delete(OutboxSecret).where(OutboxSecret.message_id == row.id))
        elif outcome == "perm":
            row.status = OutboxStatus.FAILED
            row.next_attempt_at = None
        elif row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED
            row.next_attempt_at = None
            row.last_error = f"Abandon après {row.attempts} tentatives : {error}"
        else:
            row.status = OutboxStatus.TEMP_FAILED
            row.next_attempt_at = now + next_delay(row.attempts)
        if doubtful:
            _mark_doubtful(s, desk, row, doubtful)
        return _delivery(row, row.status, row.last_error)


def _delivery(row: OutboxMessage, status: str, error: str) -> Delivery:
    return Delivery(id=row.id, subject=row.subject, recipients=row.recipients, status=status, error=error,
                    next_attempt_at=row.next_attempt_at)


def _mark_doubtful(s, desk: Desk, row: OutboxMessage, answers: dict[str, str]) -> None:
    """The server refused these addresses for good: flag them on the family file."""
    lowered = {a.lower(): answer for a, answer in answers.items()}
    query = select(Guardian).where(func.lower(Guardian.email).in_(list(lowered)))
    if row.family_id is not None:
        query = query.where(Guardian.family_id == row.family_id)
    for guardian in s.execute(query).scalars():
        if guardian.email_doubtful:
            continue
        guardian.email_doubtful = True
        desk.audit(s, "email_doubtful", "guardian", guardian.id, family_id=guardian.family_id,
                   before={"email": guardian.email, "email_doubtful": False},
                   after={"email": guardian.email, "email_doubtful": True,
                          "answer": lowered[guardian.email.lower()], "outbox_message": row.id})


def send_test_message(config: SmtpConfig, password: str | None, to: str, *,
                      timeout: float | None = None) -> str:
    """Send one message straight away (not through the outbox) to check the settings."""
    from gandrange_desk import formats
    from gandrange_desk.clock import now as clock_now
    from gandrange_desk.services.mail.outbox import new_message_id_at

    if not parseaddr(to)[1] or "@" not in to:
        raise DeskError(f"Adresse de test invalide : « {to} ».")
    if not config.sender:
        raise DeskError("Indiquez l'expéditeur (adresse « De ») avant d'envoyer un courriel de test.")
    moment = clock_now()
    row = OutboxMessage(
        recipients=to, subject="Gandrange Desk — courriel de test",
        body_text=("Bonjour,\n\nCe courriel de test confirme que Gandrange Desk peut envoyer des "
                   f"courriels par {config.label} (envoyé le {formats.instant(moment)}).\n"),
        body_html="", message_id=new_message_id_at(moment), created_at=moment)
    row.attachments = []
    msg = build_message(row, config)
    try:
        smtp = connect(config, password, timeout)
    except ConnectFailed as exc:
        raise DeskError(exc.text) from exc
    try:
        smtp.send_message(msg, from_addr=config.envelope_from, to_addrs=[parseaddr(to)[1]])
    except smtplib.SMTPRecipientsRefused as exc:
        answers = "; ".join(answer(c, t) for c, t in exc.recipients.values())
        raise DeskError(f"Le serveur a refusé l'adresse {to} : {answers}.") from exc
    except smtplib.SMTPResponseException as exc:
        raise DeskError(f"Le serveur a refusé le courriel : {answer(exc.smtp_code, exc.smtp_error)}.") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeskError(network_reason(config, exc)) from exc
    finally:
        close(smtp)
    return f"Courriel de test envoyé à {to} par {config.label}."


def _n_messages(n: int) -> str:
    from gandrange_desk.formats import count

    return count(n, "courriel attend", "courriels attendent")

