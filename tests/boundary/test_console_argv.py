"""Issue 11: an argument the system cannot decode (a file name with bytes invalid in UTF-8) gets
the French sentence on the console, and the log file records it escaped instead of failing with
"--- Logging error ---"."""

from __future__ import annotations

import os
import subprocess
import sys


def test_an_undecodable_argument_gets_a_french_sentence_and_a_clean_log(tmp_path):
    logs = tmp_path / "logs"
    env = {**os.environ, "GANDRANGE_DESK_LOG_DIR": str(logs), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    env.pop("PYTHONIOENCODING", None)
    done = subprocess.run(
        [sys.executable, "-m", "gandrange_desk", "--db", str(tmp_path / "base.sqlite3"), "intake",
         os.fsencode(tmp_path) + b"/flux-\xff.json"],
        env=env, capture_output=True, timeout=120)
    err = done.stderr.decode("utf-8")
    assert done.returncode == 2
    assert err.strip().endswith("» n'est pas du texte UTF-8."), err
    assert "Argument n° 4 illisible" in err
    assert "Logging error" not in err and "Traceback" not in err
    log = (logs / "gandrange-desk.log").read_text(encoding="utf-8")
    assert "flux-\\udcff.json" in log  # the start line, escaped, not lost
    assert "exit 2" in log
