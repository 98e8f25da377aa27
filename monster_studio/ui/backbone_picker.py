"""Which starting model to build on: the catalogue, each entry with where its weights are
(bundled / on disk / its download size) and one line of guidance and cost."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from monster_studio.ui.inputs import ComboBox
from monster_studio.ui.style import role


def status_words(status: str) -> str:
    if status == "bundled":
        return "comes with the app"
    if status == "on disk":
        return "on this computer"
    return status.replace("download of", "download")  # "download 45 MB"


class BackbonePicker(QWidget):
    changed = Signal(str)
    importClicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        self.combo = ComboBox()
        self.combo.setToolTip("The pretrained network the new classifier is built on")
        self.combo.addItem("Starting the engine…")
        self.combo.setEnabled(False)
        self.combo.setMinimumContentsLength(24)
        box.addWidget(self.combo)
        row = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        row.addWidget(self.status, 1)
        self.import_button = QPushButton("Import weights file…")
        self.import_button.setToolTip("Install this starting model's weights from a file copied from another computer")
        self.import_button.hide()
        row.addWidget(self.import_button)
        box.addLayout(row)
        self.guidance = QLabel()
        self.guidance.setWordWrap(True)
        role(self.guidance, "hint")
        box.addWidget(self.guidance)
        self.entries: dict = {}  # id -> results.Choice
        self.combo.currentIndexChanged.connect(self._on_index)
        self.import_button.clicked.connect(lambda: self.importClicked.emit(self.current()))

    def set_catalogue(self, choices: list, select: str) -> None:
        keep = self.current() or select
        self.entries = {c.id: c for c in choices}
        self.combo.blockSignals(True)
        self.combo.clear()
        for c in choices:
            # The download size shows before it is picked (the README promises it).
            self.combo.addItem(f"{c.spec.display_name}  ·  {c.spec.speed}  ·  {status_words(c.status)}", c.id)
            self.combo.setItemData(self.combo.count() - 1, f"{c.spec.guidance} {c.spec.cost}",
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.setEnabled(True)
        index = self.combo.findData(keep)
        self.combo.setCurrentIndex(index if index >= 0 else max(0, self.combo.findData(select)))
        self.combo.blockSignals(False)
        self._on_index()

    def current(self) -> str:
        return self.combo.currentData() or ""

    def select(self, backbone_id: str) -> None:
        index = self.combo.findData(backbone_id)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def entry(self, backbone_id: str | None = None):
        return self.entries.get(backbone_id or self.current())

    def _on_index(self, *_):
        c = self.entry()
        if c is None:
            return
        if c.status == "bundled":
            self.status.setText("✓ Comes with the app: works offline")
            role(self.status, "status-ok")
        elif c.status == "on disk":
            self.status.setText("✓ Weights are on this computer")
            role(self.status, "status-ok")
        else:
            self.status.setText(f"⬇ Needs a {c.status} the first time (internet)")
            role(self.status, "status-warn")
        self.import_button.setVisible(c.status.startswith("download"))
        self.guidance.setText(f"{c.spec.guidance} {c.spec.cost}".strip())
        self.changed.emit(c.id)
