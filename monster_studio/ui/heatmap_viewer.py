"""A heatmap shown bigger: the picture with warm colours where it led the model to a class, and
what that class's probability was. One small window, reused."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout

from monster_studio.core.wording import visible
from monster_studio.ui.style import role

WHAT = ("Warm colours show where the picture led the model to this class; blue, where it did not. "
        "The dimmed edges are outside the part the model looks at.")


class HeatmapViewer(QDialog):
    _open: "HeatmapViewer | None" = None

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("What led to the answer")
        box = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setStyleSheet("font-weight: 600;")
        box.addWidget(self.title)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.picture, 1)
        hint = QLabel(WHAT)
        hint.setWordWrap(True)
        role(hint, "hint")
        box.addWidget(hint)

    def show_heatmap(self, item) -> None:
        self.title.setText(visible(f"{item.label}: {item.probability * 100:.0f}% — {item.path}"))
        self.picture.setPixmap(QPixmap.fromImage(item.image))
        self.resize(max(420, item.image.width() + 40), item.image.height() + 120)
        self.show()
        self.raise_()

    @classmethod
    def show_picture(cls, parent, item) -> "HeatmapViewer":
        if cls._open is None or not cls._open.isVisible():
            cls._open = cls(parent.window())
        cls._open.show_heatmap(item)
        return cls._open
