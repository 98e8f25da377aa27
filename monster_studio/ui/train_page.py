"""The Train page: a folder of pictures in, a trained classifier out. Left: the folder, its
classes, the starting model and the options. Right: progress, the live plot, the result.

It draws the app state (folder, training, progress) and sends the user's intent to the studio;
it keeps no copy of what is running."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from monster_studio import MODEL_SUFFIX
from monster_studio.app.studio import planned_epochs
from monster_studio.core.wording import STARTING_MODEL
from monster_studio.ui import settings as store
from monster_studio.ui.backbone_picker import BackbonePicker
from monster_studio.ui.banner import Banner
from monster_studio.ui.class_table import ClassTable
from monster_studio.ui.sample_dialog import ask_sample_folder
from monster_studio.ui.style import SPACING, page_layout, role
from monster_studio.ui.train_help import TrainHelp
from monster_studio.ui.train_options import TrainOptions
from monster_studio.ui.train_result import TrainResult

SAMPLE_PER_CLASS = 40
OWNER = "train"


def section(text: str) -> QLabel:
    label = QLabel(text)
    role(label, "section")
    return label


class TrainPage(QWidget):
    tryItRequested = Signal(list)  # pictures to classify right away (may be empty)

    def __init__(self, studio, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.studio = studio
        self.state = studio.state
        self.sample_per_class = SAMPLE_PER_CLASS

        outer = page_layout(self, "Train a classifier")
        lead = QLabel("Point at a folder that holds one subfolder per class of picture, then press Train. "
                      "The new classifier learns on top of a starting model that has already seen millions of photos.")
        lead.setWordWrap(True)
        role(lead, "hint")
        outer.addWidget(lead)
        self.banner = Banner()
        outer.addWidget(self.banner)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        outer.addWidget(split, 1)
        split.addWidget(self._build_left())
        self.result = TrainResult(studio)
        self.result.saveClicked.connect(self.ask_save)
        self.result.tryClicked.connect(lambda: self.tryItRequested.emit([]))
        split.addWidget(self.result)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([450, 600])

        self._rescan_timer = QTimer(self)
        self._rescan_timer.setSingleShot(True)
        self._rescan_timer.setInterval(400)
        self._rescan_timer.timeout.connect(self._read_folder)
        self.options.splitChanged.connect(self._rescan_timer.start)
        for box in (self.options.epochs, self.options.finetune_epochs):
            box.valueChanged.connect(self._expect_epochs)
        self.options.finetune.toggled.connect(self._expect_epochs)
        self._expect_epochs()
        folder = store.get_str("train/folder")
        if folder:
            self.folder_edit.setText(folder)
            self.state.folder.path = folder

        s = self.state
        s.engine.changed.connect(self._on_engine)
        s.folder.changed.connect(self._show_folder)
        s.folder.thumbnails.connect(self.classes.set_thumbnails)
        s.training.changed.connect(self._update_buttons)
        s.jobs.changed.connect(self._update_buttons)
        self.help = TrainHelp(self)  # failures and installed weights, in the banner
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
        self.folder_edit.setToolTip("The folder with your pictures: one subfolder per class of picture. "
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
        box.addWidget(section(f"2  {STARTING_MODEL.capitalize()}"))
        self.backbone = BackbonePicker()
        self.backbone.importClicked.connect(self.ask_import_weights)
        box.addWidget(self.backbone)
        box.addSpacing(6)
        box.addWidget(section("3  Options"))
        self.options = TrainOptions()
        box.addWidget(self.options)
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
        self.stop_button.clicked.connect(self.studio.stop)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        col.addLayout(buttons)
        self.buttons_row = buttons  # other views add theirs here (Check my pictures)
        return column

    # ------------------------------------------------------------------ what the page shows

    @property
    def training(self) -> bool:
        return self.state.training.running

    @property
    def has_model(self) -> bool:
        return self.state.training.summary is not None

    @property
    def folder(self) -> str:
        return self.state.folder.path

    @property
    def folder_ok(self) -> bool:
        return self.state.folder.table is not None

    def can_train(self) -> bool:
        return self.state.engine.ready and not self.training and self.folder_ok

    def _on_engine(self) -> None:
        e = self.state.engine
        if not e.ready:
            return
        self.backbone.set_catalogue(e.backbones, self.backbone.current() or store.get_str("train/backbone")
                                    or e.default_backbone)
        if not getattr(self, "_devices_set", False):
            self._devices_set = True
            self.options.set_devices(e.devices)
            if self.folder and Path(self.folder).is_dir() and self.state.folder.table is None:
                self._read_folder()
            elif self.folder and self.state.folder.table is None:
                self.classes.show_placeholder("The last folder is gone; choose a folder.")
        self._update_buttons()

    def _show_folder(self) -> None:
        f = self.state.folder
        if f.path and self.folder_edit.text() != f.path:
            self.folder_edit.setText(f.path)
        if f.table is not None:
            self.classes.show_table(f.table, f.extra_skipped)
        elif f.reading:
            self.classes.show_placeholder("Reading the folder…")
        else:
            self.classes.show_placeholder(f.note or "Choose a folder to see its classes here.")
        self._update_buttons()

    def _expect_epochs(self, *_) -> None:
        self.result.expect_epochs(planned_epochs(self.options.settings("")))

    def _update_buttons(self) -> None:
        ready, training = self.state.engine.ready, self.training
        self.train_button.setEnabled(self.can_train())
        self.train_button.setToolTip("Start training (Ctrl+T)" if ready else "Starting the engine…")
        self.stop_button.setEnabled(training)
        self.choose_button.setEnabled(not training)
        self.sample_button.setEnabled(ready and not training)
        self.result.set_buttons(self.has_model and not training)
        for w in (self.backbone, self.options):
            w.setEnabled(not training)
        table = self.state.folder.table
        self.options.set_split_given(bool(table and table.split_given), training)

    # ------------------------------------------------------------------ user intent

    def choose_folder(self) -> None:
        start = self.folder if self.folder and Path(self.folder).is_dir() else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose the folder with your pictures", start)
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        if self.training:
            self.banner.show_message("Training is running. Stop it first to choose another folder.", "info")
            return
        folder = str(Path(folder).expanduser())
        self.folder_edit.setText(folder)
        self.folder_edit.setToolTip(folder)
        store.put("train/folder", folder)
        self.banner.dismiss()
        self.state.folder.path = folder
        if self.state.engine.ready:
            self._read_folder()
        else:
            self.classes.show_placeholder("Reading the folder…")

    def _read_folder(self) -> None:
        if self.folder and self.state.engine.ready and not self.training:
            self.studio.open_folder(self.folder, self.options.val_share.value() / 100, self.options.seed.value())

    def settings_dict(self) -> dict:
        return self.options.settings(self.backbone.current() or self.state.engine.default_backbone)

    def start_training(self) -> None:
        if not self.can_train():
            if not self.folder:
                self.banner.show_message("Choose a folder with your pictures first (or try the sample monsters).",
                                         "info", [("Choose a folder…", self.choose_folder),
                                                  ("Try the sample monsters", self.ask_sample)])
            return
        self.save()
        self.banner.dismiss()
        self.studio.train(self.folder, self.settings_dict())

    def ask_sample(self) -> None:
        if not self.training:
            folder = ask_sample_folder(self, store.get_str("paths/sampleFolder") or str(_default_sample_folder()))
            if folder:
                self.start_sample(folder)

    def start_sample(self, folder: str | None = None, per_class: int | None = None) -> None:
        if not self.state.engine.ready or self.training:
            return
        folder = folder or str(_default_sample_folder())
        store.put("paths/sampleFolder", folder)
        store.put("train/folder", folder)
        self.backbone.select(self.state.engine.default_backbone)
        self.banner.dismiss()
        self.studio.train_sample(folder, per_class or self.sample_per_class, self.settings_dict())

    def ask_save(self) -> None:
        path = self.ask_save_path() if self.has_model else ""
        if path:
            self.request_save(path)

    def ask_save_path(self) -> str:
        folder = store.start_folder("paths/models")
        summary = self.state.training.summary
        trained_on = Path(summary.folder).name if summary is not None and summary.folder else Path(self.folder).name
        path, _ = QFileDialog.getSaveFileName(self, "Save the model", str(Path(folder) / ((trained_on or "classifier")
                                              + MODEL_SUFFIX)), f"Monster Studio models (*{MODEL_SUFFIX})")
        return path

    def request_save(self, path: str):
        store.put("paths/models", str(Path(path).parent))
        return self.studio.save(path)

    def ask_import_weights(self, backbone_id: str = "") -> None:
        self.help.ask_import_weights(backbone_id)

    def import_weights(self, backbone_id: str, path: str) -> None:
        self.help.import_weights(backbone_id, path)

    def save(self) -> None:
        self.options.save({"train/backbone": self.backbone.current()} if self.backbone.current() else None)


def _default_sample_folder() -> Path:
    from monster_studio.core import paths

    return paths.data_dir() / "sample-monsters"
