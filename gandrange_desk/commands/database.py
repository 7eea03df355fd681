"""`db upgrade` and `backup`."""

from __future__ import annotations

from gandrange_desk.cli import emit, open_desk


def register(sub) -> None:
    db = sub.add_parser("db", help="schéma de la base de données")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="crée ou met à jour le schéma (Alembic)")
    up.set_defaults(handler=upgrade)
    bk = sub.add_parser("backup", help="copie cohérente de la base (SQLite : fichier ; PostgreSQL : pg_dump)")
    bk.add_argument("--out", required=True, metavar="FICHIER", help="fichier de sauvegarde à écrire")
    bk.add_argument("--replace", action="store_true", help="remplacer le fichier s'il existe déjà")
    bk.set_defaults(handler=backup)


def upgrade(args) -> int:
    from gandrange_desk.services.system import schema

    desk = open_desk(args, upgrade_ok=True)
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

    desk = open_desk(args, upgrade_ok=True)
    result = make_backup(desk.engine, args.out, replace=args.replace)
    emit(args, {"out": str(result.path), "bytes": result.size, "backend": result.backend}, result.text())
    return 0
