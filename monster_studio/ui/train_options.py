"""The Train page's options: epochs and the share kept for checking, and behind "Advanced" the
learning rate, augmentation, fine-tuning, seed and processor. The defaults are the core's
`TrainSettings`, the same ones the command line shows; the last values are remembered."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from monster_studio.ui import settings as store
from monster_studio.ui.inputs import ComboBox, DoubleSpinBox, SpinBox

DEVICE_WORDS = {"auto": "auto (graphics card if there is one)", "cpu": "processor (CPU)",
                "cuda": "NVIDIA graphics card (CUDA)", "mps": "Apple graphics (MPS)"}


def defaults() -> dict:
    from dataclasses import asdict

    from monster_studio.core.settings import TrainSettings

    return asdict(TrainSettings())


class TrainOptions(QWidget):
    splitChanged = Signal()  # the share kept for checking changed: the folder's split is read again

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        d = defaults()
        self.defaults = d
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(8)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(16)
        self.epochs = SpinBox()
        self.epochs.setRange(1, 500)
        self.epochs.setValue(d["epochs"])
        self.epochs.setToolTip("How many passes over the pictures at most; training stops early when the "
                               "check pictures stop improving")
        form.addRow("Epochs", self.epochs)
        self.val_share = SpinBox()
        self.val_share.setRange(0, 50)
        self.val_share.setSingleStep(5)
        self.val_share.setSuffix(" %")
        self.val_share.setValue(round(d["val_split"] * 100))
        self.val_share.setToolTip("Share of each class kept aside to check the model on pictures it has not "
                                  "learned from (not used when the folder has its own train/ and val/ or test/ "
                                  "folders)")
        self.val_share.valueChanged.connect(lambda _: self.splitChanged.emit())
        form.addRow("Kept for checking", self.val_share)
        box.addLayout(form)

        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName("fold")
        self.advanced_toggle.setText("Advanced options")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        box.addWidget(self.advanced_toggle)
        self.advanced = QWidget()
        adv = QFormLayout(self.advanced)
        adv.setContentsMargins(18, 0, 0, 0)
        adv.setHorizontalSpacing(16)
        self.lr = DoubleSpinBox()
        self.lr.setDecimals(4)
        self.lr.setRange(0.0001, 1.0)
        self.lr.setSingleStep(0.001)
        self.lr.setValue(d["lr"])
        self.lr.setToolTip("How big each learning step is; the default suits almost every folder")
        adv.addRow("Learning rate", self.lr)
        self.augment = SpinBox()
        self.augment.setRange(0, 10)
        self.augment.setValue(d["augment"])
        self.augment.setToolTip("Extra cropped and mirrored copies of each training picture; helps with few "
                                "pictures, costs one more look at each picture per copy")
        adv.addRow("Augmented views", self.augment)
        ft = QHBoxLayout()
        self.finetune = QCheckBox("Fine-tune the last layers")
        self.finetune.setToolTip("After training the new last layer, also adjust the starting model's last layers. "
                                 "Slower; can help when your pictures look unlike everyday photos")
        ft.addWidget(self.finetune)
        self.finetune_epochs = SpinBox()
        self.finetune_epochs.setRange(1, 50)
        self.finetune_epochs.setValue(d["finetune_epochs"])
        self.finetune_epochs.setSuffix(" epochs")
        self.finetune_epochs.setEnabled(False)
        self.finetune.toggled.connect(self.finetune_epochs.setEnabled)
        ft.addWidget(self.finetune_epochs)
        ft.addStretch(1)
        adv.addRow("", ft)
        self.seed = SpinBox()
        self.seed.setRange(0, 999_999)
        self.seed.setValue(d["seed"])
        self.seed.setToolTip("The same seed gives the same split and the same result")
        adv.addRow("Seed", self.seed)
        self.device = ComboBox()
        self.device.addItem(DEVICE_WORDS["auto"], "auto")
        self.device.setToolTip("Where the work runs: 'auto' picks a graphics card when there is one")
        adv.addRow("Run on", self.device)
        self.advanced.hide()
        box.addWidget(self.advanced)
        self.restore()

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def set_devices(self, devices: list[str]) -> None:
        self.device.clear()
        for d in devices:
            self.device.addItem(DEVICE_WORDS.get(d, d), d)
        self.device.setCurrentIndex(max(0, self.device.findData(store.get_str("train/device", "auto"))))
        self._devices_known = True

    def set_split_given(self, given: bool, busy: bool = False) -> None:
        """The folder's own train/ and val/ decide the split; the share would do nothing then."""
        self.val_share.setEnabled(not busy and not given)

    def settings(self, backbone: str) -> dict:
        return {"backbone": backbone, "epochs": self.epochs.value(), "lr": self.lr.value(),
                "val_split": self.val_share.value() / 100, "seed": self.seed.value(),
                "augment": self.augment.value(), "finetune": self.finetune.isChecked(),
                "finetune_epochs": self.finetune_epochs.value(), "device": self.device.currentData() or "auto"}

    def restore(self) -> None:
        d = self.defaults
        self.epochs.setValue(store.get_int("train/epochs", d["epochs"]))
        self.val_share.setValue(round(store.get_float("train/valSplit", d["val_split"]) * 100))
        self.lr.setValue(store.get_float("train/lr", d["lr"]))
        self.augment.setValue(store.get_int("train/augment", d["augment"]))
        self.finetune.setChecked(store.get_bool("train/finetune", d["finetune"]))
        self.finetune_epochs.setValue(store.get_int("train/finetuneEpochs", d["finetune_epochs"]))
        self.seed.setValue(store.get_int("train/seed", d["seed"]))
        self.advanced_toggle.setChecked(store.get_bool("train/advancedOpen", False))

    def save(self, extra: dict | None = None) -> None:
        """Remember the options (and `extra` keys of the page), in one write."""
        s = self.settings("")
        values = {"train/epochs": s["epochs"], "train/valSplit": s["val_split"], "train/lr": s["lr"],
                  "train/augment": s["augment"], "train/finetune": s["finetune"],
                  "train/finetuneEpochs": s["finetune_epochs"], "train/seed": s["seed"],
                  "train/advancedOpen": self.advanced_toggle.isChecked(), **(extra or {})}
        if getattr(self, "_devices_known", False):
            values["train/device"] = s["device"]
        store.put_many(values)
