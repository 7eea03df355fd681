"""The common base of the read-mostly table models that show a plain list of rows."""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt


class RowsTableModel(QAbstractTableModel):
    """A flat list of row objects under fixed column headers; subclasses only write `data`.

    Why: a dozen tables (invoices, users, families, outbox, audit…) repeated the same Qt
    plumbing — reset on reload, no children under a valid parent, headers from a tuple — and
    the copies had started to drift. One place keeps them identical. Models with a special
    shape (the reservation grid, the validation tree) do not use it.
    """

    HEADERS: tuple[str, ...] = ()

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
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.HEADERS[section]
        return None
