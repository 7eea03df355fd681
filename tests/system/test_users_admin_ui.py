"""Utilisateurs du bureau and Changer mon mot de passe, driven as a user would."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from gandrange_desk.errors import DeskError
from gandrange_desk.services.context import Actor
from gandrange_desk.services.system.users import authenticate, create_user, list_users
from gandrange_desk.ui.admin.password_dialog import ChangePasswordDialog, ResetPasswordDialog
from gandrange_desk.ui.admin.users_dialog import UserEditDialog, UsersDialog


@pytest.fixture
def admin_desk(desk):
    create_user(desk, "chef", "Claire Chef", "admin", "secret-123")
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    return desk.as_actor(Actor("chef", "Claire Chef", "admin"))


def _select(dialog, login):
    row = next(i for i, u in enumerate(dialog.model.rows) if u.login == login)
    dialog.table.selectRow(row)


def _by_login(desk, login):
    return next(u for u in list_users(desk) if u.login == login)


def _answer(monkeypatch, fill):
    """Run `fill(dialog)` then the dialog's Enregistrer instead of showing it."""
    def exec_(self):
        fill(self)
        return QDialog.Accepted if self.save_or_accept() else QDialog.Rejected

    def save_or_accept(self):
        return self.accept_if_valid() if hasattr(self, "accept_if_valid") else self.save()

    for cls in (UserEditDialog, ResetPasswordDialog):
        monkeypatch.setattr(cls, "exec", exec_)
        monkeypatch.setattr(cls, "save_or_accept", save_or_accept, raising=False)


def test_admin_adds_then_changes_the_role(qtbot, admin_desk, desk, monkeypatch):
    dialog = UsersDialog(admin_desk)
    qtbot.addWidget(dialog)
    assert [dialog.model.data(dialog.model.index(i, 0)) for i in range(2)] == ["chef", "sfoncin"]

    def fill_new(d):
        d.login.setText("mdurand")
        d.full_name.setText("Marc Durand")
        d.role.setCurrentIndex(d.role.findData("responsable"))
        d.password.setText("bienvenue-1")
        d.confirm.setText("bienvenue-1")

    _answer(monkeypatch, fill_new)
    dialog.add_user()
    assert authenticate(desk, "mdurand", "bienvenue-1").role == "responsable"
    assert dialog.current_user().login == "mdurand"
    assert dialog.model.data(dialog.model.index(1, 2)) == "Responsable"

    _answer(monkeypatch, lambda d: d.role.setCurrentIndex(d.role.findData("agent")))
    _select(dialog, "mdurand")
    dialog.edit_user()
    assert _by_login(desk, "mdurand").role == "agent"


def test_deactivate_and_last_admin_refused(qtbot, admin_desk, desk, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    dialog = UsersDialog(admin_desk)
    qtbot.addWidget(dialog)
    _select(dialog, "sfoncin")
    assert dialog.toggle_button.text() == "&Désactiver"
    assert dialog.toggle_active()
    assert not _by_login(desk, "sfoncin").active
    assert dialog.model.data(dialog.model.index(1, 3)) == "Désactivé"
    assert dialog.toggle_button.text() == "&Réactiver"
    # The only admin cannot make themself an agent.
    _select(dialog, "chef")
    edit = []
    _answer(monkeypatch, lambda d: (d.role.setCurrentIndex(d.role.findData("agent")), edit.append(d)))
    dialog.edit_user()
    assert "au moins un administrateur actif" in edit[0].error.text()
    assert _by_login(desk, "chef").role == "admin"
    assert not dialog.toggle_active()
    assert "propre compte" in shown[0]


def test_reset_password(qtbot, admin_desk, desk, monkeypatch):
    dialog = UsersDialog(admin_desk)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    _select(dialog, "sfoncin")
    _answer(monkeypatch, lambda d: (d.new.setText("nouveau-456"), d.confirm.setText("nouveau-456")))
    dialog.reset_password()
    assert authenticate(desk, "sfoncin", "nouveau-456").login == "sfoncin"


def test_supervisor_sees_the_list_read_only(qtbot, admin_desk, responsable_desk):
    dialog = UsersDialog(responsable_desk)
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() == 2
    assert not dialog.add_button.isEnabled() and not dialog.edit_button.isEnabled()
    assert dialog.notice.isVisibleTo(dialog)


def test_change_my_password(qtbot, admin_desk, desk):
    me = desk.as_actor(Actor("sfoncin", "Sandrine Foncin", "agent"))
    dialog = ChangePasswordDialog(me)
    qtbot.addWidget(dialog)
    dialog.old.setText("mauvais-000")
    dialog.new.setText("nouveau-789")
    dialog.confirm.setText("nouveau-789")
    assert not dialog.save()
    assert dialog.error.text() == "Mot de passe actuel incorrect : rien n'a été changé."
    with pytest.raises(DeskError):
        authenticate(desk, "sfoncin", "nouveau-789")
    dialog.old.setText("secret-123")
    assert dialog.save()
    assert authenticate(desk, "sfoncin", "nouveau-789").login == "sfoncin"


def test_main_window_tools_menu_opens_them(qtbot, desk, monkeypatch):
    from gandrange_desk.ui.admin import password_dialog
    from gandrange_desk.ui.settings import dialog as settings_dialog
    from gandrange_desk.ui.admin import users_dialog
    from gandrange_desk.ui.main_window import MainWindow
    from tests.builders import load_example_settings

    load_example_settings(desk)
    window = MainWindow(desk)
    qtbot.addWidget(window)
    if window.mail_sender is not None:  # its thread must not outlive the window
        window.mail_sender.stop()
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Outils")
    actions = {a.text(): a for a in tools.actions() if a.text()}
    assert actions["&Réglages…"].shortcut().toString() == "Ctrl+,"
    opened = []
    for module, cls in ((settings_dialog, "SettingsDialog"), (users_dialog, "UsersDialog"),
                        (password_dialog, "ChangePasswordDialog")):
        monkeypatch.setattr(getattr(module, cls), "exec", lambda self, cls=cls: opened.append(cls) or 0)
    for text in ("&Réglages…", "&Utilisateurs…", "Changer mon mot de &passe…"):
        actions[text].trigger()
    assert opened == ["SettingsDialog", "UsersDialog", "ChangePasswordDialog"]
