#!/usr/bin/env bash
# Install into a virtual environment, build a demo SQLite database, open the window on it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
DB=${DEMO_DB:-demo.sqlite3}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e .
if [ ! -f "$DB" ]; then
  "$VENV/bin/gandrange-desk" --db "$DB" db upgrade
  "$VENV/bin/gandrange-desk" --db "$DB" demo
fi
exec "$VENV/bin/gandrange-desk" --db "$DB" "$@"
