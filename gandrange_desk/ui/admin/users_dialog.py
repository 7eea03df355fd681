""""Utilisateurs du bureau" (Outils › Utilisateurs…): who may use the desk, with which role.

The administrator adds users, changes their name and role, deactivates or reactivates them and
resets a forgotten password; a supervisor sees the list read-only. Every change is one call to
`services.users`, which checks the role, the version, and that an active admin remains.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
    QHeaderView, QLabel, QLineEdit, QMessageBox, QPushButton, QTableView, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, StaleEdit
from gandrange_desk.models import Role
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.system import users as svc
from gandrange_desk.ui.admin.password_dialog import ResetPasswordDialog
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import RowsTableModel


class UserModel(RowsTableModel):
    HEADERS = ("Identifiant", "Nom", "Rôle", "État", "Dernière modification")

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        user, col = self.rows[index.row()], index.column()
        if role == Qt.DisplayRole:
            if col == 0:
                return user.login
            if col == 1:
                return user.full_name
            if col == 2:
                return Role.label_of(user.role)
            if col == 3:
                return "Actif" if user.active else "Désactivé"
            if col == 4:
                if user.updated_at is None:
                    return ""
                return f"{formats.instant(user.updated_at)} par {user.updated_by or '?'}"
        if role == Qt.ForegroundRole and not user.active:
            return QColor("#888888")
        return None


class UserEditDialog(QDialog):
    """Add a user (login, name, role, password) or edit one (name, role, active)."""

    def __init__(self, user: svc.UserRow | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.user = user
        self.setWindowTitle("Nouvel utilisateur" if user is None else f"Utilisateur « {user.login} »")
        self.login = QLineEdit(user.login if user else "")
        self.login.setReadOnly(user is not None)
        self.full_name = QLineEdit(user.full_name if user else "")
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.label, role.value)
        self.role.setCurrentIndex(max(0, self.role.findData(user.role if user else Role.AGENT.value)))
        self.active = QCheckBox("Compte actif (peut se connecter)")
        self.active.setChecked(user.active if user else True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.Password)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #a00000;")
        form = QFormLayout()
        form.addRow("&Identifiant :", self.login)
        form.addRow("&Nom complet :", self.full_name)
        form.addRow("&Rôle :", self.role)
        if user is None:
            form.addRow("&Mot de passe :", self.password)
            form.addRow("&Confirmation :", self.confirm)
        else:
            form.addRow("", self.active)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("&Enregistrer")
        buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        buttons.accepted.connect(self.accept_if_valid)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(440, 0)
        self.apply = None  # set by the users dialog: a callable doing the service call (its result)

    def accept_if_valid(self) -> bool:
        def save():
            if self.user is None and self.password.text() != self.confirm.text():
                raise DeskError("La confirmation ne correspond pas au mot de passe.")
            return self.apply(self) if self.apply is not None else None

        if not ops.attempt(self, self.windowTitle(), save, on_error=self.error.setText):
            return False
        self.accept()
        return True


class UsersDialog(QDialog):
    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.can_edit = desk.actor.at_least(Role.ADMIN)
        self.setWindowTitle("Utilisateurs du bureau")
        self.resize(820, 460)
        self.model = UserModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((120, 200, 130, 90)):
            self.table.setColumnWidth(col, width)
        self.add_button = QPushButton("&Ajouter…")
        self.edit_button = QPushButton("&Modifier…")
        self.toggle_button = QPushButton("&Désactiver")
        self.reset_button = QPushButton("&Réinitialiser le mot de passe…")
        close = QPushButton("&Fermer")
        for b in (self.add_button, self.edit_button, self.toggle_button, self.reset_button):
            b.setEnabled(self.can_edit)
        self.notice = QLabel("Lecture seule : les comptes sont gérés par l'administrateur.")
        self.notice.setStyleSheet("font-weight: bold;")
        self.notice.setVisible(not self.can_edit)
        self.add_button.clicked.connect(self.add_user)
        self.edit_button.clicked.connect(self.edit_user)
        self.toggle_button.clicked.connect(self.toggle_active)
        self.reset_button.clicked.connect(self.reset_password)
        self.table.doubleClicked.connect(lambda _i: self.edit_user())
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.edit_button, self.toggle_button, self.reset_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self.refresh()

    def refresh(self, keep_id: int | None = None) -> None:
        def refused(text: str) -> None:
            self.notice.setText(text)
            self.notice.setVisible(True)

        rows = ops.run(self, "Utilisateurs du bureau", lambda: svc.list_users(self.desk), on_error=refused) or []
        self.model.set_rows(rows)
        target = next((i for i, u in enumerate(rows) if u.id == keep_id), 0)
        if rows:
            self.table.selectRow(target)
        self._update_buttons()

    def current_user(self) -> svc.UserRow | None:
        row = self.table.currentIndex().row()
        return self.model.rows[row] if 0 <= row < len(self.model.rows) else None

    def _update_buttons(self) -> None:
        user = self.current_user()
        self.toggle_button.setText("&Réactiver" if user is not None and not user.active else "&Désactiver")
        for b in (self.edit_button, self.toggle_button, self.reset_button):
            b.setEnabled(self.can_edit and user is not None)

    def _warn(self, exc: DeskError) -> None:
        QMessageBox.warning(self, "Utilisateurs du bureau", str(exc))
        if isinstance(exc, StaleEdit):
            self.refresh()

    def add_user(self) -> UserEditDialog:
        dialog = UserEditDialog(None, self)
        created: list[int] = []

        def apply(d: UserEditDialog) -> Changes:
            created.append(svc.create_user(self.desk, d.login.text(), d.full_name.text(), d.role.currentData(),
                                           d.password.text()))
            return Changes(settings=True)  # the service returns the new id: the change is a new user

        dialog.apply = apply
        if dialog.exec() and created:
            self.refresh(created[0])
        return dialog

    def edit_user(self) -> UserEditDialog | None:
        user = self.current_user()
        if user is None or not self.can_edit:
            return None
        dialog = UserEditDialog(user, self)

        def apply(d: UserEditDialog) -> svc.UserRow:
            return svc.update_user(self.desk, user.id, full_name=d.full_name.text(), role=d.role.currentData(),
                                   active=d.active.isChecked(), version=user.version)

        dialog.apply = apply
        dialog.exec()
        self.refresh(user.id)  # also after a refusal: a stale row shows who changed it meanwhile
        return dialog

    def toggle_active(self) -> bool:
        user = self.current_user()
        if user is None:
            return False
        if not ops.attempt(self, "Utilisateurs du bureau", lambda: svc.update_user(
                self.desk, user.id, full_name=user.full_name, role=user.role, active=not user.active,
                version=user.version), on_refused=self._warn):
            return False
        self.refresh(user.id)
        return True

    def reset_password(self) -> None:
        user = self.current_user()
        if user is None:
            return
        if ResetPasswordDialog(self.desk, user.id, user.login, self).exec():
            QMessageBox.information(self, "Utilisateurs du bureau",
                                    f"Mot de passe de « {user.login} » réinitialisé.")
            self.refresh(user.id)
