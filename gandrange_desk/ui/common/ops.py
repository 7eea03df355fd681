"""Every user action that calls a service goes through `run`: one place for the busy cursor or
the progress dialog, the refusal in French, the unexpected error logged, and what changed sent
to the window.

    ops.run(self, "Accepter", lambda: queue.accept(desk, ids), on_done=self.say_summary)
    ops.run(self, "Émission des factures", lambda progress: invoicing.issue(desk, month, progress),
            long=True, on_done=self.show_result)

A quick call runs at once under a busy cursor (`busy=False` for the reads made as the clerk
types, which would make it flicker); `run` returns the service's result (None when it failed). A long one (`long=True`) receives a `Progress` and runs in a worker thread behind a
progress dialog; its "Annuler" makes the service raise `Cancelled` inside its unit of work, which
rolls back (nothing half-written). `run` then returns the worker's QThread, and `on_done(result)`
is called on the UI thread.

Failures: a `DeskError` (the service's refusal) goes to `on_refused(exc)` when given — which may
return another call to run in its place, e.g. the same booking with the capacity override once
the clerk has said yes — else its French text goes to `on_error(text)` when given, else to a
warning box. Anything else is a bug: the traceback goes to the log (logger "gandrange_desk") and
the clerk reads one French sentence, by the same way.

On success the result's `changes` (plus `changes=` for the few services that return a bare id or
count) go to the window, which tells every view (`ui.common.refresh`); then `on_done(result)`.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from gandrange_desk.errors import DeskError
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.progress import Cancelled, Progress
from gandrange_desk.ui.common.refresh import publish

log = logging.getLogger("gandrange_desk")

UNEXPECTED = "Une erreur inattendue a interrompu l'opération ; rien n'a été enregistré."
CANCELLED = "Opération annulée : rien n'a été enregistré."

ChangesGiven = Changes | Callable[[Any], Changes] | None


def run(parent: QWidget, title: str, fn: Callable, *, long: bool = False,
        on_done: Callable[[Any], Any] | None = None,
        on_error: Callable[[str], Any] | None = None,
        on_refused: Callable[[DeskError], Callable | None] | None = None,
        changes: ChangesGiven = None, busy: bool = True):
    """Run one user action; see the module's docstring."""
    operation = _Operation(parent, title, on_done, on_error, on_refused, changes, busy)
    return operation.start(fn) if long else operation.call(fn)


def attempt(parent: QWidget, title: str, fn: Callable[[], Any], **kwargs) -> bool:
    """A quick `run` for a service that returns nothing: whether it went through."""
    done: list[bool] = []
    then = kwargs.pop("on_done", None)

    def succeeded(result: Any) -> None:
        done.append(True)
        if then is not None:
            then(result)

    run(parent, title, fn, on_done=succeeded, **kwargs)
    return bool(done)


def run_operation(parent: QWidget, title: str, fn: Callable[[Progress], Any],
                  on_done: Callable[[Any], None] | None = None,
                  on_error: Callable[[str], None] | None = None, **kwargs) -> QThread:
    """`run(..., long=True)`: `fn(progress)` in a worker thread with a progress dialog."""
    return run(parent, title, fn, long=True, on_done=on_done, on_error=on_error, **kwargs)


def changes_of(result: Any, given: ChangesGiven = None) -> Changes:
    """What an operation changed: its result's `changes` (or the result itself, a `Changes`),
    plus what the caller knows for a service that returns a bare value."""
    found = Changes()
    own = result if isinstance(result, Changes) else getattr(result, "changes", None)
    if isinstance(own, Changes):
        found.merge(own)
    if given is not None:
        found.merge(given(result) if callable(given) else given)
    return found


