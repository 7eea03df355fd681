"""Families' portal accounts: sign-in, first-login password, forgotten password, the family actor.

The login and temporary password are those `families.portal.send_credentials` e-mails (argon2
hash on `Family.portal_password_hash`, `portal_state` SENT). The first sign-in with it must choose
a new password, which makes the account ACTIVE.

Sign-in never says whether a login exists: the same sentence for an unknown login and a wrong
password, the same argon2 work for both, and the lockout counts the typed login (and the
address) whether or not it exists. The counters live in the database (`PortalThrottle`) so every
worker sees them.

A session and a reset link carry a fingerprint of the current password hash: changing the
password ends the other sessions and spends the link (single use without a token table).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select

from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import Family, PortalState, PortalThrottle, Structure
from gandrange_desk.services.context import Actor, Desk, stamp
from gandrange_desk.services.mail.outbox import enqueue, family_recipients

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
LOCKED = ("Trop de tentatives de connexion : par sécurité, la connexion est suspendue pendant "
          "15 minutes. Réessayez plus tard ou utilisez « Mot de passe oublié ».")
MAX_LOGIN_FAILURES = 5  # per typed login
MAX_ADDRESS_FAILURES = 30  # per client address (a family behind a shared box keeps some slack)
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD = 10
FAMILY_ROLE = "famille"  # ranks below every desk role: `desk.require` refuses it everything

# OWASP's first argon2id setting (19 MiB, 2 passes, 1 lane): ~20 ms of one core per sign-in,
# where argon2-cffi's default (64 MiB, 3 passes, 4 lanes) takes ~170 ms of CPU and a September
# rush of sign-ins queued behind it. Hashes made with other parameters (the defaults before, the
# desk's temporary passwords) still verify and are re-hashed with these at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the login is unknown, so an unknown login costs the same time as a known one.
_DUMMY_HASH = _hasher.hash("pas-un-vrai-mot-de-passe")


@dataclass(frozen=True)
class PortalAccount:
    family_id: int
    login: str
    name: str
    must_change_password: bool
    fingerprint: str


def fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:24]


def family_actor(login: str, name: str) -> Actor:
    """The family as it appears in the audit trail and on the requests it decides nothing on."""
    return Actor(f"portail:{login}"[:64], f"Famille {name}", FAMILY_ROLE)


def family_desk(desk: Desk, account: PortalAccount) -> Desk:
    return desk.as_actor(family_actor(account.login, account.name))


def _account(f: Family) -> PortalAccount:
    return PortalAccount(f.id, f.portal_login or "", f.name, f.portal_state != PortalState.ACTIVE,
                         fingerprint(f.portal_password_hash))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_CURRENT = (Family.portal_login, Family.name, Family.portal_state, Family.portal_password_hash,
            Family.archived)


def current_account(desk: Desk, family_id: int, expected_fingerprint: str) -> PortalAccount | None:
    """The signed-in family, or None when the session no longer holds (password changed,
    account closed, family archived). Every page asks: one read of five columns, no write."""
    with desk.read() as s:
        row = s.execute(select(*_CURRENT).where(Family.id == family_id)).first()
    if row is None:
        return None
    login, name, state, password_hash, archived = row
    if archived or not login or not password_hash:
        return None
    account = PortalAccount(family_id, login, name, state != PortalState.ACTIVE, fingerprint(password_hash))
    if not hmac.compare_digest(account.fingerprint, expected_fingerprint or ""):
        return None
    return account


# --- throttle -------------------------------------------------------------------------------


def _keys(login: str, address: str | None) -> list[tuple[str, int]]:
    keys = [(f"login:{login.strip().lower()}"[:220], MAX_LOGIN_FAILURES)]
    if address:
        keys.append((f"ip:{address}"[:220], MAX_ADDRESS_FAILURES))
    return keys


def _locked(s, keys, now: datetime) -> bool:
    """Whether any of the counters is locked now (one statement for all of them)."""
    for (until,) in s.execute(select(PortalThrottle.locked_until).where(
            PortalThrottle.key.in_([key for key, _limit in keys]))):
        if until is not None and until > now:
            return True
    return False


def _fail(s, keys, now: datetime) -> None:
    for key, limit in keys:
        row = s.get(PortalThrottle, key, with_for_update=True)
        if row is None:
            row = PortalThrottle(key=key, failures=0, first_at=now)
            s.add(row)
        if now - row.first_at > WINDOW:
            row.failures, row.first_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + LOCK_FOR


def _clear(s, login: str) -> None:
    """The login's failure counter reset: one DELETE (nothing to delete is nothing written)."""
    s.execute(delete(PortalThrottle).where(PortalThrottle.key == _keys(login, None)[0][0]))


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return False


