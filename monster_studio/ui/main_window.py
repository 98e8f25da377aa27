"""The main window: a sidebar with the two pages, menus and shortcuts, the status bar, drops on
the window, and closing. The studio holds the state and runs the jobs; the window only shows it
and passes the user's intent on. No model work happens here."""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEventLoop, QUrl
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from monster_studio import APP_NAME
from monster_studio.app import model_keys
from monster_studio.app.studio import Studio
from monster_studio.ui import quit_dialog
from monster_studio.ui import settings as store
from monster_studio.ui.applog import log_file
from monster_studio.ui.classify_page import ClassifyPage
from monster_studio.ui.desktop_entry import resources_dir
from monster_studio.ui.drop_zone import local_paths
from monster_studio.ui.export_model import show_outcome
from monster_studio.ui.fix_data import install as install_fix_data
from monster_studio.ui.menus import build_menus
from monster_studio.ui.sidebar import Sidebar
from monster_studio.ui.train_page import TrainPage

log = logging.getLogger(__name__)
TRAIN, CLASSIFY = 0, 1
_DOING = {"classify": "classifying", "scan": "reading the folder", "model": "opening the model"}


def app_icon() -> QIcon:
    path = resources_dir() / "icon.png"
    return QIcon(str(path)) if path.is_file() else QIcon()


