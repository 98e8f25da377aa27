"""Pictures for the window, made on the runner's thread: Pillow pictures as QImage (which, unlike
QPixmap, is safe off the GUI thread), and a detector's boxes drawn on a preview."""
from __future__ import annotations

import zlib

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen

CLASS_THUMB_PX = 56
CARD_THUMB_PX = 192
DRAWN_BOXES = 12  # the best few are drawn on a card's picture; the rest only counted
BOX_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#0f9b9b", "#d6249f", "#808000",
               "#9a6324", "#000075")


def qimage(pil_image) -> QImage:
    """A Pillow picture as a QImage that owns its pixels."""
    img = pil_image.convert("RGB")
    w, h = img.size
    return QImage(img.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def thumbnail(path: str, size: int) -> QImage | None:
    """A preview of a picture file, or None when it cannot be read."""
    from monster_studio.core import images

    try:
        return qimage(images.thumbnail(path, size))
    except images.BadPicture:
        return None


def box_colour(label: str) -> str:
    """One colour per kind of thing, the same on every picture and in the card's list."""
    return BOX_COLOURS[zlib.crc32(label.encode("utf-8", "surrogateescape")) % len(BOX_COLOURS)]


def boxed(image: QImage, size: tuple[int, int], found: list) -> QImage:
    """A thumbnail with the found things' boxes and labels drawn on it. `size` is the picture's own
    size, which the boxes are measured in; `found`: core.detect.Found, best first."""
    from monster_studio.core.wording import visible

    out = image.convertToFormat(QImage.Format.Format_RGB32)
    scale = out.width() / size[0] if size[0] else 1.0
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(10)
    font.setBold(True)
    painter.setFont(font)
    metrics = QFontMetrics(font)
    for f in reversed(found[:DRAWN_BOXES]):  # the most certain last, on top
        colour = QColor(box_colour(f.label))
        x0, y0, x1, y1 = (v * scale for v in f.box)
        painter.setPen(QPen(colour, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(x0, y0, max(1.0, x1 - x0), max(1.0, y1 - y0)))
        text = f"{visible(f.label)} {f.score * 100:.0f}%"
        tag = QRectF(0, 0, metrics.horizontalAdvance(text) + 6, metrics.height() + 2)
        tag.moveTo(min(max(0.0, x0), max(0.0, out.width() - tag.width())),
                   y0 - tag.height() if y0 >= tag.height() else max(0.0, y0))
        painter.fillRect(tag, colour)
        painter.setPen(QColor("white"))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return out
