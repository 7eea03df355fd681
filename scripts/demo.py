"""Quick start (1): install into a virtual environment, build a demo SQLite database, open the
window on it.

    python scripts/demo.py [options of gandrange-desk]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _venv import ROOT, ensure


def main() -> int:
    python = ensure()
    db = Path(os.environ.get("DEMO_DB", ROOT / "demo.sqlite3"))
    program = [str(python), "-m", "gandrange_desk", "--db", str(db)]
    if not db.exists():
        subprocess.run([*program, "db", "upgrade"], check=True, cwd=ROOT)
        subprocess.run([*program, "demo"], check=True, cwd=ROOT)
    return subprocess.run([*program, *sys.argv[1:]], cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main())
