"""Desk users: who acts, with which role; passwords hashed with argon2."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from gandrange_desk.errors import DeskError, NotFound, ValidationFailed
from gandrange_desk.models import DeskUser, Role
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import SYSTEM, Actor, Desk, check_version, stamp

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def resolve_actor(desk: Desk, login: str | None) -> Actor:
    """The command line acts as the system unless a desk user is named."""
    if not login:
        return SYSTEM
    with desk.read() as s:
        user = s.execute(select(DeskUser).where(DeskUser.login == login)).scalar_one_or_none()
    if user is None or not user.active:
        raise DeskError(f"Utilisateur inconnu ou désactivé : « {login} ».")
    return Actor(user.login, user.full_name, user.role)


def authenticate(desk: Desk, login: str, password: str) -> Actor:
    with desk.read() as s:
        user = s.execute(select(DeskUser).where(DeskUser.login == login.strip())).scalar_one_or_none()
    if user is None or not user.active or not user.password_hash:
        raise DeskError("Identifiant ou mot de passe incorrect.")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError):
        raise DeskError("Identifiant ou mot de passe incorrect.") from None
    return Actor(user.login, user.full_name, user.role)


def has_users(desk: Desk) -> bool:
    with desk.read() as s:
        return bool(s.execute(select(func.count(DeskUser.id))).scalar_one())


def create_user(desk: Desk, login: str, full_name: str, role: str, password: str) -> int:
    login = login.strip()
    problems = []
    if not login:
        problems.append("L'identifiant est obligatoire.")
    if role not in {r.value for r in Role}:
        problems.append(f"Rôle inconnu : « {role} » (agent, responsable ou admin).")
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
