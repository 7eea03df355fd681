"""Fresh-process measurements for bench_touch (run by it, one mode per process):

    python bench/touch_child.py floor                 a bare populated Qt window, no database
    python bench/touch_child.py first-tab URL [S]     the window, S seconds, the Réservations tab's first opening
    python bench/touch_child.py session URL           a working session's resident memory

Each prints `key=value` lines on stdout. A fresh process, so the figures are the app's own
(not the bench parent's imports, caches and `ru_maxrss`).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

T0 = time.perf_counter()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIXED_NOW = datetime.fromisoformat(os.environ.get("TOUCH_NOW", "2026-11-26T09:00:00+01:00"))


def rss_mb() -> float:
    """The resident set now (VmRSS), not the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def idle(app) -> None:
    from PySide6.QtCore import QEventLoop

    for _ in range(3):
        app.processEvents(QEventLoop.AllEvents)
        app.sendPostedEvents()


def floor() -> None:
    """What any Qt program pays to show a populated window: the reference of the start-up."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import (QApplication, QLineEdit, QMainWindow, QTableView, QTabWidget,
                                   QVBoxLayout, QWidget)

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    tabs = QTabWidget()
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(QLineEdit(placeholderText="Rechercher"))
    model = QStandardItemModel(200, 6)
    for r in range(200):
        for c in range(6):
            model.setItem(r, c, QStandardItem(f"Famille {r} — {c}"))
    view = QTableView()
    view.setModel(model)
    layout.addWidget(view)
    for title in ("Familles", "Réservations", "Validation", "Facturation", "Courriels", "Rendez-vous",
                  "Pointage", "Listes", "Tableau de bord"):
        tabs.addTab(page if title == "Familles" else QWidget(), title)
    window.setCentralWidget(tabs)
    window.statusBar().showMessage("prêt")
    window.resize(1366, 768)
    window.show()

    def report() -> None:
        app.processEvents()
        print(f"ready_ms={(time.perf_counter() - T0) * 1000:.1f}")
        # CPU from the process's start (the interpreter's own start-up included), as the app's.
        print(f"ready_cpu_ms={time.process_time() * 1000:.1f}", flush=True)
        app.quit()

    QTimer.singleShot(0, report)
    app.exec()


def _window(url: str, role: str = "responsable"):
    from PySide6.QtWidgets import QApplication

    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import Actor, Desk
    from gandrange_desk.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    desk = Desk(make_engine(url), Actor("nbecker", "Nathalie Becker", role), lambda: FIXED_NOW)
    window = MainWindow(desk)
    window._sender_timer.stop()  # no SMTP in a bench
    window.resize(1366, 768)
    window.show()
    idle(app)
    return app, window


def first_tab(url: str, wait_s: float = 0.0) -> None:
    """The Réservations tab's first opening: its module, its filters, the month, the first paint;
    `wait_s` after the window is up (a clerk looks at it before clicking).

    first_tab_ms: from the tab chosen to the end of the grid's first paint showing rows (its
    first screen read: a paged open paints before the rest is read). all_rows_ms: until every
    row of the month is read (the same moment when the tab reads the whole month at once);
    longest_step_ms: the longest turn of the event loop spent reading rows in between (what a
    click made meanwhile may wait)."""
    from gandrange_desk.ui.reservations.grid_view import GridView

    app, window = _window(url)
    until = time.perf_counter() + wait_s
    while time.perf_counter() < until:
        idle(app)
        time.sleep(0.02)
    painted: list[float] = []
    paint = GridView.paintEvent

    def timed_paint(view, event):
        paint(view, event)
        if not painted and view.model().rowCount():
            painted.append(time.perf_counter())
            painted.append(time.process_time())

    GridView.paintEvent = timed_paint
    started, cpu = time.perf_counter(), time.process_time()
    window.tabs.setCurrentIndex(1)
    tab = window.tab_widget(1)
    loader = getattr(tab, "loader", None)
    steps: list[float] = []
    if loader is not None:
        step = loader._step

        def timed_step():
            t = time.perf_counter()
            step()
            steps.append((time.perf_counter() - t) * 1000)

        loader.timer.timeout.disconnect()
        loader.timer.timeout.connect(timed_step)
    deadline = time.perf_counter() + 60
    while (not painted or (loader is not None and loader.loading)) and time.perf_counter() < deadline:
        app.processEvents()
    done, done_cpu = time.perf_counter(), time.process_time()
    idle(app)
    GridView.paintEvent = paint
    print(f"first_tab_ms={(painted[0] - started) * 1000:.1f}")
    print(f"first_tab_cpu_ms={(painted[1] - cpu) * 1000:.1f}")
    print(f"all_rows_ms={(done - started) * 1000:.1f}")
    print(f"all_rows_cpu_ms={(done_cpu - cpu) * 1000:.1f}")
    print(f"longest_step_ms={max(steps, default=0.0):.1f}")
    print(f"steps={len(steps)}")
    print(f"children={len(tab.model.grid.child_ids) if tab.model.grid else 0}")
    started = time.perf_counter()
    window.tabs.setCurrentIndex(0)
    idle(app)
    window.tabs.setCurrentIndex(1)
    idle(app)
    print(f"again_ms={(time.perf_counter() - started) * 1000:.1f}", flush=True)


def session(url: str) -> None:
    """Every tab, the biggest site's month in the grid, the billing month, a family file."""
    app, window = _window(url)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        idle(app)
    grid = window.tab_widget(1)
    window.tabs.setCurrentIndex(1)
    sites = [grid.school_combo.itemData(i) for i in range(grid.school_combo.count())]
    biggest, children = None, -1
    for site in sites:
        grid.school_combo.setCurrentIndex(grid.school_combo.findData(site))
        idle(app)
        if grid.model.grid is not None and len(grid.model.grid.child_ids) > children and site is not None:
            biggest, children = site, len(grid.model.grid.child_ids)
    grid.school_combo.setCurrentIndex(grid.school_combo.findData(biggest))
    grid.set_month(date(2026, 10, 1))
    idle(app)
    billing = window.tab_widget(3)
    window.tabs.setCurrentIndex(3)
    from PySide6.QtCore import QDate

    billing.month_edit.setDate(QDate(2026, 11, 1))
    idle(app)
    families = window.tab_widget(0)
    window.tabs.setCurrentIndex(0)
    idle(app)
    dialog = families.open_selected()
    idle(app)
    print(f"grid_children={children}")
    print(f"family_file={'yes' if dialog is not None else 'no'}")
    print(f"rss_mb={rss_mb():.1f}")
    print(f"peak_mb={peak_mb():.1f}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "floor":
        floor()
    elif mode == "first-tab":
        first_tab(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
    elif mode == "session":
        session(sys.argv[2])
    else:
        raise SystemExit(f"unknown mode {mode}")
