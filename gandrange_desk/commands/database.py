"""`db upgrade` and `backup` (a copy, the automatic daily backup, its settings, restore)."""

from __future__ import annotations

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import DeskError


def register(sub) -> None:
    db = sub.add_parser("db", help="schéma de la base de données")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="crée ou met à jour le schéma (Alembic)")
    up.set_defaults(handler=upgrade)

    bk = sub.add_parser("backup", help="sauvegardes : copie, sauvegarde automatique, restauration",
                        description="Sans action : copie cohérente de la base dans --out "
                                    "(SQLite : fichier ; PostgreSQL : pg_dump).")
    bk.add_argument("--out", metavar="FICHIER", help="fichier de sauvegarde à écrire")
    bk.add_argument("--replace", action="store_true", help="remplacer le fichier s'il existe déjà")
    bk.set_defaults(handler=backup)
    bk_sub = bk.add_subparsers(dest="backup_command", metavar="ACTION")
    auto = bk_sub.add_parser("auto", help="sauvegarde du jour dans le dossier des réglages, "
                                          "puis suppression des plus anciennes (tâche planifiée)")
    auto.add_argument("--force", action="store_true", help="même si une sauvegarde a déjà été faite aujourd'hui")
    auto.set_defaults(handler=backup_auto)
    conf = bk_sub.add_parser("settings", help="dossier et durée de conservation des sauvegardes automatiques")
    conf.add_argument("--folder", metavar="DOSSIER", help="dossier des sauvegardes automatiques")
    conf.add_argument("--keep-days", type=int, metavar="N", help="jours de conservation")
    conf.set_defaults(handler=backup_settings)
    back = bk_sub.add_parser("restore", help="remet une sauvegarde en place (vérifiée ; "
                                             "la base actuelle est d'abord copiée à part)")
    back.add_argument("file", metavar="FICHIER", help="sauvegarde à restaurer")
    back.set_defaults(handler=backup_restore)


def upgrade(args) -> int:
    from gandrange_desk.services.system import schema

    desk = open_desk(args, upgrade_ok=True, first_run_ok=True)
    before = schema.current_revision(desk.engine)
    copy = schema.backup_sqlite_before_upgrade(desk.engine) if schema.needs_upgrade(desk.engine) else None
    schema.upgrade(desk.engine)
    after = schema.current_revision(desk.engine)
    if before == after:
        text = f"Le schéma est déjà à jour (version {after})."
    elif before is None:
        text = f"Schéma créé (version {after})."
    else:
        text = f"Schéma mis à jour de la version {before} à la version {after}."
    if copy:
        text += f"\nCopie de sécurité de l'ancienne base : {copy}"
    emit(args, {"before": before, "after": after, "backup": str(copy) if copy else None}, text)
    return 0


def backup(args) -> int:
    from gandrange_desk.services.system.backup import backup as make_backup

    if not args.out:
        raise DeskError("Indiquez le fichier à écrire (--out FICHIER) ou une action : "
                        "auto, settings, restore (gandrange-desk backup --help).")
    desk = open_desk(args, upgrade_ok=True)
    result = make_backup(desk.engine, args.out, replace=args.replace)
    emit(args, {"out": str(result.path), "bytes": result.size, "backend": result.backend}, result.text())
    return 0


def backup_auto(args) -> int:
    from gandrange_desk.services.system import auto_backup

    desk = open_desk(args)
    result = auto_backup.run_if_due(desk, force=args.force)
    if result is None:
        emit(args, {"out": None, "skipped": True},
             "Une sauvegarde automatique a déjà été faite aujourd'hui (--force pour en refaire une).")
        return 0
    emit(args, {"out": str(result.path), "bytes": result.size, "backend": result.backend,
                "removed": [str(p) for p in result.removed]}, result.text())
    return 0


def backup_settings(args) -> int:
    from gandrange_desk.services.system import auto_backup

    desk = open_desk(args)
    if args.folder is not None or args.keep_days is not None:
        settings = auto_backup.save_settings(desk, folder=args.folder, keep_days=args.keep_days)
    else:
        settings = auto_backup.read_settings(desk)
    emit(args, {"folder": str(settings.path()), "keep_days": settings.keep_days},
         f"Dossier des sauvegardes automatiques : {settings.path()}\n"
         f"Conservation : {settings.keep_days} jours.")
    return 0


def backup_restore(args) -> int:
    from gandrange_desk.services.system import auto_backup
    from gandrange_desk.services.system.restore import restore

    desk = open_desk(args, upgrade_ok=True)
    folder = auto_backup.read_settings(desk).path() if desk.engine.url.get_backend_name() != "sqlite" else None
    result = restore(desk, args.file, aside_folder=folder)
    emit(args, {"restored": str(result.source), "aside": str(result.aside)}, result.text())
    return 0
