"""Paints the grid's cells: DR / R / DA / AF colours chosen to stay distinct in grey-scale print
(light → dark: DR, DA, R, AF, each with its code written), closed days grey without text."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from gandrange_desk.models import CellState

from .grid_model import CLASS_COL, CODE_TEXT, FIXED, MARK_COL, NAME_COL, UNREAD

# (fill, text) per code; grey levels ≈ 0.90, 0.55, 0.75, 0.23 (Rec. 601).
COLOURS = {
    1: (QColor("#FFE699"), QColor("#5A4500")),  # DR amber, dashed border
    2: (QColor("#6AA84F"), QColor("#0B2A00")),  # R green
    3: (QColor("#F6B26B"), QColor("#4A1E00")),  # DA orange, hatched
    4: (QColor("#7F1D1D"), QColor("#FFFFFF")),  # AF dark red
}
CLOSED_FILL = QColor("#D4D4D4")
UNREAD_FILL = QColor("#F1F1F1")  # a row not read yet (a paged open): not white, not closed
GRID_LINE = QColor("#E0E0E0")
DAY_LINE = QColor("#8C8C8C")
SELECTION = QColor(30, 90, 200, 70)
FOCUS = QColor("#1E5AC8")
LEGEND = tuple((state.value, state.label.lower()) for state in CellState)


SELECTED = QStyle.State_Selected.value
HAS_FOCUS = QStyle.State_HasFocus.value
WHITE = QColor("#FFFFFF")
MARK_INK = QColor("#B00020")
TEXT_INK = QColor("#202020")
CENTER = Qt.AlignCenter
LEFT = Qt.AlignVCenter | Qt.AlignLeft
HATCH = QBrush(QColor(120, 50, 0, 90), Qt.BDiagPattern)
FOCUS_PEN = QPen(FOCUS, 2)


class GridDelegate(QStyledItemDelegate):
    """Paints day cells straight from the model's arrays: one paint must not cost a dozen
    data() round trips through Qt (the first paint of a 700-row month counts)."""

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.font = QFont()
        self.font.setBold(True)
        self.font.setPointSizeF(8.5)
        self.dr_pen = {code: QPen(ink, 1, Qt.DashLine) for code, (_, ink) in COLOURS.items()}

    def paint(self, painter, option, index) -> None:
        g = self.model.grid
        row = self.model.visible[index.row()]
        c = index.column() - FIXED
        rect: QRect = option.rect
        closed = g.closed[c]
        code = 0 if closed else g.states[row][c]
        state = option.state.value
        painter.save()
        if closed:
            painter.fillRect(rect, CLOSED_FILL)
        elif not g.row_loaded(row):
            painter.fillRect(rect, UNREAD_FILL)
        elif code:
            fill, ink = COLOURS[code]
            painter.fillRect(rect, fill)
            if code == 3:
                painter.fillRect(rect, HATCH)
            elif code == 1:
                painter.setPen(self.dr_pen[1])
                painter.drawRect(rect.adjusted(2, 2, -3, -3))
            painter.setFont(self.font)
            painter.setPen(ink)
            painter.drawText(rect, CENTER, CODE_TEXT[code])
        else:
            painter.fillRect(rect, WHITE)
        if state & SELECTED:
            painter.fillRect(rect, SELECTION)
        painter.setPen(GRID_LINE)
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.drawLine(rect.topRight(), rect.bottomRight())
        if g.columns[c][1] == 0:
            painter.setPen(DAY_LINE)
            painter.drawLine(rect.topLeft(), rect.bottomLeft())
        if state & HAS_FOCUS:
            painter.setPen(FOCUS_PEN)
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
        painter.restore()


class NameDelegate(QStyledItemDelegate):
    """The frozen columns (name, class, health mark, total), painted from the arrays."""

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.bold = QFont()
        self.bold.setBold(True)

    def paint(self, painter, option, index) -> None:
        g = self.model.grid
        row = self.model.visible[index.row()]
        col = index.column()
        rect: QRect = option.rect
        painter.save()
        painter.fillRect(rect, WHITE)
        if col == NAME_COL:
            painter.setPen(TEXT_INK)
            painter.drawText(rect.adjusted(4, 0, -2, 0), LEFT, g.names[row])
        elif col == CLASS_COL:
            painter.setPen(TEXT_INK)
            painter.drawText(rect, CENTER, g.classes[row])
        elif col == MARK_COL:
            if g.marks[row]:
                painter.setPen(MARK_INK)
                painter.setFont(self.bold)
                painter.drawText(rect, CENTER, g.marks[row])
        else:
            painter.setPen(TEXT_INK)
            painter.drawText(rect, CENTER, str(g.total(row)) if g.row_loaded(row) else UNREAD)
        painter.setPen(GRID_LINE)
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.drawLine(rect.topRight(), rect.bottomRight())
        painter.restore()
