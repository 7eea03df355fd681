"""The "Activités et unités" page of the "Réglages" dialog.

Left, the activities; right, the chosen one's opening rule, weekdays, deadlines ("N jours ouvrés
à HH:MM") and its units (name, capacity, meal, prices). Prices of an existing unit are edited in
the tariff editor ("Tarifs…"); a new unit gets a starting price here, refined there afterwards.
"""

from __future__ import annotations

import copy
import re

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QListWidget, QPushButton, QSpinBox, QTableView, QVBoxLayout, QWidget,
)

from gandrange_desk.formats import WEEKDAYS_SHORT_FR
from gandrange_desk.models import WEEKDAY_CODES, Opens
from gandrange_desk.ui.settings.pages import ERROR_BG, mark
from gandrange_desk.ui.common.table_model import RowsTableModel

WEEKDAYS = tuple(zip(WEEKDAY_CODES, WEEKDAYS_SHORT_FR))


def _euros(price) -> str:
    return f"{price} €".replace(".", ",")


def price_summary(unit: dict) -> str:
    prices = [p.get("price") for p in unit.get("prices", []) if isinstance(p, dict)]
    if not prices:
        return ""
    if len(prices) == 1:
        return _euros(prices[0])
    return f"{_euros(prices[0])} à {_euros(prices[-1])}"


def _number_or_text(text: str):
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


class UnitModel(RowsTableModel):
    """Edits the `unit` list of one activity of the document in place."""

    HEADERS = ("Nom", "Capacité (vide = sans limite)", "Repas", "Prix")
    NAME, CAPACITY, MEAL, PRICE = range(4)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.saved_names: set[str] = set()  # units already in the database: renaming = deleting
        self.errors: dict[tuple[int, int], str] = {}
        self.editable = True

    def set_units(self, units: list[dict], saved_names: set[str]) -> None:
        self.beginResetModel()
        self.rows = units  # not a copy: the model edits the document's list in place
        self.saved_names = saved_names
        self.errors = {}
        self.endResetModel()

    @property
    def units(self) -> list[dict]:
        return self.rows

    def is_new(self, row: int) -> bool:
        return self.units[row].get("_new", False)

    def add_unit(self) -> int:
        n = len(self.units)
        self.beginInsertRows(QModelIndex(), n, n)
        self.units.append({"name": "", "meal": False, "_new": True})
        self.endInsertRows()
        return n

    def remove_unit(self, row: int) -> None:
        if 0 <= row < len(self.units):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.units[row]
            self.errors = {}
            self.endRemoveRows()

    def set_errors(self, errors: dict[tuple[int, int], str]) -> None:
        self.errors = errors
        if self.units:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.units) - 1, 3))

    def flags(self, index):
        base = Qt.ItemIsEnabled | Qt.ItemIsSelectable
        if not self.editable:
            return base
        col, new = index.column(), self.is_new(index.row())
        if col == self.MEAL:
            return base | Qt.ItemIsUserCheckable
        if col == self.CAPACITY or (new and col in (self.NAME, self.PRICE)):
            return base | Qt.ItemIsEditable
        return base

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        unit, col = self.units[index.row()], index.column()
        if role in (Qt.DisplayRole, Qt.EditRole):
            if col == self.NAME:
                return unit.get("name", "")
            if col == self.CAPACITY:
                return "" if unit.get("capacity") is None else str(unit["capacity"])
            if col == self.PRICE:
                if unit.get("_new"):
                    return unit.get("_price", "")
                return price_summary(unit)
            return None
        if role == Qt.CheckStateRole and col == self.MEAL:
            return Qt.Checked if unit.get("meal") else Qt.Unchecked
        if role == Qt.TextAlignmentRole and col == self.CAPACITY:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.BackgroundRole and (index.row(), col) in self.errors:
            return QBrush(ERROR_BG)
        if role == Qt.ToolTipRole:
            if (index.row(), col) in self.errors:
                return self.errors[(index.row(), col)]
            if col == self.PRICE:
                return ("Prix de départ de la nouvelle unité (par exemple 3,10)" if unit.get("_new")
                        else "Selon le quotient familial ; les prix se modifient dans « Tarifs… »")
            if col == self.NAME and not unit.get("_new"):
                return "Le nom d'une unité enregistrée ne se change pas (ses réservations et tarifs y sont liés)."
        return None

    def setData(self, index, value, role=Qt.EditRole):
        if not index.isValid():
            return False
        unit, col = self.units[index.row()], index.column()
        if role == Qt.CheckStateRole and col == self.MEAL:
            unit["meal"] = Qt.CheckState(value) == Qt.Checked if not isinstance(value, bool) else value
        elif role == Qt.EditRole and col == self.NAME:
            unit["name"] = str(value).strip()
        elif role == Qt.EditRole and col == self.CAPACITY:
            text = str(value).strip()
            if text:
                unit["capacity"] = _number_or_text(text)
            else:
                unit.pop("capacity", None)
        elif role == Qt.EditRole and col == self.PRICE:
            text = str(value).strip()
            unit["_price"] = text
            if text:
                unit["prices"] = [{"price": text.replace(",", ".").replace("€", "").strip()}]
            else:
                unit.pop("prices", None)
        else:
            return False
        self.errors.pop((index.row(), col), None)
        self.dataChanged.emit(index, index)
        return True


