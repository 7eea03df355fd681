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
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from gandrange_desk.errors import DeskError

ENV_PG_DUMP = "GANDRANGE_DESK_PG_DUMP"


@dataclass
class BackupResult:
    path: Path
    size: int
    backend: str
    removed: list[Path] = field(default_factory=list)  # old automatic backups rotated away

    def text(self) -> str:
        kind = "SQLite" if self.backend == "sqlite" else "pg_dump (format custom, à restaurer avec pg_restore)"
        text = f"Copie de sauvegarde écrite : {self.path} ({_size(self.size)}, {kind})."
        if self.removed:
            from gandrange_desk.formats import count

            text += "\n" + count(len(self.removed), "ancienne sauvegarde supprimée",
                                  "anciennes sauvegardes supprimées") + " (durée de conservation dépassée)."
        return text


def _size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, n // 1024)} Ko"
    return f"{n / (1024 * 1024):.1f} Mo".replace(".", ",")


def backup(engine_or_desk, out: str | Path, *, replace: bool = False) -> BackupResult:
    """`engine_or_desk`: an Engine or a Desk (the window passes its Desk)."""
    engine: Engine = getattr(engine_or_desk, "engine", engine_or_desk)
    target = Path(out).expanduser()
    if target.is_dir():
        raise DeskError(f"{target} est un dossier : indiquez le nom du fichier de sauvegarde "
                        f"(par exemple {target / 'gandrange-desk.sqlite3'}).")
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
    owner_only(target)
    return BackupResult(target, target.stat().st_size, backend)


def owner_only(path: Path) -> None:
    """Make a backup readable by its owner only: it holds every family's data."""
    if sys.platform != "win32":
        os.chmod(path, 0o600)
        return
    # Windows: drop inherited rights and grant the current account alone (icacls ships with
    # Windows; where it is missing, as under Wine, the user's own profile folder still protects it).
    user = os.environ.get("USERNAME")
    if not user:
        return
    domain = os.environ.get("USERDOMAIN")
    who = f"{domain}\\{user}" if domain else user
    try:
        subprocess.run(["icacls", str(path), "/inheritance:r", "/grant:r", f"{who}:F"],
                       capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        pass


def created_private(path: Path) -> None:
    """An empty file readable by its owner only, made before any family's data goes into it
    (a mode set afterwards leaves a window where the copy is world-readable)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    if sys.platform == "win32":
        owner_only(path)


def _sqlite(engine: Engine, target: Path) -> None:
    if not engine.url.database or engine.url.database == ":memory:":
        raise DeskError("Sauvegarde impossible : la base SQLite est en mémoire.")
    if Path(engine.url.database).resolve() == target.resolve():
        raise DeskError("La copie de sauvegarde ne peut pas remplacer la base elle-même.")
    temporary = target.with_name(f".{target.name}.partiel")
    created_private(temporary)
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(temporary)
        try:
            raw.driver_connection.backup(dest)
            check = dest.execute("PRAGMA quick_check").fetchone()[0]
            _drop_secrets(dest)
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


def _drop_secrets(dest: sqlite3.Connection) -> None:
    """Temporary portal passwords waiting for their e-mail never go into a backup (the copy is
    kept for weeks; the password is for the family only). secure_delete overwrites the pages."""
    if dest.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox_secret'").fetchone():
        dest.execute("PRAGMA secure_delete=ON")
        dest.execute("DELETE FROM outbox_secret")
        dest.commit()


def _version_of(path: str) -> int:
    # .../postgresql/16/bin/pg_dump or C:\Program Files\PostgreSQL\16\bin\pg_dump.exe
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _install_patterns(tool: str) -> list[str]:
    """Where PostgreSQL's client tools usually are: Debian's folders, the EDB installer's on Windows."""
    exe = tool + ".exe" if sys.platform == "win32" else tool
    patterns = [f"/usr/lib/postgresql/*/bin/{tool}"]
    for var in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "LOCALAPPDATA"):
        base = os.environ.get(var)
        if base:
            patterns.append(os.path.join(base, "PostgreSQL", "*", "bin", exe))
            patterns.append(os.path.join(base, "Programs", "PostgreSQL", "*", "bin", exe))
    return patterns


def find_pg_tool(tool: str) -> str | None:
    """pg_dump or pg_restore: the configured one, the newest installed, or the one on PATH."""
    configured = os.environ.get(ENV_PG_DUMP)
    if configured:
        if not Path(configured).exists():
            return None
        if tool == "pg_dump":
            return configured
        sibling = Path(configured).with_name(tool + Path(configured).suffix)
        return str(sibling) if sibling.exists() else None
    # The newest server tools first: pg_dump refuses a server newer than itself.
    found = [p for pattern in _install_patterns(tool) for p in glob.glob(pattern)]
    if found:
        return max(found, key=_version_of)
    return shutil.which(tool)


def find_pg_dump() -> str | None:
    return find_pg_tool("pg_dump")


def pg_tool(tool: str) -> str:
    found = find_pg_tool(tool)
    if found is None:
        raise DeskError(f"Opération PostgreSQL impossible : le programme {tool} est introuvable. "
                        "Installez les outils clients PostgreSQL (de la version du serveur ou plus "
                        f"récente) ou indiquez le chemin de pg_dump dans {ENV_PG_DUMP}.")
    return found


def pg_connection_args(url) -> tuple[list[str], dict]:
    """Connection options and environment for pg_dump/pg_restore (the password never on argv)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = [f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}", f"--dbname={url.database}"]
    if url.username:
        args.append(f"--username={url.username}")
    return args, env


def _postgres(engine: Engine, target: Path) -> None:
    pg_dump = find_pg_dump()
    if pg_dump is None:
        raise DeskError("Sauvegarde PostgreSQL impossible : le programme pg_dump est introuvable. "
                        "Installez les outils clients PostgreSQL (de la version du serveur ou plus "
                        f"récente) ou indiquez son chemin dans {ENV_PG_DUMP}.")
    connection, env = pg_connection_args(engine.url)
    created_private(Path(f"{target}.partiel"))
    # Temporary portal passwords waiting for their e-mail stay out of the copy.
    cmd = [pg_dump, "--format=custom", "--no-owner", "--exclude-table-data=outbox_secret",
           f"--file={target}.partiel", *connection]
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
