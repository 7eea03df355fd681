"""SEPA direct debit: pick the month, preview the count and total, export the pain.008 file."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.models import Role
from gandrange_desk.services.billing import sepa
from gandrange_desk.services.context import Desk
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.windows import remember


def recent_months(today: date, count: int = 13) -> list[date]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


class SepaDialog(QDialog):
    def __init__(self, desk: Desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.result_obj: sepa.ExportResult | None = None
        self.setWindowTitle("Prélèvements SEPA")
        remember(self, "sepa", (640, 460))
        self.month = QComboBox()
        months = recent_months(desk.today())
        for m in months:
            self.month.addItem(formats.month_year(m).capitalize(), m)
        # The month usually exported is the previous one (billed at the start of this one).
        self.month.setCurrentIndex(1 if len(months) > 1 else 0)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.notify = QCheckBox("Envoyer les e-mails de pré-notification (montant, date, compte masqué, RUM, ICS)")
        self.notify.setChecked(True)
        self.draft = QCheckBox("Fichier d'essai (ne met à jour ni les mandats ni les familles)")
        form = QFormLayout()
        form.addRow("&Mois facturé", self.month)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.details)
        layout.addWidget(self.notify)
        layout.addWidget(self.draft)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Close)
        self.collected_button = buttons.addButton("&Encaissés : enregistrer les paiements",
                                                  QDialogButtonBox.ActionRole)
        self.collected_button.setToolTip("Après la date de prélèvement : un paiement « Prélèvement » par famille")
        self.collected_button.clicked.connect(self.record_collected)
        self.export_button = buttons.button(QDialogButtonBox.Ok)
        self.export_button.setText("E&xporter le fichier…")
        buttons.button(QDialogButtonBox.Close).setText("Fermer")
        buttons.accepted.connect(self.export)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.month.currentIndexChanged.connect(self.refresh)
        self.draft.toggled.connect(self.refresh)
        self.refresh()

    def refresh(self, *_):
        plan = sepa.plan_month(self.desk, self.month.currentData())
        self.plan = plan
        text = (f"<b>{formats.count(plan.count, 'prélèvement', 'prélèvements')}</b> pour "
                f"<b>{formats.euros(plan.total_cents)}</b>")
        if plan.collection_date:
            text += f", prélevés le {formats.long_date(plan.collection_date)}"
        text += f" (FRST : {plan.count_of('FRST')}, RCUR : {plan.count_of('RCUR')})."
        if plan.previous_final:
            text += f"<br><span style='color:#b00020'>Déjà exporté {plan.previous_final}.</span>"
        self.preview.setText(text)
        lines = []
        if plan.creditor_missing:
            lines.append("Paramètres SEPA de la structure à compléter :")
            lines += [f"  – {x}" for x in plan.creditor_missing]
        if plan.represented:
            lines.append(f"Prélèvements rejetés représentés ({len(plan.represented)}) :")
            lines += [f"  – {d.family_name} ({d.family_ref}) : {', '.join(d.represented)}, le "
                      f"{formats.ddmmyyyy(d.collection_date)}" for d in plan.represented]
        if plan.skipped:
            lines.append(f"Familles en prélèvement non prélevées ({len(plan.skipped)}) :")
            lines += [f"  – {x}" for x in plan.skipped]
        if plan.debits:
            lines.append("Prélèvements :")
            lines += [f"  {d.family_name} ({d.family_ref}) — {formats.euros(d.amount_cents)} — {d.sequence_type} — "
                      f"RUM {d.rum} — {sepa.mask_iban(d.iban)} — réf. {d.end_to_end}" for d in plan.debits]
        self.details.setPlainText("\n".join(lines))
        allowed = self.desk.actor.at_least(Role.RESPONSABLE)
        self.export_button.setEnabled(allowed and bool(plan.debits) and not plan.creditor_missing
                                      and (self.draft.isChecked() or not plan.previous_final))
        self.notify.setEnabled(not self.draft.isChecked())
        self.export_id = sepa.final_export_id(self.desk, self.month.currentData()) if plan.previous_final else None
        self.collected_button.setEnabled(allowed and self.export_id is not None)

    def ask_rejections(self) -> str | None:
        """The end-to-end ids the bank rejected (one a line, "ID:CODE"); None when cancelled."""
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getMultiLineText(
            self, "Prélèvements encaissés",
            "Prélèvements rejetés par la banque : une référence de bout en bout par ligne, avec le code "
            "motif (par exemple 2026-000012:AM04).\nLaissez vide si tout a été encaissé.")
        return text if ok else None

    def record_collected(self, rejections: str | None = None) -> None:
        if rejections is None or isinstance(rejections, bool):
            rejections = self.ask_rejections()
            if rejections is None:
                return
        result = ops.run(self, "Prélèvements", lambda: sepa.record_collection(
            self.desk, self.export_id, sepa.parse_rejections(rejections.replace(",", "\n").split())))
        if result is None:
            return
        self.last_result = result
        QMessageBox.information(self, "Prélèvements encaissés", result.summary(self.month.currentData()))
        self.refresh()

    def export(self, path: str | None = None) -> None:
        month = self.month.currentData()
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Fichier de prélèvement",
                                                  f"prelevements-{month:%Y-%m}.xml", "XML (*.xml)")
            if not path:
                return
        result = ops.run(self, "Export refusé", lambda: sepa.export_month(
            self.desk, month, final=not self.draft.isChecked(), notify=self.notify.isChecked()))
        if result is None:
            return
        self.result_obj = result
        try:
            with open(path, "wb") as fh:
                fh.write(result.xml)
        except OSError as exc:
            QMessageBox.warning(self, "Fichier non écrit", f"Impossible d'écrire {path} : {exc.strerror}.")
            return
        QMessageBox.information(self, "Prélèvements exportés", f"{self.result_obj.summary()}\n\nFichier : {path}")
        self.refresh()
