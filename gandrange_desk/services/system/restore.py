"""`backup restore FILE`: put a backup back, after checking it and copying the current base aside.

SQLite: the file must be a sound SQLite database (`PRAGMA integrity_check`) holding a Gandrange
Desk schema no newer than this program; the current base is first copied next to itself
(`*.avant-restauration-<date>.sqlite3`), then the backup is copied in with SQLite's backup API,
and an older schema is migrated. PostgreSQL: `pg_restore --list` must read the whole archive;
the current base is first saved with `pg_dump` into the backup folder, then `pg_restore --clean`
runs in a single transaction, so a failure leaves the base as it was.
"""

from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from gandrange_desk.errors import DeskError
from gandrange_desk.services.system import backup as backup_service
from gandrange_desk.services.system import schema


@dataclass
class RestoreResult:
    source: Path
    aside: Path
    revision: str | None

    def text(self) -> str:
        return (f"Sauvegarde restaurée : {self.source}.\n"
                f"La base remplacée a été copiée dans {self.aside}.")


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def check_sqlite_backup(path: Path) -> str | None:
    """The schema revision of a sound SQLite backup, or a DeskError saying what is wrong."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DeskError(f"Le fichier {path} ne peut pas être ouvert ({exc}).") from None
    try:
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError:
            raise DeskError(f"Le fichier {path} n'est pas une sauvegarde SQLite : rien n'a été restauré.") from None
        if verdict != "ok":
            raise DeskError(f"La sauvegarde {path} est abîmée ({verdict}) : rien n'a été restauré.")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"alembic_version", "structure", "family"} <= tables:
            raise DeskError(f"Le fichier {path} n'est pas une sauvegarde de Gandrange Desk : rien n'a été restauré.")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def _check_revision(revision: str | None, path: Path) -> None:
    if revision is not None and revision > schema.HEAD:
        raise DeskError(f"La sauvegarde {path} vient d'une version plus récente de Gandrange Desk "
                        f"(schéma {revision}) : mettez le programme à jour avant de la restaurer.")


def restore(desk, source: str | Path, *, aside_folder: str | Path | None = None) -> RestoreResult:
    """Replace the whole base by a backup (administrator only)."""
    from gandrange_desk.models import Role

    desk.require(Role.ADMIN, "Restaurer une sauvegarde")
    engine: Engine = desk.engine
    path = Path(source).expanduser()
    if not path.is_file():
        raise DeskError(f"Le fichier {path} n'existe pas.")
    backend = engine.url.get_backend_name()
    if backend == "sqlite":
        result = _restore_sqlite(engine, path)
    elif backend == "postgresql":
        result = _restore_postgres(engine, path, aside_folder)
    else:  # pragma: no cover
        raise DeskError(f"Restauration impossible pour ce type de base : {backend}.")
    engine.dispose()
    if schema.needs_upgrade(engine):
        schema.upgrade(engine)
    return result


def _restore_sqlite(engine: Engine, path: Path) -> RestoreResult:
    database = engine.url.database
    if not database or database == ":memory:":
        raise DeskError("Restauration impossible : la base SQLite est en mémoire.")
    current = Path(database)
    if current.resolve() == path.resolve():
        raise DeskError("La sauvegarde à restaurer est la base elle-même.")
    revision = check_sqlite_backup(path)
    _check_revision(revision, path)
    aside = current.with_name(f"{current.stem}.avant-restauration-{_stamp()}{current.suffix}")
    engine.dispose()
    raw = engine.raw_connection()
    try:
        live = raw.driver_connection
        copy = sqlite3.connect(aside)
        try:
            live.backup(copy)
        finally:
            copy.close()
        backup_service.owner_only(aside)
        src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            # Page by page into the live file, under SQLite's own lock: other connections wait.
            src.backup(live)
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise DeskError(f"Restauration impossible : {exc}. La base actuelle est copiée dans {aside}.") from None
    finally:
        raw.close()
    return RestoreResult(path, aside, revision)


def _restore_postgres(engine: Engine, path: Path, aside_folder) -> RestoreResult:
    pg_restore = backup_service.pg_tool("pg_restore")
    listing = subprocess.run([pg_restore, "--list", str(path)], capture_output=True, text=True, timeout=600)
    if listing.returncode != 0 or "alembic_version" not in listing.stdout:
        raise DeskError(f"Le fichier {path} n'est pas une sauvegarde pg_dump de Gandrange Desk "
                        "lisible : rien n'a été restauré.")
    folder = Path(aside_folder) if aside_folder else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    aside = folder / f"avant-restauration-{engine.url.database}-{_stamp()}.pgdump"
    backup_service.backup(engine, aside)
    backup_service.owner_only(aside)
    engine.dispose()
    connection, env = backup_service.pg_connection_args(engine.url)
    cmd = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
           "--exit-on-error", *connection, str(path)]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DeskError(f"Restauration impossible : pg_restore n'a pas pu s'exécuter ({exc}).") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["erreur inconnue"])[-1]
        raise DeskError(f"Restauration impossible : pg_restore a échoué ({reason}). "
                        f"La base n'a pas changé ; sa copie est dans {aside}.")
    return RestoreResult(path, aside, None)
