"""Who is at the desk: a login dialog when the database has desk users.

At start-up the dialog is drawn before the database is opened (`LoginDialog(None, login)`,
then `attach(desk)` just after its first paint, see `ui.app.run_window`): SQLAlchemy, the
models and the password hasher load while the clerk types."""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout)

from gandrange_desk.services.context import SYSTEM, Actor, Desk
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.first_paint import PaintsFirst
from gandrange_desk.ui.common.windows import store


class LoginDialog(PaintsFirst, QDialog):
    def __init__(self, desk: Desk | None, login: str = "", parent=None):
        super().__init__(parent)
        self.desk = desk  # None: drawn before the database is open; `attach` gives it
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

    def attach(self, desk: Desk) -> None:
        self.desk = desk

    def try_login(self) -> None:
        if self.desk is None:  # before the first paint's work has opened the base: not lost
            if not self.first_paint_done:
                self.after_first_paint(self.try_login)
            return
        from gandrange_desk.services.system.users import authenticate

        def refused(text: str) -> None:
            self.error.setText(text)
            self.password.selectAll()
            self.password.setFocus()

        actor = ops.run(self, "Connexion", lambda: authenticate(self.desk, self.login.text(), self.password.text()),
                        on_error=refused)
        if actor is not None:
            self.actor = actor
            store().setValue("login/last", actor.login)  # offered next time on this workstation
            self.accept()


def choose_actor(desk: Desk, login: str | None) -> Actor | None:
    """No desk users yet (a fresh database): the system acts, so the first admin can be made.

    The login offered is the one asked for, else the last one that logged in on this workstation;
    never the Windows account's name, which is not a desk login."""
    from gandrange_desk.services.system.users import has_users

    if not has_users(desk):
        return SYSTEM
    default = login or last_login()
    dialog = LoginDialog(desk, default)
    return dialog.actor if dialog.exec() == QDialog.Accepted else None


def last_login() -> str:
    """The login that last succeeded on this workstation ("" if none)."""
    return str(store().value("login/last", "") or "")
