"""Pages of the "Réglages" dialog: the structure, its schools, its closures, attendance billing.

Each page reads its part of the settings document (the TOML file's shape, see
`services.settings.current_document`) and writes it back; nothing here validates: the service
does, exactly as for a file, and the dialog shows its problems on the fields they name.
"""

from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import QLocale, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QSpinBox, QTableView, QVBoxLayout,
    QWidget,
)

from gandrange_desk.services.settings.fields import ATTENDANCE_FIELDS, STRUCTURE_FIELDS
from gandrange_desk.ui.common.table_model import RowsTableModel

ERROR_BG = QColor("#ffd7d7")
ERROR_STYLE = "background: #ffd7d7;"

def mark(widget: QWidget, message: str | None) -> None:
    """Show (or clear) a problem on a field: red background and the message as tooltip."""
    widget.setStyleSheet(ERROR_STYLE if message else "")
    widget.setToolTip(message or "")


def iso_from_text(text: str):
    """"15/05/2026" -> "2026-05-15"; anything else is passed on for the service to refuse."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match:
        try:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1))).isoformat()
        except ValueError:
            return text
    return text


def text_from_iso(value) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


class StructurePage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.fields: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.ExpandingFieldsGrow)
        for field in STRUCTURE_FIELDS:
            if field.kind == "text":
                widget = QPlainTextEdit()
                widget.setTabChangesFocus(True)
                widget.setFixedHeight(60 if field.key == "address" else 80)
            elif field.kind == "zone":
                widget = QComboBox()
                for zone in field.choices:
                    widget.addItem(f"Zone {zone}", zone)
            elif field.kind == "int":
                widget = QSpinBox()
                widget.setRange(*field.bounds)
                widget.setSuffix(field.suffix)
            else:
                widget = QLineEdit()
            if field.hint:
                widget.setToolTip(field.hint)
            self.fields[field.key] = widget
            form.addRow(field.label + " :", widget)

    def load(self, doc: dict) -> None:
        structure = doc.get("structure", {})
        for key, widget in self.fields.items():
            value = structure.get(key, "")
            if isinstance(widget, QPlainTextEdit):
                widget.setPlainText(str(value or ""))
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(0, widget.findData(value)))
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value or widget.minimum()))
            else:
                widget.setText(str(value or ""))

    def store(self, doc: dict) -> None:
        structure = doc.setdefault("structure", {})
        for key, widget in self.fields.items():
            if isinstance(widget, QPlainTextEdit):
                structure[key] = widget.toPlainText()
            elif isinstance(widget, QComboBox):
                structure[key] = widget.currentData()
            elif isinstance(widget, QSpinBox):
                structure[key] = widget.value()
            else:
                structure[key] = widget.text()

    def set_read_only(self) -> None:
        for widget in self.fields.values():
            if isinstance(widget, QComboBox):
                widget.setEnabled(False)
            else:
                widget.setReadOnly(True)
            if isinstance(widget, QAbstractSpinBox):
                widget.setButtonSymbols(QAbstractSpinBox.NoButtons)

    def clear_marks(self) -> None:
        for widget in self.fields.values():
            mark(widget, None)


class SchoolsPage(QWidget):
    """A handful of names, in order: an editable list is enough (not a data table)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed
                                  | QAbstractItemView.AnyKeyPressed)
        self.add_button = QPushButton("&Ajouter une école")
        self.remove_button = QPushButton("&Retirer")
        self.up_button = QPushButton("Monter")
        self.down_button = QPushButton("Descendre")
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        note = QLabel("Les écoles proposées aux familles, dans cet ordre. Une école où des enfants "
                      "sont inscrits ne peut pas être retirée. F2 pour renommer.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add_school)
        self.remove_button.clicked.connect(self.remove_school)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))

    def _item(self, name: str) -> QListWidgetItem:
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemIsEditable)
        return item

    def load(self, doc: dict) -> None:
        self.list.clear()
        for name in doc.get("structure", {}).get("schools", []):
            self.list.addItem(self._item(name))

    def store(self, doc: dict) -> None:
        doc.setdefault("structure", {})["schools"] = [self.list.item(i).text() for i in range(self.list.count())]

    def add_school(self) -> None:
        item = self._item("Nouvelle école")
        self.list.addItem(item)
        self.list.setCurrentItem(item)
        self.list.editItem(item)

    def remove_school(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)

    def set_read_only(self) -> None:
        self.list.setEditTriggers(QAbstractItemView.NoEditTriggers)
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            b.setEnabled(False)

    def clear_marks(self) -> None:
        for i in range(self.list.count()):
            self.list.item(i).setBackground(QBrush())
            self.list.item(i).setToolTip("")

    def mark_row(self, row: int, message: str) -> None:
        if 0 <= row < self.list.count():
            self.list.item(row).setBackground(ERROR_BG)
            self.list.item(row).setToolTip(message)


