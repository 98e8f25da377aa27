"""Test on a folder…: the Classify page's chosen classifier checked on any labeled folder (one
subfolder per class, or train/ val/ test/ whose test or val part is used), its figures and
mistakes shown in a window of their own, the same view the Train page shows after training."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QVBoxLayout

from monster_studio.app.jobs.evaluate import evaluate
from monster_studio.core.wording import visible
from monster_studio.ui import settings as store
from monster_studio.ui.evaluation_view import EvaluationView


class EvaluationWindow(QDialog):
    def __init__(self, studio, model_key: str, folder: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(visible(f"Tested on {Path(folder).name}"))
        self.resize(900, 640)
        box = QVBoxLayout(self)
        self.view = EvaluationView(studio, "classify", model_key)
        box.addWidget(self.view)


class TestOnFolder:
    """Asks for a folder, runs the evaluate job for the chosen model, shows what it found."""

    def __init__(self, page) -> None:
        self.page = page
        self._asked: dict[int, str] = {}  # request id -> folder
        self.windows: list[EvaluationWindow] = []
        page.studio.result.connect(self._on_result)

    def ask(self) -> None:
        folder = store.start_folder("paths/testFolder")
        chosen = QFileDialog.getExistingDirectory(self.page, "Test the model on a folder (one subfolder per class)",
                                                  folder)
        if chosen:
            self.test(chosen)

    def test(self, folder: str):
        store.put("paths/testFolder", folder)
        page = self.page
        page.banner.dismiss()
        page._ensure_model()
        request = page.studio.submit("evaluate", evaluate, folder, page.studio.sure_share, owner="classify")
        self._asked[request.id] = folder
        page.progress_row.show()
        return request

    def _on_result(self, request, item) -> None:
        folder = self._asked.pop(request.id, None)
        if folder is None or not hasattr(item, "confusion"):
            return
        window = EvaluationWindow(self.page.studio, self.page.selected_key(), folder, self.page.window())
        part = f" ({Path(item.folder).name}/ part)" if item.folder and Path(item.folder) != Path(folder) else ""
        window.view.show_evaluation(item, self.page.selected_key(), f"pictures of {Path(folder).name}{part}")
        window.show()
        self.windows = [w for w in self.windows if w.isVisible()] + [window]
