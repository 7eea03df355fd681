"""The Quick start's virtual environment, on every OS: `.venv/bin/python` on Linux and macOS,
`.venv\\Scripts\\python.exe` on Windows; created with the Python that runs these scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def venv_dir() -> Path:
    return ROOT / os.environ.get("VENV", ".venv")


def venv_python() -> Path:
    folder = venv_dir()
    windows = folder / "Scripts" / "python.exe"
    return windows if os.name == "nt" or windows.exists() else folder / "bin" / "python"


def ensure(extras: str = "") -> Path:
    """Create the venv if needed and install the project (editable) with `extras`; its python."""
    if sys.version_info < (3, 11):
        raise SystemExit(f"Python 3.11 ou plus récent est nécessaire (ici {sys.version.split()[0]}).")
    python = venv_python()
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv_dir())], check=True)
        python = venv_python()
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([*pip, "-e", f".{extras}" if extras else "."], check=True, cwd=ROOT)
    return python
