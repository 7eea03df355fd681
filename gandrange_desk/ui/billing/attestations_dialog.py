"""Attestations: fiscal (one family or all eligible ones) and attendance/payment for a period."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.services.billing import attestations
from gandrange_desk.services.billing import payments
from gandrange_desk.services.context import Desk
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.widgets import pydate, qdate


class AttestationsDialog(QDialog):
    def __init__(self, desk: Desk, parent=None, family_id: int | None = None):
        super().__init__(parent)
        self.desk = desk
        self.last_result: attestations.PdfResult | None = None
        self.setWindowTitle("Attestations")
        self.resize(560, 360)
        today = desk.today()
        self.fiscal = QRadioButton("Attestation &fiscale (garde des enfants de moins de 6 ans)")
        self.period = QRadioButton("Attestation de &présence et de paiement sur une période")
        self.fiscal.setChecked(True)
        self.year = QSpinBox()
        self.year.setRange(2000, today.year)
        self.year.setValue(today.year - 1 if today.month < 12 else today.year)
        self.family = QComboBox()
        self.family.setEditable(True)
        self.family.setInsertPolicy(QComboBox.NoInsert)
        self.family.addItem("Toutes les familles qui y ont droit", None)
        for fid, ref, name in payments.family_choices(desk):
            self.family.addItem(f"{name} — {ref}", fid)
        self.family.completer().setFilterMode(Qt.MatchContains)
        self.family.completer().setCaseSensitivity(Qt.CaseInsensitive)
        if family_id is not None:
            self.family.setCurrentIndex(self.family.findData(family_id))
        self.start = QDateEdit(qdate(date(today.year, 1, 1)))
        self.end = QDateEdit(qdate(today))
        for w in (self.start, self.end):
            w.setCalendarPopup(True)
            w.setDisplayFormat("dd/MM/yyyy")
        form = QFormLayout()
        form.addRow("&Année des paiements", self.year)
        form.addRow("Fa&mille", self.family)
        form.addRow("&Du", self.start)
        form.addRow("&Au", self.end)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fiscal)
        layout.addWidget(self.period)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Close)
        buttons.button(QDialogButtonBox.Ok).setText("&Enregistrer le PDF…")
        buttons.button(QDialogButtonBox.Close).setText("Fermer")
        buttons.accepted.connect(self.make)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.fiscal.toggled.connect(self._mode_changed)
        self._mode_changed()

    def _mode_changed(self, *_):
        fiscal = self.fiscal.isChecked()
        self.year.setEnabled(fiscal)
        self.start.setEnabled(not fiscal)
        self.end.setEnabled(not fiscal)
        self.family.setItemText(0, "Toutes les familles qui y ont droit" if fiscal else "— choisir une famille —")
        self.hint.setText(
            "Montants payés pendant l'année pour la garde des enfants de moins de 6 ans au 1er janvier, "
            "repas exclus. Toutes les familles : un seul PDF à imprimer, une page par famille." if fiscal else
            "Jours de présence facturés par enfant et prestation, et paiements reçus sur la période.")

    def build(self) -> tuple[str, attestations.PdfResult]:
        fid = self.family.currentData()
        if self.fiscal.isChecked():
            year = self.year.value()
            result = attestations.fiscal_pdf(self.desk, year, fid)
            name = f"attestations-fiscales-{year}.pdf" if fid is None else f"attestation-fiscale-{year}.pdf"
            return name, result
        if fid is None:
            raise DeskError("Choisissez la famille de l'attestation de présence.")
        start, end = pydate(self.start.date()), pydate(self.end.date())
        return f"attestation-{start}-{end}.pdf", attestations.period_pdf(self.desk, fid, start, end)

    def make(self, path: str | None = None) -> None:
        built = ops.run(self, "Attestation", self.build)
        if built is None:
            return
        name, result = built
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Enregistrer l'attestation", name, "PDF (*.pdf)")
            if not path:
                return
        try:
            with open(path, "wb") as fh:
                fh.write(result.pdf)
        except OSError as exc:
            QMessageBox.warning(self, "Attestation", f"Impossible d'écrire {path} : {exc.strerror}.")
            return
        self.last_result = result
        text = (result.summary("attestation fiscale", "attestations fiscales") if self.fiscal.isChecked()
                else f"Attestation enregistrée ({formats.euros(result.total_cents)} de paiements reçus).")
        QMessageBox.information(self, "Attestation", f"{text}\n\nFichier : {path}")
