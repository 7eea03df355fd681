"""Présences et CAF: what an absence or a walk-in costs, and per unit its CAF hour value and
whether its day list prints who may collect the children. The supervisor's; one save."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QHeaderView, QLabel, QLineEdit, QSpinBox,
    QTableView, QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.models import Role
from gandrange_desk.services.attendance import settings
from gandrange_desk.services.attendance.rules import AttendanceRules
from gandrange_desk.services.pdf.base import cents_from_text
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import RowsTableModel

UNIT, HOURS, PICKUP = range(3)


class UnitsModel(RowsTableModel):
    """Rows are [UnitSetting, hours text, pickup]; the last two are edited in place."""

    HEADERS = ("Unité", "Heures par acte (CAF)", "Liste : qui peut venir chercher l'enfant")

    def flags(self, index):
        base = super().flags(index)
        if index.column() == HOURS:
            return base | Qt.ItemIsEditable
        if index.column() == PICKUP:
            return base | Qt.ItemIsUserCheckable
        return base

    def data(self, index, role=Qt.DisplayRole):
        row = self.row(index)
        if row is None:
            return None
        unit, hours, pickup = row
        if index.column() == UNIT and role == Qt.DisplayRole:
            return unit.label
        if index.column() == HOURS and role in (Qt.DisplayRole, Qt.EditRole):
            return hours
        if index.column() == HOURS and role == Qt.ToolTipRole:
            return "Par exemple 1,5 (une heure et demie) ou 1 h 30 ; vide : le rapport compte les actes"
        if index.column() == PICKUP and role == Qt.CheckStateRole:
            return Qt.Checked if pickup else Qt.Unchecked
        return None

    def setData(self, index, value, role=Qt.EditRole):  # noqa: N802 - Qt API
        row = self.row(index)
        if row is None:
            return False
        if index.column() == HOURS and role == Qt.EditRole:
            row[1] = str(value).strip()
        elif index.column() == PICKUP and role == Qt.CheckStateRole:
            row[2] = Qt.CheckState(value) == Qt.Checked
        else:
            return False
        self.dataChanged.emit(index, index)
        return True


class AttendanceSettingsDialog(QDialog):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Présences et rapport CAF")
        self.resize(760, 520)
        current = settings.current(desk)
        fields = {f.attr: f for f in settings.RULE_FIELDS}
        self.no_shows = QCheckBox(fields["bill_no_shows"].label)
        self.walk_ins = QCheckBox(fields["bill_walk_ins"].label)
        self.percent = QSpinBox()
        self.percent.setRange(*fields["walk_in_surcharge_percent"].bounds)
        self.percent.setSuffix(" %")
        self.fixed = QLineEdit()
        self.fixed.setPlaceholderText("0,00")
        rules = current.rules
        self.no_shows.setChecked(rules.bill_no_shows)
        self.walk_ins.setChecked(rules.bill_walk_ins)
        self.percent.setValue(rules.walk_in_surcharge_percent)
        self.fixed.setText(formats.amount(rules.walk_in_surcharge_cents).replace("\u202f", " "))
        form = QFormLayout()
        form.addRow(self.no_shows)
        form.addRow(QLabel("Une absence excusée n'est jamais facturée ; un enfant réservé non pointé est facturé "
                           "comme réservé."))
        form.addRow(self.walk_ins)
        form.addRow("Majoration (% du prix)", self.percent)
        form.addRow("Majoration fixe (€)", self.fixed)
        self.units = UnitsModel(self)
        self.units.set_rows([[u, settings.hours_words(u.caf_minutes).replace(" h", "") if u.caf_minutes else "",
                              u.pickup] for u in current.units])
        self.table = QTableView()
        self.table.setModel(self.units)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(UNIT, QHeaderView.Stretch)
        self.table.horizontalHeader().resizeSection(HOURS, 170)
        self.table.horizontalHeader().resizeSection(PICKUP, 260)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Save).setText("&Enregistrer")
        buttons.button(QDialogButtonBox.Cancel).setText("&Annuler")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        editable = desk.actor.at_least(Role.RESPONSABLE)
        for widget in (self.no_shows, self.walk_ins, self.percent, self.fixed, self.table):
            widget.setEnabled(editable)
        buttons.button(QDialogButtonBox.Save).setEnabled(editable)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Facturation des présences</b>"))
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Unités</b> — valeur horaire d'un acte pour le rapport CAF, et listes du jour"))
        layout.addWidget(self.table, 1)
        if not editable:
            layout.addWidget(QLabel("Réservé au responsable du service."))
        layout.addWidget(buttons)
        self.result_text = ""

    def values(self) -> tuple[AttendanceRules, dict[int, tuple[int | None, bool]]]:
        """What the form says; raises DeskError with a French line for what cannot be read."""
        problems = []
        try:
            fixed = cents_from_text(self.fixed.text() or "0")
        except (ValueError, ArithmeticError):
            fixed = 0
            problems.append(f"Majoration fixe illisible « {self.fixed.text()} » : écrivez par exemple 1,50.")
        units = {}
        for unit, hours, pickup in self.units.rows:
            try:
                minutes = settings.parse_hours(hours)
            except ValueError:
                problems.append(f"{unit.label} : durée illisible « {hours} » (par exemple 1,5 ou 1 h 30).")
                continue
            units[unit.unit_id] = (minutes, pickup)
        if problems:
            raise DeskError("\n".join(problems))
        rules = AttendanceRules(self.no_shows.isChecked(), self.walk_ins.isChecked(), self.percent.value(), fixed)
        return rules, units

    def save(self) -> None:
        result = ops.run(self, "Présences et rapport CAF", lambda: settings.save(self.desk, *self.values()))
        if result is not None:
            self.result_text = result.text()
            self.accept()
