"""The Listes tab: the day's lists per school and unit, the kitchen's count, printed or exported.

Choose the day and the school; the left list shows every school and unit with children
expected, the right one the children of the chosen list (class, health, who may collect them);
under them, the meals per school. "Imprimer…" writes the PDF of every list (one page per
school and unit, then the kitchen's page) and opens it; "Exporter…" writes a workbook (.xlsx,
lists and meals on two sheets) or a CSV of the children.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, QLocale, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
    QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.services.attendance.records import sites
from gandrange_desk.services.lists.day import day_lists, write_day_pdf
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.export import export_button
from gandrange_desk.ui.common.refresh import Follow
from gandrange_desk.ui.common.table_model import RowsTableModel

ROW = 26


class UnitListsModel(RowsTableModel):
    HEADERS = ("École", "Unité", "Enfants", "Annul. dem.")

    def data(self, index, role=Qt.DisplayRole):
        u = self.row(index)
        if u is None:
            return None
        if role == Qt.DisplayRole:
            return (u.school_name, u.label, str(len(u.children)), str(u.pending_cancellations or ""))[index.column()]
        if role == Qt.TextAlignmentRole and index.column() >= 2:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


class ChildrenModel(RowsTableModel):
    HEADERS = ("Enfant", "Classe", "Santé", "Peuvent venir chercher l'enfant")
    pickup = False

    def data(self, index, role=Qt.DisplayRole):
        c = self.row(index)
        if c is None:
            return None
        col = index.column()
        if role == Qt.DisplayRole:
            if col == 0:
                return c.name + (" (annulation demandée)" if c.state == "DA" else "")
            if col == 1:
                return c.class_name
            if col == 2:
                return c.health
            if col == 3:
                return " ; ".join(c.pickup_lines()) if self.pickup else ""
        if role == Qt.ToolTipRole and col == 3 and self.pickup:
            return "\n".join(c.pickup_lines())
        if role == Qt.ForegroundRole and (col == 2 or (col == 3 and c.forbidden)):
            return QColor("#B00020")
        return None


class KitchenModel(RowsTableModel):
    HEADERS = ("École", "Repas", "Réservés", "dont PAI", "À préparer", "Allergies et PAI")

    def data(self, index, role=Qt.DisplayRole):
        m = self.row(index)
        if m is None:
            return None
        if role == Qt.DisplayRole:
            return (m.school_name, m.unit_label, str(m.booked), str(m.pai), str(m.to_cook),
                    " ; ".join(f"{c.name} : {c.health}" for c in m.allergic))[index.column()]
        if role == Qt.TextAlignmentRole and 2 <= index.column() <= 4:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
    view.verticalHeader().setDefaultSectionSize(ROW)
    view.verticalHeader().hide()
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class ListsTab(QWidget):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.lists = None
        self.open_after_save = True
        self.date_edit = QDateEdit(calendarPopup=True)
        self.date_edit.setLocale(QLocale(QLocale.French, QLocale.France))
        self.date_edit.setDisplayFormat("dddd dd/MM/yyyy")
        prev_day, next_day, today = QPushButton("◀"), QPushButton("▶"), QPushButton("Aujourd'&hui")
        for b in (prev_day, next_day):
            b.setFixedWidth(36)
        self.school_combo = QComboBox()
        self.print_button = QPushButton("&Imprimer les listes…")
        self.export = export_button(self, desk, "day", lambda: {"day": self.day(),
                                                                "school_id": self.school_combo.currentData()},
                                    on_done=self._say)
        day_label = QLabel("&Jour")
        day_label.setBuddy(self.date_edit)
        bar = QHBoxLayout()
        for w in (day_label, prev_day, self.date_edit, next_day, today, QLabel("École"), self.school_combo):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.print_button)
        bar.addWidget(self.export)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.units = UnitListsModel(self)
        self.children = ChildrenModel(self)
        self.kitchen = KitchenModel(self)
        self.units_view, self.children_view, self.kitchen_view = (_table(self.units), _table(self.children),
                                                                  _table(self.kitchen))
        self.units_view.horizontalHeader().setToolTip("Annul. dem. : demandes d'annulation en attente")
        for view, widths in ((self.units_view, (130, 200, 60, 90)), (self.children_view, (220, 60, 200)),
                             (self.kitchen_view, (160, 200, 80, 80, 90))):
            for col, width in enumerate(widths):
                view.horizontalHeader().resizeSection(col, width)
        self.kitchen_view.setMaximumHeight(6 * ROW)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.units_view)
        split.addWidget(self.children_view)
        split.setSizes([520, 840])
        self.message = QLabel("")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(QLabel("<b>Repas</b> — comptage pour la cuisine"))
        layout.addWidget(self.kitchen_view)
        layout.addWidget(self.message)
        prev_day.clicked.connect(lambda: self.set_day(self.day() - timedelta(days=1)))
        next_day.clicked.connect(lambda: self.set_day(self.day() + timedelta(days=1)))
        today.clicked.connect(lambda: self.set_day(self.desk.today()))
        self.date_edit.dateChanged.connect(lambda _d: self.refresh())
        self.school_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.units_view.selectionModel().currentRowChanged.connect(lambda current, _prev: self._show(current.row()))
        self.print_button.clicked.connect(self.print_lists)
        self.follow = Follow(self, ("cells", "families", "settings"), lambda _changes: self.refresh())
        self._fill_schools()
        self.set_day(self.desk.today())
        self.refresh()

    def _fill_schools(self) -> None:
        self.school_combo.blockSignals(True)
        self.school_combo.clear()
        self.school_combo.addItem("Toutes les écoles", None)
        try:
            for sid, name in sites(self.desk):
                self.school_combo.addItem(name, sid)
        except DeskError:
            pass
        self.school_combo.blockSignals(False)

    def day(self) -> date:
        return self.date_edit.date().toPython()

    def set_day(self, day: date) -> None:
        self.date_edit.setDate(QDate(day.year, day.month, day.day))

    def refresh(self) -> None:
        try:
            self.lists = day_lists(self.desk, self.day(), self.school_combo.currentData())
        except DeskError as exc:
            self._say(str(exc), error=True)
            return
        self.units.set_rows(self.lists.lists)
        self.kitchen.set_rows(self.lists.kitchen)
        closed = f" — {' ; '.join(self.lists.closed)}" if self.lists.closed else ""
        self.summary.setText(self.lists.summary() + closed)
        if self.lists.lists:
            self.units_view.selectRow(0)
        self._show(0 if self.lists.lists else -1)

    def _show(self, row: int) -> None:
        unit = self.lists.lists[row] if self.lists and 0 <= row < len(self.lists.lists) else None
        self.children.pickup = bool(unit and unit.pickup)
        self.children.set_rows(unit.children if unit else [])
        self.children_view.setColumnHidden(3, not self.children.pickup)

    def apply_changes(self, changes, origin=None) -> None:
        self.follow(changes)

    def ask_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Imprimer les listes du jour", suggested, "PDF (*.pdf)")
        return path

    def print_lists(self) -> None:
        path = self.ask_path(f"listes-{self.day().isoformat()}.pdf")
        if not path:
            return
        found = ops.run(self, "Imprimer les listes", lambda: write_day_pdf(self.desk, self.day(),
                                                                            self.school_combo.currentData(), path))
        if found is None:
            return
        lists = found
        self._say(f"{formats.count(len(lists.lists), 'liste', 'listes')} et le comptage des repas : {path}")
        if self.open_after_save:
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #B00020" if error else "")
        self.message.setText(text)
