"""Table model of the reservation grid over compact per-row state arrays (services/grid_data).

Columns 0..FIXED-1 are the child (name, class, health mark, total); then one column per
(day, unit). The model never queries while the view scrolls: everything it shows is in the
arrays, except a cell's history tooltip, fetched on demand for a non-blank cell and cached.
"""

from __future__ import annotations

from datetime import date
from typing import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from gandrange_desk import formats
from gandrange_desk.services.reservations.grid import BLANK, CODE_OF, CODES, OCCUPYING, GridData

FIXED = 4
NAME_COL, CLASS_COL, MARK_COL, TOTAL_COL = range(FIXED)
FIXED_TITLES = ("Enfant", "Classe", "Santé", "Total")

# Plain ints: comparing a PySide6 enum costs ~10 µs, and data() runs for every painted cell.
DISPLAY = int(Qt.DisplayRole.value)
TOOLTIP = int(Qt.ToolTipRole.value)
ALIGN = int(Qt.TextAlignmentRole.value)
FOREGROUND = int(Qt.ForegroundRole.value)
ACCESSIBLE = int(Qt.AccessibleTextRole.value)
USER = int(Qt.UserRole.value)
STATE_ROLE = USER + 1  # int code (0 blank … 4 AF)
CLOSED_ROLE = USER + 2  # closure reason or None
CELL_ROLE = USER + 3  # (child_id, unit_id, day)
DAY_START_ROLE = USER + 4  # True on the first unit column of a day
HORIZONTAL = Qt.Horizontal
ALIGN_CENTER = int(Qt.AlignCenter.value)
ALIGN_LEFT = int((Qt.AlignVCenter | Qt.AlignLeft).value)
FLAGS_FIXED = Qt.ItemIsEnabled
FLAGS_CLOSED = Qt.ItemIsEnabled
FLAGS_OPEN = Qt.ItemIsEnabled | Qt.ItemIsSelectable
FLAGS_NONE = Qt.NoItemFlags

CHANGED_ROLES = [DISPLAY, STATE_ROLE, TOOLTIP]
UNREAD = "…"  # a row's cells and total before its row is read (a paged open)
UNREAD_ROLES = frozenset((DISPLAY, STATE_ROLE, TOOLTIP, ACCESSIBLE, ALIGN))

CODE_TEXT = tuple(str(code) if code else "" for code in CODES)
STATE_NAMES = {code: f"{state.label} ({state.value})" for code, state in enumerate(CODES) if state}


