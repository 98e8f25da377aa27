"""Which pretrained network to start from: the catalogue, each with where its weights are
(bundled / on disk / download of N MB) and one line of guidance."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from monster_studio.ui.style import role

SPEED = {"fast": "fast", "balanced": "balanced", "most accurate": "most accurate"}


class BackbonePicker(QWidget):
    changed = Signal(str)
    importClicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        self.combo = QComboBox()
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
        self.import_button.setToolTip("Install this network's weights from a file copied from another computer")
        self.import_button.hide()
        row.addWidget(self.import_button)
        box.addLayout(row)
        self.guidance = QLabel()
        self.guidance.setWordWrap(True)
        role(self.guidance, "hint")
        box.addWidget(self.guidance)
        self.entries: dict[str, dict] = {}
        self.combo.currentIndexChanged.connect(self._on_index)
        self.import_button.clicked.connect(lambda: self.importClicked.emit(self.current()))

    def set_catalogue(self, entries: list[dict], select: str) -> None:
        keep = self.current() or select
        self.entries = {e["id"]: e for e in entries}
        self.combo.blockSignals(True)
        self.combo.clear()
        for e in entries:
            self.combo.addItem(f"{e['name']}  ·  {SPEED.get(e['speed'], e['speed'])}", e["id"])
            self.combo.setItemData(self.combo.count() - 1, e["guidance"], 3)  # tooltip role
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

    def entry(self, backbone_id: str | None = None) -> dict | None:
        return self.entries.get(backbone_id or self.current())

    def _on_index(self, *_):
        e = self.entry()
        if e is None:
            return
        status = e["status"]
        if status == "bundled":
            self.status.setText("✓ Comes with the app: works offline")
            role(self.status, "status-ok")
        elif status == "on disk":
            self.status.setText("✓ Weights are on this computer")
            role(self.status, "status-ok")
        else:
            self.status.setText(f"⬇ Needs a {status} the first time (internet)")
            role(self.status, "status-warn")
        self.import_button.setVisible(status.startswith("download"))
        self.guidance.setText(e["guidance"])
        self.changed.emit(e["id"])
