"""The grid's two views, each painting its visible part in one pass over the model's arrays.

QTableView paints cell by cell through the delegate (a Python call and a style option per
cell); a month of 700 rows shows ~1,000 cells at once, so the views paint themselves: one fill
per closed column, one fill and one text per booked cell, the lines once per row and column.
The delegate (grid_delegate) keeps the same colours for anything painted outside these views.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPainter, QPen, QPixmap
from PySide6.QtWidgets import QTableView

from gandrange_desk.ui.common.static_text import StaticTexts

CENTER = int(Qt.AlignCenter.value)

from .grid_delegate import (
    CLOSED_FILL, COLOURS, DAY_LINE, FOCUS, GRID_LINE, HATCH, MARK_INK, SELECTION, TEXT_INK, UNREAD_FILL,
    WHITE,
)
from .grid_model import CODE_TEXT, FIXED, MARK_COL, UNREAD



def _visible_span(view, rect, count_rows: int, count_cols: int):
    first_row = view.rowAt(rect.top())
    last_row = view.rowAt(rect.bottom())
    first_row = 0 if first_row < 0 else first_row
    last_row = count_rows - 1 if last_row < 0 else last_row
    first_col = view.columnAt(rect.left())
    last_col = view.columnAt(rect.right())
    first_col = 0 if first_col < 0 else first_col
    last_col = count_cols - 1 if last_col < 0 else last_col
    return first_row, last_row, first_col, last_col


class GridView(QTableView):
    """The day area: Space acts, Suppr cancels, Entrée moves down as in a spreadsheet."""

    act = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.today = None  # its day gets a blue line, as its header band is blue
        self.cell_font = None
        self.focus_pen = QPen(FOCUS, 2)
        self.dashed = {code: QPen(ink, 1, Qt.DashLine) for code, (_, ink) in COLOURS.items()}
        self._tiles: dict[tuple[int, int, int], QPixmap] = {}

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key == Qt.Key_Space and not event.modifiers():
            self.act.emit("default")
            return
        if key == Qt.Key_Delete:
            self.act.emit("cancel")
            return
        if key in (Qt.Key_Return, Qt.Key_Enter):
            up = bool(event.modifiers() & Qt.ShiftModifier)
            current = self.currentIndex()
            row = current.row() + (-1 if up else 1)
            if 0 <= row < self.model().rowCount():
                self.setCurrentIndex(self.model().index(row, current.column()))
            return
        super().keyPressEvent(event)

    def paintEvent(self, event) -> None:
        model = self.model()
        g = getattr(model, "grid", None)
        rows = model.rowCount()
        if g is None or rows == 0:
            super().paintEvent(event)
            return
        if self.cell_font is None:
            self.cell_font = self.font()
            self.cell_font.setBold(True)
            self.cell_font.setPointSizeF(8.5)
        painter = QPainter(self.viewport())
        rect = event.rect()
        painter.fillRect(rect, WHITE)
        first_row, last_row, first_col, last_col = _visible_span(self, rect, rows, model.columnCount())
        row_h = self.verticalHeader().defaultSectionSize()
        y0 = self.rowViewportPosition(first_row)
        height = (last_row - first_row + 1) * row_h
        header = self.horizontalHeader()
        visible, states, closed, columns = model.visible, g.states, g.closed, g.columns
        row_states = [states[visible[r]] for r in range(first_row, last_row + 1)]
        loaded = g.loaded
        # Rows not read yet (a paged open): a pale band, never white cells that look free.
        unread = [] if loaded is None else \
            [i for i, r in enumerate(range(first_row, last_row + 1)) if not loaded[visible[r]]]
        spans = []  # (x, w, c) of the columns drawn
        for col in range(max(first_col, FIXED), last_col + 1):
            if header.isSectionHidden(col):
                continue
            x = self.columnViewportPosition(col)
            w = header.sectionSize(col)
            c = col - FIXED
            spans.append((x, w, c))
            if closed[c]:
                painter.fillRect(x, y0, w, height, CLOSED_FILL)
                continue
            for i in unread:
                painter.fillRect(x, y0 + i * row_h, w, row_h, UNREAD_FILL)
            y = y0
            for row_state in row_states:
                code = row_state[c]
                if code:
                    painter.drawPixmap(x, y, self._tile(code, w, row_h))
                y += row_h
        if not spans:
            painter.end()
            return
        left = spans[0][0]
        right = spans[-1][0] + spans[-1][1]
        self._paint_selection(painter, spans, first_row, last_row, y0, row_h, closed)
        # Lines as 1-pixel fills: a pen's line is rasterised pixel by pixel (~6 µs for a row's
        # width), a solid fill is a span (~1 µs); the pixels are the same.
        for i in range(last_row - first_row + 1):
            painter.fillRect(left, y0 + (i + 1) * row_h - 1, right - left + 1, 1, GRID_LINE)
        for x, w, c in spans:
            painter.fillRect(x + w - 1, y0, 1, height + 1, GRID_LINE)
        first_of_day = {}
        for x, w, c in spans:
            first_of_day.setdefault(columns[c][0], x)
            if columns[c][1] == 0:
                painter.fillRect(x, y0, 1, height + 1, DAY_LINE)
        if self.today is not None and self.today in g.days:
            x = first_of_day.get(g.days.index(self.today))
            if x is not None:
                painter.fillRect(x, y0, 2, height, FOCUS)
        current = self.currentIndex()
        if current.isValid() and self.hasFocus() and current.column() >= FIXED:
            r = self.visualRect(current)
            painter.setPen(self.focus_pen)
            painter.drawRect(r.adjusted(1, 1, -1, -1))
        painter.end()

    def _tile(self, code: int, w: int, h: int) -> QPixmap:
        """A booked cell drawn once per (code, size) and then blitted: text layout per cell
        would cost more than everything else in the paint."""
        key = (code, w, h)
        tile = self._tiles.get(key)
        if tile is None:
            ratio = self.devicePixelRatioF()
            tile = QPixmap(int(w * ratio), int(h * ratio))
            tile.setDevicePixelRatio(ratio)
            fill, ink = COLOURS[code]
            tile.fill(fill)
            p = QPainter(tile)
            if code == 3:
                p.fillRect(0, 0, w, h, HATCH)
            elif code == 1:
                p.setPen(self.dashed[1])
                p.drawRect(2, 2, w - 5, h - 5)
            p.setFont(self.cell_font)
            p.setPen(ink)
            p.drawText(0, 0, w, h, CENTER, CODE_TEXT[code])
            p.end()
            self._tiles[key] = tile
        return tile

    def _paint_selection(self, painter, spans, first_row, last_row, y0, row_h, closed) -> None:
        selection = self.selectionModel().selection() if self.selectionModel() else []
        for rng in selection:
            top, bottom = max(rng.top(), first_row), min(rng.bottom(), last_row)
            if top > bottom:
                continue
            y = y0 + (top - first_row) * row_h
            h = (bottom - top + 1) * row_h
            for x, w, c in spans:
                if rng.left() <= c + FIXED <= rng.right() and not closed[c]:
                    painter.fillRect(x, y, w, h, SELECTION)


class NamesView(QTableView):
    """The frozen columns: child, class, health mark, month total."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._texts: tuple[StaticTexts, StaticTexts] | None = None  # normal, bold

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.type() == QEvent.FontChange:
            self._texts = None
        super().changeEvent(event)

    def paintEvent(self, event) -> None:
        model = self.model()
        g = getattr(model, "grid", None)
        rows = model.rowCount()
        if g is None or rows == 0:
            super().paintEvent(event)
            return
        if self._texts is None:
            bold = self.font()
            bold.setBold(True)
            self._texts = (StaticTexts(self.font()), StaticTexts(bold))
        texts, bold_texts = self._texts
        painter = QPainter(self.viewport())
        rect = event.rect()
        painter.fillRect(rect, WHITE)
        first_row, last_row, _, _ = _visible_span(self, rect, rows, FIXED)
        row_h = self.verticalHeader().defaultSectionSize()
        y0 = self.rowViewportPosition(first_row)
        xs = [(self.columnViewportPosition(c), self.columnWidth(c)) for c in range(FIXED)]
        visible = model.visible
        painter.setFont(texts.font)
        painter.setPen(TEXT_INK)
        marks = []
        y = y0
        name_x, name_w = xs[0]
        class_x, class_w = xs[1]
        total_x, total_w = xs[3]
        for r in range(first_row, last_row + 1):
            i = visible[r]
            texts.draw(painter, name_x + 4, y, name_w - 6, row_h, g.names[i], centred=False)
            texts.draw(painter, class_x, y, class_w, row_h, g.classes[i])
            texts.draw(painter, total_x, y, total_w, row_h, str(g.total(i)) if g.row_loaded(i) else UNREAD)
            if g.marks[i]:
                marks.append((y, g.marks[i]))
            y += row_h
        if marks:
            x, w = xs[MARK_COL]
            painter.setPen(MARK_INK)
            painter.setFont(bold_texts.font)
            for yy, mark in marks:
                bold_texts.draw(painter, x, yy, w, row_h, mark)
        right = xs[-1][0] + xs[-1][1]
        for i in range(last_row - first_row + 1):
            painter.fillRect(0, y0 + (i + 1) * row_h - 1, right + 1, 1, GRID_LINE)
        for x, w in xs:
            painter.fillRect(x + w - 1, y0, 1, y - y0 + 1, GRID_LINE)
        painter.end()


__all__ = ["GridView", "NamesView"]
