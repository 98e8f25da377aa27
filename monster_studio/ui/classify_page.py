"""The Classify page: choose a model, drop pictures or folders, see what they are. Single pictures
become cards; everything also lands in a sortable table that can be exported as CSV. A COCO
detector chosen as the model finds and boxes things instead; its answers have their own table.

The page draws the model and results state and sends the user's intent to the studio."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QTabWidget, QWidget

from monster_studio import MODEL_SUFFIX
from monster_studio.app import model_keys
from monster_studio.ui import results_export
from monster_studio.ui import settings as store
from monster_studio.ui.banner import Banner
from monster_studio.ui.card_heatmaps import CardHeatmaps
from monster_studio.ui.drop_zone import DropZone, local_paths
from monster_studio.ui.model_help import ModelHelp
from monster_studio.ui.model_picker import ModelPicker
from monster_studio.ui.progress_panel import ProgressPanel
from monster_studio.ui.result_cards import MAX_CARDS, CardsView
from monster_studio.ui.results_view import ResultsView
from monster_studio.ui.style import page_layout, role
from monster_studio.ui.sure_choice import SureChoice
from monster_studio.ui.test_folder import TestOnFolder

OWNER = "classify"
DEFERRED = ("imagenet", "detector")  # loaded when the first picture is dropped, as the page says


class ClassifyPage(QWidget):
    def __init__(self, studio, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.studio = studio
        self.state = studio.state
        self.last_request = 0
        self._trained_seen = None

        outer = page_layout(self, "Classify pictures")
        self.banner = Banner()
        outer.addWidget(self.banner)
        self.picker = ModelPicker(self.state)
        self.picker.chosen.connect(self._on_chosen)
        self.picker.openFileRequested.connect(self.ask_open_model)
        outer.addWidget(self.picker)
        self.drop_zone = DropZone()
        self.drop_zone.pathsDropped.connect(self.classify_paths)
        self.drop_zone.openFilesClicked.connect(self.ask_open_pictures)
        self.drop_zone.openFolderClicked.connect(self.ask_open_folder)
        self.drop_zone.pasteClicked.connect(self.paste)
        outer.addWidget(self.drop_zone, 1)

        self.cards = CardsView()
        self.view = ResultsView()
        prow = QHBoxLayout()
        self.progress = ProgressPanel(self.state.jobs, OWNER)
        prow.addWidget(self.progress, 1)
        self.stop_button = QPushButton("Stop")
        role(self.stop_button, "danger")
        self.stop_button.setToolTip("Stop classifying (Esc)")
        self.stop_button.clicked.connect(self.studio.stop)
        prow.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignBottom)
        prow.setContentsMargins(0, 0, 0, 0)
        self.progress_row = QWidget()
        self.progress_row.setLayout(prow)
        outer.addWidget(self.progress_row)

        self.tools = QHBoxLayout()  # what else can be done with the chosen model: views add buttons here
        self.tools.setContentsMargins(0, 0, 0, 0)
        self.tools.addStretch(1)
        outer.addLayout(self.tools)
        # Extra entries for a picture's right-click menu (cards and table rows): each provider is
        # called with the results.Answer and returns (text, callback) pairs.
        self.menu_extras: list = []
        self.cards.menu_extras = self.view.menu_extras = self.menu_extras
        self.heatmaps = CardHeatmaps(self, OWNER)  # a card's Why?
        self.tester = TestOnFolder(self)
        test = QPushButton("Test on a folder…")
        test.setToolTip("Check the chosen model on a folder with one subfolder per class: how often it is right, "
                        "per class, and its mistakes")
        test.clicked.connect(self.tester.ask)
        self.add_tool(test)
        self.sure_choice = SureChoice(studio)
        self.add_tool(self.sure_choice)
        self.results = QTabWidget()
        self.results.setDocumentMode(True)
        outer.addWidget(self.results, 3)
        self.results.addTab(self.cards, "Pictures")
        self.view.exportRequested.connect(self.ask_export)
        self.view.clearRequested.connect(self.clear_results)
        self.view.countsChanged.connect(self._update_tabs)
        self.view.sessionChosen.connect(self._show_session)
        self.results.addTab(self.view, "Table")
        self.results.hide()
        self.progress_row.hide()

        s = self.state
        s.engine.changed.connect(self._update)
        s.model.changed.connect(self._on_model)
        s.results.cleared.connect(self._on_cleared)
        s.results.added.connect(self._on_answer)
        s.results.finished.connect(lambda *_: self.view.model.flush())
        s.jobs.changed.connect(self._update)
        s.jobs.progressChanged.connect(lambda owner: owner == OWNER and s.jobs.progress[OWNER].active
                                       and self.progress_row.show())
        self.help = ModelHelp(self)
        self._update()

    # ------------------------------------------------------------------ what the page shows

    @property
    def card_order(self) -> list:
        return self.cards.order

    @property
    def table_model(self):
        return self.view.model

    @property
    def proxy(self):
        return self.view.proxy

    @property
    def table(self):
        return self.view.table

    @property
    def filter(self):
        return self.view.filter

    @property
    def counts_label(self):
        return self.view.counts_label

    @property
    def model_combo(self):
        return self.picker.combo

    @property
    def model_label(self):
        return self.picker.label

    @property
    def model_info(self):
        info = self.state.model.info
        return info if info is not None and info.key == self.selected_key() else None

    @property
    def pending(self) -> int:
        return sum(1 for r in self.state.jobs.pending.values() if r.name == "classify")

    def selected_key(self) -> str:
        return self.picker.selected_key()

    def detecting(self) -> bool:
        return model_keys.is_detector(self.selected_key())

    def _on_model(self) -> None:
        trained = self.state.model.trained
        if trained is not None and trained is not self._trained_seen:
            self._trained_seen = trained  # a model was just trained: listed first, and the one that classifies
            self.select_model(model_keys.TRAINED, load=True)
        self.view.show_kind("objects" if self.detecting() else "classes")
        info = self.state.model.info
        self.view.set_classes(info.classes if info is not None else [])

    def _on_cleared(self) -> None:
        """Another model's answers start a clean view; the earlier ones stay in the history."""
        self.cards.clear(keep_waiting=True)
        self.view.clear()
        r = self.state.results
        self.view.set_history(r.current.name if r.current else "", r.previous)
        self._update_tabs()

    def _show_session(self, index: int) -> None:
        r = self.state.results
        self.view.show_answers([a for _, a in (r.current.answers if index < 0 or index >= len(r.previous)
                                                else r.previous[index].answers)] if r.current or r.previous else [])

    def _on_answer(self, request: int, answer) -> None:
        if self.view.history.currentIndex() > 0:  # new answers: back to the current model's
            self.view.history.setCurrentIndex(0)
        detection = hasattr(answer.result, "found") or model_keys.is_detector(answer.model_key)
        self.view.tables["objects" if detection else "classes"].append(answer)
        if request in self.state.results.cards:
            self.cards.show_answer(request, answer, detection)
            self._update_tabs()

    def _update_tabs(self) -> None:
        self.results.setTabText(0, f"Pictures ({len(self.cards.order)})")
        self.results.setTabText(1, f"Table ({len(self.view.model.rows)})")

    def _update(self) -> None:
        ready = self.state.engine.ready
        self.stop_button.setEnabled(self.pending > 0 or self.state.jobs.busy("model"))
        self.picker.open_button.setEnabled(ready)
        for w in (self.drop_zone.open_files, self.drop_zone.open_folder, self.drop_zone.paste):
            w.setEnabled(ready)
        if not self.pending:
            self.cards.mark_waiting("Stopped" if self.state.jobs.progress[OWNER].text.startswith("Stopped")
                                    else "Not classified: see the message above")

    def add_tool(self, button) -> None:
        """A button for something else to do with the chosen model (Test on a folder…, Sort…)."""
        self.tools.insertWidget(self.tools.count() - 1, button)

    def extras_for(self, answer) -> list:
        return [item for provider in self.menu_extras for item in provider(answer)]

    # ------------------------------------------------------------------ models

    def _on_chosen(self, key: str) -> None:
        self.view.show_kind("objects" if model_keys.is_detector(key) else "classes")
        if model_keys.kind(key) not in DEFERRED:
            self.load_model(key)

    def load_model(self, key: str | None = None) -> None:
        key = key or self.selected_key()
        if key and self.state.engine.ready:
            self.banner.dismiss()
            self.studio.choose_model(key)

    def select_model(self, key: str, load: bool | None = None) -> None:
        """Choose a model by its key (a file not in the list is added to it); `load`: at once
        (default: unless it is one that loads with the first picture)."""
        if not self.picker.select(key):
            return
        self.view.show_kind("objects" if model_keys.is_detector(key) else "classes")
        if load is None:
            load = model_keys.kind(key) not in DEFERRED
        m = self.state.model
        if load and (m.requested != key or m.info is None and not m.loading or key == model_keys.TRAINED
                     and m.info is not None and m.info != m.trained):
            self.load_model(key)

    def open_model(self, path: str) -> None:
        self.select_model(model_keys.file_key(str(Path(path))))

    def ask_open_model(self) -> None:
        if not self.state.engine.ready:
            self.banner.show_message("The engine is still starting; try again in a moment.", "info")
            return
        folder = store.start_folder("paths/models")
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", folder,
                                              f"Monster Studio models (*{MODEL_SUFFIX});;All files (*)")
        if path:
            store.put("paths/models", str(Path(path).parent))
            self.open_model(path)

    # ------------------------------------------------------------------ classifying

    def classify_paths(self, paths: list[str]) -> None:
        """Pictures become cards (and rows); folders become rows."""
        if not paths:
            return
        if not self.state.engine.ready:
            self.banner.show_message("The engine is still starting; try again in a moment.", "info")
            return
        self.banner.dismiss()
        self._ensure_model()
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

    def _ensure_model(self) -> None:
        key, m = self.selected_key(), self.state.model
        if m.requested != key or (m.info is None and not m.loading):
            self.load_model(key)

    def _send(self, paths: list[str], cards: bool) -> None:
        self._show_results()
        request = self.studio.classify(paths, cards)
        self.last_request = request.id
        if cards:
            for p in paths:
                self.cards.add(request.id, p, self.detecting())
            self._update_tabs()

    def _show_results(self) -> None:
        self.drop_zone.set_compact(True)
        self.results.show()
        self.progress_row.show()

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        paths = local_paths(mime)
        if not paths and mime is not None and mime.hasText():
            lines = [ln.strip().strip('"') for ln in mime.text().splitlines() if ln.strip()]
            paths = [ln for ln in lines if Path(ln).exists()]
        if paths:
            self.classify_paths(paths)
            return
        if mime is not None and mime.hasImage() and self.state.engine.ready:
            image = QImage(mime.imageData())
            if not image.isNull():
                self.banner.dismiss()
                self._ensure_model()
                self._show_results()
                self.last_request = self.studio.classify_image(image).id
                self.results.setCurrentIndex(0)
                return
        self.banner.show_message("The clipboard holds no picture and no picture file. Copy a picture (or picture "
                                 "files in the file manager) and paste again.", "info")

    def ask_open_pictures(self) -> None:
        folder = store.start_folder("paths/pictures")
        files, _ = QFileDialog.getOpenFileNames(
            self, "Choose pictures to classify", folder,
            "Pictures (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.tif *.tiff);;All files (*)")
        if files:
            self.classify_paths(files)

    def ask_open_folder(self) -> None:
        folder = store.start_folder("paths/pictures")
        chosen = QFileDialog.getExistingDirectory(self, "Choose a folder of pictures to classify", folder)
        if chosen:
            self.classify_paths([chosen])

    def clear_results(self) -> None:
        self.state.results.clear()
        if not self.pending:
            self.results.hide()
            self.progress_row.hide()
            self.drop_zone.set_compact(False)

    def ask_export(self) -> None:
        results_export.ask_export(self)

    def export_csv(self, path: str) -> bool:
        return results_export.export_csv(self, path)

    def ask_import_weights(self, weights_id: str, then_key: str | None = None, filename: str = "") -> None:
        self.help.ask_import_weights(weights_id, then_key, filename)

    def import_weights(self, weights_id: str, path: str, then_key: str | None = None) -> None:
        self.help.import_weights(weights_id, path, then_key)
