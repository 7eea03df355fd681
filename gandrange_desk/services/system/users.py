"""Desk users: who acts, with which role; passwords hashed with argon2."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update

from gandrange_desk.errors import DeskError, NotFound, PermissionDenied, ValidationFailed
from gandrange_desk.models import DeskUser, Role
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import SYSTEM, Actor, Desk, check_version, stamp

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# Wrong passwords in a row before the account locks, and for how long.
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
# Seconds waited before answering the n-th wrong password in a row (from the third on).
FAILURE_DELAYS = (0, 0, 1, 2, 4, 8)
WRONG = "Identifiant ou mot de passe incorrect."
# Names an audit line could confuse with the program or the operating system: never a desk login.
RESERVED_LOGINS = frozenset({
    "systeme", "system", "sys", "root", "administrateur", "administrator", "administrators",
    "adm", "daemon", "nobody", "postgres", "sa", "guest", "invite", "service", "localsystem",
    "networkservice", "localservice", "trustedinstaller", "gandrange-desk", "gandrange_desk",
})
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
# The commands a scheduled-tasks user may run: (command, action or None for any).
TASK_COMMANDS = {("outbox", "send"), ("backup", None), ("backup", "auto"), ("intake", None)}
# How a delay is waited (tests record it instead).
sleep = time.sleep
_dummy_hash: str | None = None


def _equal_work_hash() -> str:
    # An unknown login is checked against this, so that it costs what a known one costs.
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def resolve_actor(desk: Desk, login: str | None) -> Actor:
    """A desk user by login, without a password: only for a session already authenticated
    (the window's own user). The command line authenticates (`authenticate`)."""
    if not login:
        raise DeskError("Indiquez l'utilisateur du bureau au nom duquel agir.")
    with desk.read() as s:
        user = s.execute(select(DeskUser).where(DeskUser.login == login)).scalar_one_or_none()
    if user is None or not user.active:
        raise DeskError(f"Utilisateur inconnu ou désactivé : « {login} ».")
    return Actor(user.login, user.full_name, user.role)


def _normal(login: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", login).encode("ascii", "ignore").decode()
    return plain.strip().lower()


def login_problems(login: str) -> list[str]:
    login = login.strip()
    if not login:
        return ["L'identifiant est obligatoire."]
    if _normal(login) in RESERVED_LOGINS or _normal(login).startswith("systeme"):
        return [f"L'identifiant « {login} » est réservé (compte du système) : choisissez-en un autre."]
    if not _LOGIN.fullmatch(login):
        return [f"Identifiant invalide : « {login} » (2 à 64 caractères : lettres minuscules sans accent, "
                "chiffres, point, tiret ou tiret bas)."]
    return []


def check_command_allowed(actor: Actor, command: str) -> None:
    """The scheduled-tasks role runs its few commands and nothing else."""
    if actor.role != Role.TASKS:
        return
    name, _, action = command.partition(" ")
    if (name, action or None) in TASK_COMMANDS:
        return
    raise PermissionDenied(f"« {actor.login} » est un compte de tâches planifiées : il n'envoie que les courriels "
                           "(outbox send), ne fait que les sauvegardes (backup, backup auto) et l'import du flux (intake).")


@dataclass
class _Login:
    id: int
    login: str
    full_name: str
    role: str
    active: bool
    password_hash: str
    failed_logins: int = 0
    locked_until: datetime | None = None


def _find_login(desk: Desk, login: str, lockout: bool) -> _Login | None:
    t = DeskUser.__table__
    columns = [t.c.id, t.c.login, t.c.full_name, t.c.role, t.c.active, t.c.password_hash]
    if lockout:
        columns += [t.c.failed_logins, t.c.locked_until]
    with desk.read() as s:
        row = s.execute(select(*columns).where(t.c.login == login)).first()
    return _Login(*row) if row is not None else None


def authenticate(desk: Desk, login: str, password: str, *, where: str = "fenêtre",
                 lockout: bool = True) -> Actor:
    """Check a login and password. The same hashing work whatever the login; wrong passwords in
    a row wait longer each time, then lock the account for LOCK_FOR; every refusal is in the
    audit trail (the password never is). `lockout=False` on a schema older than the lock
    columns (`db upgrade` authenticates before migrating)."""
    login = (login or "").strip()
    now = desk.now()
    table = DeskUser.__table__
    user = _find_login(desk, login, lockout)
    stored = user.password_hash if user is not None and user.password_hash else _equal_work_hash()
    try:
        ok = _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    known = user is not None and bool(user.active) and bool(user.password_hash)
    locked = known and user.locked_until is not None and user.locked_until > now
    if known and ok and not locked:
        if user.role == Role.TASKS and where == "fenêtre":
            raise PermissionDenied(f"« {login} » est un compte de tâches planifiées : il ne peut pas ouvrir la "
                                   "fenêtre.")
        if lockout and (user.failed_logins or user.locked_until):
            with desk.unit_of_work() as w:
                w.execute(update(table).where(table.c.id == user.id).values(failed_logins=0, locked_until=None))
        return Actor(user.login, user.full_name, user.role)
    if locked:
        _audit_login(desk, login, user.id if user else None, "login.failed",
                     {"login": login, "where": where, "locked_until": user.locked_until.isoformat()})
        raise DeskError(_locked_text(user.locked_until))
    failures = 0
    if known and not lockout:
        _audit_login(desk, login, user.id, "login.failed", {"login": login, "where": where})
    elif known:
        failures = (user.failed_logins or 0) + 1
        values: dict = {"failed_logins": failures}
        if failures >= LOCK_AFTER:
            values["locked_until"] = now + LOCK_FOR
        with desk.unit_of_work() as w:
            w.execute(update(table).where(table.c.id == user.id).values(**values))
            _audit(w, desk, login, user.id, "login.failed", {"login": login, "where": where, "failures": failures})
            if "locked_until" in values:
                _audit(w, desk, login, user.id, "login.locked",
                       {"login": login, "failures": failures, "locked_until": values["locked_until"].isoformat()})
        if "locked_until" in values:
            raise DeskError(_locked_text(values["locked_until"], failures))
    else:
        _audit_login(desk, login, None, "login.failed", {"login": login[:64], "where": where})
    delay = FAILURE_DELAYS[min(failures - 1, len(FAILURE_DELAYS) - 1)] if failures else 0
    if delay:
        sleep(delay)
    raise DeskError(WRONG)


def _locked_text(until: datetime, failures: int | None = None) -> str:
    from gandrange_desk import formats

    why = f"après {failures} mots de passe erronés " if failures else ""
    return (f"Compte verrouillé {why}jusqu'au {formats.instant(until)} : réessayez plus tard, ou demandez à un "
            "administrateur de réinitialiser le mot de passe.")


def _audit(session, desk: Desk, login: str, user_id: int | None, action: str, after: dict) -> None:
    from gandrange_desk.models import AuditEntry
    from gandrange_desk.services.context import audit_text

    session.add(AuditEntry(at=desk.now(), user_login=(login or "?")[:64], action=action, entity="desk_user",
                           entity_id=user_id, before="", after=audit_text(after)))


def _audit_login(desk: Desk, login: str, user_id: int | None, action: str, after: dict) -> None:
    with desk.unit_of_work() as w:
        _audit(w, desk, login, user_id, action, after)


def has_users(desk: Desk) -> bool:
    with desk.read() as s:
        return bool(s.execute(select(func.count(DeskUser.id))).scalar_one())


def create_user(desk: Desk, login: str, full_name: str, role: str, password: str) -> int:
    login = login.strip()
    problems = login_problems(login)
    if role not in {r.value for r in Role}:
        problems.append(f"Rôle inconnu : « {role} » (agent, responsable, admin ou taches).")
    if len(password) < 8:
        problems.append("Le mot de passe doit comporter au moins 8 caractères.")
    if problems:
        raise ValidationFailed(problems)
    if has_users(desk):
        desk.require(Role.ADMIN, "Créer un utilisateur")
    with desk.unit_of_work() as s:
        if s.execute(select(DeskUser.id).where(DeskUser.login == login)).first():
            raise DeskError(f"L'identifiant « {login} » existe déjà.")
        user = DeskUser(login=login.strip(), full_name=full_name.strip() or login, role=role,
                        password_hash=hash_password(password))
        s.add(user)
        s.flush()
        desk.audit(s, "user.create", "desk_user", user.id, after={"login": login, "role": role})
        return user.id


# ---------------------------------------------------------------------------------------------
# Administration of desk users (the "Utilisateurs du bureau" window): admin only, audited, and
# never leaving the desk without an active administrator.

MIN_PASSWORD = 8
LAST_ADMIN = ("Refusé : le bureau doit garder au moins un administrateur actif. "
              "Nommez d'abord un autre administrateur.")


@dataclass(frozen=True)
class UserRow:
    id: int
    login: str
    full_name: str
    role: str
    active: bool
    version: int
    updated_by: str | None
    updated_at: datetime | None
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)  # set by update_user


def list_users(desk: Desk) -> list[UserRow]:
    desk.require(Role.RESPONSABLE, "Consulter les utilisateurs du bureau")
    with desk.read() as s:
        users = s.execute(select(DeskUser).order_by(DeskUser.active.desc(), DeskUser.login)).scalars()
        return [UserRow(u.id, u.login, u.full_name, u.role, bool(u.active), u.version, u.updated_by,
                        u.updated_at) for u in users]


def _password_problems(password: str, label: str = "Le mot de passe") -> list[str]:
    if len(password) < MIN_PASSWORD:
        return [f"{label} doit comporter au moins {MIN_PASSWORD} caractères."]
    return []


def _load(s, user_id: int) -> DeskUser:
    user = s.get(DeskUser, user_id)
    if user is None:
        raise NotFound("Utilisateur introuvable : il a peut-être été supprimé sur un autre poste.")
    return user


def update_user(desk: Desk, user_id: int, *, full_name: str, role: str, active: bool,
                version: int | None) -> UserRow:
    """Change a user's name, role or active flag; refused if it leaves no active admin."""
    desk.require(Role.ADMIN, "Modifier un utilisateur")
    problems = []
    if not full_name.strip():
        problems.append("Le nom complet est obligatoire.")
    if role not in {r.value for r in Role}:
        problems.append(f"Rôle inconnu : « {role} » (agent, responsable ou admin).")
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        # Lock the active admins first, always in the same order (PostgreSQL): two admins
        # demoting each other then queue, and the second one sees that no admin would remain.
        s.execute(select(DeskUser.id).where(DeskUser.role == Role.ADMIN.value, DeskUser.active.is_(True))
                  .order_by(DeskUser.id).with_for_update()).all()
        user = _load(s, user_id)
        check_version(user, version, f"la fiche de l'utilisateur « {user.login} »")
        if user.login == desk.actor.login and not active:
            raise DeskError("Refusé : vous ne pouvez pas désactiver votre propre compte.")
        fields = ("full_name", "role", "active")
        before = {k: getattr(user, k) for k in fields}
        after = {"full_name": full_name.strip(), "role": role, "active": bool(active)}
        changed = {k: v for k, v in after.items() if before[k] != v}
        if changed:
            for k, v in changed.items():
                setattr(user, k, v)
            stamp(user, desk)
            s.flush()
            _require_an_admin(s)
            desk.audit(s, "user.update", "desk_user", user.id,
                       before={"login": user.login, **{k: before[k] for k in changed}},
                       after={"login": user.login, **changed})
            s.flush()
        return UserRow(user.id, user.login, user.full_name, user.role, bool(user.active), user.version,
                       user.updated_by, user.updated_at, Changes(settings=bool(changed)))


def _require_an_admin(s) -> None:
    admins = s.execute(select(func.count(DeskUser.id)).where(
        DeskUser.role == Role.ADMIN.value, DeskUser.active.is_(True))).scalar_one()
    if not admins:
        raise DeskError(LAST_ADMIN)


def reset_password(desk: Desk, user_id: int, new_password: str) -> None:
    """An administrator sets a new password for a user (who forgot theirs)."""
    desk.require(Role.ADMIN, "Réinitialiser un mot de passe")
    problems = _password_problems(new_password, "Le nouveau mot de passe")
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        user = _load(s, user_id)
        user.password_hash = hash_password(new_password)
        user.failed_logins = 0  # a new password lifts a lock
        user.locked_until = None
        stamp(user, desk)
        desk.audit(s, "user.password.reset", "desk_user", user.id, after={"login": user.login})


def change_own_password(desk: Desk, old_password: str, new_password: str, confirm: str | None = None) -> None:
    """The logged-in user changes their password, giving the current one."""
    problems = _password_problems(new_password, "Le nouveau mot de passe")
    if confirm is not None and confirm != new_password:
        problems.append("La confirmation ne correspond pas au nouveau mot de passe.")
    if new_password and new_password == old_password:
        problems.append("Le nouveau mot de passe doit être différent de l'ancien.")
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        user = s.execute(select(DeskUser).where(DeskUser.login == desk.actor.login)).scalar_one_or_none()
        if user is None or not user.active:
            raise DeskError("Aucun compte du bureau n'est ouvert sous cet identifiant : "
                            "connectez-vous d'abord.")
        try:
            _hasher.verify(user.password_hash or "", old_password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise DeskError("Mot de passe actuel incorrect : rien n'a été changé.") from None
        user.password_hash = hash_password(new_password)
        stamp(user, desk)
        desk.audit(s, "user.password.change", "desk_user", user.id, after={"login": user.login})
