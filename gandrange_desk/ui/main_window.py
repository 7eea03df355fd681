"""The main window: tabs Familles, Réservations, Validation, Facturation, Courriels, Rendez-vous,
Pointage, Listes, Tableau de bord.

Tabs are built the first time they are shown, so the window is usable quickly on start. At
start-up the window is a shell first (`MainWindow()`: title, tabs bar, menus, status bar, a
"Chargement…" placeholder), painted before SQLAlchemy and the models load; `attach(desk)` then
gives it its database, and its first tab is built and filled (see `ui.app.run_window`).
`MainWindow(desk)` does both at once (the first tab still waits for the first paint).
Every operation's `Changes` arrive here (`publish_changes`, signal `changesApplied`): the status
bar's counts follow, and every built tab and open family file is told (`apply_changes`), so a
decision in one tab shows in the others without F5.
"""

from __future__ import annotations

import importlib
import logging
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget,
                               QVBoxLayout, QWidget)

# Nothing here imports SQLAlchemy or the models: the shell is painted before they load.
from gandrange_desk import __version__
from gandrange_desk.roles import Role
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.formats import count
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.first_paint import PaintsFirst
from gandrange_desk.ui.common.refresh import broadcast
from gandrange_desk.ui.common.windows import remember

log = logging.getLogger("gandrange_desk")

# (title with mnemonic, module, class)
TABS = (
    ("Fa&milles", "gandrange_desk.ui.families.tab", "FamiliesTab"),
    ("&Réservations", "gandrange_desk.ui.reservations.tab", "ReservationsTab"),
    ("&Validation", "gandrange_desk.ui.validation.tab", "ValidationTab"),
    ("Fa&cturation", "gandrange_desk.ui.billing.tab", "BillingTab"),
    ("Co&urriels", "gandrange_desk.ui.mail.view", "MailView"),
    ("Ren&dez-vous", "gandrange_desk.ui.appointments.tab", "AppointmentsTab"),
    ("&Pointage", "gandrange_desk.ui.attendance.tab", "AttendanceTab"),
    ("&Listes", "gandrange_desk.ui.lists.tab", "ListsTab"),
    ("Tableau de &bord", "gandrange_desk.ui.dashboard.tab", "DashboardTab"),
)


class _LazyTab(QWidget):
    """Holds a tab's place until it is first shown ("Chargement…" meanwhile)."""

    def __init__(self, factory: Callable[[], QWidget]):
        super().__init__()
        self.factory = factory
        self.widget: QWidget | None = None
        self.setLayout(QVBoxLayout())
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("Chargement…")
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.placeholder.setEnabled(False)  # grey, calm: the tab is on its way
        self.layout().addWidget(self.placeholder)

    def materialise(self) -> QWidget:
        if self.widget is None:
            self.widget = self.factory()
            self.layout().removeWidget(self.placeholder)
            self.placeholder.deleteLater()
            self.layout().addWidget(self.widget)
            if self.isVisible():  # else Qt shows it from the event loop: "on screen" at once
                self.widget.show()
        return self.widget


