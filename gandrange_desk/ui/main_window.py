"""The main window: tabs Familles, Réservations, Validation, Facturation, Courriels.

Tabs are built the first time they are shown, so the window is usable quickly on start.
"""

from __future__ import annotations

import importlib
from typing import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget,
                               QVBoxLayout, QWidget)

from gandrange_desk import __version__
from gandrange_desk.db import describe
from gandrange_desk.errors import DeskError
from gandrange_desk.models import ROLE_LABELS
from gandrange_desk.services.context import Desk
from gandrange_desk.services.system.overview import overview
from gandrange_desk.formats import count

# (title with mnemonic, module, class)
TABS = (
    ("Fa&milles", "gandrange_desk.ui.families.tab", "FamiliesTab"),
    ("&Réservations", "gandrange_desk.ui.reservations.tab", "ReservationsTab"),
    ("&Validation", "gandrange_desk.ui.validation.tab", "ValidationTab"),
    ("Fa&cturation", "gandrange_desk.ui.billing.tab", "BillingTab"),
    ("Co&urriels", "gandrange_desk.ui.mail.view", "MailView"),
    ("Ren&dez-vous", "gandrange_desk.ui.appointments.tab", "AppointmentsTab"),
)


class _LazyTab(QWidget):
    """Holds a tab's place until it is first shown."""

    def __init__(self, factory: Callable[[], QWidget]):
        super().__init__()
        self.factory = factory
        self.widget: QWidget | None = None
        self.setLayout(QVBoxLayout())
        self.layout().setContentsMargins(0, 0, 0, 0)

    def materialise(self) -> QWidget:
        if self.widget is None:
            self.widget = self.factory()
            self.layout().addWidget(self.widget)
        return self.widget


class MainWindow(QMainWindow):
    def __init__(self, desk: Desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Gandrange Desk — Bureau périscolaire")
        self.resize(1400, 860)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.lazy: list[_LazyTab] = []
        for title, module, cls in TABS:
            holder = _LazyTab(lambda m=module, c=cls: self._build_tab(m, c))
            self.lazy.append(holder)
            self.tabs.addTab(holder, title)
        self.tabs.currentChanged.connect(self._tab_shown)
        self._build_menus()
        self._build_status_bar()
        self._tab_shown(0)
        self._start_mail_sender()

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
        if 0 <= index < len(self.lazy):
            self.lazy[index].materialise()

    def tab_widget(self, index: int) -> QWidget:
        return self.lazy[index].materialise()

    def refresh_current(self) -> None:
        widget = self.lazy[self.tabs.currentIndex()].materialise()
        if hasattr(widget, "refresh"):
            widget.refresh()
        self.update_status()

    # ----- menus
    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
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
        if self.desk.actor.at_least("admin"):
            self._action(tools, "A&nonymiser les familles éligibles…", lambda: importlib.import_module("gandrange_desk.ui.families.anonymise_dialog").open_dialog(self))

        help_menu = bar.addMenu("Aid&e")
        self._action(help_menu, "À &propos de Gandrange Desk", self.about)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.db_label = QLabel(describe(self.desk.engine.url))
        actor = self.desk.actor
        self.user_label = QLabel(f"{actor.full_name} ({ROLE_LABELS.get(actor.role, actor.role)})")
        self.pending_label = QLabel("")
        self.mail_label = QLabel("")
        for widget in (self.pending_label, self.mail_label, self.user_label, self.db_label):
            status.addPermanentWidget(widget)
        self.update_status()

    def update_status(self) -> None:
        try:
            figures = overview(self.desk)
        except Exception:
            return
        if not figures.configured:
            self.statusBar().showMessage(
                "Base vide : importez les réglages (Fichier › Importer les réglages…) "
                "ou créez une base de démonstration avec « gandrange-desk demo ».")
        self.pending_label.setText(count(figures.pending_requests, "demande en attente", "demandes en attente"))

    def _start_mail_sender(self) -> None:
        self.mail_sender = None
        # A few seconds after start: the sender (SMTP, keyring, TLS imports, first delivery) must
        # not compete with the window becoming usable.
        self._sender_timer = QTimer(self)
        self._sender_timer.setSingleShot(True)
        self._sender_timer.setInterval(3000)
        self._sender_timer.timeout.connect(self._create_mail_sender)
        self._sender_timer.start()

    def _create_mail_sender(self) -> None:
        # Never for a closed window: its thread would outlive the window and abort Qt.
        if self.mail_sender is not None or not self.isVisible():
            return
        from gandrange_desk.ui.mail.sender import MailSender

        # The automatic runs never pop a password prompt at the clerk; "Envoyer les courriels
        # maintenant" asks, and the status bar says a password is missing meanwhile.
        self.mail_sender = MailSender(self.desk, self, ask_password=False)
        self.mail_sender.countsChanged.connect(self._mail_counts)
        self.mail_sender.problemChanged.connect(self._mail_problem)
        for holder in self.lazy:  # a Courriels view opened before the sender existed
            widget = holder.widget
            if widget is not None and hasattr(widget, "set_sender") and getattr(widget, "sender", 1) is None:
                widget.set_sender(self.mail_sender)
        self.mail_sender.start()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        # A delivery thread still running when Qt tears the window down would abort the process.
        self._sender_timer.stop()
        if self.mail_sender is not None:
            self.mail_sender.stop()
        super().closeEvent(event)

    def _mail_problem(self, problem: str) -> None:
        self.mail_label.setToolTip(problem)
        if problem:
            self.statusBar().showMessage(problem, 15000)

    def _mail_counts(self, waiting: int, failed: int) -> None:
        text = count(waiting, "courriel en attente", "courriels en attente")
        text += " / " + count(failed, "en échec", "en échec")
        self.mail_label.setText(text)

    # ----- actions
    def _run(self, title: str, fn) -> object | None:
        try:
            return fn()
        except DeskError as exc:
            QMessageBox.warning(self, title, str(exc))
            return None

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

        result = self._run("Importer les réglages", lambda: settings_service.import_file(self.desk, path))
        if result is not None:
            QMessageBox.information(self, "Importer les réglages", "Réglages importés.")
            self.refresh_current()

    def export_settings(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Exporter les réglages", "reglages.toml", "Réglages (*.toml)")
        if not path:
            return
        from gandrange_desk.services.settings import service as settings_service

        text = self._run("Exporter les réglages", lambda: settings_service.export_text(self.desk))
        if text is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)

    def backup(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Sauvegarder la base", "sauvegarde-gandrange-desk", "")
        if not path:
            return
        from gandrange_desk.services.system import backup as backup_service

        if self._run("Sauvegarder la base", lambda: backup_service.backup(self.desk, path, replace=True)) is not None:
            QMessageBox.information(self, "Sauvegarder la base", f"Sauvegarde écrite : {path}")

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

        SettingsDialog(self.desk, self).exec()
        self.refresh_current()

    def users_dialog(self) -> None:
        from gandrange_desk.models import Role
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
        self._create_mail_sender()
        if self.mail_sender.problem_kind == "password":
            # Asked here, on the clerk's request, never by the automatic runs.
            from gandrange_desk.services.mail import sender as mailer
            from gandrange_desk.ui.mail.sender import ask_smtp_password

            config = mailer.smtp_config(self.desk)
            if config is not None and config.user and not ask_smtp_password(self, config):
                return
        self.mail_sender.send_now()

    def about(self) -> None:
        QMessageBox.about(
            self, "À propos",
            f"<b>Gandrange Desk</b> {__version__}<br>Bureau périscolaire — Commune de Gandrange<br>"
            f"Base : {describe(self.desk.engine.url)}")
