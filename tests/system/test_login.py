"""The login dialog: a wrong password is said plainly and nothing opens; the right one names the clerk."""

from PySide6.QtCore import Qt

from gandrange_desk.services.system.users import create_user
from gandrange_desk.ui.login import LoginDialog


def test_login_dialog_refuses_then_accepts(qtbot, desk):
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    dialog = LoginDialog(desk, "sfoncin")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.password, "mauvais")
    qtbot.keyClick(dialog.password, Qt.Key_Return)
    assert dialog.error.text() == "Identifiant ou mot de passe incorrect."
    assert dialog.actor is None and dialog.isVisible()
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, "secret-123")
    qtbot.keyClick(dialog.password, Qt.Key_Return)
    assert dialog.actor is not None and dialog.actor.full_name == "Sandrine Foncin"
    assert dialog.result() == LoginDialog.Accepted


def test_the_login_offered_is_the_last_one_used_here_never_the_os_account(qtbot, desk, monkeypatch):
    import getpass

    from gandrange_desk.ui import login

    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    monkeypatch.setattr(getpass, "getuser", lambda: "PC-MAIRIE\\accueil")
    offered = []

    class Recorder(LoginDialog):
        def exec(self):
            offered.append(self.login.text())
            self.login.setText("sfoncin")
            self.password.setText("secret-123")
            self.try_login()
            return self.result()

    monkeypatch.setattr(login, "LoginDialog", Recorder)
    assert login.choose_actor(desk, None).login == "sfoncin"
    assert login.choose_actor(desk, None).login == "sfoncin"
    assert offered == ["", "sfoncin"]


def test_the_dialog_is_drawn_before_the_base_is_open_and_no_key_is_lost(qtbot, desk):
    """At start-up the dialog is painted first and the base opened just after (ui.app): a
    password typed and validated before that is kept and checked once the base is there."""
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "secret-123")
    dialog = LoginDialog(None, "sfoncin")
    qtbot.addWidget(dialog)
    dialog.after_first_paint(lambda: dialog.attach(desk))  # as ui.app does, after the paint
    dialog.show()
    dialog.password.setText("secret-123")
    dialog.try_login()  # « Se connecter » before the paint's work has opened the base
    assert dialog.actor is None and dialog.desk is None and dialog.error.text() == ""  # not refused
    qtbot.waitUntil(lambda: dialog.actor is not None)
    assert dialog.actor.full_name == "Sandrine Foncin"
    assert dialog.result() == LoginDialog.Accepted
