"""« Journal des opérations » : the whole audit trail, filtered, read a page at a time.

The model asks the service for 200 rows at once (keyset paging, newest first) and for more when
the view scrolls near the end (canFetchMore/fetchMore), so a trail of a million entries opens
as fast as one of a hundred.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView,
    QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.services.system import audit as audit_log
from gandrange_desk.services.system.audit import AuditFilter, AuditRow
from gandrange_desk.services.context import Desk
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import RowsTableModel

COLUMNS = ("Date", "Utilisateur", "Opération", "Objet", "Famille", "Avant → après")
NO_DATE = QDate(2000, 1, 1)


class AuditModel(RowsTableModel):
    HEADERS = COLUMNS

    def __init__(self, desk: Desk, parent=None, page: int = audit_log.PAGE):
        super().__init__(parent)
        self.desk = desk
        self.page = page
        self.filters = AuditFilter()
        self.rows: list[AuditRow] = []
        self.exhausted = True

    def load(self, filters: AuditFilter) -> None:
        """First page for these filters (raises DeskError, e.g. PermissionDenied)."""
        first = audit_log.query(self.desk, filters, limit=self.page)
        self.beginResetModel()
        self.filters = filters
        self.rows = first
        self.exhausted = len(first) < self.page
        self.endResetModel()

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and not self.exhausted

    def fetchMore(self, parent=QModelIndex()) -> None:
        if parent.isValid() or self.exhausted or not self.rows:
            return
        more = audit_log.query(self.desk, self.filters, before_id=self.rows[-1].id, limit=self.page)
        self.exhausted = len(more) < self.page
        if more:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
            self.rows.extend(more)
            self.endInsertRows()

    def text(self, row: AuditRow, column: int) -> str:
        if column == 0:
            return formats.instant(row.at)
        if column == 1:
            return row.user_name or row.user_login
        if column == 2:
            return row.action_label
        if column == 3:
            return row.entity_text
        if column == 4:
            return f"{row.family_ref} — {row.family_name}" if row.family_ref else ""
        return row.change

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.DisplayRole:
            return self.text(row, index.column())
        if role == Qt.ToolTipRole:
            if index.column() == 5 and row.change:
                return row.change.replace(" ; ", "\n")
            if index.column() == 1:
                return row.user_login
            if index.column() == 2:
                return row.action
        return None


class AuditDialog(QDialog):
    def __init__(self, desk: Desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Journal des opérations")
        self.resize(1300, 780)
        layout = QVBoxLayout(self)

        bar = QHBoxLayout()
        self.user_box = QComboBox()
        self.action_box = QComboBox()
        self.date_from = self._date_edit()
        self.date_to = self._date_edit()
        self.family_edit = QLineEdit()
        self.family_edit.setPlaceholderText("Famille : nom ou réf. (Ctrl+F)")
        self.family_edit.setClearButtonEnabled(True)
        for label, widget in (("&Utilisateur", self.user_box), ("&Opération", self.action_box),
                              ("D&u", self.date_from), ("&au", self.date_to), ("&Famille", self.family_edit)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            bar.addWidget(caption)
            bar.addWidget(widget, 2 if widget is self.family_edit else 0)
        layout.addLayout(bar)

        self.model = AuditModel(desk, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.table.horizontalHeader()
        for column, width in enumerate((130, 150, 230, 130, 220)):
            hh.setSectionResizeMode(column, QHeaderView.Interactive)
            self.table.setColumnWidth(column, width)
        hh.setStretchLastSection(True)
        layout.addWidget(self.table, 1)

        bottom = QHBoxLayout()
        self.status = QLabel("")
        bottom.addWidget(self.status, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.Close).setText("Fermer")
        bottom.addWidget(buttons)
        layout.addLayout(bottom)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(250)
        self.debounce.timeout.connect(self.refresh)
        QShortcut(QKeySequence.Find, self, activated=lambda: (self.family_edit.setFocus(), self.family_edit.selectAll()))

        self.available = self._fill_choices()
        if self.available:
            for box in (self.user_box, self.action_box):
                box.currentIndexChanged.connect(self.refresh)
            for edit in (self.date_from, self.date_to):
                edit.dateChanged.connect(self.debounce.start)
            self.family_edit.textChanged.connect(self.debounce.start)
            self.refresh()
        self.table.setFocus()

    def _date_edit(self) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd/MM/yyyy")
        edit.setMinimumDate(NO_DATE)
        edit.setSpecialValueText("—")  # the minimum stands for "no bound"
        edit.setDate(NO_DATE)
        return edit

    def _fill_choices(self) -> bool:
        def refused(text: str) -> None:
            self.status.setText(text)
            for widget in (self.user_box, self.action_box, self.date_from, self.date_to, self.family_edit, self.table):
                widget.setEnabled(False)

        choices = ops.run(self, "Journal des opérations",
                          lambda: (audit_log.users(self.desk), audit_log.actions(self.desk)), on_error=refused)
        if choices is None:
            return False
        users, actions = choices
        self.user_box.addItem("Tous", None)
        for login, name in users:
            self.user_box.addItem(name if name == login else f"{name} ({login})", login)
        self.action_box.addItem("Toutes", None)
        for action, label in actions:
            self.action_box.addItem(label, action)
        return True

    @staticmethod
    def _date(edit: QDateEdit):
        value = edit.date()
        return None if value == NO_DATE else value.toPython()

    def current_filter(self) -> AuditFilter:
        return AuditFilter(user=self.user_box.currentData(), action=self.action_box.currentData(),
                           date_from=self._date(self.date_from), date_to=self._date(self.date_to),
                           family_text=self.family_edit.text().strip())

    def refresh(self) -> None:
        if not self.available:
            return
        filters = self.current_filter()
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            self.status.setText("Dates : le début de la période est après sa fin.")
            return
        def load() -> int:
            self.model.load(filters)
            self.table.scrollToTop()
            return audit_log.count(self.desk, filters)

        total = ops.run(self, "Journal des opérations", load, on_error=self.status.setText)
        if total is None:
            return
        shown = formats.count(total, "opération", "opérations")
        self.status.setText(shown + (" (les plus récentes d'abord ; la suite se charge en descendant)"
                                     if total > len(self.model.rows) else ""))


def open_dialog(window) -> None:
    """Tools menu entry: the journal, or the reason it is closed to this user."""
    if ops.run(window, "Journal des opérations", lambda: audit_log.count(window.desk, AuditFilter())) is None:
        return
    dialog = AuditDialog(window.desk, window)
    dialog.exec()
