"""Who is at the desk: a login dialog when the database has desk users."""

from __future__ import annotations

import getpass

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout)

from gandrange_desk.services.context import SYSTEM, Actor, Desk
from gandrange_desk.services.system.users import authenticate, has_users
from gandrange_desk.ui.common import ops


class LoginDialog(QDialog):
    def __init__(self, desk: Desk, login: str = "", parent=None):
        super().__init__(parent)
        self.desk = desk
        self.actor: Actor | None = None
        self.setWindowTitle("Connexion — Gandrange Desk")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Bureau périscolaire — identifiez-vous."))
        form = QFormLayout()
        self.login = QLineEdit(login)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        form.addRow("&Identifiant :", self.login)
        form.addRow("&Mot de passe :", self.password)
        layout.addLayout(form)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b00020;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Se connecter")
        buttons.button(QDialogButtonBox.Cancel).setText("Quitter")
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.password if login else self.login).setFocus()

    def try_login(self) -> None:
        def refused(text: str) -> None:
            self.error.setText(text)
            self.password.selectAll()
            self.password.setFocus()

        actor = ops.run(self, "Connexion", lambda: authenticate(self.desk, self.login.text(), self.password.text()),
                        on_error=refused)
        if actor is not None:
            self.actor = actor
            self.accept()


def choose_actor(desk: Desk, login: str | None) -> Actor | None:
    """No desk users yet (a fresh database): the system acts, so the first admin can be made."""
    if not has_users(desk):
        return SYSTEM
    try:
        default = login or getpass.getuser()
    except Exception:
        default = login or ""
    dialog = LoginDialog(desk, default)
    return dialog.actor if dialog.exec() == QDialog.Accepted else None
