"""Mon compte → changer d'adresse e-mail: confirmed by a link sent to the NEW address.

Until the link is used nothing changes. The link is signed (HMAC with the portal's secret) over
the family, the guardian, the new address, its expiry and a fingerprint of the current address
and password hash: once the address has changed (or the password), the link is spent, so it
serves once without a token table. The old address is told when the change is asked and when it
is done, so a stolen session cannot quietly take the account over. The identifiant stays the same.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import Family, Guardian, Structure
from gandrange_desk.services import validation as v
from gandrange_desk.services.context import Desk, stamp
from gandrange_desk.services.mail.outbox import enqueue
from gandrange_desk.services.search import family_search_text

from .accounts import LOCKED, PortalAccount, login_keys, password_matches, throttle_count, throttle_locked

LINK_VALID = timedelta(hours=24)
INVALID = ("Ce lien n'est plus valable (déjà utilisé ou expiré). Demandez un nouveau changement d'adresse "
           "depuis « Mon compte ».")
SENT = ("Un e-mail contenant un lien de confirmation vient d'être envoyé à {email}. Votre adresse ne change "
        "qu'une fois ce lien ouvert (il est valable 24 heures).")
DONE = "Votre adresse e-mail est maintenant {email}."


@dataclass(frozen=True)
class Pending:
    family_id: int
    guardian_id: int
    new_email: str
    old_email: str


def _holder(f: Family) -> Guardian | None:
    return next((g for g in f.guardians if g.holds_portal_account), None) or (f.guardians[0] if f.guardians else None)


def current_email(desk: Desk, family_id: int) -> str:
    with desk.read() as s:
        f = s.execute(select(Family).where(Family.id == family_id)
                      .options(selectinload(Family.guardians))).scalar_one()
        g = _holder(f)
        return g.email if g else ""


def _fp(email: str, password_hash: str | None) -> str:
    return hashlib.sha256(f"{email.lower()}|{password_hash or ''}".encode()).hexdigest()[:24]


def _sign(secret: str, family_id: int, guardian_id: int, email: str, expires: int, fp: str) -> str:
    message = f"email|{family_id}|{guardian_id}|{email}|{expires}|{fp}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def _structure_name(s) -> str:
    structure = s.execute(select(Structure)).scalars().first()
    return structure.name if structure else "La structure"


def request_change(desk: Desk, secret: str, account: PortalAccount, password: str, new_email: str,
                   base_url: str) -> str:
    """E-mail the confirmation link to the new address; the address itself is unchanged."""
    problems = []
    try:
        new = v.email(new_email).lower()
        if not new:
            problems.append("Nouvelle adresse e-mail : obligatoire.")
    except v.Invalid as exc:
        new = ""
        problems.append(f"Nouvelle adresse e-mail : {exc.reason}.")
    with desk.read() as s:
        f = s.execute(select(Family).where(Family.id == account.family_id)
                      .options(selectinload(Family.guardians))).scalar_one()
        password_hash = f.portal_password_hash
        g = _holder(f)
    # The password typed here counts with failed sign-ins: a stolen session cannot guess it.
    keys, now = login_keys(account.login), desk.now()
    with desk.read() as s:
        if throttle_locked(s, keys, now):
            raise DeskError(LOCKED)
    if not password_matches(password_hash, password):
        with desk.unit_of_work() as s:
            throttle_count(s, keys, now)
        problems.append("Mot de passe : incorrect.")
    if g is None:
        raise DeskError("Aucun responsable n'est enregistré : contactez le bureau périscolaire.")
    if new and new == (g.email or "").lower():
        problems.append("C'est déjà votre adresse e-mail.")
    if problems:
        raise ValidationFailed(problems)
    expires = int((desk.now() + LINK_VALID).timestamp())
    fp = _fp(g.email or "", password_hash)
    token = f"{f.id}.{g.id}.{expires}.{_b64(new)}.{_sign(secret, f.id, g.id, new, expires, fp)}"
    with desk.unit_of_work() as s:
        name = _structure_name(s)
        enqueue(s, desk, recipients=[new], subject="Portail Famille : confirmez votre nouvelle adresse e-mail",
                body_text=("Bonjour,\n\n"
                           "Vous avez demandé que cette adresse devienne celle de votre compte du Portail Famille "
                           f"(identifiant : {account.login}).\n\n"
                           f"Pour confirmer, ouvrez ce lien dans les 24 heures :\n{base_url}{token}\n\n"
                           "Le lien ne sert qu'une fois. Si vous n'avez rien demandé, ignorez ce message.\n\n"
                           f"Cordialement,\n{name}\n"),
                family_id=f.id, kind="portal_email_confirm")
        if g.email:
            enqueue(s, desk, recipients=[g.email], subject="Portail Famille : changement d'adresse e-mail demandé",
                    body_text=("Bonjour,\n\n"
                               "Un changement de l'adresse e-mail de votre compte du Portail Famille "
                               f"(identifiant : {account.login}) a été demandé. Elle ne changera qu'une fois "
                               "le lien envoyé à la nouvelle adresse ouvert.\n\n"
                               "Si vous n'êtes pas à l'origine de cette demande, changez votre mot de passe "
                               "et prévenez le bureau périscolaire.\n\n"
                               f"Cordialement,\n{name}\n"),
                    family_id=f.id, kind="portal_email_notice")
        desk.audit(s, "portal.email_request", "family", f.id, family_id=f.id, after={"new_email": new})
    return new


def check(desk: Desk, secret: str, token: str) -> Pending:
    try:
        fid, gid, expires, email64, signature = (token or "").split(".")
        family_id, guardian_id, expires_at, new = int(fid), int(gid), int(expires), _unb64(email64)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise DeskError(INVALID) from None
    if expires_at < desk.now().timestamp():
        raise DeskError(INVALID)
    with desk.read() as s:
        f = s.get(Family, family_id)
        g = s.get(Guardian, guardian_id)
        if f is None or f.archived or g is None or g.family_id != f.id:
            raise DeskError(INVALID)
        fp = _fp(g.email or "", f.portal_password_hash)
        old = g.email or ""
    if not hmac.compare_digest(signature, _sign(secret, family_id, guardian_id, new, expires_at, fp)):
        raise DeskError(INVALID)
    return Pending(family_id, guardian_id, new, old)


def confirm(desk: Desk, secret: str, token: str) -> Pending:
    """Apply the change the link stands for, once; the old address is told."""
    pending = check(desk, secret, token)
    from .accounts import family_actor

    with desk.unit_of_work() as s:
        f = s.execute(select(Family).where(Family.id == pending.family_id)
                      .options(selectinload(Family.guardians)).with_for_update()).scalar_one()
        g = next(x for x in f.guardians if x.id == pending.guardian_id)
        if (g.email or "") != pending.old_email:
            raise DeskError(INVALID)  # changed meanwhile: this link is spent
        actor = desk.as_actor(family_actor(f.portal_login or "", f.name))
        g.email = pending.new_email
        g.email_doubtful = False
        f.search_text = family_search_text(f)
        stamp(f, actor)
        name = _structure_name(s)
        if pending.old_email:
            enqueue(s, actor, recipients=[pending.old_email], subject="Portail Famille : adresse e-mail modifiée",
                    body_text=("Bonjour,\n\n"
                               "L'adresse e-mail de votre compte du Portail Famille a été remplacée par "
                               f"{pending.new_email}. Les messages de la structure y seront désormais envoyés.\n\n"
                               "Si vous n'êtes pas à l'origine de ce changement, prévenez sans attendre le "
                               f"bureau périscolaire.\n\nCordialement,\n{name}\n"),
                    family_id=f.id, kind="portal_email_notice")
        actor.audit(s, "portal.email", "family", f.id, family_id=f.id,
                    before={"email": pending.old_email}, after={"email": pending.new_email})
    return pending


__all__ = ["DONE", "INVALID", "LINK_VALID", "Pending", "SENT", "check", "confirm", "current_email",
           "request_change"]
