"""The Facturation tab's checks before a month goes out: the recap per activity and unit before
« Émettre », and the families whose invoices must be printed after « Envoyer »."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.services.billing.month_checks import MonthRecap, paper_invoices_pdf
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import ColumnsTableModel
from gandrange_desk.ui.common.widgets import make_table
from gandrange_desk.ui.common.windows import remember

WARNING_STYLE = "background:#fff4e5; color:#7a4a00; border:1px solid #ffd8a8; border-radius:4px; padding:6px;"


class RecapDialog(QDialog):
    """What issuing the month will bill, per activity and unit, before the numbers are given."""

    def __init__(self, recap: MonthRecap, question: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Émettre les factures de {formats.month_year(recap.month)}")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>Récapitulatif de {formats.month_year(recap.month)}</b> — "
                                f"{formats.count(recap.invoices, 'facture', 'factures')}, "
                                f"total {formats.euros(recap.total_cents)}"
                                + (f", dont {formats.count(recap.meals, 'repas', 'repas')}" if recap.meals else "")))
        self.model = ColumnsTableModel([
            ("Activité", lambda r: r.activity), ("Unité", lambda r: r.unit),
            ("Quantité", lambda r: str(r.quantity), True), ("Montant", lambda r: formats.euros(r.amount_cents), True)])
        self.model.set_rows(recap.rows)
        self.table = make_table(self.model, stretch=1, widths=(180, 200, 90, 110))
        self.table.setTabKeyNavigation(False)
        layout.addWidget(self.table, 1)
        if recap.warning:
            warning = QLabel("⚠ " + recap.warning)
            warning.setWordWrap(True)
            warning.setStyleSheet(WARNING_STYLE)
            layout.addWidget(warning)
        text = QLabel(question)
        text.setWordWrap(True)
        layout.addWidget(text)
        buttons = QDialogButtonBox()
        self.issue_button = buttons.addButton("É&mettre", QDialogButtonBox.AcceptRole)
        buttons.addButton("Annuler", QDialogButtonBox.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        remember(self, "recap", (640, 460))


class PaperInvoicesDialog(QDialog):
    """The families without e-mail after « Envoyer »: references, and their invoices to print."""

    def __init__(self, desk, families: list[tuple[int, str, str, str]], parent=None, print_pdf=None):
        super().__init__(parent)
        self.desk = desk
        self.invoice_ids = [f[0] for f in families]
        self.print_pdf = print_pdf
        self.setWindowTitle("Factures à imprimer et à poster")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{formats.count(len(families), 'famille n’a', 'familles n’ont')} pas d'adresse "
                                "e-mail : imprimez leurs factures et postez-les."))
        self.model = ColumnsTableModel([
            ("Réf.", lambda f: f[2]), ("Famille", lambda f: f[3]), ("Facture", lambda f: f[1])])
        self.model.set_rows(families)
        self.table = make_table(self.model, stretch=1, widths=(90, 240, 120))
        self.table.setTabKeyNavigation(False)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.print_button = QPushButton("&Imprimer ces factures…")
        self.save_button = QPushButton("&Enregistrer le PDF…")
        close = QPushButton("&Fermer")
        self.print_button.clicked.connect(self.print_them)
        self.save_button.clicked.connect(self.save_them)
        close.clicked.connect(self.accept)
        row.addWidget(self.print_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        remember(self, "paper_invoices", (560, 420))

    def pdf(self) -> bytes | None:
        return ops.run(self, "Factures à imprimer", lambda: paper_invoices_pdf(self.desk, self.invoice_ids))

    def print_them(self) -> None:
        # The tab chooses the printer and spools; the PDF is built there, in its worker thread.
        if self.print_pdf is not None:
            self.print_pdf(self, lambda: paper_invoices_pdf(self.desk, self.invoice_ids))

    def save_them(self, path: str | None = None) -> str | None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Enregistrer les factures à poster",
                                                  "Factures-a-poster.pdf", "PDF (*.pdf)")
        if not path:
            return None
        data = self.pdf()
        if data is None:
            return None
        with open(path, "wb") as fh:
            fh.write(data)
        return path


__all__ = ["PaperInvoicesDialog", "RecapDialog"]
