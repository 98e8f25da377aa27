"""When something the Train page asked for fails, or a weights file is installed: the news in the
page's banner with buttons for the way out (another folder, the bundled starting model, a weights
file, another place to save)."""
from __future__ import annotations

from monster_studio.ui.weights_words import IMPORT_BUTTON, ask_weights_file, weights_text

OWNER = "train"


class TrainHelp:
    def __init__(self, page) -> None:
        self.page = page
        page.state.jobs.failed.connect(self._on_failed)
        page.studio.saved.connect(lambda path: page.banner.show_message(f"The model was saved to {path}.", "info"))
        page.studio.imported.connect(self._on_imported)

    def ask_import_weights(self, backbone_id: str = "") -> None:
        page = self.page
        backbone_id = backbone_id or page.backbone.current()
        choice = page.backbone.entry(backbone_id)
        name = choice.spec.display_name if choice else backbone_id
        path = ask_weights_file(page, name, choice.spec.weights_filename if choice else "*.pth")
        if path:
            self.import_weights(backbone_id, path)

    def import_weights(self, backbone_id: str, path: str) -> None:
        self.page.banner.dismiss()
        self.page.studio.import_weights(backbone_id, path, OWNER)

    def _on_imported(self, info, request) -> None:
        page = self.page
        if request.tag.get("owner") != OWNER:
            return
        page.backbone.select(info.weights_id)
        choice = page.backbone.entry(info.weights_id)
        name = choice.spec.display_name if choice else info.weights_id
        actions = [("Train now", page.start_training)] if page.can_train() else []
        page.banner.show_message(f"The weights of {name} are installed; it works offline now.", "info", actions)

    def _on_failed(self, request, error) -> None:
        page = self.page
        if request.tag.get("owner") != OWNER or request.name == "start":
            return
        message, actions = error.message, []
        if request.name == "scan":
            actions = [("Choose another folder…", page.choose_folder), ("Try the sample monsters", page.ask_sample)]
        elif error.kind == "weights":
            message = weights_text(error, "train with the bundled starting model, which needs no download")
            failed = error.details.get("backbone") or page.backbone.current()
            actions = [("Train with the bundled starting model", self._train_bundled),
                       (IMPORT_BUTTON, lambda: self.ask_import_weights(failed))]
        elif error.kind == "dataset":
            actions = [("Choose another folder…", page.choose_folder)]
        elif request.name == "save":
            actions = [("Save somewhere else…", page.ask_save)]
        page.banner.show_message(message, "error", actions)

    def _train_bundled(self) -> None:
        self.page.backbone.select(self.page.state.engine.default_backbone)
        self.page.start_training()
