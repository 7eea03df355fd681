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
