"""The main window's menus and keyboard shortcuts. Every action is the window's (so tests and
other parts can trigger them by name); what each does lives on the window and the pages."""
from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication

from monster_studio import APP_NAME
from monster_studio.ui.about import show_about
from monster_studio.ui.export_model import ask_export
from monster_studio.ui.guide import show_guide

TRAIN, CLASSIFY = 0, 1


def _action(window, menu, text: str, slot, shortcut=None, tip: str = "",
        context=Qt.ShortcutContext.WindowShortcut) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(context)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(lambda _=False: slot())
    menu.addAction(action)
    return action

def build_menus(self) -> None:
    """The window's menus and shortcuts, each an action on the window (`self`)."""
    tp = self.train_page
    bar = self.menuBar()
    file = bar.addMenu("&File")
    self.open_action = _action(self, file, "&Open…", self.open_current, QKeySequence.StandardKey.Open,
                                    "Train page: choose the picture folder. Classify page: choose pictures")
    self.open_model_action = _action(self, file, "Open &Model…", self.open_model, "Ctrl+Shift+O",
                                          "Classify with a model file saved earlier")
    self.save_action = _action(self, file, "&Save Model…", tp.ask_save, QKeySequence.StandardKey.Save,
                                    "Save the model just trained")
    self.export_action = _action(self, file, "&Export Results as CSV…", self.export_results, "Ctrl+E",
                                      "Save the Classify page's results as a spreadsheet file",
                                      Qt.ShortcutContext.ApplicationShortcut)
    self.export_model_action = _action(self, file, "E&xport Model…", lambda: ask_export(self), "Ctrl+Shift+E",
                                       "Save the classifier as ONNX or TorchScript, for other programs")
    file.addSeparator()
    self.sample_action = _action(self, file, "Try the Sample &Monsters", self.try_sample, None,
                                      "Draw sample pictures, train on them and try the result")
    self.import_action = _action(self, file, "&Import Weights File…", tp.ask_import_weights, None,
                                      "Install a starting model's weights from a file, for computers without internet")
    file.addSeparator()
    _action(self, file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
    edit = bar.addMenu("&Edit")
    # Its words and state are kept by the window's FixActions (ui/fix_actions.py).
    self.undo_action = _action(self, edit, "&Undo", lambda: self.fixes.undo(), QKeySequence.StandardKey.Undo,
                               "Undo the last change to the pictures of the training folder")
    edit.addSeparator()
    self.paste_action = _action(self, edit, "&Paste Pictures", self.paste, QKeySequence.StandardKey.Paste,
                                     "Classify pictures or picture files from the clipboard")
    run = bar.addMenu("&Training")
    self.train_action = _action(self, run, "&Train", self.train, "Ctrl+T", "Train on the chosen folder")
    self.stop_action = _action(self, run, "&Stop", self.stop_all, Qt.Key.Key_Escape, "Stop what is running")
    view = bar.addMenu("&View")
    _action(self, view, "&Train Page", lambda: self.show_page(TRAIN), "Ctrl+1")
    _action(self, view, "&Classify Page", lambda: self.show_page(CLASSIFY), "Ctrl+2")
    help_ = bar.addMenu("&Help")
    _action(self, help_, "&Guide", lambda: show_guide(self), QKeySequence.StandardKey.HelpContents,
                 "The five steps, and what to do when something goes wrong")
    _action(self, help_, f"&About {APP_NAME}", lambda: show_about(self))
    _action(self, help_, "Open &Log Folder", self.open_log_folder)
    _action(self, help_, "&Clear Cached Features…", self.clear_cache, None,
            "Forget what the app remembers of each picture (it looks again at the next training)")
    if sys.platform.startswith("linux"):
        _action(self, help_, "Add to the &Applications Menu", self.install_desktop_entry, None,
                     "Make Monster Studio start from the applications menu with a double-click")
    _action(self, help_, "About &Qt", QApplication.aboutQt)
