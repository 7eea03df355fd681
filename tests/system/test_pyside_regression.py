"""PySide6 6.12.0 on CPython 3.11 drops a reference to None on every QTableWidget.setItem.

The interpreter dies later in none_dealloc. This test fails on such a release: it counts the
references to None around many setItem calls.

`sys.getrefcount(None)` is process-wide: in the test process, threads and objects left by other
tests (mail senders, SMTP servers, pytest-timeout's thread, the garbage collector) move it while
the loop runs, by hundreds either way. So the calls are counted in a fresh interpreter that runs
nothing else, with the collector off: there a sound release moves the count by a unit or two, and
the broken one loses one reference per call (999 of 1,000 on 6.12.0 + CPython 3.11).
"""

import os
import subprocess
import sys

import PySide6

CALLS = 1_000
# A leak of one reference per call shows as ~1,000; a sound release as 0 ± 2.
THRESHOLD = 100

PROBE = f"""
import gc, sys
from PySide6.QtWidgets import QApplication, QTableWidget, QTableWidgetItem
app = QApplication([])
table = QTableWidget(50, 20)
table.setItem(0, 0, QTableWidgetItem("warm-up"))  # first-call caches are not a leak
gc.disable()
before = sys.getrefcount(None)
for row in range(50):
    for col in range({CALLS} // 50):
        table.setItem(row, col, QTableWidgetItem(f"{{row}}:{{col}}"))
after = sys.getrefcount(None)
gc.enable()
print("LOST", before - after, flush=True)
"""


def test_pyside_version_is_pinned_below_6_12():
    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (6, 11) <= (major, minor) < (6, 12), PySide6.__version__


def test_set_item_keeps_none_refcount():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # -I: no user site, no PYTHON* variables, no current folder on the path: only PySide6 runs.
    done = subprocess.run([sys.executable, "-I", "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("LOST ")]
    assert lines, f"the probe printed no count (status {done.returncode}):\n{done.stderr[-2000:]}"
    lost = int(lines[-1].split()[1])
    assert lost < THRESHOLD, (f"None lost {lost} references over {CALLS:,} setItem calls "
                              f"(PySide6 {PySide6.__version__})")
    # The broken release also aborts the probe at exit (none_dealloc): a crash is a failure too.
    assert done.returncode == 0, f"the probe died with status {done.returncode}:\n{done.stderr[-2000:]}"
