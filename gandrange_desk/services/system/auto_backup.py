"""Automatic backups: when the window closes and from `backup auto` (Task Scheduler), at most
once a day, into the backup folder of the settings, keeping the last N days.

Settings (AppSetting): `backup.folder` (empty: the user's data folder, `sauvegardes`),
`backup.keep_days` (default 30), and `backup.last_auto`, the instant of the last automatic
backup, kept in the base itself so that several workstations on one PostgreSQL server make one
backup a day between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import AppSetting, Role
from gandrange_desk.services.system import backup as backup_service

FOLDER_KEY = "backup.folder"
KEEP_DAYS_KEY = "backup.keep_days"
LAST_KEY = "backup.last_auto"
DEFAULT_KEEP_DAYS = 30
# gandrange-desk-20261204-181500.sqlite3 / .pgdump: only these are ever rotated away.
NAME = re.compile(r"^gandrange-desk-(\d{8}-\d{6})\.(sqlite3|pgdump)$")


@dataclass
class BackupSettings:
    folder: str
    keep_days: int

    def path(self) -> Path:
        return Path(self.folder).expanduser() if self.folder else default_folder()


def default_folder() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("gandrange-desk", "Commune de Gandrange")) / "sauvegardes"


def read_settings(desk) -> BackupSettings:
    with desk.read() as s:
        folder = s.get(AppSetting, FOLDER_KEY)
        keep = s.get(AppSetting, KEEP_DAYS_KEY)
    try:
        days = int(keep.value) if keep else DEFAULT_KEEP_DAYS
    except ValueError:
        days = DEFAULT_KEEP_DAYS
    return BackupSettings(folder.value if folder else "", days)


def save_settings(desk, folder: str | None = None, keep_days: int | None = None) -> BackupSettings:
    desk.require(Role.RESPONSABLE, "Régler les sauvegardes automatiques")
    problems = []
    if keep_days is not None and not 1 <= keep_days <= 3650:
        problems.append("Nombre de jours de conservation : entre 1 et 3650.")
    if folder:
        from gandrange_desk.paths import is_unc

        target = Path(folder).expanduser()
        if not target.is_absolute() and not is_unc(folder):
            problems.append(f"Dossier de sauvegarde : indiquez un chemin complet ({folder}).")
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        before = {}
        for key, value in ((FOLDER_KEY, folder), (KEEP_DAYS_KEY, keep_days)):
            if value is None:
                continue
            row = s.get(AppSetting, key)
            before[key] = row.value if row else None
            if row is None:
                s.add(AppSetting(key=key, value=str(value)))
            else:
                row.value = str(value)
        desk.audit(s, "backup.settings", "app_setting", None, before=before,
                   after={"folder": folder, "keep_days": keep_days})
    return read_settings(desk)


def last_auto(desk) -> datetime | None:
    with desk.read() as s:
        row = s.get(AppSetting, LAST_KEY)
    if not row or not row.value:
        return None
    try:
        return datetime.fromisoformat(row.value)
    except ValueError:
        return None


def _record(desk, when: datetime) -> None:
    with desk.unit_of_work() as s:
        row = s.get(AppSetting, LAST_KEY)
        if row is None:
            s.add(AppSetting(key=LAST_KEY, value=when.isoformat()))
        else:
            row.value = when.isoformat()


def is_due(desk, now: datetime | None = None) -> bool:
    now = now or desk.now()
    last = last_auto(desk)
    return last is None or last.date() < now.date() or last > now


def run_if_due(desk, *, force: bool = False, now: datetime | None = None):
    """Back up into the folder if none was made today (or `force`), then rotate; None if skipped."""
    now = now or desk.now()
    if not force and not is_due(desk, now):
        return None
    settings = read_settings(desk)
    folder = settings.path()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DeskError(f"Le dossier de sauvegarde {folder} ne peut pas être créé ({exc.strerror}).") from None
    backend = desk.engine.url.get_backend_name()
    suffix = "sqlite3" if backend == "sqlite" else "pgdump"
    target = folder / f"gandrange-desk-{now.strftime('%Y%m%d-%H%M%S')}.{suffix}"
    result = backup_service.backup(desk, target, replace=True)
    _record(desk, now)
    result.removed = rotate(folder, settings.keep_days, now)
    return result


def rotate(folder: Path, keep_days: int, now: datetime) -> list[Path]:
    """Remove automatic backups older than `keep_days`; the newest always stays."""
    found = []
    for path in folder.iterdir():
        match = NAME.match(path.name)
        if match:
            found.append((datetime.strptime(match.group(1), "%Y%m%d-%H%M%S"), path))
    found.sort()
    limit = now.replace(tzinfo=None) - timedelta(days=keep_days)
    removed = []
    for taken, path in found[:-1]:
        if taken < limit:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
