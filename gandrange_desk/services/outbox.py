"""The outbox: e-mails become rows in the same transaction as the decision that causes them.

Delivery (SMTP, retries, claiming) is in `gandrange_desk.services.mailer`.
"""

from __future__ import annotations

import secrets
from typing import Iterable, Sequence

from sqlalchemy.orm import Session

from gandrange_desk.models import Family, OutboxAttachment, OutboxMessage, OutboxStatus
from gandrange_desk.services.context import Desk

MESSAGE_ID_DOMAIN = "gandrange-desk.local"


def new_message_id(desk: Desk) -> str:
    stamp = desk.now().strftime("%Y%m%d%H%M%S")
    return f"<{stamp}.{secrets.token_hex(8)}@{MESSAGE_ID_DOMAIN}>"


def family_recipients(family: Family) -> list[str]:
    """Guardians who receive the family's e-mails, in order, without duplicates."""
    seen: list[str] = []
    for guardian in family.guardians:
        address = (guardian.email or "").strip()
        if guardian.receives_email and address and address.lower() not in {a.lower() for a in seen}:
            seen.append(address)
    return seen


def enqueue(session: Session, desk: Desk, *, recipients: Sequence[str], subject: str, body_text: str,
            body_html: str = "", family_id: int | None = None, kind: str = "",
            related_requests: Iterable[int] = (), invoice_id: int | None = None,
            attachments: Iterable[tuple[str, str, bytes]] = ()) -> OutboxMessage:
    """Add one message to the outbox inside the caller's transaction; the caller commits."""
    message = OutboxMessage(
        family_id=family_id,
        kind=kind,
        recipients=", ".join(recipients),
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        message_id=new_message_id(desk),
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=desk.now(),
        created_at=desk.now(),
        created_by=desk.actor.login,
        related_requests=",".join(str(i) for i in related_requests),
        invoice_id=invoice_id,
    )
    for filename, mime_type, content in attachments:
        message.attachments.append(OutboxAttachment(filename=filename, mime_type=mime_type, content=content))
    session.add(message)
    return message
