"""How readily a model says "not sure": a choice in words, kept between launches. A model is
calibrated so that about this share of its own check pictures pass as sure."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from monster_studio.ui import settings as store
from monster_studio.ui.inputs import ComboBox

CHOICES = (("rarely", 0.99, "Say “not sure” rarely"), ("sometimes", 0.95, "Say “not sure” sometimes (usual)"),
           ("often", 0.90, "Say “not sure” more often"))
DEFAULT = "sometimes"


class SureChoice(QWidget):
    def __init__(self, studio, parent=None) -> None:
        super().__init__(parent)
        self.studio = studio
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.combo = ComboBox()
        for key, share, text in CHOICES:
            self.combo.addItem(text, key)
            self.combo.setItemData(self.combo.count() - 1,
                                   f"Sure of about {share * 100:.0f}% of pictures like the ones it was checked on; "
                                   "pictures unlike what it learned from, or torn between two classes, get "
                                   "“not sure”.", 3)
        self.combo.setToolTip("When a trained model answers “not sure” instead of naming a class")
        row.addWidget(QLabel("Not sure:"))
        row.addWidget(self.combo)
        self.combo.currentIndexChanged.connect(self._changed)
        self.combo.setCurrentIndex(max(0, self.combo.findData(store.get_str("classify/notSure", DEFAULT))))
        self._changed()

    def _changed(self, *_) -> None:
        key = self.combo.currentData() or DEFAULT
        store.put("classify/notSure", key)
        self.studio.sure_share = dict((k, share) for k, share, _ in CHOICES)[key]
