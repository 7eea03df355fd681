#!/usr/bin/env bash
# Quick start (2) for bash: the same as `python scripts/test.py` (which works on Windows too).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" scripts/test.py "$@"
