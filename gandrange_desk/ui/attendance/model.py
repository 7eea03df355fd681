"""The door's sheet as a table: one big row per child, the marks as buttons painted in cells.

A row is a `records.SheetRow`. The mark columns (Présent, Absent, Excusé) show which one is set,
filled; the late column shows the time the family came; the last column clears a wrong tap.
The delegate paints them as large touch targets (56 px rows): no editor, no double click — the
tab acts on a single click (a tap) on a cell.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from gandrange_desk.models import Presence
from gandrange_desk.ui.common.table_model import RowsTableModel

NAME, CLASS, HEALTH, PRESENT, ABSENT, EXCUSED, LATE, BY, CLEAR = range(9)
MARK_OF = {PRESENT: Presence.PRESENT, ABSENT: Presence.ABSENT, EXCUSED: Presence.EXCUSED}
BUTTONS = (PRESENT, ABSENT, EXCUSED, LATE, CLEAR)
ROW_HEIGHT = 56
# (fill when set, ink when set); unset buttons are outlined in the same colour.
COLOURS = {
    Presence.PRESENT: (QColor("#2E7D32"), QColor("#FFFFFF")),
    Presence.WALK_IN: (QColor("#1565C0"), QColor("#FFFFFF")),
    Presence.ABSENT: (QColor("#C62828"), QColor("#FFFFFF")),
    Presence.EXCUSED: (QColor("#EF6C00"), QColor("#FFFFFF")),
}
IDLE_INK = QColor("#37474F")
IDLE_FILL = QColor("#F5F7FA")
DISABLED = QColor("#C9CED6")
UNMARKED_ROW = QColor("#FFFDE7")


class SheetModel(RowsTableModel):
    HEADERS = ("Enfant", "Classe", "Santé", "Présent", "Absent", "Excusé", "Retard", "Pointé par", "")
    compact = False  # a narrow screen: class and health under the name, their columns hidden

    def child_ids(self) -> list[int]:
        return [r.child_id for r in self.rows]

    def update_rows(self, rows) -> None:
        """New marks for the same children: repaint in place (the scroll and the focus stay);
        another list of children: reset."""
        rows = list(rows)
        if [r.child_id for r in rows] != self.child_ids():
            self.set_rows(rows)
            return
        self.rows = rows
        if rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.HEADERS) - 1))

    def button(self, index: QModelIndex) -> tuple[str, bool, bool]:
        """(text, set, enabled) of a button cell."""
        r = self.row(index)
        col = index.column()
        walk_in = r.presence == Presence.WALK_IN
        if col == PRESENT and walk_in:
            return "Sans résa.", True, True
        if col in MARK_OF:
            return self.HEADERS[col], r.presence == MARK_OF[col], not walk_in
        if col == LATE:
            there = r.presence in (Presence.PRESENT, Presence.WALK_IN)
            return (r.late_time or "Retard…"), bool(r.late_time), there
        return "✕", False, r.presence is not None

    def data(self, index, role=Qt.DisplayRole):
        r = self.row(index)
        if r is None:
            return None
        col = index.column()
        if role == Qt.DisplayRole:
            if col == NAME:
                return r.name
            if col == CLASS:
                return r.class_name
            if col == HEALTH:
                return r.health
            if col == BY:
                if not r.recorded_by:
                    return ""
                return f"{r.recorded_by} {r.recorded_at.strftime('%H:%M')}" if r.recorded_at else r.recorded_by
            if col in BUTTONS:
                return self.button(index)[0]
        if role == Qt.ToolTipRole:
            if col == NAME:
                state = {"R": "réservé", "DA": "réservé, annulation demandée"}.get(r.state, "sans réservation")
                return f"{r.name} — {state} — {r.presence_label}"
            if col == LATE:
                return "Heure d'arrivée de la famille, si elle est venue en retard"
            if col == CLEAR:
                return "Effacer le pointage (erreur de saisie)"
        if role == Qt.BackgroundRole and col in (NAME, CLASS, HEALTH, BY) and r.expected and not r.presence:
            return UNMARKED_ROW
        if role == Qt.ForegroundRole and col == HEALTH:
            return QColor("#B00020")
        if role == Qt.AccessibleTextRole:
            return f"{r.name} : {r.presence_label}"
        return None


class ButtonDelegate(QStyledItemDelegate):
    """Paints the button cells as rounded touch targets; the other cells as usual, larger."""

    def __init__(self, model: SheetModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.font = QFont()
        self.font.setPointSizeF(12)
        self.font.setBold(True)

    def paint(self, painter, option, index) -> None:
        if index.column() == NAME and self.model.compact:
            self._paint_name(painter, option, index)
            return
        if index.column() not in BUTTONS:
            super().paint(painter, option, index)
            return
        text, active, enabled = self.model.button(index)
        row = self.model.row(index)
        mark = MARK_OF.get(index.column())
        if index.column() == PRESENT and row.presence == Presence.WALK_IN:
            mark = Presence.WALK_IN
        fill, ink = COLOURS.get(mark, (QColor("#455A64"), QColor("#FFFFFF")))
        rect = QRectF(option.rect).adjusted(5, 6, -5, -6)
        painter.save()
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        if not enabled:
            painter.setPen(QPen(DISABLED, 1))
            painter.setBrush(Qt.NoBrush)
            ink = DISABLED
        elif active:
            painter.setPen(QPen(fill, 2))
            painter.setBrush(fill)
        else:
            painter.setPen(QPen(fill if mark else IDLE_INK, 1.5))
            painter.setBrush(IDLE_FILL)
            ink = fill if mark else IDLE_INK
        painter.drawRoundedRect(rect, 8, 8)
        painter.setPen(ink)
        painter.setFont(self.font)
        painter.drawText(rect, Qt.AlignCenter, ("✓ " if active and mark else "") + text)
        if option.state & QStyle.State_HasFocus:
            painter.setPen(QPen(QColor("#1E5AC8"), 2, Qt.DotLine))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-3, -3, 3, 3), 9, 9)
        painter.restore()

    def _paint_name(self, painter, option, index) -> None:
        """Two lines: the name, then the class and the health marks (red) in smaller type."""
        self.initStyleOption(option, index)
        option.text = ""
        option.widget.style().drawControl(QStyle.CE_ItemViewItem, option, painter, option.widget)
        row = self.model.row(index)
        rect = QRectF(option.rect).adjusted(6, 4, -4, -4)
        top, bottom = QRectF(rect.x(), rect.y(), rect.width(), rect.height() * 0.55), \
            QRectF(rect.x(), rect.y() + rect.height() * 0.55, rect.width(), rect.height() * 0.45)
        painter.save()
        painter.setFont(option.font)
        painter.setPen(option.palette.text().color())
        painter.drawText(top, Qt.AlignLeft | Qt.AlignVCenter, row.name)
        small = QFont(option.font)
        small.setPointSizeF(max(8.0, option.font.pointSizeF() * 0.75))
        painter.setFont(small)
        painter.setPen(QColor("#546E7A"))
        klass = f"{row.class_name}  " if row.class_name else ""
        painter.drawText(bottom, Qt.AlignLeft | Qt.AlignVCenter, klass)
        if row.health:
            shift = painter.fontMetrics().horizontalAdvance(klass)
            painter.setPen(QColor("#B00020"))
            painter.drawText(bottom.adjusted(shift, 0, 0, 0), Qt.AlignLeft | Qt.AlignVCenter,
                             painter.fontMetrics().elidedText(row.health, Qt.ElideRight, int(bottom.width() - shift)))
        painter.restore()
