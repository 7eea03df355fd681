"""Load the database layer in a background thread while the window starts.

SQLAlchemy and the 31 models (~0.3 s of CPU) load beside Qt's own start-up (the platform, the
fonts, the first widgets), which spends most of its time outside Python. Importing this module
costs nothing; the main thread's own imports simply wait for the thread's where they meet.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading

MODULES = ("gandrange_desk.services.context", "gandrange_desk.db", "gandrange_desk.services.system.schema",
           "gandrange_desk.services.system.overview", "gandrange_desk.services.families.file")


def start() -> threading.Thread | None:
    """Start the thread (`GANDRANGE_DESK_NO_PRELOAD=1`: not, to compare in a benchmark)."""
    if os.environ.get("GANDRANGE_DESK_NO_PRELOAD") == "1":
        return None
    if getattr(sys, "frozen", False):
        # PyInstaller's importer does not serialise two threads importing one package: the frozen
        # window died on "partially initialized module 'sqlalchemy.engine'". It imports in one thread.
        return None
    thread = threading.Thread(target=_work, name="preload", daemon=True)
    thread.start()
    return thread


# The Réservations tab's modules (its widgets, the reservations services, the validation queue
# they decide through): ~50 ms of CPU from bytecode, ~130 ms from source, that the tab's first
# opening no longer pays once the window has loaded them in the background.
AFTER_PAINT = ("gandrange_desk.ui.reservations.tab",)


def warm_modules(names=AFTER_PAINT, then=None) -> threading.Thread | None:
    """Import `names` in a background thread (no Qt object made), then run `then()` there (a
    read that compiles what a tab's first opening runs): started once the window is painted,
    while the clerk looks at it. Not in the frozen program (see `start`)."""
    if os.environ.get("GANDRANGE_DESK_NO_PRELOAD") == "1" or getattr(sys, "frozen", False):
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

    thread = threading.Thread(target=work, name="preload-tabs", daemon=True)
    thread.start()
    return thread


def _work() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the main thread imports it again and reports
            return
    try:  # the mappers are configured by the first query otherwise: ~0.1 s before any paint
        from sqlalchemy.orm import configure_mappers

        configure_mappers()
    except Exception:  # noqa: BLE001 - the first query configures them and reports
        pass
