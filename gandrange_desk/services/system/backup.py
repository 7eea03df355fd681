"""`backup --out FILE`: a consistent copy of the database while others keep working.

SQLite: the online backup API copies a consistent snapshot (WAL pages included) into a
temporary file next to the target, checked with `PRAGMA quick_check`, then renamed, so a
crash never leaves a half-written backup under the chosen name. PostgreSQL: `pg_dump` in its
custom format (restore with `pg_restore`); its password comes from the same keyring or
environment variable as the application's, passed through PGPASSWORD, never on the command line.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from gandrange_desk.errors import DeskError

ENV_PG_DUMP = "GANDRANGE_DESK_PG_DUMP"


@dataclass
class BackupResult:
    path: Path
    size: int
    backend: str

    def text(self) -> str:
        kind = "SQLite" if self.backend == "sqlite" else "pg_dump (format custom, à restaurer avec pg_restore)"
        return f"Copie de sauvegarde écrite : {self.path} ({_size(self.size)}, {kind})."


def _size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, n // 1024)} Ko"
    return f"{n / (1024 * 1024):.1f} Mo".replace(".", ",")


def backup(engine_or_desk, out: str | Path, *, replace: bool = False) -> BackupResult:
    """`engine_or_desk`: an Engine or a Desk (the window passes its Desk)."""
    engine: Engine = getattr(engine_or_desk, "engine", engine_or_desk)
    target = Path(out).expanduser()
    if target.exists() and not replace:
        raise DeskError(f"Le fichier {target} existe déjà : choisissez un autre nom (ou --replace).")
    if not target.parent.exists():
        raise DeskError(f"Le dossier {target.parent} n'existe pas.")
    backend = engine.url.get_backend_name()
    if backend == "sqlite":
        _sqlite(engine, target)
    elif backend == "postgresql":
        _postgres(engine, target)
    else:  # pragma: no cover
        raise DeskError(f"Sauvegarde impossible pour ce type de base : {backend}.")
    return BackupResult(target, target.stat().st_size, backend)


def _sqlite(engine: Engine, target: Path) -> None:
    if not engine.url.database or engine.url.database == ":memory:":
        raise DeskError("Sauvegarde impossible : la base SQLite est en mémoire.")
    if Path(engine.url.database).resolve() == target.resolve():
        raise DeskError("La copie de sauvegarde ne peut pas remplacer la base elle-même.")
    temporary = target.with_name(f".{target.name}.partiel")
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(temporary)
        try:
            raw.driver_connection.backup(dest)
            check = dest.execute("PRAGMA quick_check").fetchone()[0]
            # A single file is easier to move around than a WAL trio.
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
    except sqlite3.Error as exc:
        temporary.unlink(missing_ok=True)
        raise DeskError(f"Sauvegarde SQLite impossible : {exc}.") from None
    finally:
        raw.close()
    if check != "ok":
        temporary.unlink(missing_ok=True)
        raise DeskError(f"La copie de sauvegarde est incohérente ({check}) : rien n'a été écrit.")
    os.replace(temporary, target)


def find_pg_dump() -> str | None:
    configured = os.environ.get(ENV_PG_DUMP)
    if configured:
        return configured if Path(configured).exists() else None
    # The newest server tools first: pg_dump refuses a server newer than itself.
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"),
                            key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
                            reverse=True):
        return candidate
    return shutil.which("pg_dump")


def _postgres(engine: Engine, target: Path) -> None:
    pg_dump = find_pg_dump()
    if pg_dump is None:
        raise DeskError("Sauvegarde PostgreSQL impossible : le programme pg_dump est introuvable. "
                        "Installez les outils clients PostgreSQL (de la version du serveur ou plus "
                        f"récente) ou indiquez son chemin dans {ENV_PG_DUMP}.")
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    cmd = [pg_dump, "--format=custom", "--no-owner", f"--file={target}.partiel",
           f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}", f"--dbname={url.database}"]
    if url.username:
        cmd.append(f"--username={url.username}")
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        Path(f"{target}.partiel").unlink(missing_ok=True)
        raise DeskError(f"Sauvegarde PostgreSQL impossible : pg_dump n'a pas pu s'exécuter ({exc}).") from None
    if done.returncode != 0:
        Path(f"{target}.partiel").unlink(missing_ok=True)
        reason = (done.stderr.strip().splitlines() or ["erreur inconnue"])[-1]
        raise DeskError(f"Sauvegarde PostgreSQL impossible : pg_dump a échoué ({reason}).")
    os.replace(f"{target}.partiel", target)
