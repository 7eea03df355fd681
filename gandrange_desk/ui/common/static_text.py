"""Short texts painted again on every paint of a view (names, classes, day labels, places left),
laid out once.

`QPainter.drawText(rect, flags, text)` lays its string out on every call: 5–30 µs here, and the
grid's names and header draw ~250 of them per paint, more than the rest of the paint together.
A prepared `QStaticText` is drawn in ~3 µs. One `StaticTexts` holds the texts of one font; the
painter must have that font set when they are drawn (Qt's own condition for a static text).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QStaticText, QTransform

PLAIN = Qt.TextFormat.PlainText
ELIDE = Qt.TextElideMode.ElideRight


class StaticTexts:
    def __init__(self, font: QFont, limit: int = 1_000):
        self.font = QFont(font)
        self.metrics = QFontMetrics(self.font)
        # ~1.8 KB a laid-out name: the 7,000 names of a month at 8,000 families would hold
        # ~13 MB. A screen shows ~30 rows; past the limit the texts are laid out again.
        self.limit = limit
        self._texts: dict[tuple[str, int], tuple[QStaticText, float, float]] = {}

    def _entry(self, text: str, width: int) -> tuple[QStaticText, float, float]:
        key = (text, width)
        entry = self._texts.get(key)
        if entry is None:
            if len(self._texts) >= self.limit:
                self._texts.clear()
            shown = text
            if width and self.metrics.horizontalAdvance(text) > width:
                shown = self.metrics.elidedText(text, ELIDE, width)
            static = QStaticText(shown)
            static.setTextFormat(PLAIN)
            static.prepare(QTransform(), self.font)
            size = static.size()
            entry = self._texts[key] = (static, size.width(), size.height())
        return entry

    def draw(self, painter: QPainter, x: int, y: int, w: int, h: int, text: str, *,
             centred: bool = True) -> None:
        """`text` in the box (x, y, w, h): centred, or left-aligned and cut with « … » to the
        box's width; vertically centred either way."""
        if not text:
            return
        static, tw, th = self._entry(text, 0 if centred else w)
        left = x + (w - tw) / 2 if centred else x
        painter.drawStaticText(QPointF(left, y + (h - th) / 2), static)

    def width(self, text: str) -> float:
        return self._entry(text, 0)[1]


__all__ = ["StaticTexts"]