def clean_units(units: list[dict]) -> list[dict]:
    """The document's units without the window's private keys."""
    return [{k: v for k, v in u.items() if not k.startswith("_")} for u in units]


class ActivitiesPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.activities: list[dict] = []
        self.saved_codes: set[str] = set()
        self.current = -1
        self.list = QListWidget()
        self.list.setMaximumWidth(280)
        self.list.setMinimumWidth(220)
        self.add_activity_button = QPushButton("Nouvelle activ&ité")
        self.remove_activity_button = QPushButton("Retirer l'activité")
        self.code = QLineEdit()
        self.name = QLineEdit()
        self.opens = QComboBox()
        for opens in Opens:
            self.opens.addItem(opens.label, opens.value)
        self.weekdays = {code: QCheckBox(label) for code, label in WEEKDAYS}
        self.booking_days, self.booking_time = QSpinBox(), QLineEdit()
        self.cancel_days, self.cancel_time = QSpinBox(), QLineEdit()
        for spin in (self.booking_days, self.cancel_days):
            spin.setRange(0, 60)
            spin.setSuffix(" jours ouvrés")
        for edit in (self.booking_time, self.cancel_time):
            edit.setPlaceholderText("HH:MM")
            edit.setMaximumWidth(80)
        self.units = UnitModel(self)
        self.table = QTableView()
        self.table.setModel(self.units)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((200, 190, 70)):
            self.table.setColumnWidth(col, width)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed
                                   | QAbstractItemView.AnyKeyPressed)
        self.add_unit_button = QPushButton("+ &Unité")
        self.remove_unit_button = QPushButton("− Retirer l'unité")

        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addWidget(self.add_activity_button)
        left.addWidget(self.remove_activity_button)
        form = QFormLayout()
        form.addRow("&Code :", self.code)
        form.addRow("&Nom :", self.name)
        form.addRow("&Ouverture :", self.opens)
        days = QHBoxLayout()
        for box in self.weekdays.values():
            days.addWidget(box)
        days.addStretch(1)
        form.addRow("Jours :", days)
        form.addRow("Délai de réser&vation :", self._deadline_row(self.booking_days, self.booking_time))
        form.addRow("Délai d'&annulation :", self._deadline_row(self.cancel_days, self.cancel_time))
        units_box = QGroupBox("Unités")
        units_layout = QVBoxLayout(units_box)
        units_layout.addWidget(self.table, 1)
        unit_buttons = QHBoxLayout()
        unit_buttons.addWidget(self.add_unit_button)
        unit_buttons.addWidget(self.remove_unit_button)
        unit_buttons.addStretch(1)
        units_layout.addLayout(unit_buttons)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(units_box, 1)
        body = QHBoxLayout(self)
        body.addLayout(left)
        body.addLayout(right, 1)

        self.list.currentRowChanged.connect(self.show_activity)
        self.add_unit_button.clicked.connect(self.add_unit)
        self.remove_unit_button.clicked.connect(
            lambda: self.units.remove_unit(self.table.currentIndex().row()))
        self.add_activity_button.clicked.connect(self.add_activity)
        self.remove_activity_button.clicked.connect(self.remove_activity)
        self.name.textEdited.connect(self._refresh_titles)
        self.code.textEdited.connect(self._refresh_titles)

    @staticmethod
    def _deadline_row(spin: QSpinBox, time: QLineEdit) -> QWidget:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(spin)
        row.addWidget(QLabel("avant le jour, à"))
        row.addWidget(time)
        row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        return holder

    # ----- document
    def load(self, doc: dict) -> None:
        self.activities = copy.deepcopy(doc.get("activity", []))
        self.saved_codes = {a.get("code") for a in self.activities}
        self.current = -1
        self.list.blockSignals(True)
        self.list.clear()
        for a in self.activities:
            self.list.addItem(self._title(a))
        self.list.blockSignals(False)
        if self.activities:
            self.list.setCurrentRow(0)
            self.show_activity(0)

    def store(self, doc: dict) -> None:
        self._commit_form()
        out = []
        for row, a in enumerate(self.activities):
            if row < self.list.count():
                self.list.item(row).setText(self._title(a))
            item = {k: v for k, v in a.items() if not k.startswith("_")}
            item["unit"] = clean_units(a.get("unit", []))
            out.append(item)
        doc["activity"] = out

    def refresh_prices(self, doc: dict) -> None:
        """Prices changed in the tariff editor: take them, keep every other edit of the window."""
        fresh = {(a.get("code"), u.get("name")): u for a in doc.get("activity", []) for u in a.get("unit", [])}
        for a in self.activities:
            for u in a.get("unit", []):
                known = fresh.get((a.get("code"), u.get("name")))
                if known is not None and not u.get("_new"):
                    for key in ("prices", "sibling_prices", "pai_price", "late_surcharge", "valid_from"):
                        u.pop(key, None)
                        if key in known:
                            u[key] = copy.deepcopy(known[key])
        self.units.set_errors(self.units.errors)

    @staticmethod
    def _title(a: dict) -> str:
        return f"{a.get('code') or '?'} — {a.get('name') or ''}"

    def _refresh_titles(self) -> None:
        if 0 <= self.current < len(self.activities):
            self._commit_form()
            self.list.item(self.current).setText(self._title(self.activities[self.current]))

    def _commit_form(self) -> None:
        if not 0 <= self.current < len(self.activities):
            return
        a = self.activities[self.current]
        a["code"] = self.code.text().strip()
        a["name"] = self.name.text()
        a["opens"] = self.opens.currentData()
        a["weekdays"] = [code for code, box in self.weekdays.items() if box.isChecked()]
        a["booking_deadline"] = {"working_days": self.booking_days.value(), "time": self.booking_time.text().strip()}
        a["cancellation_deadline"] = {"working_days": self.cancel_days.value(),
                                      "time": self.cancel_time.text().strip()}

    def show_activity(self, row: int) -> None:
        if row == self.current:
            return
        self._commit_form()
        self.current = row
        if not 0 <= row < len(self.activities):
            self.units.set_units([], set())
            return
        a = self.activities[row]
        self.code.setText(a.get("code", ""))
        self.code.setReadOnly(a.get("code") in self.saved_codes and not a.get("_new"))
        self.code.setToolTip("Le code d'une activité enregistrée ne se change pas." if self.code.isReadOnly()
                             else "Majuscules, chiffres, _ ou -")
        self.name.setText(a.get("name", ""))
        self.opens.setCurrentIndex(max(0, self.opens.findData(a.get("opens", "school_days"))))
        for code, box in self.weekdays.items():
            box.setChecked(code in a.get("weekdays", []))
        for key, spin, edit in (("booking_deadline", self.booking_days, self.booking_time),
                                ("cancellation_deadline", self.cancel_days, self.cancel_time)):
            deadline = a.get(key) or {}
            spin.setValue(int(deadline.get("working_days", 0)) if str(deadline.get("working_days", 0)).isdigit()
                          else 0)
            edit.setText(str(deadline.get("time", "00:00")))
        self.units.set_units(a.setdefault("unit", []), {u.get("name") for u in a["unit"] if not u.get("_new")})
        self._show_marks()

    def select_activity(self, row: int) -> None:
        if 0 <= row < len(self.activities):
            self.list.setCurrentRow(row)

    def add_unit(self) -> None:
        row = self.units.add_unit()
        index = self.units.index(row, UnitModel.NAME)
        self.table.setCurrentIndex(index)
        self.table.edit(index)

    def add_activity(self) -> None:
        self._commit_form()
        self.activities.append({"code": "", "name": "", "opens": "school_days",
                                "weekdays": ["mon", "tue", "thu", "fri"],
                                "booking_deadline": {"working_days": 0, "time": "00:00"},
                                "cancellation_deadline": {"working_days": 0, "time": "00:00"},
                                "unit": [], "_new": True})
        self.list.addItem(self._title(self.activities[-1]))
        self.list.setCurrentRow(len(self.activities) - 1)
        self.code.setFocus()

    def remove_activity(self) -> None:
        row = self.current
        if not 0 <= row < len(self.activities):
            return
        self.current = -1
        del self.activities[row]
        self.list.blockSignals(True)
        self.list.takeItem(row)
        self.list.blockSignals(False)
        self.show_activity(self.list.currentRow())

    # ----- marks
    def field_widget(self, key: str) -> QWidget | None:
        return {"code": self.code, "name": self.name, "opens": self.opens,
                "booking_deadline": self.booking_time, "cancellation_deadline": self.cancel_time,
                }.get(key)

    def clear_marks(self) -> None:
        self.field_errors: dict[int, dict[str, str]] = {}
        self.unit_errors: dict[int, dict[tuple[int, int], str]] = {}
        self._show_marks()
        for i in range(self.list.count()):
            self.list.item(i).setBackground(QBrush())
            self.list.item(i).setToolTip("")

    def set_marks(self, field_errors: dict[int, dict[str, str]],
                  unit_errors: dict[int, dict[tuple[int, int], str]]) -> None:
        """Problems by activity: its fields, and its units' cells; shown when it is selected."""
        self.field_errors, self.unit_errors = field_errors, unit_errors
        for row in set(field_errors) | set(unit_errors):
            if 0 <= row < self.list.count():
                self.list.item(row).setBackground(ERROR_BG)
                self.list.item(row).setToolTip("Cette activité a des erreurs.")
        self._show_marks()

    def _show_marks(self) -> None:
        fields = getattr(self, "field_errors", {}).get(self.current, {})
        for key in ("code", "name", "opens", "booking_deadline", "cancellation_deadline"):
            mark(self.field_widget(key), fields.get(key))
        for box in self.weekdays.values():
            mark(box, fields.get("weekdays"))
        self.units.set_errors(dict(getattr(self, "unit_errors", {}).get(self.current, {})))

    def set_read_only(self) -> None:
        for w in (self.code, self.name, self.booking_time, self.cancel_time):
            w.setReadOnly(True)
        for w in (self.booking_days, self.cancel_days):
            w.setReadOnly(True)
        self.opens.setEnabled(False)
        for box in self.weekdays.values():
            box.setEnabled(False)
        self.units.editable = False
        for b in (self.add_unit_button, self.remove_unit_button, self.add_activity_button,
                  self.remove_activity_button):
            b.setEnabled(False)
