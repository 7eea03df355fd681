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

from PySide6.QtCore import QObject, Qt, QThread, Signal
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
    thread.started.connect(worker.run)

    def progressed(done: int, total: int, label: str) -> None:
        dialog.setMaximum(max(total, 0))
        dialog.setValue(done)
        if label:
            dialog.setLabelText(label)

    def finish() -> None:
        dialog.reset()
        dialog.close()
        thread.quit()

    def done(result) -> None:
        finish()
        if on_done:
            on_done(result)

    def failed(message: str, cancelled: bool) -> None:
        finish()
        if on_error:
            on_error(message)
        elif cancelled:
            QMessageBox.information(parent, title, message)
        else:
            QMessageBox.warning(parent, title, message)

    worker.progressed.connect(progressed, Qt.QueuedConnection)
    worker.finished.connect(done, Qt.QueuedConnection)
    worker.failed.connect(failed, Qt.QueuedConnection)
    dialog.canceled.connect(worker.cancel_event.set)
    thread.finished.connect(worker.deleteLater)
    thread._worker = worker  # keep it alive as long as the thread
    thread.start()
    return thread
