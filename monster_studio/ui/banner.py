"""An inline message above a page: what happened in plain words, and buttons for the way out."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QToolButton, QVBoxLayout

from monster_studio.ui.style import set_prop

_ICONS = {"error": QStyle.StandardPixmap.SP_MessageBoxCritical,
          "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
          "info": QStyle.StandardPixmap.SP_MessageBoxInformation}


class Banner(QFrame):
    closed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setProperty("level", "info")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 10, 8, 10)
        row.setSpacing(10)
        self._icon = QLabel()
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        row.addWidget(self._icon)
        body = QVBoxLayout()
        body.setSpacing(8)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body.addWidget(self.text)
        self._buttons = QHBoxLayout()
        self._buttons.setSpacing(8)
        self._buttons.addStretch(1)
        body.addLayout(self._buttons)
        row.addLayout(body, 1)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide this message")
        close.clicked.connect(self.dismiss)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.level = "info"
        self.hide()

    def show_message(self, text: str, level: str = "error",
                     actions: list[tuple[str, Callable[[], None]]] | None = None) -> None:
        self.level = level
        set_prop(self, "level", level)
        icon = self.style().standardIcon(_ICONS.get(level, _ICONS["info"]))
        self._icon.setPixmap(icon.pixmap(24, 24))
        self.text.setText(text)
        while self._buttons.count() > 1:
            item = self._buttons.takeAt(1)
            if item.widget() is not None:
                item.widget().deleteLater()
        for label, callback in actions or []:
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, cb=callback: (self.dismiss(), cb()))
            self._buttons.addWidget(button)
        self.show()

    def dismiss(self) -> None:
        if self.isVisible():
            self.hide()
            self.closed.emit()

    def action_labels(self) -> list[str]:
        return [self._buttons.itemAt(i).widget().text() for i in range(1, self._buttons.count())
                if self._buttons.itemAt(i).widget() is not None]

    def trigger(self, label: str) -> None:
        """Press one of the way-out buttons by its text (keyboard users and tests)."""
        for i in range(1, self._buttons.count()):
            w = self._buttons.itemAt(i).widget()
            if w is not None and w.text() == label:
                w.click()
                return
        raise KeyError(label)