class MainWindow(PaintsFirst, QMainWindow):
    # (Changes, the widget the operation came from): after every operation, before its on_done.
    changesApplied = Signal(object, object)

    def __init__(self, desk: Desk | None = None, parent=None):
        super().__init__(parent)
        self.desk: Desk | None = None
        self.setWindowTitle("Gandrange Desk — Bureau périscolaire")
        remember(self, "main", (1366, 697), maximise_first=True)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.lazy: list[_LazyTab] = []
        for title, module, cls in TABS:
            holder = _LazyTab(lambda m=module, c=cls: self._build_tab(m, c))
            self.lazy.append(holder)
            self.tabs.addTab(holder, title)
        self.tabs.currentChanged.connect(self._tab_shown)
        self.changesApplied.connect(self._changes_applied)
        # The mail sender's delayed start (armed by `attach`); closing stops it.
        self._sender_timer = QTimer(self)
        self._sender_timer.setSingleShot(True)
        self._sender_timer.setInterval(3000)
        self._sender_timer.timeout.connect(self._create_mail_sender)
        self.mail_sender = None
        self._build_menus()
        self._build_status_bar()
        if desk is not None:
            self.attach(desk)

    def attach(self, desk: Desk) -> None:
        """The database is open and the clerk known: the shell becomes the working window.

        Its first tab is built and filled once the window is painted (at once if it already was),
        then the status bar's counts; a test or a caller asking for a tab gets it at once."""
        self.desk = desk
        for action in self._needs_desk:
            action.setEnabled(True)
        if desk.actor.at_least("admin"):
            self._action(self._tools_menu, "A&nonymiser les familles éligibles…", lambda: importlib.import_module("gandrange_desk.ui.families.anonymise_dialog").open_dialog(self))
        self.statusBar().clearMessage()
        reader = desk.first_reader()
        if reader is not None:  # the engine comes after the first tab (`_load_engine`)
            from gandrange_desk.db import describe_sqlite

            self.db_label.setText(describe_sqlite(reader.database))
        else:
            from gandrange_desk.db import describe

            self.db_label.setText(describe(desk.engine.url))
        self.user_label.setText(f"{desk.actor.full_name} ({Role.label_of(desk.actor.role)})")
        self.after_first_paint(lambda: self._tab_shown(self.tabs.currentIndex()))
        # Just after the first tab, not before it: the window first, then its counts (and
        # not when the sender first runs).
        self.after_first_paint(self.update_status)
        self.after_first_paint(self.update_mail_counts)
        # The warm-ups (the holidays' data, the Réservations tab's modules and the ORM behind
        # them, in threads) once the filled tab is on screen: started beside its paint, they
        # took the GIL from it (~0.2-0.3 s later on screen, issue 14 start-up).
        self.after_first_paint(lambda: self.after_next_paint(self._warm_up))
        self._start_mail_sender()

    @property
    def attached(self) -> bool:
        return self.desk is not None

    # ----- first paint: `after_first_paint`, `first_painted_at` (ui.common.first_paint). A window
    # shown but never painted (minimised at start, a locked session) still fills its first tab
    # and its counts after `FALLBACK_MS`.

    # ----- tabs
    def _build_tab(self, module: str, cls: str) -> QWidget:
        try:
            factory = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError) as exc:
            label = QLabel(f"Cet onglet n'est pas disponible dans cette version ({exc}).")
            label.setAlignment(Qt.AlignCenter)
            return label
        return factory(self.desk, self)

    def _tab_shown(self, index: int) -> None:
        if self.desk is None:  # the shell: `attach` shows the current tab
            return
        if 0 <= index < len(self.lazy):
            follow = getattr(self.lazy[index].materialise(), "follow", None)
            if follow is not None:  # what changed while it was hidden (no Show event off screen)
                follow.catch_up()

    def tab_widget(self, index: int) -> QWidget:
        return self.lazy[index].materialise()

    def built_tabs(self) -> list[QWidget]:
        return [holder.widget for holder in self.lazy if holder.widget is not None]

    def refresh_current(self) -> None:
        widget = self.lazy[self.tabs.currentIndex()].materialise()
        if hasattr(widget, "refresh"):
            widget.refresh()
        follow = getattr(widget, "follow", None)
        if follow is not None:
            follow.forget()
        self.update_status()
        self.update_mail_counts()

    def show_family_in_grid(self, label: str, child_ids: list[int]) -> None:
        """A family file's « Réservations des enfants »: the grid with only its children."""
        self.tabs.setCurrentIndex(1)
        grid = self.tab_widget(1)
        if hasattr(grid, "show_family"):
            grid.show_family(label, child_ids)
        self.raise_()
        self.activateWindow()

    # ----- what changed
    def publish_changes(self, changes: Changes, origin: QWidget | None = None) -> None:
        """An operation's changes (from `ui.common.ops`): every view follows."""
        self.changesApplied.emit(changes, origin)

    def _changes_applied(self, changes: Changes, origin) -> None:
        # A DR or DA cell is a pending request; an office booking moves none, and the cost
        # after a grid click must not grow with the base (the count scans the pending ones).
        if changes.everything:
            self.update_status()
        elif changes.touches("requests", "cells") and changes.moves_pending():
            self.update_pending()
        if changes.touches("outbox"):
            self.update_mail_counts()
        views = [w for w in self.built_tabs() if hasattr(w, "apply_changes")]
        broadcast(self, views, changes, origin)

    # ----- menus
    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        if self.desk is None and slot != self.close:  # the shell: usable once attached
            action.setEnabled(False)
            self._needs_desk.append(action)
        return action

    def _build_menus(self) -> None:
        self._needs_desk: list[QAction] = []
        bar = self.menuBar()
        file_menu = bar.addMenu("&Fichier")
        self._action(file_menu, "Importer les demandes du &portail…", self.import_feed, "Ctrl+I")
        file_menu.addSeparator()
        self._action(file_menu, "Importer les &réglages…", self.import_settings)
        self._action(file_menu, "E&xporter les réglages…", self.export_settings)
        self._action(file_menu, "&Sauvegarder la base…", self.backup)
        self._action(file_menu, "Res&taurer une sauvegarde…", self.restore_backup)
        self._action(file_menu, "Sauvegardes &automatiques…", self.backup_settings)
        file_menu.addSeparator()
        self._action(file_menu, "&Quitter", self.close, QKeySequence.Quit)

        view = bar.addMenu("&Affichage")
        for i, (title, _m, _c) in enumerate(TABS):
            self._action(view, title, lambda _=False, i=i: self.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")
        view.addSeparator()
        self._action(view, "&Actualiser", self.refresh_current, "F5")

        tools = bar.addMenu("&Outils")
        self._action(tools, "&Réglages…", self.settings_dialog, "Ctrl+,")
        self._action(tools, "&Vacances scolaires…", self.school_holidays)
        self._action(tools, "&Utilisateurs…", self.users_dialog)
        self._action(tools, "Changer mon mot de &passe…", self.change_password)
        tools.addSeparator()
        self._action(tools, "Paramètres d'&envoi des courriels…", self.smtp_settings)
        self._action(tools, "Envoyer les courriels &maintenant", self.send_mail_now, "Ctrl+Shift+E")
        self._action(tools, "&Journal des opérations…", lambda: importlib.import_module("gandrange_desk.ui.admin.audit_view").open_dialog(self))
        self._tools_menu = tools  # `attach` adds the administrator's action

        help_menu = bar.addMenu("Aid&e")
        self._action(help_menu, "À &propos de Gandrange Desk", self.about)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.db_label = QLabel("")
        self.user_label = QLabel("")
        self.pending_label = QLabel("")
        self.mail_label = QLabel("")
        for widget in (self.pending_label, self.mail_label, self.user_label, self.db_label):
            status.addPermanentWidget(widget)
        status.showMessage("Ouverture de la base…")  # `attach` clears it

    # SQLAlchemy and the engine, once the filled first tab is painted, when the first screen was
    # read through the bare driver (`Desk.opening`): ~0.3 s of CPU the clerk must not wait for in
    # one go. In a thread (the main thread keeps answering: the GIL changes hands every 5 ms), the
    # window asking every `ENGINE_POLL_MS` whether it is done; in the frozen program, whose
    # importer is not thread-safe (tests/system/test_preload.py), on the main thread a part per
    # event-loop turn: the standard library it pulls in first, then SQLAlchemy itself (its
    # package imports its `sql` and `engine` in one go: that part cannot be split).
    ENGINE_STEPS = ("asyncio", "importlib.metadata", "typing_extensions", "sqlalchemy",
                    "sqlalchemy.dialects.sqlite")
    ENGINE_POLL_MS = 30

    def _load_engine(self, then: Callable[[], None]) -> None:
        desk = self.desk
        if desk is None or desk.first_reader() is None:
            then()
            return
        import sys
        import threading

        if getattr(sys, "frozen", False):
            self._engine_step(then, self.ENGINE_STEPS)
            return
        failed: list[BaseException] = []

        def make() -> None:
            try:
                desk.engine  # noqa: B018 - imports SQLAlchemy, makes the engine, closes the reader
            except Exception as exc:  # noqa: BLE001 - said by the clerk's next operation
                failed.append(exc)

        worker = threading.Thread(target=make, name="open-engine", daemon=True)
        worker.start()

        def done() -> None:
            if worker.is_alive():
                QTimer.singleShot(self.ENGINE_POLL_MS, self, done)
            elif failed:
                log.error("opening the base's engine after the first screen", exc_info=failed[0])
            else:
                then()

        QTimer.singleShot(self.ENGINE_POLL_MS, self, done)

    def _engine_step(self, then: Callable[[], None], steps: tuple[str, ...]) -> None:
        if steps:
            try:
                importlib.import_module(steps[0])
            except ImportError:  # a part this build lacks: SQLAlchemy's own import says what is missing
                pass
            QTimer.singleShot(0, self, lambda: self._engine_step(then, steps[1:]))
            return
        try:
            self.desk.engine  # noqa: B018 - made here: the engine, its check; the reader closed
        except Exception:  # noqa: BLE001 - said by the clerk's next operation, which asks again
            log.exception("opening the base's engine after the first screen")
            return
        QTimer.singleShot(0, self, then)

    def _warm_up(self) -> None:
        if self.desk is None:
            return
        if self.desk.first_reader() is not None:
            self._load_engine(self._warm_up)
            return
        self._warmed = True
        self._warm_calendar()
        self._warm_tabs()

    _warmed = False
    _holiday_place: tuple[str, str] | None = None  # (zone, subdivision) read by `update_status`

    def _warm_calendar(self) -> None:
        # The grid's first opening must not load the holidays (once per process).
        if self._holiday_place is None:
            return
        from gandrange_desk.services.calendar import warm_up

        year = self.desk.today().year
        warm_up(*self._holiday_place, (year - 1, year, year + 1))

    def _warm_tabs(self) -> None:
        from gandrange_desk import preload

        def warm_grid() -> None:  # the Réservations tab's first month: its statements compiled
            from gandrange_desk.services.reservations.reads import warm_grid

            # Not once the tab is open: it has read all that itself, and the clerk's first
            # clicks must not share the CPU with a warm-up.
            if not any(type(w).__name__ == "ReservationsTab" for w in self.built_tabs()):
                warm_grid(self.desk, self.desk.today())
            preload.freeze_heap()

        self._warming = preload.warm_modules(then=warm_grid)

    def update_status(self) -> None:
        if self.desk is None:
            return
        from gandrange_desk.services.system.overview import overview

        try:
            figures = overview(self.desk)
        except Exception:
            return
        if not figures.configured:
            self.statusBar().showMessage(
                "Base vide : importez les réglages (Fichier › Importer les réglages…) "
                "ou créez une base de démonstration avec « gandrange-desk demo ».")
        self.pending_label.setText(count(figures.pending_requests, "demande en attente", "demandes en attente"))
        if figures.configured:
            self._holiday_place = (figures.school_zone, figures.holiday_subdivision)
            if self._warmed:  # configured since the start (settings imported): warm now
                self._warm_calendar()

    def update_pending(self) -> None:
        """The pending requests' count alone, after an operation that may have moved it."""
        if self.desk is None:
            return
        from gandrange_desk.services.system.overview import pending_requests

        try:
            pending = pending_requests(self.desk)
        except Exception:  # the status bar must never take an operation down with it
            return
        self.pending_label.setText(count(pending, "demande en attente", "demandes en attente"))

    def update_mail_counts(self) -> None:
        """E-mails waiting / failed, after an operation queued some (the sender re-reads them)."""
        if self.mail_sender is not None:
            self.mail_sender.refresh_counts()
            return
        if self.desk is None:
            return
        from gandrange_desk.services.system.overview import outbox_counts

        try:
            self.show_mail_counts(*outbox_counts(self.desk))
        except Exception:  # the status bar must never take an operation down with it
            return

    def _start_mail_sender(self) -> None:
        # A few seconds after start: the sender (SMTP, keyring, TLS imports, first delivery) must
        # not compete with the window becoming usable.
        self._sender_timer.start()

    def _create_mail_sender(self) -> None:
        # Never for a closed window: its thread would outlive the window and abort Qt.
        if self.mail_sender is not None or self.desk is None or not self.isVisible():
            return
        from gandrange_desk.ui.mail.sender import MailSender

        # The automatic runs never pop a password prompt at the clerk; "Envoyer les courriels
        # maintenant" asks, and the status bar says a password is missing meanwhile.
        self.mail_sender = MailSender(self.desk, self, ask_password=False)
        self.mail_sender.countsChanged.connect(self.show_mail_counts)
        self.mail_sender.problemChanged.connect(self._mail_problem)
        for holder in self.lazy:  # a Courriels view opened before the sender existed
            widget = holder.widget
            if widget is not None and hasattr(widget, "set_sender") and getattr(widget, "sender", 1) is None:
                widget.set_sender(self.mail_sender)
        self.mail_sender.start()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        # The decision e-mails this clerk's one-by-one decisions still hold leave now.
        if self.desk is None:  # the shell (the database never opened): nothing held
            self._sender_timer.stop()
            super().closeEvent(event)
            return
        from gandrange_desk.services.mail.outbox import release_held

        try:
            release_held(self.desk, created_by=self.desk.actor.login)
        except Exception:  # closing must never fail; they leave when their delay ends anyway
            log.exception("Envoi des courriels différés à la fermeture")
        # A delivery thread still running when Qt tears the window down would abort the process.
        self._sender_timer.stop()
        if self.mail_sender is not None:
            self.mail_sender.stop()
        super().closeEvent(event)

    def _mail_problem(self, problem: str) -> None:
        self.mail_label.setToolTip(problem)
        if problem:
            # The status bar is short: the whole sentence is the mail count's tooltip.
            kind = getattr(self.mail_sender, "problem_kind", "")
            short = ("Mot de passe SMTP manquant : Courriels › Envoyer maintenant."
                     if kind == "password" else problem)
            self.statusBar().showMessage(short, 15000)

    def show_mail_counts(self, waiting: int, failed: int) -> None:
        text = count(waiting, "courriel en attente", "courriels en attente")
        text += " / " + count(failed, "en échec", "en échec")
        self.mail_label.setText(text)

    # ----- actions
    def import_feed(self) -> None:
        index = 2
        self.tabs.setCurrentIndex(index)
        widget = self.tab_widget(index)
        if hasattr(widget, "import_feed_dialog"):
            widget.import_feed_dialog()

    def import_settings(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Importer les réglages", "", "Réglages (*.toml)")
        if not path:
            return
        from gandrange_desk.services.settings import service as settings_service

        ops.run(self, "Importer les réglages", lambda: settings_service.import_file(self.desk, path),
                on_done=lambda _summary: QMessageBox.information(self, "Importer les réglages", "Réglages importés."))

    def export_settings(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Exporter les réglages", "reglages.toml", "Réglages (*.toml)")
        if not path:
            return
        from gandrange_desk.services.settings import service as settings_service

        text = ops.run(self, "Exporter les réglages", lambda: settings_service.export_text(self.desk))
        if text is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)

    def backup(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Sauvegarder la base", "sauvegarde-gandrange-desk", "")
        if not path:
            return
        from gandrange_desk.services.system import backup as backup_service

        ops.run(self, "Sauvegarder la base", lambda: backup_service.backup(self.desk, path, replace=True),
                on_done=lambda _r: QMessageBox.information(self, "Sauvegarder la base", f"Sauvegarde écrite : {path}"))

    def restore_backup(self) -> None:
        from gandrange_desk.ui.setup.backups import restore_backup

        restore_backup(self.desk, self)

    def backup_settings(self) -> None:
        from gandrange_desk.ui.setup.backups import BackupSettingsDialog

        BackupSettingsDialog(self.desk, self).exec()

    def school_holidays(self) -> None:
        from gandrange_desk.ui.setup.holidays import HolidaysDialog

        HolidaysDialog(self.desk, self).exec()

    def smtp_settings(self) -> None:
        try:
            from gandrange_desk.ui.mail.smtp_dialog import SmtpDialog
        except ImportError:
            return
        SmtpDialog(self.desk, self).exec()

    def settings_dialog(self) -> None:
        from gandrange_desk.ui.settings.dialog import SettingsDialog

        SettingsDialog(self.desk, self).exec()  # its save tells every view (Changes.settings)

    def users_dialog(self) -> None:
        from gandrange_desk.ui.admin.users_dialog import UsersDialog

        if not self.desk.actor.at_least(Role.RESPONSABLE):
            QMessageBox.information(self, "Utilisateurs du bureau",
                                    "Réservé au responsable et à l'administrateur.")
            return
        UsersDialog(self.desk, self).exec()

    def change_password(self) -> None:
        from gandrange_desk.ui.admin.password_dialog import ChangePasswordDialog

        if ChangePasswordDialog(self.desk, self).exec():
            QMessageBox.information(self, "Changer mon mot de passe", "Mot de passe changé.")

    def send_mail_now(self) -> None:
        """"Envoyer maintenant" (Outils, Courriels): asks for a missing SMTP password first."""
        from gandrange_desk.services.mail import sender as mailer
        from gandrange_desk.ui.mail.sender import ask_smtp_password

        # Asked here, on the clerk's request, never by the automatic runs.
        config = mailer.smtp_config(self.desk)
        if config is not None and config.user:
            try:
                mailer.resolve_password(config)
            except mailer.SmtpPasswordMissing:
                if not ask_smtp_password(self, config):
                    return
        self._create_mail_sender()
        if self.mail_sender is not None:
            self.mail_sender.send_now()

    def about(self) -> None:
        from gandrange_desk.db import describe

        QMessageBox.about(
            self, "À propos",
            f"<b>Gandrange Desk</b> {__version__}<br>Bureau périscolaire — Commune de Gandrange<br>"
            f"Base : {describe(self.desk.engine.url)}")
