"""The Réglages window on the 2,000-family base: load the settings document, save an edit.

No target in DESIGN §10; the targets below keep the dialog instant to open and to save (a save
validates the whole document and checks, for a removed unit, that no booking uses it).
"""

from __future__ import annotations

import statistics
import time

RUNS = 7


def _median_ms(fn, runs: int = RUNS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _supervisor():
    from gandrange_desk.services.context import Actor

    return Actor("nbecker", "Nathalie Becker", "responsable")


def settings_load(base) -> dict:
    from gandrange_desk.services.settings import service as svc

    desk = base.desk(_supervisor())
    ms, draft = _median_ms(lambda: svc.current_document(desk))
    units = sum(len(a.get("unit", [])) for a in draft.document["activity"])
    return {"value": round(ms, 1), "unit": "ms", "target": "≤ 100 ms", "units": units}


def settings_save(base) -> dict:
    """One capacity changed, saved; each run from a fresh draft (a stale one would be refused)."""
    from gandrange_desk.db import make_engine
    from gandrange_desk.services.settings import service as svc
    from gandrange_desk.services.context import Desk

    desk = Desk(make_engine(base.fresh_copy()), _supervisor(), base.now)
    times = []
    for run in range(RUNS):
        draft = svc.current_document(desk)
        draft.document["activity"][0]["unit"][0]["capacity"] = 100 + run
        started = time.perf_counter()
        svc.apply_document(desk, draft.document, draft.versions)
        times.append((time.perf_counter() - started) * 1000)
    return {"value": round(statistics.median(times), 1), "unit": "ms", "target": "≤ 300 ms"}


def settings_dialog_open(base) -> dict:
    """The dialog built and filled (offscreen Qt)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from gandrange_desk.ui.settings.dialog import SettingsDialog

    app = QApplication.instance() or QApplication([])
    desk = base.desk(_supervisor())

    def open_once():
        dialog = SettingsDialog(desk)
        dialog.deleteLater()
        app.processEvents()

    ms, _ = _median_ms(open_once)
    return {"value": round(ms, 1), "unit": "ms", "target": "≤ 300 ms"}


FIGURES = {"settings_load": settings_load, "settings_save": settings_save,
           "settings_dialog_open": settings_dialog_open}