class GridModel(QAbstractTableModel):
    # (first, last) day columns whose places changed. Not headerDataChanged: Qt answers that
    # by re-measuring the header (headerData of every section), and the day header paints the
    # places from the arrays anyway; it only needs these sections repainted.
    placesChanged = Signal(int, int)

    def __init__(self, data: GridData | None = None, parent=None):
        super().__init__(parent)
        self.grid: GridData | None = None
        self.visible: list[int] = []  # model row -> data row
        self.position: dict[int, int] = {}  # data row -> model row (shown rows only)
        self.row_of: dict[int, int] = {}  # child_id -> data row
        self.history_provider: Callable[[tuple], str] | None = None
        self._history: dict[tuple, str] = {}
        self._name_filter = ""
        self._class_filter = ""
        self._children: frozenset[int] | None = None  # one family's children (from its file)
        # Called before a change is written while rows are still unread: the tab reads them
        # and the places per column again (True), so nothing is counted against a row not read.
        self.read_all_rows: Callable[[], bool] | None = None
        if data is not None:
            self.set_data(data)

    # --- loading and filtering -----------------------------------------------------------
    def set_data(self, data: GridData) -> None:
        self.beginResetModel()
        self.grid = data
        self.row_of = {cid: i for i, cid in enumerate(data.child_ids)}
        self._history.clear()
        self._compute_visible()
        self.endResetModel()

    def fill_rows(self, states: dict[int, bytearray]) -> None:
        """Rows of a paged open just read (see `grid_loader`): one ranged dataChanged."""
        g = self.grid
        if g is None or g.loaded is None or not states:
            return
        for row, row_states in states.items():
            g.states[row] = row_states
            g.loaded[row] = 1
        shown = [self.position[r] for r in states if r in self.position]
        if shown:
            self.dataChanged.emit(self.index(min(shown), TOTAL_COL),
                                  self.index(max(shown), self.columnCount() - 1), CHANGED_ROLES)

    def all_rows_read(self, data: GridData) -> None:
        if self.grid is data and data.loaded is not None and not data.pending:
            data.loaded = None

    def clear(self) -> None:
        self.beginResetModel()
        self.grid = None
        self.visible, self.row_of, self.position = [], {}, {}
        self._history.clear()
        self.endResetModel()

    def set_filter(self, name: str = "", class_name: str = "", children=None) -> None:
        from gandrange_desk.services.search import normalize

        name = normalize(name)
        children = frozenset(children) if children is not None else None
        if (name, class_name, children) == (self._name_filter, self._class_filter, self._children):
            return
        self.beginResetModel()
        self._name_filter, self._class_filter, self._children = name, class_name, children
        self._compute_visible()
        self.endResetModel()

    def _compute_visible(self) -> None:
        g = self.grid
        if g is None:
            self.visible, self.position = [], {}
            return
        words = self._name_filter.split()
        self.visible = [
            i for i in range(len(g.child_ids))
            if (not words or all(w in g.keys[i] for w in words))
            and (not self._class_filter or g.classes[i] == self._class_filter)
            and (self._children is None or g.child_ids[i] in self._children)
        ]
        self.position = {row: i for i, row in enumerate(self.visible)}

    # --- Qt model API --------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.visible)

    def columnCount(self, parent=QModelIndex()) -> int:
        if parent.isValid() or self.grid is None:
            return 0
        return FIXED + len(self.grid.columns)

    def data(self, index: QModelIndex, role: int = DISPLAY):
        g = self.grid
        if g is None or not index.isValid():
            return None
        role = int(role)
        row = self.visible[index.row()]
        col = index.column()
        if col < FIXED:
            return self._fixed_data(row, col, role)
        c = col - FIXED
        if g.loaded is not None and not g.loaded[row] and not g.closed[c] and role in UNREAD_ROLES:
            return self._unread_data(role)
        if role == STATE_ROLE:
            return g.states[row][c]
        if role == DISPLAY:
            if g.closed[c]:
                return ""
            return CODE_TEXT[g.states[row][c]]
        if role == CLOSED_ROLE:
            return g.closed[c]
        if role == DAY_START_ROLE:
            return g.columns[c][1] == 0
        if role == CELL_ROLE:
            return g.cell(row, c)
        if role == TOOLTIP:
            return self._tooltip(row, c)
        if role == ALIGN:
            return ALIGN_CENTER
        if role == ACCESSIBLE:
            return g.closed[c] or STATE_NAMES.get(g.states[row][c], "Libre")
        return None

    @staticmethod
    def _unread_data(role: int):
        """A cell whose row is not read yet: no state, never taken for a white cell."""
        if role == DISPLAY:
            return UNREAD
        if role == TOOLTIP or role == ACCESSIBLE:
            return "Chargement…"
        if role == ALIGN:
            return ALIGN_CENTER
        return None

    def _fixed_data(self, row: int, col: int, role: int):
        g = self.grid
        if role == DISPLAY:
            if col == NAME_COL:
                return g.names[row]
            if col == CLASS_COL:
                return g.classes[row]
            if col == MARK_COL:
                return g.marks[row]
            return str(g.total(row)) if g.row_loaded(row) else UNREAD
        if role == TOOLTIP and col == MARK_COL and g.marks[row]:
            return ("Projet d'accueil individualisé (PAI) : voir la fiche de l'enfant"
                    if g.marks[row] == "PAI" else "Allergie signalée : voir la fiche de l'enfant")
        if role == TOOLTIP and col == TOTAL_COL:
            return "Cases réservées du mois (R, DA et AF)"
        if role == ALIGN:
            return ALIGN_LEFT if col == NAME_COL else ALIGN_CENTER
        if role == FOREGROUND and col == MARK_COL and g.marks[row]:
            from PySide6.QtGui import QColor

            return QColor("#B00020")
        return None

    def _tooltip(self, row: int, c: int) -> str:
        g = self.grid
        reason = g.closed[c]
        day_index, unit_index = g.columns[c]
        day = g.days[day_index]
        head = f"{g.names[row]} — {g.units[unit_index].name}, {formats.long_date(day)}"
        if reason:
            return f"{head}\nFermé : {reason}"
        code = g.states[row][c]
        if code == BLANK:
            return f"{head}\nLibre{self._places_text(c)}"
        cell = g.cell(row, c)
        if cell not in self._history and self.history_provider is not None:
            self._history[cell] = self.history_provider(cell)
        return f"{head}\n{STATE_NAMES[code]}\n{self._history.get(cell, '')}".rstrip()

    def _places_text(self, c: int) -> str:
        capacity = self.grid.units[self.grid.columns[c][1]].capacity
        if capacity is None:
            return ""
        left = capacity - self.grid.used[c]
        return f" — {formats.count(left, 'place restante', 'places restantes')}"

    def flags(self, index: QModelIndex):
        if self.grid is None or not index.isValid():
            return FLAGS_NONE
        col = index.column()
        if col < FIXED:
            return FLAGS_FIXED
        # Closed: enabled for the tooltip, but neither selectable nor actionable.
        return FLAGS_CLOSED if self.grid.closed[col - FIXED] else FLAGS_OPEN

    def headerData(self, section: int, orientation, role: int = DISPLAY):
        role = int(role)
        if orientation != HORIZONTAL:
            return str(section + 1) if role == DISPLAY else None
        if self.grid is None:
            return None
        if section < FIXED:
            return FIXED_TITLES[section] if role == DISPLAY else None
        c = section - FIXED
        g = self.grid
        day_index, unit_index = g.columns[c]
        day = g.days[day_index]
        unit = g.units[unit_index]
        if role == DISPLAY:
            head = f"{formats.WEEKDAYS_SHORT_FR[day.weekday()][:2]} {day.day}"
            if g.closed[c]:
                return f"{head}\n{unit.short}\n—"
            count = f"{g.used[c]}/{unit.capacity}" if unit.capacity is not None else str(g.used[c])
            return f"{head}\n{unit.short}\n{count}"
        if role == TOOLTIP:
            text = f"{unit.name}, {formats.long_date(day)}"
            if g.closed[c]:
                return f"{text}\nFermé : {g.closed[c]}"
            if unit.capacity is None:
                return f"{text}\n{formats.count(g.used[c], 'place prise', 'places prises')}, sans limite"
            return (f"{text}\n{g.used[c]} sur {formats.count(unit.capacity, 'place', 'places')}"
                    f"{self._places_text(c)}")
        if role == FOREGROUND and not g.closed[c] and unit.capacity is not None \
                and g.used[c] >= unit.capacity:
            from PySide6.QtGui import QColor

            return QColor("#B00020")
        return None

    # --- applying a service result --------------------------------------------------------
    def apply_changes(self, changed: dict[tuple[int, int, date], str | None]) -> int:
        """Write new states into the arrays; one ranged dataChanged for the bulk change.

        Cells already in that state are left alone (their tooltip is still re-read): the grid's
        own result and the same change coming back from the broadcast emit nothing twice."""
        g = self.grid
        if g is None or not changed:
            return 0
        # Rows still unread: they are read now, after the change, and the places re-counted
        # with it; the states below are then written without counting the change twice.
        recounted = g.loaded is not None and self.read_all_rows is not None and bool(self.read_all_rows())
        rows, cols = [], []
        for (child_id, unit_id, day), state in changed.items():
            row = self.row_of.get(child_id)
            c = g.column_of(unit_id, day)
            if row is None or c is None:
                continue
            self._history.pop((child_id, unit_id, day), None)
            old = g.states[row][c]
            new = CODE_OF[state]
            if new == old:
                continue
            if not g.row_loaded(row):
                continue  # its row is read later, as the database holds it then
            g.states[row][c] = new
            if not recounted:
                g.used[c] += (new in OCCUPYING) - (old in OCCUPYING)
            rows.append(row)
            cols.append(c)
        if not rows:
            return 0
        # The cost after a click must not grow with the rows: no dict of every shown row here,
        # one ranged dataChanged (month total to the last changed column), no layout change.
        position = self.position
        shown = [position[r] for r in rows if r in position]
        if shown:
            self.dataChanged.emit(self.index(min(shown), TOTAL_COL),
                                  self.index(max(shown), FIXED + max(cols)), CHANGED_ROLES)
        self.placesChanged.emit(FIXED + min(cols), FIXED + max(cols))
        return len(rows)

    def index_of(self, child_id: int, unit_id: int, day: date) -> QModelIndex:
        g = self.grid
        row = self.row_of.get(child_id)
        c = g.column_of(unit_id, day) if g else None
        if row is None or c is None or row not in self.position:
            return QModelIndex()
        return self.index(self.position[row], FIXED + c)


__all__ = ["CELL_ROLE", "CLOSED_ROLE", "DAY_START_ROLE", "FIXED", "GridModel", "STATE_ROLE"]
