"""Which model classifies on the Classify page: the one just trained, recent model files, a
starting model as it is (ImageNet labels), the COCO detectors, or another file. It shows the
model state and says what the chosen model knows; choosing one is the page's intent."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from monster_studio.app import model_keys
from monster_studio.core.wording import percent, visible
from monster_studio.ui import settings as store
from monster_studio.ui.inputs import ComboBox
from monster_studio.ui.style import role

OPEN = "open"


def detector_text(choice) -> str:
    return f"Find objects: {choice.spec.display_name} (COCO, no training) — {choice.status}"


def detector_words(name: str, guidance: str) -> str:
    return (f"Finds and boxes people, animals, vehicles and 77 more kinds of things (COCO) with {name}, "
            f"no training. {guidance}").strip()


def model_words(info) -> str:
    """What a ready model (app.model_keys.ModelInfo) knows, in one line."""
    if info.kind == "detector":
        return detector_words(info.name, info.guidance)
    if info.kind == "imagenet":
        return f"Names 1000 everyday things, animals and objects (ImageNet) with {info.backbone}, no training."
    classes = [visible(c) for c in info.classes]
    shown = ", ".join(classes[:8]) + (f" and {len(classes) - 8} more" if len(classes) > 8 else "")
    acc = info.metrics.get("val_accuracy")
    acc_text = f" · {percent(acc)} right on its check pictures" if isinstance(acc, float) and acc == acc else ""
    where = f" · {visible(info.source)}" if info.source else ""
    return f"Knows {len(classes)} classes: {shown} · built on {info.backbone}{acc_text}{where}"


class ModelPicker(QWidget):
    chosen = Signal(str)  # a model key the user picked
    openFileRequested = Signal()

    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Model"))
        self.combo = ComboBox()
        self.combo.setMinimumContentsLength(30)
        self.combo.setToolTip("Which model names the pictures")
        row.addWidget(self.combo, 1)
        self.open_button = QPushButton("Open model file…")
        self.open_button.setToolTip("Use a .monster file saved earlier (Ctrl+Shift+O)")
        self.open_button.clicked.connect(self.openFileRequested)
        row.addWidget(self.open_button)
        box.addLayout(row)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        role(self.label, "hint")
        box.addWidget(self.label)
        self._previous_index = 0
        self.combo.currentIndexChanged.connect(self._on_index)
        state.model.changed.connect(self._on_model)
        state.engine.changed.connect(self.fill)
        self.fill()

    def selected_key(self) -> str:
        return self.combo.currentData() or ""

    def fill(self, select: str | None = None) -> None:
        current = select or self.selected_key()
        engine = self.state.engine
        self.combo.blockSignals(True)
        self.combo.clear()
        trained = self.state.model.trained
        if trained is not None:
            acc = trained.metrics.get("val_accuracy")
            acc_text = f", {percent(acc)} on its check pictures" if acc is not None and acc == acc else ""
            self.combo.addItem(visible(f"Model just trained ({trained.name}){acc_text}"), model_keys.TRAINED)
        for path in store.recent_models():
            p = Path(path)
            self.combo.addItem(visible(f"{p.name}  —  {p.parent}"), model_keys.file_key(path))
            self.combo.setItemData(self.combo.count() - 1, visible(path), Qt.ItemDataRole.ToolTipRole)
        self.combo.addItem("ImageNet labels (no training)", model_keys.imagenet_key(engine.default_backbone))
        self.combo.setItemData(self.combo.count() - 1, "The starting model as it is: names 1000 everyday things, "
                               "animals and objects, with no training", Qt.ItemDataRole.ToolTipRole)
        for choice in engine.detectors:
            self.combo.addItem(detector_text(choice), model_keys.detector_key(choice.id))
            self.combo.setItemData(self.combo.count() - 1, "Finds and boxes 80 kinds of everyday things (COCO): "
                                   f"people, animals, vehicles, food… {choice.spec.guidance}",
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.insertSeparator(self.combo.count())
        self.combo.addItem("Open model file…", OPEN)
        index = max(0, self.combo.findData(current) if current else 0)
        self.combo.setCurrentIndex(index)
        self._previous_index = index
        self.combo.blockSignals(False)
        self.open_button.setEnabled(engine.ready)
        self.describe()

    def select(self, key: str) -> bool:
        """Show `key` as chosen (adding a file to the list); True when it is in the list."""
        if model_keys.kind(key) == "file" and self.combo.findData(key) < 0:
            store.remember_model(model_keys.value(key))
            self.fill(select=self.selected_key())
        index = self.combo.findData(key)
        if index < 0:
            return False
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(index)
        self._previous_index = index
        self.combo.blockSignals(False)
        self.describe()
        return True

    def _on_index(self, index: int) -> None:
        key = self.combo.itemData(index)
        if key == OPEN:
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(self._previous_index)
            self.combo.blockSignals(False)
            self.openFileRequested.emit()
            return
        self._previous_index = index
        self.describe()
        if key:
            self.chosen.emit(key)

    def _on_model(self) -> None:
        m = self.state.model
        if m.trained is not None and self.combo.findData(model_keys.TRAINED) < 0:
            self.fill()
        elif m.trained is not None:
            self.fill()  # its accuracy in the text is the new model's
        info = m.info
        if info is not None and info.kind == "file" and info.source:
            store.remember_model(info.source)
        if info is not None and info.kind == "detector":  # its weights are on disk now: say so in the list
            index = self.combo.findData(info.key)
            choice = self.state.engine.choice(model_keys.value(info.key))
            if index >= 0 and choice is not None:
                self.combo.setItemText(index, detector_text(type(choice)(choice.spec, info.status)))
        self.describe()

    def describe(self) -> None:
        key, m = self.selected_key(), self.state.model
        loading = m.loading and m.requested == key
        info = m.info if m.info is not None and m.info.key == key else None
        if info is not None:
            self.label.setText(model_words(info))
        elif model_keys.kind(key) == "imagenet":
            self.label.setText("Names 1000 everyday things, animals and objects (ImageNet), with no training. "
                               + ("Loading…" if loading else "It loads when you drop the first picture."))
        elif model_keys.is_detector(key):
            choice = self.state.engine.choice(model_keys.value(key))
            name, guidance = (choice.spec.display_name, choice.spec.guidance) if choice else ("a detector", "")
            self.label.setText(detector_words(name, guidance) + " "
                               + ("Loading…" if loading else "It loads when you drop the first picture."))
        else:
            self.label.setText("Loading the model…" if loading else "")
