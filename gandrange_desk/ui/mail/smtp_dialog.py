"""The SMTP settings dialog, with "Envoyer un courriel de test"."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from gandrange_desk.models import Role
from gandrange_desk.services.mail import sender as mailer
from gandrange_desk.services.system import secrets
from gandrange_desk.services.mail import smtp_settings
from gandrange_desk.services.context import Desk
from gandrange_desk.ui.common import ops

SECURITY_ITEMS = (("starttls", "STARTTLS (port 587)", 587), ("ssl", "TLS implicite (port 465)", 465),
                  ("none", "Aucune — relais local (port 25)", 25))
DEFAULT_PORTS = {port for _k, _l, port in SECURITY_ITEMS}


class SmtpDialog(QDialog):
    def __init__(self, desk: Desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Paramètres SMTP")
        self.setMinimumWidth(560)
        self.form = smtp_settings.load_form(desk)
        self._thread = None

        layout = QVBoxLayout(self)
        intro = QLabel("Serveur par lequel partent les courriels aux familles. Sans serveur, les courriels "
                       "restent dans la boîte d'envoi.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        fields = QFormLayout()
        self.host = QLineEdit(self.form.host)
        self.host.setPlaceholderText("smtp.example.org")
        self.security = QComboBox()
        for key, label, _port in SECURITY_ITEMS:
            self.security.addItem(label, key)
        self.security.setCurrentIndex(max(0, self.security.findData(self.form.security)))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(self.form.port)
        self.security.currentIndexChanged.connect(self._security_changed)
        self.user = QLineEdit(self.form.user)
        self.user.setPlaceholderText("vide pour un relais sans identification")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.password_note = QLabel()
        self.password_note.setWordWrap(True)
        self.password_note.setStyleSheet("color: #555;")
        self.sender = QLineEdit(self.form.sender)
        self.sender.setPlaceholderText("Périscolaire Gandrange <periscolaire@example.org>")
        self.reply_to = QLineEdit(self.form.reply_to)
        self.reply_to.setPlaceholderText("facultatif")
        self.ca_file = QLineEdit(self.form.ca_file)
        self.ca_file.setPlaceholderText("facultatif : certificat d'un serveur auto-signé (PEM)")
        browse = QPushButton("Parcourir…")
        browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(browse)
        fields.addRow("&Serveur :", self.host)
        fields.addRow("S&écurité :", self.security)
        fields.addRow("&Port :", self.port)
        fields.addRow("&Identifiant :", self.user)
        fields.addRow("&Mot de passe :", self.password)
        fields.addRow("", self.password_note)
        fields.addRow("E&xpéditeur (De) :", self.sender)
        fields.addRow("&Répondre à :", self.reply_to)
        ca_label = QLabel("&Autorité (CA) :")
        ca_label.setBuddy(self.ca_file)
        fields.addRow(ca_label, ca_row)
        layout.addLayout(fields)

        test_row = QHBoxLayout()
        self.test_to = QLineEdit()
        self.test_to.setPlaceholderText("adresse qui recevra le courriel de test")
        self.test_button = QPushButton("Envoyer un &courriel de test")
        self.test_button.clicked.connect(self.send_test)
        test_row.addWidget(self.test_to, 1)
        test_row.addWidget(self.test_button)
        layout.addLayout(test_row)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        layout.addWidget(self.test_result)

        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Save).setText("&Enregistrer")
        self.buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        if not desk.actor.at_least(Role.RESPONSABLE):
            self.buttons.button(QDialogButtonBox.Save).setEnabled(False)
            self.buttons.button(QDialogButtonBox.Save).setToolTip("Réservé au rôle responsable ou administrateur.")
        layout.addWidget(self.buttons)
        self.user.textChanged.connect(self._update_password_note)
        self.host.textChanged.connect(self._update_password_note)
        self._update_password_note()

    # --- reading the form ---------------------------------------------------------------------

    def current_form(self) -> smtp_settings.SmtpForm:
        return smtp_settings.SmtpForm(host=self.host.text().strip(), port=self.port.value(),
                               security=self.security.currentData(), user=self.user.text().strip(),
                               sender=self.sender.text().strip(), reply_to=self.reply_to.text().strip(),
                               ca_file=self.ca_file.text().strip(), version=self.form.version)

    def _security_changed(self) -> None:
        # Follow the usual port of the chosen security unless a custom port was typed.
        if self.port.value() in DEFAULT_PORTS:
            self.port.setValue(SECURITY_ITEMS[self.security.currentIndex()][2])

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Certificat d'autorité", "", "Certificats (*.pem *.crt *.cer)")
        if path:
            self.ca_file.setText(path)

    def _update_password_note(self) -> None:
        user, host = self.user.text().strip(), self.host.text().strip()
        if not user:
            text = "Pas d'identifiant : aucun mot de passe n'est utilisé (relais local)."
        else:
            source = secrets.smtp_password_source(user, host) if host else ""
            known = {"keyring": "Un mot de passe est enregistré dans le trousseau du poste.",
                     "env": f"Le mot de passe vient de la variable {secrets.ENV_SMTP_PASSWORD}.",
                     "session": "Un mot de passe est gardé pour cette session."}.get(source, "Aucun mot de passe connu.")
            where = (" Un mot de passe saisi ici est enregistré dans le trousseau (jamais dans un fichier)."
                     if secrets.keyring_available() else
                     " Aucun trousseau sur ce poste : un mot de passe saisi ici est gardé pour cette session "
                     "seulement, jamais écrit dans un fichier.")
            text = known + where
        self.password_note.setText(text)
        self.password.setEnabled(bool(user))

    def _password(self, form: smtp_settings.SmtpForm) -> str | None:
        typed = self.password.text()
        if typed:
            return typed
        if form.user and form.host:
            return secrets.get_smtp_password(form.user, form.host)
        return None

    # --- actions ----------------------------------------------------------------------------------

    def save(self) -> None:
        form = self.current_form()
        saved = ops.run(self, "Paramètres SMTP", lambda: smtp_settings.save_form(self.desk, form))
        if saved is None:
            return
        self.form = saved
        if self.password.text() and form.user:
            # Without a keyring this lasts for the session only; the note under the field says so.
            secrets.set_smtp_password(form.user, form.host, self.password.text())
        self.accept()

    def send_test(self) -> None:
        form = self.current_form()
        problems = smtp_settings.validate_form(form)
        if not form.host:
            problems.insert(0, "Serveur : indiquez l'adresse du serveur SMTP.")
        if problems:
            self._show_test_result(False, "\n".join(problems))
            return
        config = smtp_settings.config_from_form(form, timeout=20)
        password = self._password(form)
        if form.user and not password:
            self._show_test_result(False, "Saisissez le mot de passe pour essayer ce serveur.")
            return
        to = self.test_to.text().strip()
        self.test_button.setEnabled(False)
        self._show_test_result(None, "Envoi du courriel de test…")

        def done(message: str) -> None:
            self.test_button.setEnabled(True)
            self._show_test_result(True, message)

        def failed(message: str) -> None:
            self.test_button.setEnabled(True)
            self._show_test_result(False, message)

        self._thread = ops.run(self, "Courriel de test", lambda _p: mailer.send_test_message(config, password, to),
                               long=True, on_done=done, on_error=failed)

    def _show_test_result(self, ok: bool | None, text: str) -> None:
        color = {True: "#1e6b35", False: "#b3261e", None: "#555"}[ok]
        self.test_result.setStyleSheet(f"color: {color};")
        self.test_result.setText(text)
