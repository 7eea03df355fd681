"""The family change's fields in the Validation tab: old and new values, each accepted or not."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gandrange_desk.ui.common.table_model import RowsTableModel


class FieldChangeModel(RowsTableModel):
    """Old and new values side by side; the first column says which fields are accepted."""

    HEADERS = ("Accepter", "Champ", "Valeur actuelle", "Nouvelle valeur")
    CHECK_COLUMN = 0

    def __init__(self, parent=None):
        super().__init__(parent)
        self.checked: set[str] = set()

    def rows_reset(self) -> None:
        self.checked = {r.path for r in self.rows}

    def is_checked(self, row: int) -> bool:
        return self.rows[row].path in self.checked

    def set_checked(self, row: int, checked: bool) -> None:
        (self.checked.add if checked else self.checked.discard)(self.rows[row].path)

    def data(self, index, role=Qt.DisplayRole):
        row = self.row(index)
        if row is None:
            return None
        if role == Qt.CheckStateRole and index.column() == 0:
            return self.check_state(index.row())
        if role == Qt.DisplayRole:
            return ("", row.label, row.old or "—", row.new)[index.column()]
        return None
