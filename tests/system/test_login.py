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
