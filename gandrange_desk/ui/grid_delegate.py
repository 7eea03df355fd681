"""Paints the grid's cells: DR / R / DA / AF colours chosen to stay distinct in grey-scale print
(light → dark: DR, DA, R, AF, each with its code written), closed days grey without text."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from .grid_model import CLOSED_ROLE, DAY_START_ROLE, STATE_ROLE

# (fill, text) per code; grey levels ≈ 0.90, 0.55, 0.75, 0.23 (Rec. 601).
COLOURS = {
    1: (QColor("#FFE699"), QColor("#5A4500")),  # DR amber, dashed border
    2: (QColor("#6AA84F"), QColor("#0B2A00")),  # R green
    3: (QColor("#F6B26B"), QColor("#4A1E00")),  # DA orange, hatched
    4: (QColor("#7F1D1D"), QColor("#FFFFFF")),  # AF dark red
}
CLOSED_FILL = QColor("#D4D4D4")
GRID_LINE = QColor("#E0E0E0")
DAY_LINE = QColor("#8C8C8C")
SELECTION = QColor(30, 90, 200, 70)
FOCUS = QColor("#1E5AC8")
LEGEND = (("DR", "demande de réservation"), ("R", "réservé"), ("DA", "demande d'annulation"),
          ("AF", "annulation facturée"))


class GridDelegate(QStyledItemDelegate):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.font = QFont()
        self.font.setBold(True)
        self.font.setPointSizeF(8.5)

    def paint(self, painter, option, index) -> None:
        rect: QRect = option.rect
        code = index.data(STATE_ROLE) or 0
        closed = index.data(CLOSED_ROLE)
        painter.save()
        if closed:
            painter.fillRect(rect, CLOSED_FILL)
        elif code:
            fill, ink = COLOURS[code]
            painter.fillRect(rect, fill)
            if code == 3:
                painter.fillRect(rect, QBrush(QColor(120, 50, 0, 90), Qt.BDiagPattern))
            if code == 1:
                painter.setPen(QPen(ink, 1, Qt.DashLine))
                painter.drawRect(rect.adjusted(2, 2, -3, -3))
            painter.setFont(self.font)
            painter.setPen(ink)
            painter.drawText(rect, Qt.AlignCenter, index.data(Qt.DisplayRole) or "")
        else:
            painter.fillRect(rect, QColor("#FFFFFF"))
        if option.state & QStyle.State_Selected:
            painter.fillRect(rect, SELECTION)
        painter.setPen(GRID_LINE)
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.drawLine(rect.topRight(), rect.bottomRight())
        if index.data(DAY_START_ROLE):
            painter.setPen(DAY_LINE)
            painter.drawLine(rect.topLeft(), rect.bottomLeft())
        if option.state & QStyle.State_HasFocus:
            painter.setPen(QPen(FOCUS, 2))
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
        painter.restore()

    def sizeHint(self, option, index):
        from PySide6.QtCore import QSize

        return QSize(40, 22)
