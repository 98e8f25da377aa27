"""One line of words that change often (what runs, the time left), drawn to fit its width.

A QLabel's size follows its text, so each change of a progress line made Qt lay out the whole page
again, the splitter and the plot included (measured with benchmarks/responsiveness.py: 10 to 20 ms
of layout and 30 to 40 ms of plot redrawn, once a second while training). This widget's size does
not depend on its text: a change repaints the line and nothing else. Text too long for the width is
elided, and the whole of it is the tooltip."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


class StatusLine(QWidget):
    def __init__(self, text: str = "", align=Qt.AlignmentFlag.AlignLeft, bold: bool = False,
                 colour: str | None = None, room_for: str = "", parent=None) -> None:
        """`room_for`: a sample text whose width the line asks for (it never asks for more)."""
        super().__init__(parent)
        self._text = ""
        self._align = align | Qt.AlignmentFlag.AlignVCenter
        self._colour = QColor(colour) if colour else None
        if bold:
            font = self.font()
            font.setWeight(font.Weight.DemiBold)
            self.setFont(font)
        self._room = self.fontMetrics().horizontalAdvance(room_for) if room_for else 0
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 2)
        self.setText(text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name, for the callers
        text = str(text)
        if text == self._text:
            return
        self._text = text
        self._tip()
        self.update()

    def _tip(self) -> None:
        """The whole text as the tooltip while it is elided."""
        cut = self.fontMetrics().horizontalAdvance(self._text) > self.contentsRect().width()
        self.setToolTip(self._text if cut else "")

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._tip()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's names
        return QSize(self._room, self.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, self.height())

    def paintEvent(self, _event) -> None:  # noqa: N802
        if not self._text:
            return
        painter = QPainter(self)
        if self._colour is not None:
            painter.setPen(self._colour)
        else:
            painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(self._align), text)
        painter.end()
