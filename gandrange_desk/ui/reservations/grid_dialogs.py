"""Small dialogs of the reservation grid: cancelling (excusée / facturée) and a refusal reason."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup, QDialog, QDialogButtonBox, QLabel, QLineEdit, QRadioButton, QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.models import Billing


class CancelDialog(QDialog):
    """Office cancellation of R cells: excusée (not billed) or facturée, with a reason when the
    choice goes against the cancellation deadline's proposal."""

    def __init__(self, count: int, proposed: str, late_count: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Annuler des réservations")
        layout = QVBoxLayout(self)
        text = f"Annuler {formats.count(count, 'réservation', 'réservations')}."
        if late_count:
            text += (f"\n{formats.count(late_count, 'annulation est', 'annulations sont')} "
                     "hors délai : facturée par défaut.")
        else:
            text += "\nAvant le délai d'annulation : excusée par défaut."
        layout.addWidget(QLabel(text))
        self.excused = QRadioButton("&Excusée (non facturée)")
        self.billed = QRadioButton("&Facturée")
        group = QButtonGroup(self)
        group.addButton(self.excused)
        group.addButton(self.billed)
        (self.billed if proposed == Billing.BILLED else self.excused).setChecked(True)
        layout.addWidget(self.excused)
        layout.addWidget(self.billed)
        layout.addWidget(QLabel("&Motif (obligatoire si le choix va contre le délai) :"))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("par exemple : certificat médical")
        layout.itemAt(layout.count() - 1).widget().setBuddy(self.reason)
        layout.addWidget(self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Annuler les réservations")
        buttons.button(QDialogButtonBox.Cancel).setText("Fermer")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def choice(self) -> tuple[str, str]:
        billing = Billing.BILLED if self.billed.isChecked() else Billing.EXCUSED
        return billing, self.reason.text().strip()


class ReasonDialog(QDialog):
    def __init__(self, title: str, prompt: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        label = QLabel(prompt)
        self.reason = QLineEdit()
        label.setBuddy(self.reason)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Cancel).setText("Fermer")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def text(self) -> str:
        return self.reason.text().strip()