def sign_in(desk: Desk, login: str, password: str, address: str | None = None) -> PortalAccount:
    """The family whose login and password these are; DeskError with one sentence otherwise."""
    login = (login or "").strip()
    if not login or not password or len(login) > 200 or len(password) > 200:
        raise DeskError(BAD_CREDENTIALS)
    keys = _keys(login, address)
    now = desk.now()
    with desk.read() as s:
        locked = _locked(s, keys, now)
        row = s.execute(select(Family.id, Family.portal_login, Family.name, Family.portal_state,
                               Family.portal_password_hash, Family.archived)
                        .where(Family.portal_login == login.lower())).first()
        password_hash = row.portal_password_hash if row is not None and not row.archived else None
    if locked:
        _verify(None, password)  # same time whether locked, unknown or wrong
        raise DeskError(LOCKED)
    if not _verify(password_hash, password):
        with desk.unit_of_work() as s:
            _fail(s, keys, now)
        raise DeskError(BAD_CREDENTIALS)
    rehash = _needs_rehash(password_hash)
    new_hash = _hasher.hash(password) if rehash else None  # outside the write transaction
    # The session holds the fingerprint of the hash just verified: a password changed meanwhile
    # ends it at its first page.
    account = PortalAccount(row.id, row.portal_login or "", row.name, row.portal_state != PortalState.ACTIVE,
                            fingerprint(password_hash))
    with desk.unit_of_work() as s:
        # What a sign-in writes: the login's failure counter reset and its audit entry (and,
        # once, the hash with today's parameters).
        _clear(s, login)
        if rehash:
            f = s.get(Family, row.id, with_for_update=True)
            if f.portal_password_hash == password_hash:
                # Same password, today's parameters. Only if nobody changed it meanwhile; a session
                # opened on the old hash elsewhere ends (its fingerprint), once.
                f.portal_password_hash = new_hash
                account = _account(f)
        desk.as_actor(family_actor(account.login, account.name)).audit(
            s, "portal.sign_in", "family", row.id, family_id=row.id)
    return account


# --- passwords ------------------------------------------------------------------------------


def password_problems(new: str, confirm: str, login: str) -> list[str]:
    problems = []
    if len(new) < MIN_PASSWORD:
        problems.append(f"Le nouveau mot de passe doit comporter au moins {MIN_PASSWORD} caractères.")
    elif new.strip().lower() == login.strip().lower():
        problems.append("Le mot de passe ne peut pas être votre identifiant.")
    if len(new) > 200:
        problems.append("Le nouveau mot de passe est trop long (200 caractères au plus).")
    if new != confirm:
        problems.append("Les deux saisies du nouveau mot de passe sont différentes.")
    return problems


def change_password(desk: Desk, account: PortalAccount, current: str, new: str, confirm: str) -> PortalAccount:
    """The family chooses its password (forced at first sign-in); the account becomes active."""
    with desk.read() as s:
        f = s.get(Family, account.family_id)
        password_hash = f.portal_password_hash if f else None
    if not _verify(password_hash, current):
        raise ValidationFailed(["Le mot de passe actuel est incorrect."])
    if current == new:
        raise ValidationFailed(["Choisissez un mot de passe différent du mot de passe actuel."])
    return _set_password(desk, account.family_id, new, confirm, "portal.password")


def _set_password(desk: Desk, family_id: int, new: str, confirm: str, action: str) -> PortalAccount:
    with desk.read() as s:
        f = s.get(Family, family_id)
        login = f.portal_login if f else ""
    problems = password_problems(new, confirm, login or "")
    if problems:
        raise ValidationFailed(problems)
    new_hash = hash_password(new)
    with desk.unit_of_work() as s:
        f = s.get(Family, family_id, with_for_update=True)
        desk = desk.as_actor(family_actor(f.portal_login or "", f.name))
        before = {"portal_state": f.portal_state}
        f.portal_password_hash = new_hash
        f.portal_state = PortalState.ACTIVE
        stamp(f, desk)
        desk.audit(s, action, "family", f.id, family_id=f.id, before=before,
                   after={"portal_state": PortalState.ACTIVE})
        _clear(s, f.portal_login or "")
        return _account(f)


