"""Draw the program icon (resources/icons/gandrange-desk.png and .ico) — run again to change it.

A blue rounded square with a white "G" and a small house roof: readable at 16 px in the taskbar.
Qt draws it (antialiased, offscreen); Pillow, already there for fpdf2, writes the multi-size .ico.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPainterPath, QPen  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"


def draw(size: int = 256) -> QImage:
    image = QImage(size, size, QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.Antialiasing)
    margin = size * 0.04
    rect = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor("#1d5fa8"))
    p.drawRoundedRect(rect, size * 0.18, size * 0.18)
    roof = QPainterPath()
    roof.moveTo(QPointF(size * 0.22, size * 0.36))
    roof.lineTo(QPointF(size * 0.50, size * 0.14))
    roof.lineTo(QPointF(size * 0.78, size * 0.36))
    p.setPen(QPen(QColor("#f2b632"), size * 0.06, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
    p.setBrush(Qt.NoBrush)
    p.drawPath(roof)
    font = QFont("DejaVu Sans")
    font.setBold(True)
    font.setPixelSize(int(size * 0.50))
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(QRectF(0, size * 0.26, size, size * 0.66), Qt.AlignCenter, "G")
    p.end()
    return image


def main() -> int:
    from PIL import Image

    QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    image = draw(256)
    image.save(str(OUT / "gandrange-desk.png"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, "PNG")
    pil = Image.open(io.BytesIO(bytes(data)))
    pil.save(OUT / "gandrange-desk.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    print(f"written: {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
