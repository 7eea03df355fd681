"""« Message aux familles… » (Courriels): a closure, a strike, a change of timetable — to every
family, or to those of one activity or one school; who it reaches is counted before sending."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QMessageBox,
    QPlainTextEdit, QVBoxLayout,
)

from gandrange_desk.services.mail import notices
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.windows import remember


class NoticeDialog(QDialog):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.result_obj: notices.NoticeResult | None = None
        self.setWindowTitle("Message aux familles")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.activity = QComboBox()
        self.activity.addItem("Toutes les activités", None)
        self.school = QComboBox()
        self.school.addItem("Toutes les écoles", None)
        activities, schools = ops.run(self, "Message aux familles", lambda: notices.choices(desk)) or ([], [])
        for code, name in activities:
            self.activity.addItem(name, code)
        for name in schools:
            self.school.addItem(name, name)
        self.subject = QLineEdit()
        self.subject.setPlaceholderText("Fermeture exceptionnelle du périscolaire le …")
        self.body = QPlainTextEdit()
        self.body.setTabChangesFocus(True)
        self.body.setPlaceholderText("Le texte du message. « Bonjour, » et la signature du bureau "
                                     "sont ajoutés d'eux-mêmes.")
        form.addRow("&Activité :", self.activity)
        form.addRow("É&cole :", self.school)
        form.addRow("&Objet :", self.subject)
        layout.addLayout(form)
        layout.addWidget(QLabel("&Message :", buddy=self.body))
        layout.addWidget(self.body, 1)
        self.reach = QLabel()
        self.reach.setWordWrap(True)
        layout.addWidget(self.reach)
        self.error = QLabel()
        self.error.setStyleSheet("color:#b00020;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.send_button = buttons.addButton("&Envoyer", QDialogButtonBox.AcceptRole)
        buttons.addButton("Annuler", QDialogButtonBox.RejectRole)
        buttons.accepted.connect(self.send)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._count_timer = QTimer(self, singleShot=True, interval=150)
        self._count_timer.timeout.connect(self._count_if_shown)
        self.activity.currentIndexChanged.connect(lambda _i: self._count_timer.start())
        self.school.currentIndexChanged.connect(lambda _i: self._count_timer.start())
        remember(self, "notice", (640, 520))
        self.count()

    def hideEvent(self, event) -> None:
        # A count still waiting would run against a base the dialog no longer looks at.
        self._count_timer.stop()
        super().hideEvent(event)

    def _count_if_shown(self) -> None:
        # A dialog closed or never shown (a test's) may outlive its base: nothing to count then.
        if self.isVisible():
            self.count()

    def count(self) -> notices.Audience | None:
        aud = ops.run(self, "Message aux familles", lambda: notices.audience(
            self.desk, activity=self.activity.currentData(), school=self.school.currentData()),
            on_error=self.reach.setText, busy=False)
        if aud is not None:
            self.reach.setText("Destinataires : " + aud.text())
        return aud

    def send(self) -> None:
        aud = self.count()
        if aud is None or not self.confirm(f"Envoyer « {self.subject.text().strip()} » à "
                                           f"{aud.text()[0].lower() + aud.text()[1:]}"):
            return
        result = ops.run(self, "Message aux familles", lambda: notices.message_families(
            self.desk, self.subject.text(), self.body.toPlainText(), activity=self.activity.currentData(),
            school=self.school.currentData()), on_error=self.error.setText)
        if result is None:
            return
        self.result_obj = result
        if result.letters_pdf:
            self.save_letters(result.letters_pdf)
        self.inform(result.summary())
        self.accept()

    # --- replaced in tests --------------------------------------------------------------
    def confirm(self, text: str) -> bool:
        return QMessageBox.question(self, "Message aux familles", text + " ?") == QMessageBox.Yes

    def save_letters(self, data: bytes) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Lettres des familles sans e-mail",
                                              f"message-{self.desk.today()}.pdf", "PDF (*.pdf)")
        if path:
            with open(path, "wb") as fh:
                fh.write(data)
        return path or None

    def inform(self, text: str) -> None:
        QMessageBox.information(self, "Message aux familles", text)


__all__ = ["NoticeDialog"]
