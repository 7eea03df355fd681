"""Credit note (avoir) on an issued invoice: choose lines and quantities, give the reason, issue."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.models import Role
from gandrange_desk.services.billing import credit_notes
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.billing.payments import of_month
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import RIGHT, RowsTableModel
from gandrange_desk.ui.common.widgets import make_table


class CreditLinesModel(RowsTableModel):
    HEADERS = ("Enfant", "Prestation", "Facturé", "Déjà crédité", "Prix unitaire", "À créditer", "Montant")
    EDITABLE = frozenset({5})

    def __init__(self, info: credit_notes.CreditableInvoice, parent=None):
        super().__init__(parent)
        self.quantities: list[int] = []
        self.set_rows(info.lines)

    def rows_reset(self) -> None:
        self.quantities = [0] * len(self.rows)

    @property
    def lines(self) -> list[credit_notes.CreditableLine]:
        return self.rows

    def amount(self, i: int) -> int:
        line, qty = self.lines[i], self.quantities[i]
        if qty and qty == line.creditable_quantity:
            return line.amount_cents - line.credited_cents
        return qty * line.unit_price_cents

    def total(self) -> int:
        return sum(self.amount(i) for i in range(len(self.lines)))

    def can_edit(self, row: int, column: int) -> bool:
        return self.lines[row].creditable_quantity > 0

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        line = self.lines[index.row()]
        c = index.column()
        if role == Qt.EditRole and c == 5:
            return self.quantities[index.row()]
        if role == Qt.DisplayRole:
            return (line.child_name, line.label, str(line.billed_quantity),
                    str(line.credited_quantity) if line.credited_quantity else "—",
                    formats.euros(line.unit_price_cents),
                    f"{self.quantities[index.row()]} / {line.creditable_quantity}",
                    formats.euros(self.amount(index.row())) if self.quantities[index.row()] else "—")[c]
        if role == Qt.TextAlignmentRole and c >= 2:
            return RIGHT
        return None

    def set_value(self, row: int, column: int, value) -> bool:
        try:
            qty = int(value)
        except (TypeError, ValueError):
            return False
        self.quantities[row] = max(0, min(qty, self.lines[row].creditable_quantity))
        return True

    def set_all(self) -> None:
        self.quantities = [line.creditable_quantity for line in self.lines]
        if self.lines:
            self.dataChanged.emit(self.index(0, 5), self.index(len(self.lines) - 1, 6))

    def chosen(self) -> dict[int, int]:
        return {line.line_id: q for line, q in zip(self.lines, self.quantities) if q}


class CreditNoteDialog(QDialog):
    def __init__(self, desk: Desk, invoice_id: int, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.invoice_id = invoice_id
        self.result_obj: credit_notes.CreditNoteResult | None = None
        self.info = credit_notes.creditable(desk, invoice_id)
        self.setWindowTitle(f"Avoir sur la facture {self.info.number}")
        self.resize(820, 520)
        head = (f"<b>{self.info.billed_name}</b> — facture {self.info.number} "
                f"{of_month(self.info.month)} : {formats.euros(self.info.total_cents)}")
        if self.info.notes:
            head += "<br>Avoirs déjà émis : " + ", ".join(f"{n} ({formats.euros(c)})" for n, c, _ in self.info.notes)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(head))
        self.model = CreditLinesModel(self.info, self)
        self.view = make_table(self.model, stretch=1, widths=(150, 200, 70, 90, 90, 90, 90))
        self.view.setEditTriggers(QAbstractItemView.AllEditTriggers)
        layout.addWidget(self.view)
        row = QHBoxLayout()
        self.all_button = QPushButton("&Tout créditer")
        self.all_button.clicked.connect(self.model.set_all)
        row.addWidget(self.all_button)
        row.addStretch(1)
        self.total = QLabel()
        row.addWidget(self.total)
        layout.addLayout(row)
        layout.addWidget(QLabel("&Motif (figure sur l'avoir remis à la famille) :"))
        self.reason = QPlainTextEdit()
        self.reason.setFixedHeight(70)
        layout.itemAt(layout.count() - 1).widget().setBuddy(self.reason)
        layout.addWidget(self.reason)
        self.send = QCheckBox("Envoyer l'avoir par e-mail à la famille (PDF joint)")
        self.send.setChecked(True)
        layout.addWidget(self.send)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.issue_button = buttons.button(QDialogButtonBox.Ok)
        self.issue_button.setText("Émettre l'avoir")
        buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        buttons.accepted.connect(self.issue)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if not desk.actor.at_least(Role.RESPONSABLE):
            self.issue_button.setEnabled(False)
            self.error.setText("Émettre un avoir est réservé au rôle « responsable ».")
        self.model.dataChanged.connect(self._update_total)
        self._update_total()

    def _update_total(self, *_):
        self.total.setText(f"Total de l'avoir : <b>{formats.euros(self.model.total())}</b>")

    def issue(self) -> None:
        result = ops.run(self, "Émettre l'avoir", lambda: credit_notes.issue_credit_note(
            self.desk, self.invoice_id, reason=self.reason.toPlainText(), quantities=self.model.chosen()),
            on_error=self.error.setText)
        if result is None:
            return
        self.result_obj = result
        if self.send.isChecked():
            # Refused without an e-mail address (shown as "Avoir non envoyé"): the PDF is printed instead.
            ops.run(self, "Avoir non envoyé", lambda: credit_notes.send_credit_note(self.desk, result.credit_note_id),
                    changes=Changes(outbox=1))
        answer = QMessageBox.question(self, "Avoir émis", result.summary() +
                                      "\n\nEnregistrer le PDF de l'avoir pour l'imprimer ?")
        if answer == QMessageBox.Yes:
            name, pdf = credit_notes.credit_note_pdf_bytes(self.desk, result.credit_note_id)
            path, _ = QFileDialog.getSaveFileName(self, "PDF de l'avoir", name, "PDF (*.pdf)")
            if path:
                with open(path, "wb") as fh:
                    fh.write(pdf)
        self.accept()
