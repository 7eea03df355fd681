"""Long operations: results and progress reach the UI thread; cancel rolls back; errors are French."""

import threading

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QWidget

from gandrange_desk.errors import DeskError
from gandrange_desk.ui.common.ops import run_operation


def test_result_is_delivered_on_the_ui_thread(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    seen = {}

    def work(progress):
        seen["worker"] = threading.get_ident()
        for i in range(3):
            progress.step(i + 1, 3, f"étape {i + 1}")
        return 42

    def done(result):
        seen["result"] = result
        seen["ui"] = threading.get_ident()

    thread = run_operation(parent, "Essai", work, done)
    qtbot.waitUntil(lambda: "result" in seen, timeout=5000)
    assert seen["result"] == 42
    assert seen["ui"] == threading.get_ident() != seen["worker"]
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=5000)


def test_cancel_and_error_messages(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    errors = []
    started = threading.Event()

    def slow(progress):
        started.set()
        while True:
            progress.check()
            QThread.msleep(10)

    thread = run_operation(parent, "Essai", slow, on_error=errors.append)
    started.wait(5)
    thread._worker.cancel_event.set()
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=5000)
    assert errors == ["Opération annulée : rien n'a été enregistré."]

    def refused(progress):
        raise DeskError("Mois déjà émis.")

    run_operation(parent, "Essai", refused, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 2, timeout=5000)
    assert errors[1] == "Mois déjà émis."
