"""The main window: a sidebar with the two pages, menus and shortcuts, the status bar, and the
wiring between the pages' intent signals and the worker's slots. No page talks to the worker
directly and no model work happens here."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from monster_studio import APP_NAME, __version__
from monster_studio.ui import settings as store
from monster_studio.ui.about import show_about
from monster_studio.ui.applog import log_file
from monster_studio.ui.classify_page import ClassifyPage
from monster_studio.ui.desktop_entry import resources_dir
from monster_studio.ui.drop_zone import local_paths
from monster_studio.ui.train_page import TrainPage
from monster_studio.worker import TRAINED, WorkerThread

log = logging.getLogger(__name__)
TRAIN, CLASSIFY = 0, 1
TRAIN_TASKS = ("scan", "train", "sample", "import", "save")


def app_icon() -> QIcon:
    path = resources_dir() / "icon.png"
    return QIcon(str(path)) if path.is_file() else QIcon()


class MainWindow(QMainWindow):
    _warm_up = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setMinimumSize(1000, 640)
        self.setAcceptDrops(True)
        self.engine_ready = False
        self.running_task = ""
        self._import_owner = None  # the page that asked for the running weights import
        self.devices: list[str] = []

        self.train_page = TrainPage()
        self.classify_page = ClassifyPage()
        self.classify_page.filter.setAcceptDrops(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.train_page)
        self.stack.addWidget(self.classify_page)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._build_sidebar())
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_actions()
        self._build_status_bar()
        self.host = WorkerThread()
        self.worker = self.host.worker
        self._wire()
        self.restore()
        self._update_actions()
        self._warm_up.emit()  # the worker imports the engine on its own thread meanwhile

    # ------------------------------------------------------------------ layout

    def _build_sidebar(self) -> QWidget:
        side = QWidget()
        side.setObjectName("sidebar")
        side.setFixedWidth(172)
        box = QVBoxLayout(side)
        box.setContentsMargins(0, 18, 0, 14)
        box.setSpacing(4)
        logo = QLabel()
        logo.setPixmap(self.windowIcon().pixmap(64, 64))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(logo)
        name = QLabel(APP_NAME)
        name.setObjectName("appName")
        name.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(name)
        version = QLabel(f"version {__version__}")
        version.setObjectName("appVersion")
        version.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(version)
        box.addSpacing(18)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(18, 18))
        for text, tip in (("①  Train", "Build a classifier from a folder of pictures (Ctrl+1)"),
                          ("②  Classify", "Drop pictures to see what they are (Ctrl+2)")):
            item = QListWidgetItem(text)
            item.setToolTip(tip)
            item.setSizeHint(QSize(150, 44))
            self.nav.addItem(item)
        self.nav.setFixedHeight(2 * 50)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.currentRowChanged.connect(lambda _: self._update_actions())
        box.addWidget(self.nav)
        box.addStretch(1)
        self.engine_label = QLabel("Starting the engine…")
        self.engine_label.setObjectName("appVersion")
        self.engine_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.engine_label.setWordWrap(True)
        box.addWidget(self.engine_label)
        return side

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.open_action = self._action(file, "&Open…", self.open_current, QKeySequence.StandardKey.Open,
                                        "Train page: choose the picture folder. Classify page: choose pictures")
        self.open_model_action = self._action(file, "Open &Model…", self.open_model, "Ctrl+Shift+O",
                                              "Classify with a model file saved earlier")
        self.save_action = self._action(file, "&Save Model…", self.train_page.ask_save, QKeySequence.StandardKey.Save,
                                        "Save the model just trained")
        self.export_action = self._action(file, "&Export Results as CSV…", self.classify_page.ask_export, "Ctrl+E",
                                          "Save the Classify page's results as a spreadsheet file")
        file.addSeparator()
        self.sample_action = self._action(file, "Try the Sample &Monsters", self.try_sample, None,
                                          "Draw sample pictures, train on them and try the result")
        self.import_action = self._action(file, "&Import Weights File…", self.train_page.ask_import_weights, None,
                                          "Install a backbone's weights from a file, for computers without internet")
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu("&Edit")
        self.paste_action = self._action(edit, "&Paste Pictures", self.paste, QKeySequence.StandardKey.Paste,
                                         "Classify pictures or picture files from the clipboard")

        run = bar.addMenu("&Training")
        self.train_action = self._action(run, "&Train", self.train, "Ctrl+T", "Train on the chosen folder")
        self.stop_action = self._action(run, "&Stop", self.stop_all, Qt.Key.Key_Escape, "Stop what is running")

        view = bar.addMenu("&View")
        self._action(view, "&Train Page", lambda: self.show_page(TRAIN), "Ctrl+1")
        self._action(view, "&Classify Page", lambda: self.show_page(CLASSIFY), "Ctrl+2")

        help_ = bar.addMenu("&Help")
        self._action(help_, f"&About {APP_NAME}", lambda: show_about(self))
        self._action(help_, "Open &Log Folder", self.open_log_folder)
        if sys.platform.startswith("linux"):
            self._action(help_, "Add to the &Applications Menu", self.install_desktop_entry, None,
                         "Make Monster Studio start from the applications menu with a double-click")
        self._action(help_, "About &Qt", QApplication.aboutQt)

    def _build_status_bar(self) -> None:
        self.status_words = QLabel()
        self.statusBar().addWidget(self.status_words, 1)
        self.device_label = QLabel()
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().setSizeGripEnabled(True)

    def _wire(self) -> None:
        w, tp, cp = self.worker, self.train_page, self.classify_page
        self._warm_up.connect(w.warmUp)
        tp.scanRequested.connect(w.scanFolder)
        tp.trainRequested.connect(w.train)
        tp.sampleRequested.connect(w.writeSample)
        tp.saveRequested.connect(w.save)
        tp.importWeightsRequested.connect(lambda *_: setattr(self, "_import_owner", tp))
        tp.importWeightsRequested.connect(w.importWeights)
        cp.importWeightsRequested.connect(lambda *_: setattr(self, "_import_owner", cp))
        cp.importWeightsRequested.connect(w.importWeights)
        tp.stopRequested.connect(self.stop_all)
        tp.scanStopRequested.connect(self.stop_scan)
        tp.tryItRequested.connect(self.try_it)
        cp.useTrainedRequested.connect(w.useTrained)
        cp.usePretrainedRequested.connect(w.usePretrained)
        cp.openModelRequested.connect(w.openModel)
        cp.classifyRequested.connect(w.classify)
        cp.classifyImageRequested.connect(w.classifyImage)
        cp.stopRequested.connect(self.stop_all)

        w.ready.connect(self.on_ready)
        w.catalogue.connect(tp.on_catalogue)
        w.started.connect(self.on_started)
        w.idle.connect(self.on_idle)
        w.phase.connect(self.on_phase)
        w.progress.connect(self.on_progress)
        w.scanned.connect(tp.on_scanned)
        w.thumbnails.connect(tp.on_thumbnails)
        w.epochEnd.connect(tp.on_epoch)
        w.finished.connect(self.on_finished)
        w.saved.connect(self.on_saved)
        w.modelReady.connect(cp.on_model_ready)
        w.prediction.connect(cp.on_prediction)
        w.classifyDone.connect(cp.on_classify_done)
        w.sampleWritten.connect(tp.on_sample_written)
        w.weightsImported.connect(self.on_weights_imported)  # a method, so it runs on the GUI thread
        w.error.connect(self.on_error)

    # ------------------------------------------------------------------ user intent

    def show_page(self, index: int) -> None:
        self.nav.setCurrentRow(index)

    def current_page(self) -> int:
        return self.stack.currentIndex()

    def open_current(self) -> None:
        if self.current_page() == TRAIN:
            self.train_page.choose_folder()
        else:
            self.classify_page.ask_open_pictures()

    def open_model(self) -> None:
        self.show_page(CLASSIFY)
        self.classify_page.ask_open_model()

    def paste(self) -> None:
        self.show_page(CLASSIFY)
        self.classify_page.paste()

    def train(self) -> None:
        self.show_page(TRAIN)
        self.train_page.start_training()

    def try_sample(self) -> None:
        self.show_page(TRAIN)
        self.train_page.ask_sample()

    def try_it(self, files: list) -> None:
        self.show_page(CLASSIFY)
        self.classify_page.select_model(TRAINED)
        if files:
            self.classify_page.classify_paths(list(files))

    def stop_all(self) -> None:
        """Esc, or a page's Stop: the worker drops its work, both pages go back to idle at once."""
        scanning = self.running_task == "scan" or self.train_page.scans_pending > 0
        busy = (self.train_page.state == "training" or self.classify_page.pending or self.running_task == "model"
                or scanning)
        self.worker.stop()
        if self.train_page.state == "training":
            self.train_page.mark_stopped()
        elif scanning:
            self.train_page.mark_scan_stopped()
        if self.classify_page.pending:
            self.classify_page.mark_stopped()
        if busy:
            self.status_words.setText("Stopped")
        self._update_actions()

    def stop_scan(self) -> None:
        """Another folder was chosen while one is read: the running scan is of no use any more.
        Pictures being classified are not given up for it; the old scan then just runs out."""
        if self.running_task == "scan" and not self.classify_page.pending:
            self.worker.stop()  # the page asks for the new scan right after this
            self._update_actions()

    def open_log_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file().parent)))

    def install_desktop_entry(self) -> None:
        from monster_studio.ui import desktop_entry

        try:
            path = desktop_entry.install()
        except OSError as exc:
            QMessageBox.warning(self, APP_NAME, f"Could not add {APP_NAME} to the applications menu: "
                                                f"{exc.strerror or exc}.")
            return
        QMessageBox.information(self, APP_NAME, f"{APP_NAME} is now in your applications menu.\n\n"
                                                f"(The launcher was written to {path}.)")

    # ------------------------------------------------------------------ worker news

    def _owner(self, task: str):
        if task == "import":  # the page that asked for it shows how it went
            return self._import_owner
        return self.train_page if task in TRAIN_TASKS else self.classify_page

    def on_ready(self, info: dict) -> None:
        self.engine_ready = True
        self.devices = list(info["devices"])
        self.train_page.on_ready(info)
        self.classify_page.on_ready(info)
        where = ("graphics card (CUDA)" if "cuda" in self.devices else
                 "Apple graphics (MPS)" if "mps" in self.devices else "processor (CPU)")
        self.device_label.setText(f"Runs on the {where}")
        self.engine_label.setText("Engine ready")
        self.status_words.setText("Ready")
        self._update_actions()

    def on_started(self, task: str) -> None:
        self.running_task = task
        self._update_actions()

    def on_phase(self, name: str, text: str) -> None:
        self._owner(self.running_task).on_phase(name, text)
        if self.running_task not in ("start", "scan"):
            self.status_words.setText(text + "…")

    def on_progress(self, phase: str, done, total, seconds_left) -> None:
        self._owner(self.running_task).on_progress(phase, done, total, seconds_left)

    def on_idle(self, task: str, outcome: str) -> None:
        self.running_task = ""
        self._owner(task).on_idle(task, outcome)
        if outcome == "error":
            self.status_words.setText("Did not finish; see the message on the page")
        elif task in ("train", "classify", "save", "model") and outcome == "ok":
            self.status_words.setText(self._owner(task).progress.words.text())
        self._update_actions()

    def on_finished(self, summary: dict) -> None:
        self.classify_page.add_trained(summary)
        self.train_page.on_finished(summary)
        self._update_actions()

    def on_weights_imported(self, info: dict) -> None:
        self._owner("import").on_weights_imported(info)

    def on_saved(self, path: str) -> None:
        self.train_page.on_saved(path)
        self.classify_page.add_recent(path)
        self.status_words.setText(f"Saved to {path}")

    def on_error(self, info: dict) -> None:
        task = info.get("task", "")
        if task == "save" and self.current_page() == CLASSIFY:
            self.classify_page.banner.show_message(info["message"], "error")
        elif task == "start":
            self.engine_label.setText("The engine could not start")
            QMessageBox.critical(self, APP_NAME, info["message"])
        else:
            self._owner(task).on_error(info)

    # ------------------------------------------------------------------ state

    def _update_actions(self) -> None:
        training = self.train_page.state == "training"
        self.save_action.setEnabled(self.train_page.has_model and not training)
        self.train_action.setEnabled(self.engine_ready and not training)
        # "model": choosing a model may download its weights, which Stop (Esc) can end too; "scan":
        # reading a big folder (and its examples) takes a while too.
        self.stop_action.setEnabled(training or bool(self.classify_page.pending)
                                    or self.running_task in ("model", "scan"))
        self.export_action.setEnabled(bool(self.classify_page.table_model.rows))
        self.sample_action.setEnabled(self.engine_ready and not training)
        self.import_action.setEnabled(self.engine_ready)
        self.paste_action.setEnabled(self.engine_ready)
        self.open_model_action.setEnabled(self.engine_ready)

    def restore(self) -> None:
        geometry = store.store().value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry() if self.screen() else None
            width, height = 1180, 780
            if screen is not None and screen.width() > 1000:  # a small laptop screen gets a smaller window
                width, height = min(width, int(screen.width() * 0.92)), min(height, int(screen.height() * 0.9))
            self.resize(max(width, self.minimumWidth()), max(height, self.minimumHeight()))
        self.show_page(min(max(store.get_int("window/page", TRAIN), TRAIN), CLASSIFY))

    def save_state(self) -> None:
        store.put("window/geometry", self.saveGeometry())
        store.put("window/page", self.current_page())
        self.train_page.save()

    # ------------------------------------------------------------------ drops and closing

    def dragEnterEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.take_paths(paths)

    def take_paths(self, paths: list[str]) -> None:
        """Something was dropped on the window outside the drop zone."""
        if self.current_page() == CLASSIFY:
            self.classify_page.classify_paths(paths)
            return
        folders = [p for p in paths if Path(p).is_dir()]
        if folders:
            self.train_page.set_folder(folders[0])
        else:
            self.train_page.banner.show_message(
                "To train, drop a folder that holds one subfolder per class. To see what pictures are, "
                "drop them on the Classify page.", "info",
                [("Classify these pictures", lambda: (self.show_page(CLASSIFY),
                                                      self.classify_page.classify_paths(paths)))])

    def closeEvent(self, event) -> None:
        self.save_state()
        busy = self.worker.busy
        if busy:
            self.status_words.setText("Stopping…")
        ended = self.host.shutdown(timeout_ms=10_000)
        log.info("window closed (worker was %s, thread ended: %s)", "busy" if busy else "idle", ended)
        event.accept()


