"""Quick start (2): install into a virtual environment and run the whole test suite, on SQLite and
on a throw-away PostgreSQL server the tests start themselves.

    python scripts/test.py [pytest options, e.g. --backend sqlite]
"""

from __future__ import annotations

import os
import subprocess
import sys

from _venv import ROOT, ensure


def main() -> int:
    python = ensure("[test]")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    status = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *sys.argv[1:]],
                            cwd=ROOT, env=env).returncode
    if status == 5:
        print("pytest ran no test: failing.", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
