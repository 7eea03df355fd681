#!/usr/bin/env bash
# Quick start (1) for bash: the same as `python scripts/demo.py` (which works on Windows too).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" scripts/demo.py "$@"
