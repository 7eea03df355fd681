"""`users add` and `users list`: the desk users and their roles."""

from __future__ import annotations

import getpass
import os

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import DeskError


def register(sub) -> None:
    users = sub.add_parser("users", help="utilisateurs du bureau")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_sub.add_parser("add", help="crée un utilisateur (mot de passe demandé, "
                                           "ou GANDRANGE_DESK_NEW_PASSWORD)")
    add.add_argument("login")
    add.add_argument("--name", required=True, help="nom complet")
    add.add_argument("--role", choices=["agent", "responsable", "admin", "taches"], default="agent",
                     help="rôle (taches : compte des tâches planifiées, qui ne fait qu'envoyer les courriels, "
                          "sauvegarder et importer le flux)")
    add.set_defaults(handler=add_user)
    listing = users_sub.add_parser("list", help="liste les utilisateurs")
    listing.set_defaults(handler=list_users)
    keep = users_sub.add_parser("keyring", help="enregistre le mot de passe d'un utilisateur dans le trousseau "
                                                "du système (pour les tâches planifiées)")
    keep.add_argument("login")
    keep.set_defaults(handler=keyring_password)


def add_user(args) -> int:
    from gandrange_desk.services.system.users import create_user

    from gandrange_desk.services.system.users import has_users, login_problems

    desk = open_desk(args, first_run_ok=True)
    problems = login_problems(args.login)
    if problems:
        raise DeskError(problems[0])
    if not has_users(desk) and args.role != "admin":
        raise DeskError("Le premier utilisateur du bureau est son administrateur : ajoutez --role admin.")
    password = os.environ.get("GANDRANGE_DESK_NEW_PASSWORD")
    if password is None:
        try:
            password = getpass.getpass("Mot de passe : ")
            again = getpass.getpass("Mot de passe (confirmation) : ")
        except EOFError:
            raise DeskError("Aucun mot de passe saisi : utilisez GANDRANGE_DESK_NEW_PASSWORD en mode non interactif.")
        if password != again:
            raise DeskError("Les deux mots de passe ne sont pas identiques.")
    user_id = create_user(desk, args.login, args.name, args.role, password)
    emit(args, {"id": user_id, "login": args.login, "role": args.role},
         f"Utilisateur « {args.login} » créé ({args.role}).")
    return 0


def list_users(args) -> int:
    from sqlalchemy import select

    from gandrange_desk.models import DeskUser, Role

    desk = open_desk(args)
    with desk.read() as s:
        rows = s.execute(select(DeskUser).order_by(DeskUser.login)).scalars().all()
        data = [{"login": u.login, "name": u.full_name, "role": u.role, "active": u.active} for u in rows]
    emit(args, data, lambda: "\n".join(
        f"{d['login']:<16} {d['name']:<30} {Role.label_of(d['role'])}"
        + ("" if d["active"] else " (désactivé)") for d in data) or "Aucun utilisateur.")
    return 0


def keyring_password(args) -> int:
    """Checked first (a wrong password is refused and counted), then kept in the keyring."""
    from gandrange_desk.cli import command_password
    from gandrange_desk.db import make_engine, resolve_url
    from gandrange_desk.services.context import Desk
    from gandrange_desk.services.system import secrets
    from gandrange_desk.services.system.users import authenticate

    if not secrets.keyring_available():
        raise DeskError("Aucun trousseau n'est disponible sur ce poste : utilisez GANDRANGE_DESK_PASSWORD.")
    desk = Desk(make_engine(resolve_url(args.db)))
    password = command_password(desk, args.login)
    authenticate(desk, args.login, password, where="ligne de commande")  # any role: the tasks' user too
    secrets.set_desk_password(args.login, password)
    emit(args, {"login": args.login}, f"Mot de passe de « {args.login} » enregistré dans le trousseau du système.")
    return 0
