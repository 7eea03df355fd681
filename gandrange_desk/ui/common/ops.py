"""Long operations off the UI thread, with a progress dialog and a cancel button.

A service that may take long accepts `progress: Progress | None`; it calls
`progress.step(done, total, label)` and `progress.check()` between units of work, and
`check()` raises `Cancelled` when the user pressed "Annuler" (the service's transaction then
rolls back: nothing half-written).
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from gandrange_desk.errors import DeskError
from gandrange_desk.services.progress import Cancelled, Progress


class _Worker(QObject):
    progressed = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str, bool)

    def __init__(self, fn: Callable[[Progress], Any]):
        super().__init__()
        self.fn = fn
        self.cancel_event = threading.Event()

    def run(self) -> None:
        progress = Progress(self.cancel_event, lambda d, t, l: self.progressed.emit(d, t, l))
        try:
            result = self.fn(progress)
        except Cancelled:
            self.failed.emit("Opération annulée : rien n'a été enregistré.", True)
        except DeskError as exc:
            self.failed.emit(str(exc), False)
        except Exception:  # the user gets a sentence; the details go to the log
            traceback.print_exc()
            self.failed.emit("Une erreur inattendue a interrompu l'opération ; rien n'a été enregistré.", False)
        else:
            self.finished.emit(result)


class _Bridge(QObject):
    """Lives in the UI thread, so the worker's queued signals land here, never in the worker."""

    def __init__(self, parent: QWidget, title: str, dialog: QProgressDialog, thread: QThread,
                 on_done, on_error):
        super().__init__(parent)
        self.parent_widget, self.title, self.dialog, self.thread = parent, title, dialog, thread
        self.on_done, self.on_error = on_done, on_error

    @Slot(int, int, str)
    def progressed(self, done: int, total: int, label: str) -> None:
        self.dialog.setMaximum(max(total, 0))
        self.dialog.setValue(done)
        if label:
            self.dialog.setLabelText(label)

    def _finish(self) -> None:
        self.dialog.reset()
        self.dialog.close()
        self.thread.quit()
        self.thread.wait()
        self.deleteLater()

    @Slot(object)
    def done(self, result) -> None:
        self._finish()
        if self.on_done:
            self.on_done(result)

    @Slot(str, bool)
    def failed(self, message: str, cancelled: bool) -> None:
        self._finish()
        if self.on_error:
            self.on_error(message)
        elif cancelled:
            QMessageBox.information(self.parent_widget, self.title, message)
        else:
            QMessageBox.warning(self.parent_widget, self.title, message)


def run_operation(parent: QWidget, title: str, fn: Callable[[Progress], Any],
                  on_done: Callable[[Any], None] | None = None,
                  on_error: Callable[[str], None] | None = None) -> QThread:
    """Run `fn(progress)` in a thread; show progress; call `on_done(result)` on the UI thread."""
    dialog = QProgressDialog(title, "Annuler", 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(300)
    thread = QThread(parent)
    worker = _Worker(fn)
    worker.moveToThread(thread)
    bridge = _Bridge(parent, title, dialog, thread, on_done, on_error)
    thread.started.connect(worker.run)
    worker.progressed.connect(bridge.progressed, Qt.QueuedConnection)
    worker.finished.connect(bridge.done, Qt.QueuedConnection)
    worker.failed.connect(bridge.failed, Qt.QueuedConnection)
    # The cancel flag is a threading.Event: setting it from the UI thread is safe.
    dialog.canceled.connect(worker.cancel_event.set)
    thread.finished.connect(worker.deleteLater)
    thread._worker = worker  # keep both alive as long as the thread
    thread._bridge = bridge
    thread.start()
    return thread