class ClosureModel(RowsTableModel):
    HEADERS = ("Premier jour", "Dernier jour", "Libellé")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[list[str]] = []  # displayed texts: dd/mm/yyyy, dd/mm/yyyy, label
        self.errors: dict[int, str] = {}
        self.editable = True

    def set_closures(self, closures: list) -> None:
        self.beginResetModel()
        self.rows = [[text_from_iso(c[0]), text_from_iso(c[1]), c[2] if len(c) > 2 else "Fermeture"]
                     for c in closures]
        self.errors = {}
        self.endResetModel()

    def closures(self) -> list:
        return [[iso_from_text(first), iso_from_text(last), label.strip() or "Fermeture"]
                for first, last, label in self.rows]

    def add_row(self) -> int:
        n = len(self.rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self.rows.append(["", "", "Fermeture"])
        self.endInsertRows()
        return n

    def remove_row(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self.errors.pop(row, None)
            self.endRemoveRows()

    def set_errors(self, errors: dict[int, str]) -> None:
        self.errors = errors
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 2))

    def flags(self, index):
        base = Qt.ItemIsEnabled | Qt.ItemIsSelectable
        return base | Qt.ItemIsEditable if self.editable else base

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        if role in (Qt.DisplayRole, Qt.EditRole):
            return self.rows[index.row()][index.column()]
        if role == Qt.BackgroundRole and index.row() in self.errors:
            return QBrush(ERROR_BG)
        if role == Qt.ToolTipRole:
            if index.row() in self.errors:
                return self.errors[index.row()]
            return "Date au format JJ/MM/AAAA" if index.column() < 2 else None
        return None

    def setData(self, index, value, role=Qt.EditRole):
        if role != Qt.EditRole or not index.isValid():
            return False
        self.rows[index.row()][index.column()] = str(value).strip()
        self.dataChanged.emit(index, index)
        return True


class ClosuresPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = ClosureModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(0, 130)
        self.table.setColumnWidth(1, 130)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.add_button = QPushButton("&Ajouter une fermeture")
        self.remove_button = QPushButton("&Retirer")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        note = QLabel("Jours de fermeture de la structure, premier et dernier jour inclus "
                      "(JJ/MM/AAAA). Les jours fériés et les vacances scolaires viennent du calendrier "
                      "officiel : inutile de les saisir.")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add_closure)
        self.remove_button.clicked.connect(
            lambda: self.model.remove_row(self.table.currentIndex().row()))

    def add_closure(self) -> None:
        row = self.model.add_row()
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self.table.edit(index)

    def load(self, doc: dict) -> None:
        self.model.set_closures(doc.get("structure", {}).get("closures", []))

    def store(self, doc: dict) -> None:
        doc.setdefault("structure", {})["closures"] = self.model.closures()

    def set_read_only(self) -> None:
        self.model.editable = False
        self.add_button.setEnabled(False)
        self.remove_button.setEnabled(False)

    def clear_marks(self) -> None:
        self.model.set_errors({})


class AttendancePage(QWidget):
    """What an absence or a walk-in costs (the file's [attendance] section)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.fields: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.ExpandingFieldsGrow)
        intro = QLabel("Ce que coûte une absence ou une présence sans réservation, d'après le pointage : "
                       "les factures préparées ensuite suivent ces règles. Une absence excusée n'est jamais "
                       "facturée ; un enfant réservé non pointé est facturé comme réservé.")
        intro.setWordWrap(True)
        form.addRow(intro)
        for field in ATTENDANCE_FIELDS:
            if field.kind == "bool":
                widget = QCheckBox(field.label)
                form.addRow(widget)
            else:
                widget = QDoubleSpinBox() if field.kind == "price" else QSpinBox()
                if field.kind == "price":
                    widget.setLocale(QLocale(QLocale.French, QLocale.France))  # "0,80 €"
                    widget.setDecimals(2)
                    widget.setRange(field.bounds[0] / 100, field.bounds[1] / 100)
                    widget.setSuffix(" €")
                else:
                    widget.setRange(*field.bounds)
                    widget.setSuffix(field.suffix)
                form.addRow(field.label + " :", widget)
            self.fields[field.file_key] = widget

    def load(self, doc: dict) -> None:
        section = doc.get("attendance", {})
        for field in ATTENDANCE_FIELDS:
            widget, value = self.fields[field.file_key], section.get(field.file_key, field.default)
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QDoubleSpinBox):
                widget.setValue(float(value) if isinstance(value, str) else value / 100)
            else:
                widget.setValue(int(value))

    def store(self, doc: dict) -> None:
        section = doc.setdefault("attendance", {})
        for field in ATTENDANCE_FIELDS:
            widget = self.fields[field.file_key]
            if isinstance(widget, QCheckBox):
                section[field.file_key] = widget.isChecked()
            elif isinstance(widget, QDoubleSpinBox):
                section[field.file_key] = f"{widget.value():.2f}"
            else:
                section[field.file_key] = widget.value()

    def set_read_only(self) -> None:
        for widget in self.fields.values():
            if isinstance(widget, QCheckBox):
                widget.setEnabled(False)
            else:
                widget.setReadOnly(True)
                widget.setButtonSymbols(QAbstractSpinBox.NoButtons)

    def clear_marks(self) -> None:
        for widget in self.fields.values():
            mark(widget, None)
