"""Safe changes to the training folder, from anywhere in the window: move a picture to another
class, set it aside (the system's trash), make or rename a class, add a copy of a picture to a
class; Edit > Undo (Ctrl+Z) says what it would undo. Each change is one job (app.jobs.fix) through
the core's journal; after it the class table follows. Other views call `offer_actions` for a
picture's menu entries, or the methods here.

`ask_name` and `ask_class` are the only questions it asks: module-level functions, so tests
answer them (a real box would wait forever offscreen)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog

from monster_studio.app.jobs import fix as fix_jobs
from monster_studio.core.actions import name_problem
from monster_studio.core.wording import visible

FIX = "fix"  # the name of every request this view makes


def ask_name(parent, title: str, label: str, text: str = "") -> str | None:
    """A name typed by the user, or None when cancelled."""
    name, ok = QInputDialog.getText(parent, title, label, text=text)
    return name.strip() if ok else None


def ask_class(parent, title: str, label: str, classes: list[str]) -> str | None:
    """One of `classes` chosen by the user, or None when cancelled."""
    name, ok = QInputDialog.getItem(parent, title, label, classes, 0, False)
    return name if ok and name else None


def offer_actions(page, path: str, given_class: str = "") -> list:
    """The safe changes for one picture of the training folder, as (text, callback) menu entries:
    "Move to '<class>'" for each other class, and "Set aside (to the trash)". `page`: any widget
    of the main window (a page, a gallery); [] when the window offers none now."""
    fixes = getattr(page.window(), "fixes", None)
    return fixes.picture_entries(path, given_class) if fixes is not None else []


def inside(path: str, folder: str) -> bool:
    try:
        Path(path).expanduser().relative_to(Path(folder).expanduser())
        return bool(folder)
    except ValueError:
        return False


class FixActions(QObject):
    """The window's one place for changes to the training folder. `changed(fix.Changed)`: a change
    or an undo was made (views mark the pictures it touched)."""

    changed = Signal(object)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.studio, self.state = window.studio, window.studio.state
        self.train_page, self.classify_page = window.train_page, window.classify_page
        self.undo_action = window.undo_action
        self.undo_words = ""  # what Undo would do in `undo_folder`
        self.undo_folder = ""
        self.studio.result.connect(self._on_result)
        self.state.folder.changed.connect(self._on_folder)
        self.state.training.changed.connect(self._update)
        self.state.jobs.changed.connect(self._update)
        self.train_page.classes.menu_extras.append(self.class_entries)
        self._update()

    # ------------------------------------------------------------------ what can be done now

    @property
    def folder(self) -> str:
        return self.state.folder.path

    def why_not(self) -> str:
        """Why no change can be made now, in words ('' when one can)."""
        if self.state.training.running:
            return "Training is running. Wait until it ends (or stop it) to change the pictures."
        if not self.folder or self.state.folder.table is None:
            return "Choose the training folder on the Train page first."
        return ""

    def _page(self, owner: str):
        return self.classify_page if owner == "classify" else self.train_page

    def _submit(self, job, *args, owner: str = "train", **tag):
        why = self.why_not()
        if why:
            self._page(owner).banner.show_message(why, "info")
            return None
        options = self.train_page.options
        return self.studio.submit(FIX, job, self.folder, *args, options.val_share.value() / 100,
                                  options.seed.value(), owner=owner, stoppable=False, **tag)

    # ------------------------------------------------------------------ the changes

    def move(self, paths: list[str], name: str, owner: str = "train"):
        return self._submit(fix_jobs.change, [("move", p, name) for p in paths], owner=owner)

    def set_aside(self, paths: list[str], owner: str = "train"):
        return self._submit(fix_jobs.change, [("set_aside", p, "") for p in paths], owner=owner)

    def teach(self, path: str, name: str, owner: str = "classify"):
        return self._submit(fix_jobs.change, [("teach", path, name)], owner=owner)

    def undo(self):
        owner = "classify" if self.window.current_page() == 1 else "train"
        if not self.undo_words:
            return None
        return self._submit(fix_jobs.undo, owner=owner)

    def ask_new_class(self):
        name = ask_name(self.window, "New class", "Name of the new class (a folder is made for it):")
        if name and self._name_ok(name):
            return self._submit(fix_jobs.create_class, name)
        return None

    def ask_rename(self, old: str):
        name = ask_name(self.window, "Rename the class", f"New name for the class '{visible(old)}':", old)
        if name and name != old and self._name_ok(name):
            return self._submit(fix_jobs.rename_class, old, name)
        return None

    def _name_ok(self, name: str) -> bool:
        why = name_problem(name)
        if why:
            self.train_page.banner.show_message(f"'{visible(name)}' cannot be a class: {why}. Choose another name.",
                                                "error")
        return not why

    # ------------------------------------------------------------------ menu entries

    def classes(self) -> list[str]:
        table = self.state.folder.table
        return list(table.classes) if table is not None else []

    def picture_entries(self, path: str, given: str = "", owner: str = "train") -> list:
        if self.why_not() or not inside(path, self.folder):
            return []
        given = given or Path(path).parent.name
        entries = [(f"Move to '{visible(c)}'", lambda c=c: self.move([path], c, owner))
                   for c in self.classes() if c.lower() != given.lower()]
        return entries + [("Set aside (to the trash)", lambda: self.set_aside([path], owner))]

    def class_entries(self, name: str) -> list:
        """The class table's right-click menu (`name`: the class under the pointer, or '')."""
        if self.state.training.running:
            return []
        entries = [(f"Rename '{visible(name)}'…", lambda: self.ask_rename(name))] if name else []
        return entries + [("New class…", self.ask_new_class)]

    # ------------------------------------------------------------------ what the jobs say

    def _on_folder(self) -> None:
        """Another folder: its own history says what Undo does. Asked before the folder's scan
        starts (this runs as the studio announces the folder), so the scan ends last and the page
        says "Ready"."""
        path = self.folder
        if path == self.undo_folder:
            return
        self.undo_folder, self.undo_words = path, ""
        self._update()
        if path:
            self.studio.submit(FIX, fix_jobs.history, path, owner="train", stoppable=False, quiet=True)

    def _on_result(self, request, item) -> None:
        if request.name != FIX:
            return
        if isinstance(item, fix_jobs.UndoState):
            if item.folder == self.undo_folder:
                self.undo_words = item.words
                self._update()
        elif isinstance(item, fix_jobs.Changed):
            self.changed.emit(item)
            self._say(request.tag.get("owner", "train"), item)

    def _say(self, owner: str, item) -> None:
        words = " ".join(item.words)
        actions = []
        if item.kind == "teach" and owner == "classify":
            words += " Retrain now to teach the model: every other picture is remembered, so it takes seconds."
            actions.append(("Retrain now", self.retrain))
        if item.kind != "undo":
            actions.append(("Undo", self.undo))
        self._page(owner).banner.show_message(words, "info", actions)

    def retrain(self) -> None:
        if self.state.training.running:
            return
        self.train_page.start_training()

    def _update(self) -> None:
        words = self.undo_words if self.undo_folder == self.folder else ""
        self.undo_action.setText(f"&Undo: {words.replace('&', '&&')}" if words else "&Undo")
        self.undo_action.setToolTip(f"Undo: {words}" if words else "Nothing to undo in the training folder")
        self.undo_action.setEnabled(bool(words) and not self.state.training.running and not self.state.jobs.busy(FIX))
