"""The grid's column header in three bands: the day once over its units, the unit, the places
left — with today marked.

A plain header repeats "ma 1" over every unit of the day and cuts "118/120" in a narrow column;
this one paints the day across its unit columns, the unit's short name, and the places still
free (red when none), so unit columns can stay narrow and more days fit on the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QHeaderView

from gandrange_desk import formats
from gandrange_desk.ui.common.static_text import StaticTexts

from .grid_model import FIXED

BAND_FILL = QColor("#F2F2F2")
TODAY_FILL = QColor("#1E5AC8")
TODAY_INK = QColor("#FFFFFF")
INK = QColor("#202020")
FULL_INK = QColor("#B00020")
CLOSED_INK = QColor("#8C8C8C")
LINE = QColor("#C8C8C8")
DAY_LINE = QColor("#8C8C8C")


class DayHeader(QHeaderView):
    def __init__(self, parent=None):
        super().__init__(Qt.Horizontal, parent)
        self.today = None
        self.small = QFont(self.font())
        self.small.setPointSizeF(max(7.5, self.font().pointSizeF() - 1))
        self.bold = QFont(self.small)
        self.bold.setBold(True)
        self.small_texts = StaticTexts(self.small)
        self.bold_texts = StaticTexts(self.bold)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        # The height is fixed by the tab: Qt's own hint would read headerData of every section
        # after each change of the places, for a size nobody uses.
        return QSize(self.length(), max(self.height(), self.minimumHeight()))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        model = self.model()
        g = getattr(model, "grid", None)
        if g is None:
            super().paintEvent(event)
            return
        painter = QPainter(self.viewport())
        height = self.viewport().height()
        band = height // 3
        painter.fillRect(event.rect(), BAND_FILL)
        small, bold = self.small_texts, self.bold_texts
        spans: dict[int, list[tuple[int, int]]] = {}  # day index -> (x, w) of its shown columns
        open_days: set[int] = set()  # day indexes with a column open
        left_edge, right_edge = event.rect().left(), event.rect().right()
        places = []  # (x, w, left) of the shown columns with a capacity
        for col in range(FIXED, model.columnCount()):
            if self.isSectionHidden(col):
                continue
            x, w = self.sectionViewportPosition(col), self.sectionSize(col)
            if x + w < left_edge or x > right_edge:
                continue
            c = col - FIXED
            day_index, unit_index = g.columns[c]
            spans.setdefault(day_index, []).append((x, w))
            painter.fillRect(x + w - 1, band, 1, height - band + 1, LINE)  # a line, as a fill (grid_view)
            if g.closed[c]:
                continue
            open_days.add(day_index)
            unit = g.units[unit_index]
            painter.setFont(small.font)
            painter.setPen(INK)
            small.draw(painter, x + 1, band, w - 2, band, unit.short, centred=False) \
                if small.width(unit.short) > w - 2 else small.draw(painter, x, band, w, band, unit.short)
            if unit.capacity is not None:
                places.append((x, w, unit.capacity - g.used[c]))
        for x, w, left in places:
            texts = bold if left <= 0 else small
            painter.setPen(FULL_INK if left <= 0 else INK)
            painter.setFont(texts.font)
            texts.draw(painter, x, 2 * band, w, height - 2 * band, str(left))
        for day_index, parts in spans.items():
            day = g.days[day_index]
            left = min(x for x, _ in parts)
            right = max(x + w for x, w in parts)
            is_today = day == self.today
            if is_today:
                painter.fillRect(QRect(left, 0, right - left, height), QColor(30, 90, 200, 40))
                painter.fillRect(QRect(left, 0, right - left, band), TODAY_FILL)
            texts = bold if is_today else small
            painter.setFont(texts.font)
            painter.setPen(TODAY_INK if is_today else INK)
            label = f"{formats.WEEKDAYS_SHORT_FR[day.weekday()][:2]} {day.day}"
            if texts.width(label) > right - left - 2:
                label = str(day.day)
            texts.draw(painter, left, 0, right - left, band, label)
            if day_index not in open_days and self._closed_all_day(g, day_index):
                painter.setPen(CLOSED_INK)
                painter.setFont(small.font)
                small.draw(painter, left, band, right - left, height - band, "—")
            painter.fillRect(left, 0, 1, height + 1, DAY_LINE)
        painter.fillRect(0, band, self.viewport().width() + 1, 1, LINE)
        painter.fillRect(0, height - 1, self.viewport().width() + 1, 1, LINE)
        painter.end()

    @staticmethod
    def _closed_all_day(g, day_index: int) -> bool:
        return all(g.closed[c] for c, (d, _u) in enumerate(g.columns) if d == day_index)


__all__ = ["DayHeader"]
