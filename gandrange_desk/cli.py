"""The `gandrange-desk` command line (`__main__` opens the window when no command is given).

Nothing here imports Qt, and building the parser imports no model: `--help` stays fast and
works where the database layer could not load. Each area registers its subcommands from a module of `gandrange_desk.commands`; every command
calls the same services as the window. Errors are one French sentence on stderr and a non-zero
exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Callable, Sequence

from gandrange_desk import __version__
from gandrange_desk.errors import DeskError

# One module per area; each has `register(subparsers)`.
COMMAND_MODULES = (
    "gandrange_desk.commands.database",
    "gandrange_desk.commands.attestations",
    "gandrange_desk.commands.sepa",
    "gandrange_desk.commands.settings",
    "gandrange_desk.commands.demo",
    "gandrange_desk.commands.payments",
    "gandrange_desk.commands.users",
    "gandrange_desk.commands.queue",
    "gandrange_desk.commands.outbox",
    "gandrange_desk.commands.invoices",
    "gandrange_desk.commands.appointments",
    "gandrange_desk.commands.privacy",
    "gandrange_desk.commands.lists",
    "gandrange_desk.commands.exports",
    "gandrange_desk.commands.caf",
    "gandrange_desk.commands.school_holidays",
    "gandrange_desk.commands.portal",
)

EXIT_FAILED = 1
EXIT_USAGE = 2


# argparse looks its words up through its module-level `_`; giving it French ones makes every
# help screen and usage error read in French without re-implementing the formatter.
_ARGPARSE_FR = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "optional arguments": "options",
    "show this help message and exit": "affiche cette aide et quitte",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (choisir parmi %(choices)s)",
    "expected one argument": "une valeur est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "one of the arguments %s is required": "un des arguments %s est obligatoire",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
}
argparse._ = lambda text: _ARGPARSE_FR.get(text, text)
argparse.ngettext = lambda singular, plural, n: _ARGPARSE_FR.get(singular if n == 1 else plural,
                                                                 singular if n == 1 else plural)


class FrenchArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"Commande invalide ({self.prog}) : {message}.\n"
                              f"Aide : {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(
        prog="gandrange-desk",
        description="Bureau périscolaire de Gandrange : familles, réservations, validation, facturation.",
    )
    parser.add_argument("--db", metavar="URL",
                        help="base de données (sinon GANDRANGE_DESK_DB, sinon un fichier SQLite local)")
    parser.add_argument("--user", metavar="IDENTIFIANT",
                        help="utilisateur du bureau au nom duquel agir (sinon GANDRANGE_DESK_USER) ; "
                             "mot de passe : GANDRANGE_DESK_PASSWORD, le trousseau ou saisi")
    parser.add_argument("--json", action="store_true", help="sortie JSON pour les programmes")
    parser.add_argument("--version", action="version", version=f"gandrange-desk {__version__}",
                        help="affiche la version et quitte")
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=FrenchArgumentParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


ENV_USER = "GANDRANGE_DESK_USER"
ENV_PASSWORD = "GANDRANGE_DESK_PASSWORD"
NO_USER_YET = ("Cette base n'a encore aucun utilisateur du bureau : créez d'abord l'administrateur avec "
               "« gandrange-desk users add IDENTIFIANT --name NOM --role admin » (mot de passe saisi, ou "
               "GANDRANGE_DESK_NEW_PASSWORD).")
WHO_ACTS = ("Indiquez qui agit : --user IDENTIFIANT ou la variable GANDRANGE_DESK_USER (mot de passe : "
            "GANDRANGE_DESK_PASSWORD, le trousseau du système, ou saisi).")


def open_desk(args, *, upgrade_ok: bool = False, first_run_ok: bool = False):
    """The service context for a command: database, an authenticated desk user, and a schema
    that is up to date. There is no implicit administrator: a command acts as the desk user
    named by --user / GANDRANGE_DESK_USER, who proves it with a password. Only a base without
    any desk user lets the commands that set it up (`first_run_ok`) act as the system."""
    from gandrange_desk.db import current_holder, make_engine, resolve_url
    from gandrange_desk.services.system import schema
    from gandrange_desk.services.context import SYSTEM, Desk
    from gandrange_desk.services.system.users import has_users

    from gandrange_desk import db as databases

    # A writer kept waiting by another one says so at once, not after 30 silent seconds.
    databases.on_wait = lambda text: print(text, file=sys.stderr, flush=True)
    engine = make_engine(resolve_url(args.db))
    if not upgrade_ok and schema.needs_upgrade(engine):
        raise DeskError("La base de données n'est pas à jour : lancez « gandrange-desk db upgrade ».")
    desk = Desk(engine)
    if schema.current_revision(engine) is None or not has_users(desk):
        # Nothing to authenticate against yet (no schema, or no desk user).
        if not first_run_ok:
            raise DeskError(NO_USER_YET)
        return desk.as_actor(SYSTEM)
    login = (args.user or os.environ.get(ENV_USER) or "").strip()
    if not login:
        raise DeskError(WHO_ACTS)
    actor = authenticate_command(desk, login, _command_name(args), lockout=not schema.needs_upgrade(engine))
    current_holder.update(who=actor.login, what=_command_name(args))
    return desk.as_actor(actor)


def _command_name(args) -> str:
    parts = [getattr(args, "command", None)]
    for key, value in vars(args).items():
        if key.endswith("_command") and isinstance(value, str):
            parts.append(value)
    return " ".join(p for p in parts if p)


def command_password(desk, login: str) -> str:
    """The desk user's password: GANDRANGE_DESK_PASSWORD, the OS keyring, or typed in."""
    import getpass

    from gandrange_desk.services.system import secrets

    found = os.environ.get(ENV_PASSWORD)
    if found:
        return found
    stored = secrets.get_desk_password(login)
    if stored:
        return stored
    if not (sys.stdin and sys.stdin.isatty()):
        raise DeskError(f"Mot de passe de « {login} » absent : définissez {ENV_PASSWORD}, enregistrez-le dans le "
                        "trousseau du système, ou lancez la commande dans un terminal pour le saisir.")
    try:
        return getpass.getpass(f"Mot de passe de {login} : ")
    except EOFError:
        raise DeskError(f"Aucun mot de passe saisi pour « {login} ».") from None


def authenticate_command(desk, login: str, command: str, *, lockout: bool = True):
    from gandrange_desk.services.system.users import authenticate, check_command_allowed

    actor = authenticate(desk, login, command_password(desk, login), where="ligne de commande",
                         lockout=lockout)
    check_command_allowed(actor, command)
    return actor


def emit(args, payload, text: str | Callable[[], str]) -> None:
    """Print JSON with --json, human text otherwise."""
    if args.json:
        json.dump(payload, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        out = text() if callable(text) else text
        if out:
            print(out)


def unreadable_argument(argv: list[str]) -> str | None:
    """The sentence for the first argument the system could not decode (bytes that are not UTF-8
    arrive as lone surrogates), or None."""
    for position, arg in enumerate(argv, 1):
        if isinstance(arg, str) and any("\ud800" <= ch <= "\udfff" for ch in arg):
            from gandrange_desk.services.validation import shown

            return f"Argument n° {position} illisible : « {shown(arg)} » n'est pas du texte UTF-8."
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    bad = unreadable_argument(argv)  # before any use: printing it alone would raise
    if bad:
        print(bad, file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    # Subcommands that declare their own --json would otherwise reset a global one to False.
    args.json = bool(getattr(args, "json", False)) or "--json" in argv
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        result = args.handler(args)
        return int(result or 0)
    except DeskError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
