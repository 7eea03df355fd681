"""Load a tab's modules in a background thread once the window is painted and filled.

The database layer is no longer loaded beside Qt's start-up: the window and the login dialog
are painted before it is needed, and a thread importing beside the main thread only slowed
their first paint (both want the GIL; measured in bench/README, issue 14 start-up pass).
Never in a thread in the frozen program: PyInstaller's importer does not serialise two threads
importing one package (the frozen window died on "partially initialized module
'sqlalchemy.engine'"). There the same imports run on the main thread, once the filled window is
painted: a pause while the clerk reads the first screen rather than on the first family opened.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import threading

# The Réservations tab's modules (its widgets, the reservations services, the validation queue
# they decide through): ~50 ms of CPU from bytecode, ~130 ms from source, that the tab's first
# opening no longer pays once the window has loaded them in the background.
AFTER_PAINT = ("gandrange_desk.ui.reservations.tab",)


def freeze_heap() -> None:
    """What the program has built by the end of its warm-ups (modules, classes, SQLAlchemy's
    tables and compiled statements, the first tab) lives until it exits: moved out of reach of
    Python's cycle collector, whose full passes otherwise walk all of it again. Those passes
    come when enough new objects have piled up — a 1,000-cell rectangle's rows often tip
    it — and cost 70-85 ms of the clerk's action at 2,000 families (bench/README, issue 14
    rectangle third pass). Objects made later are collected as before. Only the young
    generations are swept first: a full pass here would hold the GIL as long as the one avoided
    (a few start-up cycles left over stay in memory, once)."""
    gc.collect(1)
    gc.freeze()


def warm_modules(names=AFTER_PAINT, then=None) -> threading.Thread | None:
    """Import `names` in a background thread (no Qt object made), then run `then()` there (a
    read that compiles what a tab's first opening runs): started once the window is painted,
    while the clerk looks at it. In the frozen program, on the calling thread (see above)."""
    if os.environ.get("GANDRANGE_DESK_NO_PRELOAD") == "1":
        return None
    if then is None and all(name in sys.modules for name in names):
        return None

    def work() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the tab imports it again and reports
                return
        if then is not None:
            try:
                then()
            except Exception:  # noqa: BLE001 - a warm-up that fails costs only the first opening's time
                pass

    if getattr(sys, "frozen", False):
        work()
        return None
    thread = threading.Thread(target=work, name="preload-tabs", daemon=True)
    thread.start()
    return thread
