"""Desk users: who acts, with which role; passwords hashed with argon2."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import DeskUser, Role
from gandrange_desk.services.context import SYSTEM, Actor, Desk

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
    problems = []
    if not login.strip():
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