class MainWindow(QMainWindow):
    def __init__(self, studio: Studio | None = None) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setMinimumSize(1000, 640)
        self.setAcceptDrops(True)
        self.studio = studio or Studio()
        self.state = self.studio.state

        self.train_page = TrainPage(self.studio)
        self.classify_page = ClassifyPage(self.studio)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.train_page)
        self.stack.addWidget(self.classify_page)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.sidebar = Sidebar(self.windowIcon())
        self.nav, self.engine_label = self.sidebar.nav, self.sidebar.engine_label
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.currentRowChanged.connect(lambda _: self._update_actions())
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        build_menus(self)
        self.fixes = install_fix_data(self)  # check my pictures, safe changes and Undo, Sort…, "This is actually…"
        self._build_status_bar()

        s = self.state
        s.engine.changed.connect(self._on_engine)
        s.jobs.changed.connect(self._update_actions)
        s.jobs.progressChanged.connect(self._on_progress)
        s.training.changed.connect(self._update_actions)
        s.jobs.failed.connect(self._on_failed)
        self.studio.stopped.connect(lambda: self.status_words.setText("Stopped"))
        self.studio.saved.connect(lambda path: (self.status_words.setText(f"Saved to {path}"),
                                                store.remember_model(path), self.classify_page.picker.fill()))
        self.train_page.tryItRequested.connect(self.try_it)
        self.studio.sampleTrained.connect(self.try_it)
        self.studio.result.connect(lambda request, item: show_outcome(self, request, item))
        self.studio.result.connect(self._on_cleared)
        self.classify_page.view.countsChanged.connect(self._update_actions)
        self.restore()
        self._update_actions()
        self.studio.start(store.get_str("train/backbone"))  # on the runner's thread meanwhile

    # ------------------------------------------------------------------ compatibility for tools

    @property
    def engine_ready(self) -> bool:
        return self.state.engine.ready

    @property
    def host(self):
        return self.studio.host

    # ------------------------------------------------------------------ layout

    def _build_status_bar(self) -> None:
        self.status_words = QLabel()
        self.statusBar().addWidget(self.status_words, 1)
        self.device_label = QLabel()
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().setSizeGripEnabled(True)

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

    def export_results(self) -> None:
        self.show_page(CLASSIFY)
        self.classify_page.ask_export()

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
        self.classify_page.select_model(model_keys.TRAINED, load=True)
        if files:
            self.classify_page.classify_paths(list(files))

    def stop_all(self) -> None:
        """Esc, or a page's Stop: every page goes back to idle at once; the runner drops the work."""
        self.studio.stop()

    def clear_cache(self) -> None:
        from monster_studio.app.jobs.cache import clear

        if self.state.jobs.busy("train", "sample", "scan", "check", "classify", "evaluate", "sort-plan", "sort"):
            self.train_page.banner.show_message("The cached features are in use; clear them once the work is done.",
                                                "info")
            return
        answer = quit_dialog.ask(self, "Clear cached features", "Clear the cached features?",
                                 "The app remembers what the starting model saw in each picture, so a training "
                                 "takes seconds the second time. Clearing makes the next training look at every "
                                 "picture again; your pictures and models are not touched.", [("clear", "Clear")])
        if answer == "clear":
            self.studio.submit("clear", clear, owner="train", stoppable=False)

    def _on_cleared(self, request, item) -> None:
        if request.name == "clear" and hasattr(item, "bytes_freed"):
            left = f" ({'; '.join(item.left)})" if item.left else ""
            self.train_page.banner.show_message(f"The cached features were cleared: {item.bytes_freed / 1e6:.0f} MB freed"
                                                f" in {item.folder}{left}.", "info")

    def open_log_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file().parent)))

    def install_desktop_entry(self) -> None:
        from monster_studio.core.errors import os_error_words
        from monster_studio.ui import desktop_entry

        try:
            path = desktop_entry.install()
        except OSError as exc:
            QMessageBox.warning(self, APP_NAME, f"Could not add {APP_NAME} to the applications menu: "
                                                f"{os_error_words(exc)}.")
            return
        QMessageBox.information(self, APP_NAME, f"{APP_NAME} is now in your applications menu.\n\n"
                                                f"(The launcher was written to {path}.)")

    # ------------------------------------------------------------------ state

    def _on_engine(self) -> None:
        e = self.state.engine
        if e.failed:
            self.engine_label.setText("The engine could not start")
            QMessageBox.critical(self, APP_NAME, e.failed)
            return
        if not e.ready:
            return
        where = ("graphics card (CUDA)" if "cuda" in e.devices else
                 "Apple graphics (MPS)" if "mps" in e.devices else "processor (CPU)")
        self.device_label.setText(f"Runs on the {where}")
        self.engine_label.setText("Engine ready")
        self.status_words.setText("Ready")
        self._update_actions()

    def _on_progress(self, owner: str) -> None:
        """The status bar says what runs, and once idle what came of it; never a word left over
        from earlier work, and a plain "Ready" never hides what the last job achieved."""
        p = self.state.jobs.progress[owner]
        if p.active:
            if p.phase not in ("start", "scan"):
                self.status_words.setText(p.text + "…")
        elif p.text != "Ready" or self.status_words.text().endswith("…"):
            self.status_words.setText(p.text)

    def _on_failed(self, request, error) -> None:
        if request.name != "start":
            self.status_words.setText("Did not finish; see the message on the page")

    def _update_actions(self) -> None:
        s = self.state
        ready, training = s.engine.ready, s.training.running
        self.save_action.setEnabled(s.training.summary is not None and not training)
        self.train_action.setEnabled(ready and not training)
        self.stop_action.setEnabled(s.jobs.stoppable())
        self.export_action.setEnabled(bool(self.classify_page.view.model.rows))
        self.export_model_action.setEnabled(ready and (s.model.trained is not None or
                                                       self.classify_page.selected_key().startswith("file:")))
        self.sample_action.setEnabled(ready and not training)
        for action in (self.import_action, self.paste_action, self.open_model_action):
            action.setEnabled(ready)

    def restore(self) -> None:
        geometry = store.store().value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry() if self.screen() else None
            width, height = 1180, 780
            if screen is not None and screen.width() > 1000:  # a small laptop screen gets a smaller window
                width, height = min(width, int(screen.width() * 0.92)), min(height, int(screen.height() * 0.94))
            self.resize(max(width, self.minimumWidth()), max(height, self.minimumHeight()))
        self.show_page(min(max(store.get_int("window/page", TRAIN), TRAIN), CLASSIFY))

    def save_state(self) -> None:
        store.put("window/geometry", self.saveGeometry())
        store.put("window/page", self.current_page())
        self.train_page.save()

    # ------------------------------------------------------------------ drops and closing

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's names
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
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

    def confirm_quit(self) -> bool:
        """Ask before work is lost: a training that runs, or a trained model no file holds yet."""
        s = self.state
        running = s.jobs.running
        if s.training.running or (running is not None and running.stoppable):
            doing = "training" if s.training.running else _DOING.get(running.name, "what is running")
            lost = " The model being trained will be lost." if s.training.running else ""
            answer = quit_dialog.ask(self, f"Quit {APP_NAME}", f"Stop {doing} and quit?", lost.strip() or
                                     "It can be started again later.", [("quit", f"Stop {doing} and quit")])
            if answer == "cancel":
                return False
        if s.training.unsaved and s.training.summary is not None:
            answer = quit_dialog.ask(self, f"Quit {APP_NAME}", "Save the model before quitting?",
                                     "The model trained in this session is in no file yet; without saving, "
                                     "it is gone when the window closes.", [("save", "Save…"), ("discard", "Discard")])
            if answer == "cancel":
                return False
            if answer == "save":
                return self._save_before_quitting()
        return True

    def _save_before_quitting(self) -> bool:
        path = self.train_page.ask_save_path()
        if not path:
            return False
        request = self.train_page.request_save(path)
        while request.id in self.state.jobs.pending:  # a few seconds at most; the window keeps drawing
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
        return not self.state.training.unsaved  # a failed save says why on the page, and the window stays

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.confirm_quit():
            event.ignore()
            return
        self.save_state()
        busy = self.studio.runner.busy
        if busy:
            self.status_words.setText("Stopping…")
        ended = self.studio.shutdown(timeout_ms=10_000)
        log.info("window closed (runner was %s, thread ended: %s)", "busy" if busy else "idle", ended)
        event.accept()
