"""The one base of the table models that show a plain list of rows, and its column-spec variant.

Why one base: a dozen tables (invoices, users, families, outbox, audit…) repeated the same Qt
plumbing — reset on reload, no children under a valid parent, headers from a tuple, typed cells,
check boxes — and the copies had started to drift. Models with a special shape (the reservation
grid, the validation tree) do not use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)


class RowsTableModel(QAbstractTableModel):
    """A flat list of row objects under fixed column headers; subclasses write `data`.

    Editable tables name their columns: `EDITABLE` (typed into: `set_value` stores the text) and
    `CHECK_COLUMN` (a check box: `is_checked` / `set_checked`). Either edit emits `dataChanged`
    over the row and `rowEdited(row)`.
    """

    HEADERS: tuple[str, ...] = ()
    EDITABLE: frozenset[int] = frozenset()
    CHECK_COLUMN: int | None = None

    rowEdited = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows: Iterable) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.rows_reset()
        self.endResetModel()

    def rows_reset(self) -> None:
        """Hook run inside the model reset, for state kept per row (amounts, check marks)."""

    def row(self, index: QModelIndex) -> Any | None:
        """The row object behind an index, or None for an invalid or stale index."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 - Qt API
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    # --- editing ------------------------------------------------------------------------------
    def can_edit(self, row: int, column: int) -> bool:
        """Whether this cell of an `EDITABLE` column takes typing (all of them by default)."""
        return True

    def set_value(self, row: int, column: int, value) -> bool:
        """Store a typed value; False refuses it (the editor keeps the old one)."""
        return False

    def is_checked(self, row: int) -> bool:
        return False

    def set_checked(self, row: int, checked: bool) -> None:
        """Store a check mark of `CHECK_COLUMN`."""

    def check_state(self, row: int) -> Qt.CheckState:
        return Qt.Checked if self.is_checked(row) else Qt.Unchecked

    def flags(self, index):
        if not index.isValid():
            return Qt.NoItemFlags
        flags = super().flags(index)
        if index.column() == self.CHECK_COLUMN:
            flags |= Qt.ItemIsUserCheckable
        elif index.column() in self.EDITABLE and self.can_edit(index.row(), index.column()):
            flags |= Qt.ItemIsEditable
        return flags

    def setData(self, index, value, role=Qt.EditRole):  # noqa: N802 - Qt API
        if self.row(index) is None:
            return False
        row, column = index.row(), index.column()
        if role == Qt.CheckStateRole and column == self.CHECK_COLUMN:
            self.set_checked(row, Qt.CheckState(value) == Qt.Checked)
        elif role == Qt.EditRole and column in self.EDITABLE and self.can_edit(row, column):
            if not self.set_value(row, column, value):
                return False
        else:
            return False
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        self.rowEdited.emit(row)
        return True

    def toggle(self, row: int) -> None:
        """Flip the check mark of a row (the space bar on a line, a click on its label)."""
        if self.CHECK_COLUMN is not None:
            new = Qt.Unchecked if self.is_checked(row) else Qt.Checked
            self.setData(self.index(row, self.CHECK_COLUMN), new, Qt.CheckStateRole)


@dataclass(frozen=True)
class Column:
    """One column of a `ColumnsTableModel`: its title and how a row shows in it."""

    header: str
    text: Callable[[Any], str]
    right: bool = False  # amounts and counts
    tooltip: Callable[[Any], str | None] | None = None


class ColumnsTableModel(RowsTableModel):
    """Read-only rows of any objects, each column declared as a `Column` (or a
    `(header, text, right)` tuple); `color(row, column)` may give a text colour."""

    def __init__(self, columns: Sequence[Column | tuple], parent=None):
        super().__init__(parent)
        self.columns = [c if isinstance(c, Column) else Column(*c) for c in columns]
        self.HEADERS = tuple(c.header for c in self.columns)
        self.color: Callable[[Any, int], Any] | None = None

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 - Qt API
        if orientation == Qt.Horizontal and role == Qt.TextAlignmentRole and 0 <= section < len(self.columns) \
                and self.columns[section].right:
            return RIGHT
        return super().headerData(section, orientation, role)

    def data(self, index, role=Qt.DisplayRole):
        row = self.row(index)
        if row is None:
            return None
        column = self.columns[index.column()]
        if role == Qt.DisplayRole:
            return column.text(row)
        if role == Qt.TextAlignmentRole and column.right:
            return RIGHT
        if role == Qt.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row) or None
        if role == Qt.ForegroundRole and self.color is not None:
            return self.color(row, index.column())
        return None


__all__ = ["Column", "ColumnsTableModel", "RIGHT", "RowsTableModel"]
