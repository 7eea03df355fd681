"""Password dialogs: "Changer mon mot de passe" (old + new) and an admin's reset (new only).

Both only collect the text; `services.users` checks it (length, confirmation, the current
password) and writes nothing when it refuses; the refusal is shown in the dialog.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from gandrange_desk.errors import DeskError
from gandrange_desk.services.system import users as svc
from gandrange_desk.ui.common import ops


def _secret() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.Password)
    return edit


class _PasswordDialog(QDialog):
    def __init__(self, title: str, intro: str, with_old: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.old = _secret() if with_old else None
        self.new = _secret()
        self.confirm = _secret()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #a00000;")
        form = QFormLayout()
        if self.old is not None:
            form.addRow("Mot de passe &actuel :", self.old)
        form.addRow("&Nouveau mot de passe :", self.new)
        form.addRow("&Confirmation :", self.confirm)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("&Enregistrer")
        buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        note = QLabel(intro)
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(460, 0)

    def save(self) -> bool:
        if not ops.attempt(self, self.windowTitle(), self.apply, on_error=self.error.setText):
            return False
        self.accept()
        return True

    def apply(self) -> None:
        raise NotImplementedError


class ChangePasswordDialog(_PasswordDialog):
    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__("Changer mon mot de passe",
                         f"Compte « {desk.actor.login} » ({desk.actor.full_name}). "
                         f"Au moins {svc.MIN_PASSWORD} caractères.", True, parent)
        self.desk = desk

    def apply(self) -> None:
        if not self.new.text() and not self.confirm.text():
            raise DeskError("Saisissez le nouveau mot de passe deux fois.")
        svc.change_own_password(self.desk, self.old.text(), self.new.text(), self.confirm.text())


class ResetPasswordDialog(_PasswordDialog):
    def __init__(self, desk, user_id: int, login: str, parent: QWidget | None = None):
        super().__init__("Réinitialiser le mot de passe",
                         f"Nouveau mot de passe de « {login} », à lui communiquer de vive voix. "
                         f"Au moins {svc.MIN_PASSWORD} caractères.", False, parent)
        self.desk, self.user_id = desk, user_id

    def apply(self) -> None:
        if self.new.text() != self.confirm.text():
            raise DeskError("La confirmation ne correspond pas au nouveau mot de passe.")
        svc.reset_password(self.desk, self.user_id, self.new.text())
