"""Annuler un paiement: a rejected direct debit (with the bank's reason code), a bounced cheque,
an entry mistake. One call to `reversals.reverse_payment`; the payment stays in the list, marked."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QRadioButton,
    QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.models import SEPA_REASON_CODES, PaymentMode, ReversalKind
from gandrange_desk.services.billing import payments, reversals
from gandrange_desk.services.context import Desk


class ReversalDialog(QDialog):
    def __init__(self, desk: Desk, row: payments.PaymentRow, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk, self.row = desk, row
        self.result_obj: reversals.ReversalResult | None = None
        self.setWindowTitle("Annuler un paiement")
        self.resize(560, 360)
        layout = QVBoxLayout(self)
        head = QLabel(f"{row.family_name} ({row.family_ref}) — {payments.mode_label(row.mode)} de "
                      f"{formats.euros(row.amount_cents)} reçu le {formats.ddmmyyyy(row.received_on)}"
                      + (f", affecté à {row.invoices}" if row.invoices else "")
                      + ". Le paiement reste dans la liste, marqué annulé ; les factures qu'il réglait "
                        "redeviennent dues.")
        head.setWordWrap(True)
        layout.addWidget(head)
        self.kind = QComboBox()
        for kind in ReversalKind:
            self.kind.addItem(kind.label, kind.value)
        default = {PaymentMode.PRELEVEMENT: ReversalKind.REJECTED_DEBIT,
                   PaymentMode.CHEQUE: ReversalKind.BOUNCED_CHEQUE}.get(row.mode, ReversalKind.MISTAKE)
        self.kind.setCurrentIndex(self.kind.findData(default.value))
        self.code = QComboBox()
        self.code.setEditable(True)
        for code, meaning in SEPA_REASON_CODES.items():
            self.code.addItem(f"{code} — {meaning}", code)
        self.code.setCurrentIndex(self.code.findData("AM04"))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("par exemple « Avis de rejet de la banque du 05/01 »")
        self.represent = QRadioButton("Représenter le prélèvement au prochain fichier SEPA")
        self.switch = QRadioButton("Passer la famille au paiement par :")
        self.represent.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.represent)
        group.addButton(self.switch)
        self.new_mode = QComboBox()
        for mode in PaymentMode:
            if mode != PaymentMode.PRELEVEMENT:
                self.new_mode.addItem(mode.label, mode.value)
        form = QFormLayout()
        form.addRow("&Motif", self.kind)
        form.addRow("Code &rejet SEPA", self.code)
        form.addRow("&Raison", self.reason)
        layout.addLayout(form)
        layout.addWidget(self.represent)
        layout.addWidget(self.switch)
        layout.addWidget(self.new_mode)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Annuler le paiement")
        buttons.button(QDialogButtonBox.Cancel).setText("Fermer")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.switch.toggled.connect(self.new_mode.setEnabled)
        self._kind_changed()

    def _kind_changed(self, *_):
        debit = self.kind.currentData() == ReversalKind.REJECTED_DEBIT
        for widget in (self.code, self.represent, self.switch):
            widget.setEnabled(debit)
        self.new_mode.setEnabled(debit and self.switch.isChecked())

    def save(self) -> None:
        debit = self.kind.currentData() == ReversalKind.REJECTED_DEBIT
        # "AM04 — provision insuffisante" from the list, or a code typed by hand.
        code = self.code.currentText().split("—")[0].strip() if debit else ""
        try:
            self.result_obj = reversals.reverse_payment(
                self.desk, self.row.payment_id, kind=self.kind.currentData(), reason=self.reason.text(), code=code,
                new_mode=self.new_mode.currentData() if debit and self.switch.isChecked() else None)
        except DeskError as exc:
            self.error.setText(str(exc))
            return
        self.accept()