# --- forgotten password ----------------------------------------------------------------------

RESET_VALID = timedelta(hours=1)
RESET_SENT = ("Si cet identifiant correspond à un compte, un e-mail contenant un lien pour choisir un "
              "nouveau mot de passe vient d'être envoyé. Le lien est valable une heure.")
RESET_INVALID = ("Ce lien n'est plus valable (déjà utilisé ou expiré). Demandez un nouveau lien depuis "
                 "« Mot de passe oublié ».")


def _reset_signature(secret: str, family_id: int, expires: int, fp: str) -> str:
    message = f"reset|{family_id}|{expires}|{fp}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def reset_token(secret: str, family_id: int, password_hash: str | None, expires: datetime) -> str:
    stamp_ = int(expires.timestamp())
    return f"{family_id}.{stamp_}.{_reset_signature(secret, family_id, stamp_, fingerprint(password_hash))}"


def request_reset(desk: Desk, secret: str, login: str, base_url: str, address: str | None = None) -> None:
    """E-mail a single-use link to the family's addresses; silent whatever the login (counted
    with failed sign-ins, so it cannot be used to flood a family's mailbox either)."""
    login = (login or "").strip().lower()
    if not login or len(login) > 200:
        return
    now = desk.now()
    keys = _keys(login, address)
    with desk.unit_of_work() as s:
        if _locked(s, keys, now):
            return
        _fail(s, keys, now)
        f = s.execute(select(Family).where(Family.portal_login == login)).scalar_one_or_none()
        if f is None or f.archived or not f.portal_password_hash:
            return
        recipients = family_recipients(f)
        if not recipients:
            return
        token = reset_token(secret, f.id, f.portal_password_hash, now + RESET_VALID)
        structure = s.execute(select(Structure)).scalars().first()
        name = structure.name if structure else "La structure"
        body = ("Bonjour,\n\n"
                "Une demande de nouveau mot de passe a été faite pour votre compte du Portail Famille "
                f"(identifiant : {f.portal_login}).\n\n"
                f"Pour choisir un nouveau mot de passe, ouvrez ce lien dans l'heure :\n{base_url}{token}\n\n"
                "Le lien ne sert qu'une fois. Si vous n'avez rien demandé, ignorez ce message : votre "
                f"mot de passe reste le même.\n\nCordialement,\n{name}\n")
        enqueue(s, desk, recipients=recipients, subject="Portail Famille : nouveau mot de passe",
                body_text=body, family_id=f.id, kind="portal_reset")
        desk.audit(s, "portal.reset_request", "family", f.id, family_id=f.id)


def check_reset(desk: Desk, secret: str, token: str) -> int:
    """The family id the link is for; DeskError when forged, expired or already used."""
    try:
        family_text, expires_text, signature = (token or "").split(".")
        family_id, expires = int(family_text), int(expires_text)
    except ValueError:
        raise DeskError(RESET_INVALID) from None
    if expires < desk.now().timestamp():
        raise DeskError(RESET_INVALID)
    with desk.read() as s:
        f = s.get(Family, family_id)
        current = f.portal_password_hash if f is not None and not f.archived else None
    if current is None or not hmac.compare_digest(
            signature, _reset_signature(secret, family_id, expires, fingerprint(current))):
        raise DeskError(RESET_INVALID)
    return family_id


def reset_password(desk: Desk, secret: str, token: str, new: str, confirm: str) -> PortalAccount:
    family_id = check_reset(desk, secret, token)
    return _set_password(desk, family_id, new, confirm, "portal.reset")


__all__ = ["BAD_CREDENTIALS", "FAMILY_ROLE", "LOCKED", "PortalAccount", "RESET_INVALID", "RESET_SENT",
           "change_password", "check_reset", "current_account", "family_actor", "family_desk",
           "fingerprint", "hash_password", "request_reset", "reset_password", "reset_token", "sign_in"]


# The same counters for the portal's other anonymous forms (S'inscrire).
def throttle_locked(s, keys: list[tuple[str, int]], now: datetime) -> bool:
    return _locked(s, keys, now)


def throttle_count(s, keys: list[tuple[str, int]], now: datetime) -> None:
    _fail(s, keys, now)


def login_keys(login: str) -> list[tuple[str, int]]:
    """The sign-in counter of a login, for another form that asks for the password."""
    return _keys(login, None)


def password_matches(password_hash: str | None, password: str) -> bool:
    return _verify(password_hash, password)
