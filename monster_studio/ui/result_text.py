"""Rich text that is read, selected and scrolled, never edited: a training's result in words.

A QTextBrowser rather than a QLabel in a scroll area: it lays its document out once per width,
where the label's rich text was laid out again for every size its scroll area tried. With the
result's table in it, setting the text cost 12 ms against 3 ms, and a resize 6 ms against 1.3 ms
(offscreen, this project's 2-core CPU): time the window could not draw while a training ended."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QFrame, QTextBrowser


class ResultText(QTextBrowser):
    def __init__(self, html: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the lines wrap
        self.setStyleSheet("QTextBrowser { background: white; }")
        self._source = ""
        self.setText(html)

    def text(self) -> str:
        """The HTML as it was given (what a QLabel's text() returns)."""
        return self._source

    def setText(self, html: str) -> None:  # noqa: N802 - QLabel's name, which the callers use
        if html != self._source:
            self._source = html
            self.setHtml(html)

    def height_for(self, width: int, html: str | None = None) -> int:
        """Pixels this text (or `html` shown here instead) needs at `width` pixels wide, to show
        all of it without scrolling."""
        if html is None:
            doc = self.document().clone(self)
        else:
            doc = QTextDocument(self)
            doc.setDefaultFont(self.document().defaultFont())
            doc.setDocumentMargin(self.document().documentMargin())
            doc.setHtml(html)
        doc.setTextWidth(max(1, width - 2 * self.frameWidth()))
        height = doc.size().height()
        doc.deleteLater()
        return int(height + 0.999) + 2 * self.frameWidth()
