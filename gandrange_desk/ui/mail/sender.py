"""The background sender of the window: delivers the outbox every minute and on demand, off the
UI thread, and reports "n courriels en attente / n en échec" for the status bar.

    sender = MailSender(desk, main_window)
    sender.countsChanged.connect(lambda waiting, failed: status_label.setText(counts_text(waiting, failed)))
    sender.start()          # first run at once, then every minute
    sender.send_now()       # e.g. after a validation round
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from gandrange_desk.errors import DeskError
from gandrange_desk.services.mail import sender as mailer
from gandrange_desk.services.system import secrets
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.outbox import counts_text, outbox_counts

INTERVAL_MS = 60_000


class _Worker(QObject):
    """Lives in the sender thread; one run at a time (the thread's event loop serialises them)."""

    done = Signal(object, int, int, str, str)  # report | None, waiting, failed, problem, kind

    def __init__(self, desk: Desk, timeout: float | None):
        super().__init__()
        self.desk = desk
        self.timeout = timeout

    @Slot(bool)
    def run(self, deliver: bool) -> None:
        report, problem, kind = None, "", ""
        if deliver:
            try:
                report = mailer.send_pending(self.desk, timeout=self.timeout)
                problem = report.problem
                kind = "smtp" if problem else ""
            except mailer.SmtpNotConfigured as exc:
                problem, kind = str(exc), "not_configured"
            except mailer.SmtpPasswordMissing as exc:
                problem, kind = str(exc), "password"
            except DeskError as exc:
                problem, kind = str(exc), "error"
            except Exception:  # a broken run must not kill the thread: the next tick retries
                traceback.print_exc()
                problem, kind = "L'envoi des courriels a échoué (erreur inattendue) ; nouvel essai dans une minute.", "error"
        try:
            waiting, failed = outbox_counts(self.desk)
        except Exception:
            traceback.print_exc()
            waiting, failed = -1, -1
        self.done.emit(report, waiting, failed, problem, kind)


class MailSender(QObject):
    """Background delivery of the outbox for the window.

    Signals: `countsChanged(waiting, failed)` after every run or count refresh;
    `sendFinished(report)` with a `mailer.SendReport` (None when nothing could be tried);
    `problemChanged(text)` with a French sentence ("" once things work again).
    """

    countsChanged = Signal(int, int)
    sendFinished = Signal(object)
    problemChanged = Signal(str)
    _run = Signal(bool)

    def __init__(self, desk: Desk, parent: QObject | None = None, *, interval_ms: int = INTERVAL_MS,
                 timeout: float | None = None, ask_password: bool = True):
        super().__init__(parent)
        self.desk = desk
        self.waiting = 0
        self.failed = 0
        self.problem = ""
        self.problem_kind = ""
        self.busy = False
        self._again = False
        self._ask_password = ask_password
        self._asked = False
        self._thread = QThread(self)
        self._thread.setObjectName("gandrange-desk-mail-sender")
        self._worker = _Worker(desk, timeout)
        self._worker.moveToThread(self._thread)
        self._run.connect(self._worker.run, Qt.QueuedConnection)
        self._worker.done.connect(self._finished, Qt.QueuedConnection)
        self._thread.finished.connect(self._worker.deleteLater)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._thread.start()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    # --- public API -----------------------------------------------------------------------

    def start(self) -> None:
        """Run once now, then every `interval_ms`."""
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        """Stop the timer and the thread (waits for a run in progress to end)."""
        self._timer.stop()
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()

    def send_now(self) -> None:
        """Deliver what is due at once (asks again for a missing password)."""
        self._asked = False
        self._request(True)

    def status_text(self) -> str:
        return counts_text(self.waiting, self.failed)

    # --- internals ------------------------------------------------------------------------

    def _tick(self) -> None:
        self._request(True)

    def _request(self, deliver: bool) -> None:
        if self.busy:
            self._again = self._again or deliver
            return
        self.busy = True
        self._run.emit(deliver)

    @Slot(object, int, int, str, str)
    def _finished(self, report, waiting: int, failed: int, problem: str, kind: str) -> None:
        self.busy = False
        if waiting >= 0:
            self.waiting, self.failed = waiting, failed
            self.countsChanged.emit(waiting, failed)
        if report is not None or kind:
            if (problem, kind) != (self.problem, self.problem_kind):
                self.problem, self.problem_kind = problem, kind
                self.problemChanged.emit(problem)
            self.sendFinished.emit(report)
        if kind == "password" and self._ask_password and not self._asked:
            self._asked = True
            if self._prompt_password():
                self._again = True
        if self._again:
            self._again = False
            self._request(True)

    def _prompt_password(self) -> bool:
        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        config = mailer.smtp_config(self.desk)
        if config is None or not config.user:
            return False
        return ask_smtp_password(parent, config)


def ask_smtp_password(parent: QWidget | None, config: mailer.SmtpConfig) -> bool:
    """Ask for the SMTP password; keep it in the keyring if there is one, else for this session."""
    where = ("Il sera enregistré dans le trousseau de mots de passe du poste."
             if secrets.keyring_available() else
             "Aucun trousseau n'est disponible sur ce poste : il sera gardé pour cette session seulement.")
    password, ok = QInputDialog.getText(
        parent, "Mot de passe SMTP",
        f"Mot de passe de {config.user} sur le serveur {config.host} :\n{where}", QLineEdit.Password)
    if not ok or not password:
        return False
    secrets.set_smtp_password(config.user, config.host, password)
    return True
