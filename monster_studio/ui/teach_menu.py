""""This is actually…" on a Classify page card or table row: the picture copied into the chosen
class of the training folder (FixActions.teach, undoable), then a banner offering Retrain now,
which reuses every remembered picture. Offered for answers of the model just trained, while the
Train page shows the folder it was trained on; for a picture already inside that folder, the
menu offers to move it instead."""
from __future__ import annotations

from pathlib import Path

from monster_studio.app import model_keys
from monster_studio.core.wording import visible
from monster_studio.ui import fix_actions
from monster_studio.ui.fix_actions import inside

FLAT = 8  # up to this many classes are listed in the menu itself; more are chosen from a list


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and Path(a).expanduser() == Path(b).expanduser()


class TeachMenu:
    def __init__(self, window, fixes) -> None:
        self.window, self.fixes, self.state = window, fixes, window.studio.state

    def classes(self) -> list[str]:
        """The trained model's classes, when the Train page shows the folder it learned from."""
        summary = self.state.training.summary
        if summary is None or not _same(summary.folder, self.state.folder.path) or self.state.training.running:
            return []
        return list(summary.info.classes)

    def entries(self, answer) -> list:
        """The menu entries for a results.Answer (ClassifyPage.menu_extras)."""
        result = answer.result
        if answer.model_key != model_keys.TRAINED or not hasattr(result, "top"):
            return []
        classes = self.classes()
        if not classes:
            return []
        folder = self.state.folder.path
        if inside(answer.path, folder):  # one of the training pictures: it can be moved, not copied in
            return self.fixes.picture_entries(answer.path, Path(answer.path).parent.name, owner="classify")
        said = result.top[0][0]
        others = [c for c in classes if c != said]
        if len(classes) <= FLAT:
            return [("This is actually…", [(visible(c), lambda c=c: self.teach(answer.path, c)) for c in others])]
        runners = [label for label, _ in result.top[1:3] if label in others]
        return [("This is actually…", [(visible(c), lambda c=c: self.teach(answer.path, c)) for c in runners]
                 + [("another class…", lambda: self.ask(answer.path, others))])]

    def ask(self, path: str, classes: list[str]):
        name = fix_actions.ask_class(self.window, "This is actually…", f"The class {Path(path).name} belongs to:",
                                     classes)
        return self.teach(path, name) if name else None

    def teach(self, path: str, name: str):
        return self.fixes.teach(path, name, owner="classify")
