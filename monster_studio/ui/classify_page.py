"""The Classify page: choose a model, drop pictures or folders, see what they are. Single pictures
become cards; everything also lands in a sortable table that can be exported as CSV. A COCO
detector chosen as the model finds and boxes things instead; its results have their own table."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monster_studio import MODEL_SUFFIX
from monster_studio.ui import settings as store
from monster_studio.ui.banner import Banner
from monster_studio.ui.detection_card import DetectionCard
from monster_studio.ui.drop_zone import DropZone, local_paths
from monster_studio.ui.flow_layout import FlowLayout
from monster_studio.ui.prediction_card import PredictionCard
from monster_studio.ui.progress_panel import ProgressPanel
from monster_studio.ui.results_table import ResultsModel, ResultsProxy
from monster_studio.ui.style import SPACING, page_layout, role
from monster_studio.ui.weights_words import IMPORT_BUTTON, weights_text
from monster_studio.worker import DETECTOR, TRAINED

MAX_CARDS = 200  # beyond this, pictures go to the table only: hundreds of cards help nobody
TOP_K = 3
OPEN = "open"
IMAGENET = "imagenet:"
FILE = "file:"


class ClassifyPage(QWidget):
    useTrainedRequested = Signal()
    usePretrainedRequested = Signal(str)
    openModelRequested = Signal(str)
    classifyRequested = Signal(object, int, bool, int)  # paths, top_k, thumbnails, request id
    classifyImageRequested = Signal(QImage, int, int)  # picture, top_k, request id
    importWeightsRequested = Signal(str, str)  # backbone or detector id, weights file
    stopRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.engine_ready = False
        self.imagenet_backbone = "efficientnet_lite0"
        self.detectors: dict[str, dict] = {}  # id -> {"name", "guidance", "status"}, from the worker
        self.requested_key: str | None = None  # the model the worker was last asked to use
        self.model_info: dict | None = None
        self._previous_index = 0
        self._next_request = 1
        self._requests: dict[int, str] = {}  # request id -> "cards" | "table"
        self.pending = 0  # classify requests not yet finished
        self._after_import: tuple[str, str] | None = None  # (weights id, model key to choose once installed)
        self.cards: dict[tuple[int, str], PredictionCard] = {}
        self.card_order: list[PredictionCard] = []

        outer = page_layout(self, "Classify pictures")
        self.banner = Banner()
        outer.addWidget(self.banner)

        row = QHBoxLayout()
        row.addWidget(QLabel("Model"))
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(30)
        self.model_combo.setToolTip("Which classifier names the pictures")
        row.addWidget(self.model_combo, 1)
        self.open_model_button = QPushButton("Open model file…")
        self.open_model_button.setToolTip("Use a .monster file saved earlier (Ctrl+Shift+O)")
        self.open_model_button.clicked.connect(self.ask_open_model)
        row.addWidget(self.open_model_button)
        outer.addLayout(row)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        role(self.model_label, "hint")
        outer.addWidget(self.model_label)

        self.drop_zone = DropZone()
        self.drop_zone.pathsDropped.connect(self.classify_paths)
        self.drop_zone.openFilesClicked.connect(self.ask_open_pictures)
        self.drop_zone.openFolderClicked.connect(self.ask_open_folder)
        self.drop_zone.pasteClicked.connect(self.paste)
        outer.addWidget(self.drop_zone, 1)

        prow = QHBoxLayout()
        self.progress = ProgressPanel()
        prow.addWidget(self.progress, 1)
        self.stop_button = QPushButton("Stop")
        role(self.stop_button, "danger")
        self.stop_button.setToolTip("Stop classifying (Esc)")
        self.stop_button.clicked.connect(self.stop)
        prow.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.progress_row = QWidget()
        self.progress_row.setLayout(prow)
        prow.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.progress_row)

        self.results = QTabWidget()
        self.results.setDocumentMode(True)
        outer.addWidget(self.results, 3)
        self._build_cards_tab()
        self._build_table_tab()
        self.results.hide()
        self.progress_row.hide()

        self.model_combo.currentIndexChanged.connect(self._on_model_index)
        self._fill_models()
        self._update()

    # ------------------------------------------------------------------ layout

    def _build_cards_tab(self) -> None:
        self.cards_scroll = QScrollArea()
        self.cards_scroll.setWidgetResizable(True)
        self.cards_box = QWidget()
        self.cards_box.setObjectName("cards")
        self.flow = FlowLayout(self.cards_box, spacing=SPACING)
        self.flow.setContentsMargins(4, SPACING, 4, SPACING)
        self.cards_scroll.setWidget(self.cards_box)
        self.results.addTab(self.cards_scroll, "Pictures")

    def _build_table_tab(self) -> None:
        tab = QWidget()
        box = QVBoxLayout(tab)
        box.setContentsMargins(0, SPACING, 0, 0)
        row = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by file, class or folder")
        self.filter.setClearButtonEnabled(True)
        row.addWidget(self.filter, 1)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save every result as a spreadsheet file (Ctrl+E)")
        self.export_button.clicked.connect(self.ask_export)
        row.addWidget(self.export_button)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove all results from the page")
        self.clear_button.clicked.connect(self.clear_results)
        row.addWidget(self.clear_button)
        box.addLayout(row)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        role(self.counts_label, "hint")
        box.addWidget(self.counts_label)
        # A classifier's and a detector's results differ in kind; each has its own table, and the
        # one shown follows the chosen model.
        self.tables = {"classes": ResultsModel(self), "objects": ResultsModel(self, kind="objects")}
        self.table_model = self.tables["classes"]
        self.proxy = ResultsProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._size_columns()
        box.addWidget(self.table, 1)
        for model in self.tables.values():
            model.rowsInserted.connect(self._update_counts)
            model.modelReset.connect(self._update_counts)
        self.results.addTab(tab, "Table")

    def _size_columns(self) -> None:
        widths = (220, 320, 60) if self.table_model.kind == "objects" else (220, 140, 90, 170)
        for col, width in enumerate(widths):
            self.table.setColumnWidth(col, width)

    def _show_table(self, kind: str) -> None:
        if self.table_model is self.tables[kind]:
            return
        self.table_model = self.tables[kind]
        self.proxy.setSourceModel(self.table_model)
        self.filter.setPlaceholderText(f"Filter by file, {'thing' if kind == 'objects' else 'class'} or folder")
        self._size_columns()
        self._update_counts()

    # ------------------------------------------------------------------ models

    def _fill_models(self, select: str | None = None) -> None:
        current = select or self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        if self.has_trained:
            self.model_combo.addItem(self._trained_text, TRAINED)
        for path in store.recent_models():
            p = Path(path)
            self.model_combo.addItem(f"{p.name}  —  {p.parent}", FILE + path)
            self.model_combo.setItemData(self.model_combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self.model_combo.addItem("ImageNet labels (no training)", IMAGENET + self.imagenet_backbone)
        self.model_combo.setItemData(self.model_combo.count() - 1,
                                     "The pretrained network as it is: names 1000 everyday things, animals and "
                                     "objects, with no training", Qt.ItemDataRole.ToolTipRole)
        for detector_id, d in self.detectors.items():
            self.model_combo.addItem(_detector_text(d), DETECTOR + detector_id)
            self.model_combo.setItemData(self.model_combo.count() - 1,
                                         f"Finds and boxes 80 kinds of everyday things (COCO): people, animals, "
                                         f"vehicles, food… {d['guidance']}", Qt.ItemDataRole.ToolTipRole)
        self.model_combo.insertSeparator(self.model_combo.count())
        self.model_combo.addItem("Open model file…", OPEN)
        index = self.model_combo.findData(current) if current else -1
        if index < 0:
            index = 0
        self.model_combo.setCurrentIndex(index)
        self._previous_index = index
        self.model_combo.blockSignals(False)
        self._describe_selection()
        self._show_table("objects" if self.detecting() else "classes")

    has_trained = False
    _trained_text = ""

    def selected_key(self) -> str:
        return self.model_combo.currentData() or ""

    def detecting(self) -> bool:
        """Whether the chosen model is a detector (things found and boxed, not classes)."""
        return self.selected_key().startswith(DETECTOR)

    def _on_model_index(self, index: int) -> None:
        key = self.model_combo.itemData(index)
        if key == OPEN:
            self.model_combo.blockSignals(True)
            self.model_combo.setCurrentIndex(self._previous_index)
            self.model_combo.blockSignals(False)
            self.ask_open_model()
            return
        self._previous_index = index
        self._describe_selection()
        self._show_table("objects" if self.detecting() else "classes")
        if key and self.engine_ready:
            self._activate(key)

    def _activate(self, key: str) -> None:
        self.requested_key = key
        self.model_info = None
        self.banner.dismiss()
        self._describe_selection(loading=True)
        if key == TRAINED:
            self.useTrainedRequested.emit()
        elif key.startswith(IMAGENET):
            self.usePretrainedRequested.emit(key[len(IMAGENET):])
        elif key.startswith(DETECTOR):
            self.usePretrainedRequested.emit(key)  # the worker's slot for every network used as it is
        elif key.startswith(FILE):
            self.openModelRequested.emit(key[len(FILE):])

    def select_model(self, key: str) -> None:
        """Select (and load) a model by its key; a file not in the list is added to it."""
        if key.startswith(FILE) and self.model_combo.findData(key) < 0:
            store.remember_model(key[len(FILE):])
            self._fill_models(select=self.selected_key())
        index = self.model_combo.findData(key)
        if index < 0:
            return
        if index == self.model_combo.currentIndex():
            if self.requested_key != key and self.engine_ready:
                self._activate(key)
        else:
            self.model_combo.setCurrentIndex(index)

    def open_model(self, path: str) -> None:
        self.select_model(FILE + str(Path(path)))

    def ask_open_model(self) -> None:
        if not self.engine_ready:  # (the button and the menu item wait for it; the list's last entry cannot)
            self.banner.show_message("The engine is still starting; try again in a moment.", "info")
            return
        folder = store.get_str("paths/models") or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", folder,
                                              f"Monster Studio models (*{MODEL_SUFFIX});;All files (*)")
        if path:
            store.put("paths/models", str(Path(path).parent))
            self.open_model(path)

    def add_trained(self, summary: dict) -> None:
        """A model was just trained: list it first and make it the one that classifies."""
        self.has_trained = True
        acc = summary["metrics"].get("val_accuracy")
        acc_text = f", {acc * 100:.0f}% on its check pictures" if acc is not None and acc == acc else ""
        self._trained_text = f"Model just trained ({summary['name']}){acc_text}"
        if self.model_combo.findData(TRAINED) < 0:
            self._fill_models(select=self.selected_key())
        else:
            self.model_combo.setItemText(self.model_combo.findData(TRAINED), self._trained_text)
        self.requested_key = None  # a new trained model replaces the old one in the worker
        self.select_model(TRAINED)

    def add_recent(self, path: str) -> None:
        store.remember_model(path)
        self._fill_models(select=self.selected_key())

    def _describe_selection(self, loading: bool = False) -> None:
        key = self.selected_key()
        info = self.model_info if self.requested_key == key else None
        if info:
            self.model_label.setText(_model_words(info))
        elif key.startswith(IMAGENET):
            self.model_label.setText("Names 1000 everyday things, animals and objects (ImageNet), with no training. "
                                     + ("Loading…" if loading else "It loads when you drop the first picture."))
        elif key.startswith(DETECTOR):
            d = self.detectors.get(key[len(DETECTOR):], {})
            self.model_label.setText(_detector_words(d.get("name", "a detector"), d.get("guidance", "")) + " "
                                     + ("Loading…" if loading else "It loads when you drop the first picture."))
        elif loading:
            self.model_label.setText("Loading the model…")
        else:
            self.model_label.setText("")

    # ------------------------------------------------------------------ classifying

    def classify_paths(self, paths: list[str]) -> None:
        """Pictures become cards (and rows); folders become rows."""
        if not paths:
            return
        if not self.engine_ready:
            self.banner.show_message("The engine is still starting; try again in a moment.", "info")
            return
        self.banner.dismiss()
        if self.requested_key != self.selected_key() or self.model_info is None and self.requested_key is None:
            self._activate(self.selected_key())
        folders = [str(Path(p)) for p in paths if Path(p).is_dir()]
        files = [str(Path(p)) for p in paths if not Path(p).is_dir()]
        if len(files) > MAX_CARDS:
            folders, files = folders + files, []
        if files:
            self._send(files, cards=True)
        if folders:
            self._send(folders, cards=False)
        store.put("paths/pictures", str(Path(paths[0]).parent))
        self.results.setCurrentIndex(1 if folders else 0)

    def _send(self, paths: list[str], cards: bool) -> None:
        request = self._next_request
        self._next_request += 1
        self._requests[request] = "cards" if cards else "table"
        if cards:
            for p in paths:
                self._add_card(request, p, self.detecting())
        self._begin()
        self.classifyRequested.emit(paths, TOP_K, cards, request)

    def _add_card(self, request: int, path: str, detection: bool = False) -> PredictionCard:
        card = DetectionCard(path) if detection else PredictionCard(path)
        self.cards[(request, path)] = card
        self.card_order.append(card)
        self.flow.addWidget(card)
        self.results.setTabText(0, f"Pictures ({len(self.card_order)})")
        return card

    def _begin(self) -> None:
        self.pending += 1
        self.drop_zone.set_compact(True)
        self.results.show()
        self.progress_row.show()
        if self.pending == 1:
            self.progress.set_phase("classify", "Looking for things" if self.detecting() else "Classifying")
        self._update()

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        paths = local_paths(mime)
        if not paths and mime.hasText():
            lines = [ln.strip().strip('"') for ln in mime.text().splitlines() if ln.strip()]
            paths = [ln for ln in lines if Path(ln).exists()]
        if paths:
            self.classify_paths(paths)
            return
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull() and self.engine_ready:
                if self.requested_key != self.selected_key():
                    self._activate(self.selected_key())
                request = self._next_request
                self._next_request += 1
                self._requests[request] = "cards"
                self._begin()
                self.results.setCurrentIndex(0)
                self.classifyImageRequested.emit(image, TOP_K, request)
                return
        self.banner.show_message("The clipboard holds no picture and no picture file. Copy a picture (or picture "
                                 "files in the file manager) and paste again.", "info")

    def ask_open_pictures(self) -> None:
        folder = store.get_str("paths/pictures") or str(Path.home())
        files, _ = QFileDialog.getOpenFileNames(
            self, "Choose pictures to classify", folder,
            "Pictures (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.tif *.tiff);;All files (*)")
        if files:
            self.classify_paths(files)

    def ask_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of pictures to classify",
                                                  store.get_str("paths/pictures") or str(Path.home()))
        if folder:
            self.classify_paths([folder])

    def stop(self) -> None:
        if self.pending:
            self.stopRequested.emit()  # the window stops the worker and calls mark_stopped

    def mark_stopped(self) -> None:
        self.pending = 0
        for card in self.card_order:
            if card.result is None:
                card.verdict.setText("Stopped")
        self.progress.set_idle("Stopped")
        self._update()

    def clear_results(self) -> None:
        for card in self.card_order:
            self.flow.removeWidget(card)
            card.deleteLater()
        self.cards.clear()
        self.card_order.clear()
        for model in self.tables.values():
            model.clear()
        if not self.pending:
            self.results.hide()
            self.progress_row.hide()
            self.drop_zone.set_compact(False)

    def ask_export(self) -> None:
        self.table_model.flush()
        if not self.table_model.rows:
            return
        folder = store.get_str("paths/export") or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, "Export the results", str(Path(folder) / "classified.csv"),
                                              "CSV spreadsheet (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> bool:
        if not path.lower().endswith(".csv"):
            path += ".csv"
        try:
            n = self.table_model.write_csv(path)
        except OSError as exc:
            self.banner.show_message(f"Could not write {Path(path).name}: {exc.strerror or exc}. "
                                     "Choose another folder.", "error", [("Export somewhere else…", self.ask_export)])
            return False
        except UnicodeError:  # a name no encoding can write (not even as its raw bytes)
            self.banner.show_message(f"Could not write {Path(path).name}: a file name in the results cannot be "
                                     "written as text. Rename that picture, or clear the results and classify "
                                     "again without it.", "error")
            return False
        store.put("paths/export", str(Path(path).parent))
        self.banner.show_message(f"{n} results exported to {path}.", "info")
        return True

    def ask_import_weights(self, weights_id: str, then_key: str | None = None, filename: str = "") -> None:
        """`weights_id`: a detector, or the backbone a model is built on; `then_key`: the model to
        choose again once the file is installed (the chosen one if not given)."""
        name = self.detectors.get(weights_id, {}).get("name", weights_id)
        path, _ = QFileDialog.getOpenFileName(
            self, f"Weights file for {name}" + (f" ({filename})" if filename else ""),
            str(Path.home() / "Downloads"), "PyTorch weights (*.pth *.pt);;All files (*)")
        if path:
            self.import_weights(weights_id, path, then_key)

    def import_weights(self, weights_id: str, path: str, then_key: str | None = None) -> None:
        """Install the file (the worker checks it fits); once it is in, the model that needed it is
        chosen again (see on_weights_imported). A file that does not fit says so here."""
        self.banner.dismiss()
        self._after_import = (weights_id, then_key or self.selected_key())
        self.importWeightsRequested.emit(weights_id, path)

    # ------------------------------------------------------------------ worker news

    def on_ready(self, info: dict) -> None:
        self.engine_ready = True
        self.imagenet_backbone = info["default"]
        self.detectors = {d["id"]: d for d in info.get("detectors", [])}
        self._fill_models(select=self.selected_key())
        self._update()

    def on_model_ready(self, info: dict) -> None:
        self.model_info = info
        if info["kind"] == "file" and info.get("source"):
            store.remember_model(info["source"])
        if info["kind"] == "detector":  # its weights are on disk now: say so in the list
            detector_id = info["key"][len(DETECTOR):]
            if detector_id in self.detectors:
                self.detectors[detector_id]["status"] = info["status"]
                index = self.model_combo.findData(info["key"])
                if index >= 0:
                    self.model_combo.setItemText(index, _detector_text(self.detectors[detector_id]))
        self._describe_selection()

    def on_phase(self, name: str, text: str) -> None:
        if self.pending or name == "download":  # a detector's weights are fetched when it is chosen
            self.progress_row.show()
            self.progress.set_phase(name, text)

    def on_progress(self, phase: str, done, total, seconds_left) -> None:
        if self.pending or phase == "download":
            self.progress.set_progress(phase, done, total, seconds_left)

    def on_prediction(self, result: dict) -> None:
        request = result["request"]
        kind = self._requests.get(request)
        if kind is None:
            return
        detection = result.get("kind") == "detection"
        self.tables["objects" if detection else "classes"].append(result)
        if kind == "cards":
            card = self.cards.get((request, result["path"]))
            if card is None:
                card = self._add_card(request, result["path"], detection)
            card.show_result(result)

    def on_classify_done(self, info: dict) -> None:
        for model in self.tables.values():
            model.flush()
        n, bad = info["classified"], info["skipped"]
        text = f"Classified {n} picture{'s' if n != 1 else ''} in {info['seconds']:.1f} s"
        if info.get("kind") == "detection":
            things = info["found"]
            text = (f"Looked at {n} picture{'s' if n != 1 else ''} in {info['seconds']:.1f} s: "
                    f"{things} thing{'s' if things != 1 else ''} found")
        if bad:
            text += f"; {bad} could not be read"
        self.progress.set_idle(text, full=True)

    def on_idle(self, task: str, outcome: str) -> None:
        if task == "classify" and outcome != "stopped" and self.pending:
            self.pending -= 1
            if not self.pending and outcome == "error":
                self.progress.set_idle("Looking for things did not finish" if self.detecting()
                                       else "Classifying did not finish")
                for card in self.card_order:
                    if card.result is None:
                        card.verdict.setText("Not classified: see the message above")
        elif task == "model" and outcome == "stopped":
            self.requested_key = None
            self._describe_selection()
        if task == "model" and not self.pending and self.progress.phase == "download":
            self.progress.set_idle("Weights downloaded" if outcome == "ok" else "The download did not finish",
                                   full=outcome == "ok")
        self._update()

    def on_weights_imported(self, info: dict) -> None:
        after, self._after_import = self._after_import, None
        if after is not None and after[0] == info["backbone"] and self.selected_key() == after[1]:
            self._activate(after[1])  # the model that needed the file, again
        what = "this detector works" if info["backbone"] in self.detectors else "models built on it work"
        self.banner.show_message(f"The weights file is installed; {what} offline now.", "info")

    def on_error(self, info: dict) -> None:
        kind, task = info.get("kind"), info.get("task")
        if kind == "nomodel" and task == "classify" and self.model_info is None and self.banner.isVisible():
            return  # the model's own refusal is already on screen and says more
        actions = []
        key = (self.requested_key or "") if task == "model" else self.selected_key()
        weights_id = info.get("backbone") or (key[len(DETECTOR):] if key.startswith(DETECTOR) else "")
        if task == "import" and self._after_import is not None:  # the file did not fit: try another
            weights_id, key = self._after_import
        self._after_import = None if task == "import" else self._after_import
        if task == "model":
            self.requested_key = None
            self.model_info = None
            if key.startswith(FILE) and kind == "modelfile":  # the file itself is refused: it leaves the list
                store.forget_model(key[len(FILE):])
                self._fill_models(select=IMAGENET + self.imagenet_backbone)
            self._describe_selection()
        if key.startswith(FILE) and (task == "model" or kind == "weights"):
            actions = [("Open another model file…", self.ask_open_model)]
        message = info["message"]
        if kind == "weights":
            # The core's way out names the command line; here the buttons are the way out.
            imagenet = IMAGENET + self.imagenet_backbone
            others = ["open another model file"] if key.startswith(FILE) else []
            if key != imagenet:
                others.append("use the ImageNet labels, which need no download")
                actions.append(("Use ImageNet labels", lambda: self.select_model(imagenet)))
            message = weights_text(info, *others)
            if weights_id:
                filename = info.get("filename", "")
                actions.insert(0, (IMPORT_BUTTON, lambda: self.ask_import_weights(weights_id, key, filename)))
        self.banner.show_message(message, "error", actions)

    # ------------------------------------------------------------------ state

    def _update(self) -> None:
        busy = self.pending > 0
        self.stop_button.setEnabled(busy)
        # Opening a model file needs the engine; until it is ready the button would only wait.
        self.open_model_button.setEnabled(self.engine_ready)
        for w in (self.drop_zone.open_files, self.drop_zone.open_folder, self.drop_zone.paste):
            w.setEnabled(self.engine_ready)
        self.export_button.setEnabled(bool(self.table_model.rows or self.table_model._pending))

    def _update_counts(self, *_) -> None:
        rows = self.table_model.rows
        counts = self.table_model.counts()
        skipped = sum(1 for r in rows if "reason" in r)
        parts = [f"{c} {n}" for c, n in list(counts.items())[:12]]
        more = len(counts) - 12
        text = f"{len(rows)} picture{'s' if len(rows) != 1 else ''}"
        if self.table_model.kind == "objects":
            things = sum(counts.values())
            text += f" · {things} thing{'s' if things != 1 else ''} found"
        if parts:
            what = "kinds" if self.table_model.kind == "objects" else "classes"
            text += ": " + " · ".join(parts) + (f" · and {more} more {what}" if more > 0 else "")
        if skipped:
            text += f" · {skipped} not readable"
        self.counts_label.setText(text if rows else "")
        self.results.setTabText(0, f"Pictures ({len(self.card_order)})")
        self.results.setTabText(1, f"Table ({len(rows)})")
        self.export_button.setEnabled(bool(rows))


def _detector_text(d: dict) -> str:
    return f"Find objects: {d['name']} (COCO, no training) — {d['status']}"


def _detector_words(name: str, guidance: str) -> str:
    return (f"Finds and boxes people, animals, vehicles and 77 more kinds of things (COCO) with {name}, "
            f"no training. {guidance}").strip()


def _model_words(info: dict) -> str:
    if info["kind"] == "detector":
        return _detector_words(info["name"], info.get("guidance", ""))
    if info["kind"] == "imagenet":
        return (f"Names 1000 everyday things, animals and objects (ImageNet) with {info['backbone']}, "
                "no training.")
    classes = info["classes"]
    shown = ", ".join(classes[:8]) + (f" and {len(classes) - 8} more" if len(classes) > 8 else "")
    acc = (info.get("metrics") or {}).get("val_accuracy")
    acc_text = f" · {acc * 100:.0f}% right on its check pictures" if isinstance(acc, float) and acc == acc else ""
    where = f" · {info['source']}" if info.get("source") else ""
    return f"Knows {len(classes)} classes: {shown} · built on {info['backbone']}{acc_text}{where}"
