"""The big target on the Classify page: drop pictures or folders, or use the buttons beside it."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from monster_studio.ui.style import set_prop


def local_paths(mime: QMimeData) -> list[str]:
    """The local files and folders a drop or a paste carries (web links are ignored)."""
    if mime is None or not mime.hasUrls():  # an empty clipboard has no data at all
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def drop_icon(size: int = 56, colour: str = "#8f7bd6") -> QPixmap:
    """A tray with an arrow falling into it."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(colour), size / 14, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    s = size
    tray = QPainterPath(QPointF(s * 0.12, s * 0.55))
    tray.lineTo(s * 0.12, s * 0.86)
    tray.lineTo(s * 0.88, s * 0.86)
    tray.lineTo(s * 0.88, s * 0.55)
    p.drawPath(tray)
    p.drawLine(QPointF(s * 0.5, s * 0.1), QPointF(s * 0.5, s * 0.64))
    arrow = QPainterPath(QPointF(s * 0.32, s * 0.46))
    arrow.lineTo(s * 0.5, s * 0.66)
    arrow.lineTo(s * 0.68, s * 0.46)
    p.drawPath(arrow)
    p.end()
    return pm


class DropZone(QFrame):
    pathsDropped = Signal(list)
    openFilesClicked = Signal()
    openFolderClicked = Signal()
    pasteClicked = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setMinimumHeight(120)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 18, 24, 18)
        outer.setSpacing(10)
        outer.addStretch(1)
        self.icon = QLabel()
        self.icon.setPixmap(drop_icon())
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.icon)
        self.title = QLabel("Drop pictures or folders here")
        self.title.setObjectName("dropTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.title)
        self.hint = QLabel("Each picture gets a card with the model's top guesses; a folder fills the table.")
        self.hint.setProperty("role", "hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        outer.addWidget(self.hint)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_files = QPushButton("Open pictures…")
        self.open_files.setToolTip("Choose one or more pictures to classify (Ctrl+O)")
        self.open_folder = QPushButton("Open folder…")
        self.open_folder.setToolTip("Classify every picture in a folder and its subfolders")
        self.paste = QPushButton("Paste")
        self.paste.setToolTip("Classify pictures or files copied to the clipboard (Ctrl+V)")
        for b in (self.open_files, self.open_folder, self.paste):
            buttons.addWidget(b)
        buttons.addStretch(1)
        outer.addLayout(buttons)
        outer.addStretch(1)
        self.open_files.clicked.connect(self.openFilesClicked)
        self.open_folder.clicked.connect(self.openFolderClicked)
        self.paste.clicked.connect(self.pasteClicked)

    def set_compact(self, compact: bool) -> None:
        """Large while nothing is classified yet, a band above the results afterwards."""
        self.hint.setVisible(not compact)
        self.icon.setVisible(not compact)
        self.setMaximumHeight(116 if compact else 16777215)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
            set_prop(self, "hover", "true")
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        set_prop(self, "hover", "false")

    def dropEvent(self, event: QDropEvent) -> None:
        set_prop(self, "hover", "false")
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.pathsDropped.emit(paths)