class _Operation:
    def __init__(self, parent, title, on_done, on_error, on_refused, changes, busy=True):
        self.parent, self.title, self.busy = parent, title, busy
        self.on_done, self.on_error, self.on_refused, self.changes = on_done, on_error, on_refused, changes

    # --- a quick call, on the UI thread ------------------------------------------------------
    def call(self, fn: Callable[[], Any]):
        try:
            with _busy(self.busy):
                result = fn()
        except DeskError as exc:
            retry = self.refused(exc)
            return self.call(retry) if retry is not None else None
        except Exception as exc:
            log.exception("%s : erreur inattendue", self.title)
            self.fail(_unexpected(exc))
            return None
        self.succeeded(result)
        return result

    # --- a long one, in a worker thread --------------------------------------------------------
    def start(self, fn: Callable[[Progress], Any]) -> QThread:
        dialog = QProgressDialog(self.title, "Annuler", 0, 0, self.parent)
        dialog.setWindowTitle(self.title)
        dialog.setWindowModality(Qt.WindowModal)
        dialog.setMinimumDuration(300)
        thread = QThread(self.parent)
        worker = _Worker(fn, self.title)
        worker.moveToThread(thread)
        bridge = _Bridge(self, dialog, thread)
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

    # --- outcomes ------------------------------------------------------------------------------
    def succeeded(self, result: Any) -> None:
        found = changes_of(result, self.changes)
        if found:
            publish(self.parent, found)
        if self.on_done is not None:
            self.on_done(result)

    def refused(self, exc: DeskError) -> Callable | None:
        """The caller's answer to a refusal: another call to run, or None (the refusal is shown)."""
        if self.on_refused is not None:
            retry = self.on_refused(exc)
            return retry if callable(retry) else None
        self.fail(str(exc))
        return None

    def fail(self, text: str, cancelled: bool = False) -> None:
        if self.on_error is not None:
            self.on_error(text)
        elif cancelled:
            QMessageBox.information(self.parent, self.title, text)
        else:
            QMessageBox.warning(self.parent, self.title, text)


@contextmanager
def _busy(on: bool):
    """The wait cursor while a quick call runs (back to normal before any message is shown)."""
    if on:
        QGuiApplication.setOverrideCursor(Qt.WaitCursor)
    try:
        yield
    finally:
        if on:
            QGuiApplication.restoreOverrideCursor()


class _Worker(QObject):
    progressed = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str, object)  # "cancelled" | "refused" | "error", the DeskError when refused

    def __init__(self, fn: Callable[[Progress], Any], title: str):
        super().__init__()
        self.fn, self.title = fn, title
        self.cancel_event = threading.Event()

    def run(self) -> None:
        progress = Progress(self.cancel_event, lambda d, t, l: self.progressed.emit(d, t, l))
        try:
            result = self.fn(progress)
        except Cancelled:
            self.failed.emit("cancelled", None)
        except DeskError as exc:
            self.failed.emit("refused", exc)
        except Exception as exc:  # the clerk gets a sentence; the details go to the log
            log.exception("%s : erreur inattendue", self.title)
            self.failed.emit("error", _unexpected(exc))
        else:
            self.finished.emit(result)


class _Bridge(QObject):
    """Lives in the UI thread, so the worker's queued signals land here, never in the worker."""

    def __init__(self, operation: _Operation, dialog: QProgressDialog, thread: QThread):
        super().__init__(operation.parent)
        self.operation, self.dialog, self.thread = operation, dialog, thread

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
        self.operation.succeeded(result)

    @Slot(str, object)
    def failed(self, kind: str, exc) -> None:
        self._finish()
        if kind == "cancelled":
            self.operation.fail(CANCELLED, cancelled=True)
        elif kind == "refused":
            retry = self.operation.refused(exc)
            if retry is not None:
                self.operation.start(retry)
        else:
            self.operation.fail(exc if isinstance(exc, str) else UNEXPECTED)


def _unexpected(exc: BaseException) -> str:
    """Disk full, a busy base, a refused access… said as such; anything else in general words
    (never the exception's text: it may carry personal data)."""
    from gandrange_desk.console import explain

    return explain(exc) or UNEXPECTED


__all__ = ["CANCELLED", "UNEXPECTED", "attempt", "changes_of", "run", "run_operation"]
