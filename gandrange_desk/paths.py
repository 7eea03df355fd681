"""Where things live: bundled resources, and whether a folder is on a network drive.

Resources (the PDF fonts, the icon) have one source of truth, the top-level `resources/` folder
of the repository. A wheel carries a copy inside the package (`gandrange_desk/resources`, made
by setup.py's build step), the frozen program one inside its bundle; a checkout or an editable
install reads the top-level folder itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

# File systems on which SQLite's locking (and WAL's shared memory) cannot be trusted.
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "afs", "ncpfs", "9p", "fuse.sshfs",
    "davfs", "fuse.davfs2", "glusterfs", "ceph", "lustre",
})


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    packaged = _PACKAGE / "resources"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def font(name: str = "DejaVuSans.ttf") -> Path:
    return resource("fonts", name)


def is_unc(path: str) -> bool:
    r"""`\\server\share\…` or `//server/share/…` (a Windows network path)."""
    return path.startswith(("\\\\", "//")) and not path.startswith(("\\\\?\\", "\\\\.\\", "//?/", "//./"))


def _windows_drive_is_remote(path: str) -> bool:
    import ctypes

    drive = os.path.splitdrive(os.path.abspath(path))[0]
    if not drive or is_unc(drive):
        return bool(drive)
    DRIVE_REMOTE = 4
    return ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == DRIVE_REMOTE


def _posix_filesystem(path: str) -> str | None:
    """The type of the file system holding `path`, from /proc/mounts (Linux), or None."""
    try:
        with open("/proc/mounts", encoding="utf-8") as fh:
            mounts = [line.split()[1:3] for line in fh if len(line.split()) >= 3]
    except OSError:
        return None
    target = os.path.realpath(path)
    best, kind = "", None
    for point, fstype in mounts:
        point = point.replace("\\040", " ")
        if (target == point or target.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, fstype
    return kind


def is_network_path(path: str | os.PathLike) -> bool:
    """True when `path` is on a network share: UNC, a mapped network drive, NFS/SMB mounts."""
    text = os.fspath(path)
    if is_unc(text):
        return True
    if sys.platform == "win32":
        try:
            return _windows_drive_is_remote(text)
        except (OSError, AttributeError, ValueError):
            return False
    # The nearest existing folder decides: the file itself may not exist yet.
    probe = Path(text).expanduser().absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    kind = _posix_filesystem(str(probe))
    return kind is not None and (kind in NETWORK_FILESYSTEMS or kind.startswith("fuse.sshfs"))
