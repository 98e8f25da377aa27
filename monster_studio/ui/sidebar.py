"""The window's left side: the app's name and icon, the two pages to choose from, and whether the
engine is ready."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from monster_studio import APP_NAME, __version__


class Sidebar(QWidget):
    def __init__(self, icon, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # a QWidget subclass: draw its QSS background
        self.setFixedWidth(172)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 18, 0, 14)
        box.setSpacing(4)
        logo = QLabel()
        logo.setPixmap(icon.pixmap(64, 64))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(logo)
        for text, name in ((APP_NAME, "appName"), (f"version {__version__}", "appVersion")):
            label = QLabel(text)
            label.setObjectName(name)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box.addWidget(label)
        box.addSpacing(18)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(18, 18))
        for text, tip in (("①  Train", "Build a classifier from a folder of pictures (Ctrl+1)"),
                          ("②  Classify", "Drop pictures to see what they are (Ctrl+2)")):
            item = QListWidgetItem(text)
            item.setToolTip(tip)
            item.setSizeHint(QSize(150, 44))
            self.nav.addItem(item)
        self.nav.setFixedHeight(2 * 50)
        box.addWidget(self.nav)
        box.addStretch(1)
        self.engine_label = QLabel("Starting the engine…")
        self.engine_label.setObjectName("appVersion")
        self.engine_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.engine_label.setWordWrap(True)
        box.addWidget(self.engine_label)
