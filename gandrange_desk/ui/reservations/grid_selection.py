"""The grid's selection as cells, read from the selection's ranges and the model's arrays
(a mixin of the Réservations tab: it needs `self.grid` and `self.model`)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel

from .grid_model import FIXED


class GridSelection:
    def selected_cells(self) -> list[tuple]:
        """The open cells of the selection, read from its ranges and the model's arrays: a
        1,000-cell rectangle must not cost thousands of index and data() calls through Qt."""
        g = self.model.grid
        if g is None:
            return []
        if g.loaded is not None and not self.finish_loading():  # an action needs every row read
            return []
        cells: dict[tuple, None] = {}
        visible = self.model.visible
        for rng in self.grid.selectionModel().selection():
            cols = [c for c in range(max(rng.left(), FIXED) - FIXED, rng.right() - FIXED + 1) if not g.closed[c]]
            for r in range(rng.top(), rng.bottom() + 1):
                row = visible[r]
                for c in cols:
                    cells[g.cell(row, c)] = None
        if not cells:
            current = self.grid.currentIndex()
            if current.isValid() and current.column() >= FIXED and not g.closed[current.column() - FIXED]:
                return [g.cell(visible[current.row()], current.column() - FIXED)]
        return list(cells)

    def cell_states(self, cells) -> dict:
        g = self.model.grid
        if g.loaded is not None:
            self.finish_loading()
        out = {}
        for cell in cells:
            row = self.model.row_of[cell[0]]
            out[cell] = g.states[row][g.column_of(cell[1], cell[2])]
        return out

    def select_cells(self, first, last) -> None:
        """Select the rectangle between two model indexes (tests and keyboard helpers)."""
        from PySide6.QtCore import QItemSelection

        self.grid.setCurrentIndex(first)
        self.grid.selectionModel().select(QItemSelection(first, last),
                                          QItemSelectionModel.ClearAndSelect)

