"""The family file's « Compte » tab: the account statement — invoices, credit notes, payments,
the running balance — read-only, as the clerk reads it out to a parent."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout

from gandrange_desk import formats
from gandrange_desk.services.billing.statement import family_statement
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import Column, ColumnsTableModel
from gandrange_desk.ui.families.widgets import Page, table_view

KIND_WORDS = {"invoice": "Facture", "credit_note": "Avoir", "payment": "Règlement"}


def _money(cents: int) -> str:
    return formats.euros(cents) if cents else ""


class AccountPage(Page):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        lay = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setStyleSheet("font-size: 14px; padding: 4px;")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.model = ColumnsTableModel([
            Column("Date", lambda r: formats.ddmmyyyy(r.day)),
            Column("Opération", lambda r: r.label, tooltip=lambda r: r.detail),
            Column("Débit", lambda r: _money(r.debit_cents), right=True),
            Column("Crédit", lambda r: _money(r.credit_cents), right=True),
            Column("Solde", lambda r: formats.euros(r.balance_cents), right=True),
            Column("Détail", lambda r: r.detail, tooltip=lambda r: r.detail),
        ], self)
        self.model.color = lambda r, c: QColor("#b00020") if c == 4 and r.balance_cents > 0 else None
        self.view = table_view(self.model, stretch=5)
        for col, width in enumerate((95, 330, 100, 100, 110)):
            self.view.setColumnWidth(col, width)
        lay.addWidget(self.view, 1)
        note = QLabel("Solde positif : la famille doit ce montant ; négatif : elle est en crédit. Les "
                      "règlements s'enregistrent dans Facturation › Paiements et avoirs.")
        note.setStyleSheet("color:#666;")
        note.setWordWrap(True)
        lay.addWidget(note)
        self.statement = None

    def load(self, snap) -> None:
        statement = ops.run(self, "Compte de la famille", lambda: family_statement(self.desk, snap.id),
                            on_error=self.summary.setText, busy=False)
        if statement is None:
            return
        self.statement = statement
        self.model.set_rows(statement.lines)
        text = statement.summary()
        if statement.unallocated_cents:
            text += f" Dont {formats.euros(statement.unallocated_cents)} réglés et pas encore affectés à une facture."
        self.summary.setText(text)
        if statement.lines:
            self.view.scrollToBottom()
