"""`settings import FILE.toml` and `settings export [--out FILE]`."""

from __future__ import annotations

import sys
from pathlib import Path

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import DeskError


def register(sub) -> None:
    settings = sub.add_parser("settings", help="paramètres : structure, activités, unités, tarifs")
    settings_sub = settings.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    imp = settings_sub.add_parser("import", help="importe un fichier de paramètres TOML (tout ou rien)")
    imp.add_argument("file", metavar="FICHIER.toml")
    imp.add_argument("--replace", action="store_true",
                     help="remet à leur valeur par défaut les clés facultatives que le fichier ne cite pas")
    imp.set_defaults(handler=import_command)
    exp = settings_sub.add_parser("export", help="écrit les paramètres en TOML (sortie standard par défaut)")
    exp.add_argument("--out", metavar="FICHIER", help="fichier à écrire")
    exp.set_defaults(handler=export_command)


def import_command(args) -> int:
    from gandrange_desk.services.settings.service import import_settings_file

    desk = open_desk(args)
    summary = import_settings_file(desk, args.file, replace=args.replace)
    emit(args, summary.as_dict(), summary.text)
    return 0


def export_command(args) -> int:
    from gandrange_desk.services.settings.service import export_settings

    desk = open_desk(args)
    text = export_settings(desk)
    if args.out:
        target = Path(args.out)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise DeskError(f"Impossible d'écrire le fichier {target} : {exc.strerror}.") from None
        emit(args, {"out": str(target)}, f"Paramètres exportés dans {target}.")
    elif args.json:
        emit(args, {"toml": text}, "")
    else:
        sys.stdout.write(text)
    return 0
