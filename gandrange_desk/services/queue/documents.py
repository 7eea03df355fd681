"""Documents received ("Mes envois") in the queue: the clerk marks one checked, or asks for another.

Accepting marks the document Vérifié; refusing marks it À refaire with the reason, which the
family receives by e-mail (same words as when the desk does it from the family file). Checking a
document from the family file settles its pending request too (`settle`), so the queue and the
file never disagree.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.models import Document, DocumentState, Family, Request, RequestKind, RequestStatus
from gandrange_desk.services.context import stamp
from gandrange_desk.services.mail import texts as mail_texts
from gandrange_desk.services.mail.outbox import family_recipients

from .claims import claim
from .listing import request_payload
from .round import DecisionRound


def redo_mail(sender: mail_texts.Sender, d: Document, reason: str) -> mail_texts.Mail:
    when = f" le {formats.ddmmyyyy(d.received_at.date())}" if d.received_at else ""
    return mail_texts.render(f"Document à refaire : {d.kind or d.filename}", [
        [f"Le document « {d.kind or d.title} » ({d.filename}) que vous nous avez envoyé{when} "
         "ne peut pas être accepté."],
        [f"Motif : {reason}"],
        ["Merci de nous envoyer un nouveau document depuis le Portail Famille, rubrique « Mes envois »."],
    ], sender)


def decide(rnd: DecisionRound, r: Request, accept: bool, reason: str) -> None:
    s, desk = rnd.s, rnd.desk
    document_id = request_payload(r).get("document_id")
    d = s.get(Document, document_id) if isinstance(document_id, int) else None
    if d is None or d.family_id != r.family_id:
        raise DeskError("document introuvable : il a peut-être été supprimé.")
    before = {"state": d.state, "reason": d.reason}
    d.state = DocumentState.CHECKED if accept else DocumentState.REDO
    d.reason = "" if accept else reason
    stamp(d, desk)
    claim(s, desk, r, RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED, "" if accept else reason)
    desk.audit(s, "document.state", "document", d.id, family_id=d.family_id, before=before,
               after={"state": d.state, "reason": d.reason, "request": r.id})
    family = s.get(Family, d.family_id)
    if not accept:
        rnd.mail(family.id, family_recipients(family), redo_mail(rnd.sender, d, reason), "document_redo",
                 [r.id], f"{family.name} ({family.ref})")
    rnd.decided(r.id, family.id)


def settle(s: Session, desk, d: Document) -> None:
    """The document was checked (or sent back) from the family file: its pending request is
    decided the same way, by the same clerk, without a second e-mail."""
    state = d.state
    if state == DocumentState.RECEIVED or d.family_id is None:
        return
    for r in s.execute(select(Request).where(Request.kind == RequestKind.DOCUMENT, Request.family_id == d.family_id,
                                             Request.status == RequestStatus.PENDING)).scalars():
        if request_payload(r).get("document_id") != d.id:
            continue
        s.execute(update(Request).where(Request.id == r.id, Request.status == RequestStatus.PENDING).values(
            status=RequestStatus.ACCEPTED if state == DocumentState.CHECKED else RequestStatus.REFUSED,
            decided_by=desk.actor.login, decided_at=desk.now(),
            reason=d.reason if state == DocumentState.REDO else "",
            payload=json.dumps({**request_payload(r), "from": "fiche famille"}, ensure_ascii=False))
            .execution_options(synchronize_session=False))


__all__ = ["decide", "redo_mail", "settle"]
