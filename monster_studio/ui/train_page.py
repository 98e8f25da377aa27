"""The Train page: a folder of pictures in, a trained classifier out. Left: the folder, its
classes, the starting network and the options. Right: progress, the live plot, the result."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from monster_studio import MODEL_SUFFIX
from monster_studio.ui import settings as store
from monster_studio.ui.backbone_picker import BackbonePicker
from monster_studio.ui.banner import Banner
from monster_studio.ui.class_table import ClassTable
from monster_studio.ui.loss_plot import LossPlot
from monster_studio.ui.progress_panel import ProgressPanel
from monster_studio.ui.style import SPACING, page_layout, role
from monster_studio.ui.summary import summary_html
from monster_studio.ui.weights_words import IMPORT_BUTTON, weights_text

SAMPLE_PER_CLASS = 40


def section(text: str) -> QLabel:
    label = QLabel(text)
    role(label, "section")
    return label


class TrainPage(QWidget):
    scanRequested = Signal(str, float, int)
    trainRequested = Signal(str, object)
    sampleRequested = Signal(str, int)
    saveRequested = Signal(str)
    importWeightsRequested = Signal(str, str)
    stopRequested = Signal()
    scanStopRequested = Signal()  # a new scan replaces the ones asked for before (the window stops the worker)
    tryItRequested = Signal(list)  # pictures to classify right away (may be empty)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.state = "idle"  # "idle" or "training" (a sample run counts as training)
        self.engine_ready = False
        self.folder = ""
        self.folder_ok = False
        self.split_given = False  # the folder has its own train/ and val/
        self.has_model = False
        self.last_summary: dict | None = None
        self.sample_run: dict | None = None
        self.sample_per_class = SAMPLE_PER_CLASS
        self._epochs_run = 0
        self._default_backbone = ""
        self.scans_pending = 0  # scans asked for whose `idle` has not come back yet

        outer = page_layout(self, "Train a classifier")
        lead = QLabel("Point at a folder that holds one subfolder per kind of picture, then press Train. "
                      "The new classifier learns on top of a network that has already seen millions of photos.")
        lead.setWordWrap(True)
        role(lead, "hint")
        outer.addWidget(lead)
        self.banner = Banner()
        outer.addWidget(self.banner)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        outer.addWidget(split, 1)
        split.addWidget(self._build_left())
        split.addWidget(self._build_right())
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([450, 600])

        self._rescan_timer = QTimer(self)
        self._rescan_timer.setSingleShot(True)
        self._rescan_timer.setInterval(400)
        self._rescan_timer.timeout.connect(self._rescan)
        self.restore()
        self._update_buttons()

    # ------------------------------------------------------------------ layout

    def _build_left(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(370)
        inner = QWidget()
        inner.setObjectName("page")
        box = QVBoxLayout(inner)
        box.setContentsMargins(0, 0, SPACING, 0)
        box.setSpacing(8)

        box.addWidget(section("1  Pictures"))
        row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("Choose, drop or type a folder with one subfolder per class")
        self.folder_edit.setToolTip("The folder with your pictures: one subfolder per kind (class) of picture. "
                                    "Type or paste its path and press Enter, or use Choose…")
        self.folder_edit.returnPressed.connect(
            lambda: self.folder_edit.text().strip() and self.set_folder(self.folder_edit.text().strip()))
        row.addWidget(self.folder_edit, 1)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setToolTip("Choose the folder with your pictures (Ctrl+O)")
        self.choose_button.clicked.connect(self.choose_folder)
        row.addWidget(self.choose_button)
        box.addLayout(row)
        sample_row = QHBoxLayout()
        self.sample_button = QPushButton("Try the sample monsters")
        self.sample_button.setToolTip("No pictures at hand? Draw 200 pictures of five kinds of monster, "
                                      "train on them and try the result, all offline (about a minute)")
        self.sample_button.clicked.connect(self.ask_sample)
        sample_row.addWidget(self.sample_button)
        sample_row.addStretch(1)
        box.addLayout(sample_row)
        self.classes = ClassTable()
        box.addWidget(self.classes)

        box.addSpacing(6)
        box.addWidget(section("2  Starting network"))
        self.backbone = BackbonePicker()
        self.backbone.importClicked.connect(self.ask_import_weights)
        box.addWidget(self.backbone)

        box.addSpacing(6)
        box.addWidget(section("3  Options"))
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(16)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 500)
        self.epochs.setValue(40)
        self.epochs.setToolTip("How many passes over the pictures at most; training stops early when the "
                               "check pictures stop improving")
        form.addRow("Epochs", self.epochs)
        self.val_share = QSpinBox()
        self.val_share.setRange(0, 50)
        self.val_share.setSingleStep(5)
        self.val_share.setSuffix(" %")
        self.val_share.setValue(20)
        self.val_share.setToolTip("Share of each class kept aside to check the model on pictures it has not "
                                  "learned from (ignored when the folder has its own train/ and val/ folders)")
        self.val_share.valueChanged.connect(lambda _: self._rescan_timer.start())
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
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(4)
        self.lr.setRange(0.0001, 1.0)
        self.lr.setSingleStep(0.001)
        self.lr.setValue(0.003)
        self.lr.setToolTip("How big each learning step is; the default suits almost every folder")
        adv.addRow("Learning rate", self.lr)
        self.augment = QSpinBox()
        self.augment.setRange(0, 10)
        self.augment.setToolTip("Extra cropped and mirrored copies of each training picture; helps with few "
                                "pictures, costs one more look at each picture per copy")
        adv.addRow("Augmented views", self.augment)
        ft = QHBoxLayout()
        self.finetune = QCheckBox("Fine-tune the last layers")
        self.finetune.setToolTip("After training the new layer, also adjust the backbone's last layers. "
                                 "Slower; can help when your pictures look unlike everyday photos")
        ft.addWidget(self.finetune)
        self.finetune_epochs = QSpinBox()
        self.finetune_epochs.setRange(1, 50)
        self.finetune_epochs.setValue(4)
        self.finetune_epochs.setSuffix(" epochs")
        self.finetune_epochs.setEnabled(False)
        self.finetune.toggled.connect(self.finetune_epochs.setEnabled)
        ft.addWidget(self.finetune_epochs)
        ft.addStretch(1)
        adv.addRow("", ft)
        self.seed = QSpinBox()
        self.seed.setRange(0, 999_999)
        self.seed.setToolTip("The same seed gives the same split and the same result")
        adv.addRow("Seed", self.seed)
        self.device = QComboBox()
        self.device.addItem("auto", "auto")
        self.device.setToolTip("Where the work runs: 'auto' picks a graphics card when there is one")
        adv.addRow("Run on", self.device)
        self.advanced.hide()
        box.addWidget(self.advanced)

        box.addStretch(1)
        scroll.setWidget(inner)

        column = QWidget()
        col = QVBoxLayout(column)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(SPACING)
        col.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        role(self.train_button, "primary")
        self.train_button.setToolTip("Start training (Ctrl+T)")
        self.train_button.setMinimumWidth(120)
        self.train_button.clicked.connect(self.start_training)
        buttons.addWidget(self.train_button)
        self.stop_button = QPushButton("Stop")
        role(self.stop_button, "danger")
        self.stop_button.setToolTip("Stop at once (Esc)")
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        col.addLayout(buttons)
        return column

    def _build_right(self) -> QWidget:
        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(SPACING, 0, 0, 0)
        box.setSpacing(SPACING)
        self.progress = ProgressPanel()
        box.addWidget(self.progress)
        self.plot = LossPlot()
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        vsplit = QSplitter(Qt.Orientation.Vertical)  # the user can give the plot or the result more room
        vsplit.setChildrenCollapsible(False)
        vsplit.addWidget(self.plot)
        box.addWidget(vsplit, 1)
        panel = QFrame()
        panel.setProperty("role", "panel")
        pbox = QVBoxLayout(panel)
        pbox.setContentsMargins(14, 12, 14, 12)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary_scroll = QScrollArea()
        self.summary_scroll.setWidgetResizable(True)
        self.summary_scroll.setWidget(self.summary)
        self.summary_scroll.setMinimumHeight(120)
        self.summary.setStyleSheet("background: white;")
        pbox.addWidget(self.summary_scroll, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton("Save model…")
        self.save_button.setToolTip("Keep this classifier in a .monster file (Ctrl+S)")
        self.save_button.clicked.connect(self.ask_save)
        buttons.addWidget(self.save_button)
        self.try_button = QPushButton("Try it  →")
        role(self.try_button, "primary")
        self.try_button.setToolTip("Open the Classify page with this model and drop pictures on it")
        self.try_button.clicked.connect(lambda: self.tryItRequested.emit([]))
        buttons.addWidget(self.try_button)
        pbox.addLayout(buttons)
        vsplit.addWidget(panel)
        vsplit.setStretchFactor(0, 5)
        vsplit.setStretchFactor(1, 4)
        vsplit.setSizes([500, 420])
        self._show_intro()
        return right

    def _show_intro(self) -> None:
        self.summary.setText(
            "<p><b>What happens when you press Train</b></p>"
            "<p>The app looks at each picture once through the starting network (this is the slow part, "
            "and it is remembered for next time), then trains a new last layer for your classes. "
            "The plot shows it learning: the <span style='color:#6a4fc8'>loss</span> should go down and the "
            "<span style='color:#2e7d32'>accuracy</span> on the check pictures up.</p>")

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # ------------------------------------------------------------------ user intent

    def choose_folder(self) -> None:
        start = self.folder or store.get_str("train/folder") or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose the folder with your pictures", start)
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        if self.state == "training":
            self.banner.show_message("Training is running. Stop it first to choose another folder.", "info")
            return
        self.folder = str(Path(folder).expanduser())
        self.folder_ok = False
        self.folder_edit.setText(self.folder)
        self.folder_edit.setToolTip(self.folder)
        store.put("train/folder", self.folder)
        self.banner.dismiss()
        self.classes.show_placeholder("Reading the folder…")
        if self.engine_ready:
            self._rescan()
        self._update_buttons()

    def _rescan(self) -> None:
        if self.folder and self.engine_ready and self.state != "training":
            self._request_scan()

    def _request_scan(self) -> None:
        if self.scans_pending:
            # The folder read before is of no use now. The Stop drops every request queued before
            # it, so the new scan is asked for after it, never before.
            self.scanStopRequested.emit()
        self.scans_pending += 1
        self.scanRequested.emit(self.folder, self.val_share.value() / 100, self.seed.value())

    def settings_dict(self) -> dict:
        return {"backbone": self.backbone.current() or self._default_backbone, "epochs": self.epochs.value(),
                "lr": self.lr.value(), "val_split": self.val_share.value() / 100, "seed": self.seed.value(),
                "augment": self.augment.value(), "finetune": self.finetune.isChecked(),
                "finetune_epochs": self.finetune_epochs.value(), "device": self.device.currentData() or "auto"}

    def can_train(self) -> bool:
        return self.engine_ready and self.state == "idle" and bool(self.folder) and self.folder_ok

    def start_training(self) -> None:
        if not self.can_train():
            if not self.folder:
                self.banner.show_message("Choose a folder with your pictures first (or try the sample monsters).",
                                         "info", [("Choose a folder…", self.choose_folder),
                                                  ("Try the sample monsters", self.ask_sample)])
            return
        self.save()
        self._begin(f"Training on {Path(self.folder).name}")
        self.trainRequested.emit(self.folder, self.settings_dict())

    def _begin(self, text: str) -> None:
        self.state = "training"
        self.banner.dismiss()
        self.plot.clear_points()
        self._epochs_run = 0
        self.has_model = False
        self.last_summary = None
        self.summary.setText("<p>Training… the result will appear here.</p>")
        self.progress.set_phase("start", text)
        self._update_buttons()

    def stop(self) -> None:
        if self.state == "training":
            self.stopRequested.emit()  # the window stops the worker and calls mark_stopped

    def mark_stopped(self) -> None:
        """Back to idle at once; the worker drops the job within one batch."""
        self.state = "idle"
        self.sample_run = None
        self.progress.set_idle("Stopped. Press Train to start again.")
        self.summary.setText("<p>Training was stopped before it finished; there is no new model.</p>")
        self._update_buttons()

    def mark_scan_stopped(self) -> None:
        """Esc while the folder is read: a table already shown stays (only its examples stop)."""
        if not self.folder_ok:
            self.classes.show_placeholder("Reading the folder was stopped. Choose it again to read it.")
        self.progress.set_idle("Stopped")
        self._update_buttons()

    def ask_sample(self) -> None:
        if self.state == "training":
            return
        default = store.get_str("paths/sampleFolder") or str(_default_sample_folder())
        box = QMessageBox(self)
        box.setWindowTitle("Try the sample monsters")
        box.setIcon(QMessageBox.Icon.Question)
        box.setText("Draw 200 pictures of five kinds of monster, train a classifier on them and try it?")
        box.setInformativeText(f"The pictures go to:\n{default}\n\nIt takes about a minute and needs no internet.")
        start = box.addButton("Start", QMessageBox.ButtonRole.AcceptRole)
        other = box.addButton("Another folder…", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(start)
        box.exec()
        if box.clickedButton() is start:
            self.start_sample(default)
        elif box.clickedButton() is other:
            parent = QFileDialog.getExistingDirectory(self, "Where should the sample pictures go?",
                                                      str(Path(default).parent))
            if parent:
                self.start_sample(str(Path(parent) / "sample-monsters"))

    def start_sample(self, folder: str | None = None, per_class: int | None = None) -> None:
        if not self.engine_ready or self.state == "training":
            return
        folder = folder or str(_default_sample_folder())
        store.put("paths/sampleFolder", folder)
        self.sample_run = {"folder": folder}
        self.backbone.select(self._default_backbone)
        self._begin("Drawing the sample monsters")
        self.sampleRequested.emit(folder, per_class or self.sample_per_class)

    def ask_save(self) -> None:
        if not self.has_model:
            return
        folder = store.get_str("paths/models") or str(Path.home())
        name = (Path(self.folder).name or "classifier") + MODEL_SUFFIX
        path, _ = QFileDialog.getSaveFileName(self, "Save the model", str(Path(folder) / name),
                                              f"Monster Studio models (*{MODEL_SUFFIX})")
        if path:
            self.request_save(path)

    def request_save(self, path: str) -> None:
        store.put("paths/models", str(Path(path).parent))
        self.progress.set_phase("save", f"Saving {Path(path).name}")
        self.saveRequested.emit(path)

    def ask_import_weights(self, backbone_id: str = "") -> None:
        backbone_id = backbone_id or self.backbone.current()
        entry = self.backbone.entry(backbone_id) or {}
        path, _ = QFileDialog.getOpenFileName(
            self, f"Weights file for {entry.get('name', backbone_id)} ({entry.get('filename', '*.pth')})",
            str(Path.home() / "Downloads"), "PyTorch weights (*.pth *.pt);;All files (*)")
        if path:
            self.import_weights(backbone_id, path)

    def import_weights(self, backbone_id: str, path: str) -> None:
        self.banner.dismiss()
        self.progress.set_phase("import", "Checking the weights file")
        self.importWeightsRequested.emit(backbone_id, path)

    # ------------------------------------------------------------------ worker news

    def on_ready(self, info: dict) -> None:
        self.engine_ready = True
        self._default_backbone = info["default"]
        self.backbone.set_catalogue(info["backbones"], store.get_str("train/backbone") or info["default"])
        self.device.clear()
        for d in info["devices"]:
            self.device.addItem({"auto": "auto (graphics card if there is one)", "cpu": "processor (CPU)",
                                 "cuda": "NVIDIA graphics card (CUDA)", "mps": "Apple graphics (MPS)"}.get(d, d), d)
        index = self.device.findData(store.get_str("train/device", "auto"))
        self.device.setCurrentIndex(max(0, index))
        self.progress.set_idle("Ready")
        if self.folder and Path(self.folder).is_dir():
            self._rescan()
        elif self.folder:
            self.classes.show_placeholder("The last folder is gone; choose a folder.")
        self._update_buttons()

    def on_catalogue(self, entries: list) -> None:
        self.backbone.set_catalogue(entries, self.backbone.current())

    def on_phase(self, name: str, text: str) -> None:
        if self.state == "training" or name in ("save", "import", "scan"):
            self.progress.set_phase(name, text)

    def on_progress(self, phase: str, done, total, seconds_left) -> None:
        self.progress.set_progress(phase, done, total, seconds_left)

    def on_scanned(self, table: dict) -> None:
        if table["folder"] != self.folder:
            return
        self.folder_ok = True
        self.split_given = bool(table.get("split_given"))
        self.classes.show_table(table)
        self._update_buttons()

    def on_thumbnails(self, folder: str, name: str, images: list) -> None:
        self.classes.set_thumbnails(folder, name, images)

    def on_epoch(self, e: dict) -> None:
        if self.state != "training":
            return
        self._epochs_run = e["epoch"] if e.get("stage", "head") == "head" else self._epochs_run
        self.plot.add_epoch(e)

    def on_finished(self, summary: dict) -> None:
        self.has_model = True
        self.last_summary = summary
        self.state = "idle"
        self.plot.flush()
        # Files that only failed when decoded are known now; the list on the left shows them all.
        self.classes.add_skipped(summary.get("skipped") or [])
        self.summary.setText(summary_html(summary, self._epochs_run))
        acc = summary["metrics"].get("val_accuracy")
        words = "Done" + (f": {acc * 100:.0f}% right on the check pictures" if acc == acc and acc is not None else "")
        self.progress.set_idle(words, full=True)
        self._update_buttons()
        if self.sample_run is not None:
            files = self.sample_run.get("try_files", [])
            self.sample_run = None
            self.tryItRequested.emit(files)

    def on_sample_written(self, info: dict) -> None:
        if self.sample_run is None:
            return
        self.sample_run.update(info)
        self.folder = str(Path(info["folder"]))
        self.folder_edit.setText(self.folder)
        store.put("train/folder", self.folder)
        self.folder_ok = True  # it was just written; the scan below fills the table
        self.scans_pending += 1
        self.scanRequested.emit(self.folder, self.val_share.value() / 100, self.seed.value())
        self.progress.set_phase("start", "Training on the sample monsters")
        self.trainRequested.emit(self.folder, self.settings_dict())

    def on_saved(self, path: str) -> None:
        self.progress.set_idle(f"Saved to {path}", full=True)
        self.banner.show_message(f"The model was saved to {path}.", "info")

    def on_weights_imported(self, info: dict) -> None:
        self.backbone.select(info["backbone"])
        self.progress.set_idle("Weights installed")
        name = (self.backbone.entry(info["backbone"]) or {}).get("name", info["backbone"])
        actions = [("Train now", self.start_training)] if self.can_train() else []
        self.banner.show_message(f"The weights of {name} are installed; it works offline now.", "info", actions)

    def on_idle(self, task: str, outcome: str) -> None:
        if task == "scan":
            self.scans_pending = max(0, self.scans_pending - 1)
        if task in ("train", "sample") and outcome == "error" and self.state == "training":
            self.state = "idle"
            self.sample_run = None
            self.progress.set_idle("Training did not finish")
            self._show_intro()
        elif task == "train" and outcome == "ok" and self.state == "training" and self.sample_run is None:
            self.state = "idle"  # ended without a model (nothing to learn from)
            self.progress.set_idle("Ready")
        elif task in ("save", "import", "scan") and outcome != "ok" and self.state != "training":
            self.progress.set_idle("Ready")
        elif task == "scan" and self.state != "training" and outcome == "ok":
            self.progress.set_idle("Ready" if not self.has_model else self.progress.words.text(),
                                   full=self.has_model)
        self._update_buttons()

    def on_error(self, info: dict) -> None:
        kind, message, task = info.get("kind"), info["message"], info.get("task")
        actions: list = []
        if task == "scan":
            self.folder_ok = False
            self.classes.show_placeholder("This folder cannot be used yet; see the message above.")
            actions = [("Choose another folder…", self.choose_folder), ("Try the sample monsters", self.ask_sample)]
        elif kind == "weights":
            # The core's way out names the command line; here the buttons are the way out.
            message = weights_text(info, "train with the bundled backbone, which needs no download")
            failed = info.get("backbone") or self.backbone.current()
            actions = [("Train with the bundled backbone", self._train_bundled),
                       (IMPORT_BUTTON, lambda: self.ask_import_weights(failed))]
        elif kind == "dataset":
            actions = [("Choose another folder…", self.choose_folder)]
        elif task == "save":
            actions = [("Save somewhere else…", self.ask_save)]
        self.banner.show_message(message, "error", actions)

    def _train_bundled(self) -> None:
        self.backbone.select(self._default_backbone)
        self.start_training()

    # ------------------------------------------------------------------ state

    def _update_buttons(self) -> None:
        training = self.state == "training"
        self.train_button.setEnabled(self.can_train())
        self.train_button.setToolTip("Start training (Ctrl+T)" if self.engine_ready else "Starting the engine…")
        self.stop_button.setEnabled(training)
        self.choose_button.setEnabled(not training)
        self.sample_button.setEnabled(self.engine_ready and not training)
        self.save_button.setEnabled(self.has_model and not training)
        self.try_button.setEnabled(self.has_model and not training)
        for w in (self.backbone, self.epochs, self.val_share, self.advanced):
            w.setEnabled(not training)
        # The folder's own train/ and val/ folders decide the split; the share would do nothing.
        self.val_share.setEnabled(not training and not self.split_given)

    def restore(self) -> None:
        folder = store.get_str("train/folder")
        if folder:
            self.folder = folder
            self.folder_edit.setText(folder)
        self.epochs.setValue(store.get_int("train/epochs", 40))
        self.val_share.setValue(round(store.get_float("train/valSplit", 0.2) * 100))
        self.lr.setValue(store.get_float("train/lr", 0.003))
        self.augment.setValue(store.get_int("train/augment", 0))
        self.finetune.setChecked(store.get_bool("train/finetune", False))
        self.finetune_epochs.setValue(store.get_int("train/finetuneEpochs", 4))
        self.seed.setValue(store.get_int("train/seed", 0))
        self.advanced_toggle.setChecked(store.get_bool("train/advancedOpen", False))

    def save(self) -> None:
        s = self.settings_dict()
        if self.backbone.current():
            store.put("train/backbone", s["backbone"])
        store.put("train/epochs", s["epochs"])
        store.put("train/valSplit", s["val_split"])
        store.put("train/lr", s["lr"])
        store.put("train/augment", s["augment"])
        store.put("train/finetune", s["finetune"])
        store.put("train/finetuneEpochs", s["finetune_epochs"])
        store.put("train/seed", s["seed"])
        if self.engine_ready:
            store.put("train/device", s["device"])
        store.put("train/advancedOpen", self.advanced_toggle.isChecked())


def _default_sample_folder() -> Path:
    from monster_studio.core import paths

    return paths.data_dir() / "sample-monsters"
