"""The supervisor's tariff editor: per unit, prices by quotient bracket from a date.

Left: the units. Right: the unit's tariffs (each in force from its date), and the form of the
chosen one: date, brackets (sibling rank, quotient ceiling, price), PAI price, hors-délai
surcharge. Saving goes through `services.tariffs`; refusals are listed in the dialog.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QLocale, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
    QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QTableView,
    QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.models import Role
from gandrange_desk.services.billing import tariffs as svc
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.pdf.base import cents_from_text
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import RowsTableModel
from gandrange_desk.ui.common.windows import remember


def _euros_text(cents: int | None) -> str:
    return "" if cents is None else formats.amount(cents).replace("\u202f", " ")


class BracketModel(RowsTableModel):
    HEADERS = ("Rang de l'enfant", "Plafond QF (vide = au-delà)", "Prix (€)")
    EDITABLE = frozenset({0, 1, 2})

    def set_brackets(self, brackets) -> None:
        self.beginResetModel()
        self.rows = [[str(b.sibling_rank), "" if b.qf_max is None else str(b.qf_max), _euros_text(b.price_cents)]
                     for b in brackets]
        self.endResetModel()

    def add_row(self, rank: int = 1) -> None:
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
        self.rows.append([str(rank), "", ""])
        self.endInsertRows()

    def remove_row(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self.endRemoveRows()

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        if role in (Qt.DisplayRole, Qt.EditRole):
            return self.rows[index.row()][index.column()]
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter) if index.column() else int(Qt.AlignCenter)
        return None

    def set_value(self, row: int, column: int, value) -> bool:
        self.rows[row][column] = str(value).strip()
        return True

    def brackets(self) -> tuple[list[svc.BracketInput], list[str]]:
        out, problems = [], []
        for n, (rank, ceiling, price) in enumerate(self.rows, start=1):
            if not (rank or ceiling or price):
                continue
            try:
                r = int(rank or "1")
            except ValueError:
                problems.append(f"Ligne {n} : rang invalide « {rank} » (1, 2, 3…).")
                continue
            try:
                q = int(ceiling.replace(" ", "")) if ceiling else None
            except ValueError:
                problems.append(f"Ligne {n} : quotient invalide « {ceiling} » (un nombre entier, ou vide).")
                continue
            try:
                cents = cents_from_text(price)
            except Exception:
                problems.append(f"Ligne {n} : prix invalide « {price} » (par exemple 4,15).")
                continue
            out.append(svc.BracketInput(q, cents, r))
        return out, problems


def _optional_cents(text: str, what: str, problems: list[str]) -> int | None:
    if not text.strip():
        return None
    try:
        return cents_from_text(text)
    except Exception:
        problems.append(f"{what} invalide : « {text} » (par exemple 1,50, ou vide).")
        return None


class TariffEditorDialog(QDialog):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Tarifs")
        remember(self, "tariffs", (900, 520))
        self.units_list = QListWidget()
        self.tariff_combo = QComboBox()
        self.valid_from = QDateEdit()
        self.valid_from.setCalendarPopup(True)
        self.valid_from.setDisplayFormat("dd/MM/yyyy")
        self.valid_from.setLocale(QLocale(QLocale.French, QLocale.France))
        self.model = BracketModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.pai = QLineEdit()
        self.pai.setPlaceholderText("vide = pas de prix PAI")
        self.surcharge = QLineEdit()
        self.surcharge.setPlaceholderText("vide = pas de majoration")
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet("color: #a00000;")
        self.status = QLabel()
        self.add_row_button = QPushButton("+ &Tranche")
        self.remove_row_button = QPushButton("− Retirer la tranche")
        self.new_button = QPushButton("&Nouveau tarif à partir du…")
        self.save_button = QPushButton("&Enregistrer")
        self.delete_button = QPushButton("&Supprimer ce tarif")
        can_edit = desk.actor.at_least(Role.RESPONSABLE)
        for w in (self.add_row_button, self.remove_row_button, self.new_button, self.save_button,
                  self.delete_button):
            w.setEnabled(can_edit)
        self.notice = QLabel("" if can_edit else "Lecture seule : les tarifs sont modifiés par le responsable.")
        self.notice.setVisible(not can_edit)
        self.notice.setStyleSheet("font-weight: bold;")
        for w in (self.table, self.pai, self.surcharge, self.valid_from):
            w.setEnabled(True)
        if not can_edit:
            self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
            self.pai.setReadOnly(True)
            self.surcharge.setReadOnly(True)
            self.valid_from.setReadOnly(True)

        form = QFormLayout()
        form.addRow("&Tarif :", self.tariff_combo)
        form.addRow("En vigueur à partir du :", self.valid_from)
        rows = QHBoxLayout()
        rows.addWidget(self.add_row_button)
        rows.addWidget(self.remove_row_button)
        rows.addStretch(1)
        form2 = QFormLayout()
        form2.addRow("Prix &PAI (repas fourni) :", self.pai)
        form2.addRow("&Majoration hors délai :", self.surcharge)
        actions = QHBoxLayout()
        for b in (self.new_button, self.save_button, self.delete_button):
            actions.addWidget(b)
        actions.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.notice)
        right.addLayout(form)
        right.addWidget(self.table, 1)
        right.addLayout(rows)
        right.addLayout(form2)
        right.addWidget(self.errors)
        right.addLayout(actions)
        right.addWidget(self.status)
        close = QDialogButtonBox()
        close.addButton(QPushButton("&Fermer"), QDialogButtonBox.RejectRole)
        close.rejected.connect(self.reject)
        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(QLabel("&Unités"))
        left.itemAt(0).widget().setBuddy(self.units_list)
        left.addWidget(self.units_list)
        lw = QWidget()
        lw.setLayout(left)
        lw.setMaximumWidth(300)
        body.addWidget(lw)
        body.addLayout(right, 1)
        outer = QVBoxLayout(self)
        outer.addLayout(body, 1)
        outer.addWidget(close)

        self.units_list.currentRowChanged.connect(self._unit_changed)
        self.tariff_combo.currentIndexChanged.connect(self._tariff_changed)
        self.add_row_button.clicked.connect(lambda: self.model.add_row())
        self.remove_row_button.clicked.connect(lambda: self.model.remove_row(self.table.currentIndex().row()))
        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.units: list[svc.UnitTariffs] = []
        self.editing: svc.TariffView | None = None
        self.reload()

    # -- data --------------------------------------------------------------------------
    def reload(self, keep_unit: int | None = None, keep_tariff: int | None = None) -> None:
        self.units = svc.list_tariffs(self.desk)
        self.units_list.blockSignals(True)
        self.units_list.clear()
        for u in self.units:
            item = QListWidgetItem(u.label)
            item.setData(Qt.UserRole, u.unit_id)
            self.units_list.addItem(item)
        self.units_list.blockSignals(False)
        row = next((i for i, u in enumerate(self.units) if u.unit_id == keep_unit), 0)
        if self.units:
            self.units_list.setCurrentRow(row)
            self._unit_changed(row, keep_tariff)

    def current_unit(self) -> svc.UnitTariffs | None:
        row = self.units_list.currentRow()
        return self.units[row] if 0 <= row < len(self.units) else None

    def _unit_changed(self, row: int, keep_tariff: int | None = None) -> None:
        unit = self.current_unit()
        self.tariff_combo.blockSignals(True)
        self.tariff_combo.clear()
        if unit:
            for t in unit.tariffs:
                self.tariff_combo.addItem(f"À partir du {formats.ddmmyyyy(t.valid_from)}", t.id)
            self.pai.setEnabled(unit.meal)
        self.tariff_combo.blockSignals(False)
        if unit and unit.tariffs:
            index = next((i for i, t in enumerate(unit.tariffs) if t.id == keep_tariff), len(unit.tariffs) - 1)
            self.tariff_combo.setCurrentIndex(index)
            self._tariff_changed(index)
        else:
            self.start_new()

    def _tariff_changed(self, index: int) -> None:
        unit = self.current_unit()
        if not unit or not (0 <= index < len(unit.tariffs)):
            return
        t = unit.tariffs[index]
        self.editing = t
        self.valid_from.setDate(QDate(t.valid_from.year, t.valid_from.month, t.valid_from.day))
        self.model.set_brackets(sorted(t.brackets, key=lambda b: (b.sibling_rank, b.qf_max is None, b.qf_max or 0)))
        self.pai.setText(_euros_text(t.pai_price_cents))
        self.surcharge.setText(_euros_text(t.late_surcharge_cents))
        self.errors.clear()
        self.status.setText(f"Tarif en vigueur à partir du {formats.ddmmyyyy(t.valid_from)}.")

    def start_new(self) -> None:
        """A new tariff, prefilled with the current prices, from the first day of next month."""
        self.editing = None
        today = self.desk.today()
        nxt = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        self.valid_from.setDate(QDate(nxt.year, nxt.month, nxt.day))
        unit = self.current_unit()
        if not (unit and unit.tariffs):
            self.model.set_brackets([])
            self.model.add_row()
        self.errors.clear()
        self.status.setText("Nouveau tarif : indiquez sa date d'effet et ses prix, puis « Enregistrer ».")

    def form_input(self) -> tuple[svc.TariffInput | None, list[str]]:
        unit = self.current_unit()
        if unit is None:
            return None, ["Choisissez une unité."]
        brackets, problems = self.model.brackets()
        pai = _optional_cents(self.pai.text(), "Prix PAI", problems)
        late = _optional_cents(self.surcharge.text(), "Majoration hors délai", problems)
        qd = self.valid_from.date()
        data = svc.TariffInput(unit.unit_id, date(qd.year(), qd.month(), qd.day()), brackets,
                               pai if unit.meal else None, late)
        return data, problems

    def save(self) -> bool:
        data, problems = self.form_input()
        if problems or data is None:
            self.errors.setText("\n".join(problems))
            return False
        editing = self.editing

        def save() -> int:
            if editing is None:
                return svc.add_tariff(self.desk, data)  # the new tariff's id
            svc.update_tariff(self.desk, editing.id, editing.version, data)
            return editing.id

        tid = ops.run(self, "Tarifs", save, changes=Changes(settings=True), on_error=self.errors.setText)
        if tid is None:
            return False
        self.reload(keep_unit=data.unit_id, keep_tariff=tid)
        note = svc.tariff_change_note(self.desk, data.valid_from)
        self.status.setText("Tarif enregistré." + (f" {note}" if note else ""))
        return True

    def delete(self) -> bool:
        if self.editing is None:
            return False
        unit = self.current_unit()
        editing = self.editing
        if ops.run(self, "Tarifs", lambda: svc.delete_tariff(self.desk, editing.id, editing.version),
                   on_error=self.errors.setText) is None:
            return False
        self.reload(keep_unit=unit.unit_id if unit else None)
        self.status.setText("Tarif supprimé.")
        return True
