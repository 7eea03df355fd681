"""Rapport CAF: choose a period and an activity, read the figures, save them as a workbook or a PDF."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton,
    QTableView, QVBoxLayout,
)

from gandrange_desk.errors import DeskError
from gandrange_desk.services.exports.lists import export_tables
from gandrange_desk.services.reports import dashboard
from gandrange_desk.services.reports.caf import caf_report, caf_tables, write_caf_pdf
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import RowsTableModel


def _hours(value) -> str:
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


class CafModel(RowsTableModel):
    HEADERS = ("Activité", "Unité", "Tranche d'âge", "Réservés", "Réalisés", "dont non pointés", "Facturés",
               "Heures réalisées", "Heures facturées")

    def data(self, index, role=Qt.DisplayRole):
        row = self.row(index)
        if row is None:
            return None
        if role == Qt.DisplayRole:
            return row[index.column()]
        if role == Qt.TextAlignmentRole and index.column() >= 3:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


class CafDialog(QDialog):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.report = None
        self.setWindowTitle("Rapport CAF")
        self.resize(1100, 620)
        today = desk.today()
        last_month_end = today.replace(day=1) - timedelta(days=1)
        start = date(last_month_end.year if last_month_end.month >= 9 else last_month_end.year - 1, 9, 1)
        self.start_edit, self.end_edit = QDateEdit(calendarPopup=True), QDateEdit(calendarPopup=True)
        for edit, value in ((self.start_edit, start), (self.end_edit, last_month_end)):
            edit.setLocale(QLocale(QLocale.French, QLocale.France))
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setDate(QDate(value.year, value.month, value.day))
        self.activity_combo = QComboBox()
        self.activity_combo.addItem("Toutes les activités", None)
        for aid, name in dashboard.activities(desk):
            self.activity_combo.addItem(name, aid)
        compute = QPushButton("&Calculer")
        hours = QPushButton("&Heures des unités…")
        self.xlsx_button = QPushButton("Enregistrer en &classeur…")
        self.pdf_button = QPushButton("Enregistrer en &PDF…")
        bar = QHBoxLayout()
        for w in (QLabel("Du"), self.start_edit, QLabel("au"), self.end_edit, QLabel("Activité"), self.activity_combo,
                  compute, hours):
            bar.addWidget(w)
        bar.addStretch(1)
        self.model = CafModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        for col, width in enumerate((170, 150, 110, 80, 80, 110, 80, 120, 120)):
            self.table.horizontalHeader().resizeSection(col, width)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.xlsx_button)
        buttons.addWidget(self.pdf_button)
        close = QPushButton("&Fermer")
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        compute.clicked.connect(self.compute)
        hours.clicked.connect(self.open_settings)
        self.xlsx_button.clicked.connect(lambda: self.save("xlsx"))
        self.pdf_button.clicked.connect(lambda: self.save("pdf"))
        close.clicked.connect(self.accept)
        self.compute()

    def period(self) -> tuple[date, date]:
        return self.start_edit.date().toPython(), self.end_edit.date().toPython()

    def compute(self) -> None:
        start, end = self.period()
        try:
            self.report = caf_report(self.desk, start, end, self.activity_combo.currentData())
        except DeskError as exc:
            self.report = None
            self.model.set_rows([])
            self.summary.setText(str(exc))
            self._enable()
            return
        rows = []
        for activity in self.report.activities:
            first = True
            for unit in activity.units:
                for index, figures in enumerate([*unit.bands, unit.total]):
                    rows.append((activity.name if first else "",
                                 f"{unit.unit_name} ({unit.hours_text})" if index == 0 else "",
                                 self.report.bands[index] if index < 2 else "Total", str(figures.booked),
                                 str(figures.attended), str(figures.presumed), str(figures.billed),
                                 _hours(unit.hours(figures.attended)), _hours(unit.hours(figures.billed))))
                    first = False
        self.model.set_rows(rows)
        lines = [f"{a.name} : {len(a.open_days)} jours d'ouverture, enfants accueillis : {a.children[0]} de moins "
                 f"de 6 ans, {a.children[1]} de 6 ans et plus ; heures réalisées : {_hours(a.hours('attended'))}."
                 for a in self.report.activities]
        self.summary.setText("\n".join(lines + self.report.notes))
        self._enable()

    def _enable(self) -> None:
        for button in (self.xlsx_button, self.pdf_button):
            button.setEnabled(self.report is not None)

    def ask_path(self, kind: str) -> str:
        start, end = self.period()
        suggested = f"rapport-caf-{start.isoformat()}-{end.isoformat()}.{kind}"
        filters = "Classeur Excel / LibreOffice (*.xlsx)" if kind == "xlsx" else "PDF (*.pdf)"
        path, _ = QFileDialog.getSaveFileName(self, "Rapport CAF", suggested, filters)
        return path

    def save(self, kind: str) -> str | None:
        if self.report is None:
            return None
        path = self.ask_path(kind)
        if not path:
            return None
        if not path.lower().endswith(f".{kind}"):
            path += f".{kind}"
        start, end = self.period()
        if kind == "pdf":
            done = ops.run(self, "Rapport CAF", lambda: write_caf_pdf(self.desk, start, end,
                                                                       self.activity_combo.currentData(), path))
        else:
            done = ops.run(self, "Rapport CAF", lambda: export_tables(self.desk, caf_tables(self.report), path))
        if done is None:
            return None
        self.summary.setText(f"Rapport enregistré : {path}\n" + self.summary.text())
        return path

    def open_settings(self) -> None:
        from gandrange_desk.ui.attendance.settings_dialog import AttendanceSettingsDialog

        if AttendanceSettingsDialog(self.desk, self).exec():
            self.compute()
