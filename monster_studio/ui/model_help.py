"""When the Classify page's model cannot be used: the failure in plain words with buttons for the
way out (import a weights file, open another model file, use the ImageNet labels), and the import
of a weights file that then chooses the model that needed it again."""
from __future__ import annotations

from monster_studio.app import model_keys
from monster_studio.ui import settings as store
from monster_studio.ui.weights_words import (
    IMPORT_BUTTON,
    ask_weights_file,
    weights_text,
)

OWNER = "classify"


class ModelHelp:
    def __init__(self, page) -> None:
        self.page = page
        self._after_import: tuple[str, str] | None = None  # (weights id, model key to choose once installed)
        page.state.jobs.failed.connect(self._on_failed)
        page.studio.imported.connect(self._on_imported)

    def ask_import_weights(self, weights_id: str, then_key: str | None = None, filename: str = "") -> None:
        """`weights_id`: a detector, or the backbone a model is built on; `then_key`: the model to
        choose again once the file is installed (the chosen one if not given)."""
        choice = self.page.state.engine.choice(weights_id)
        name = choice.spec.display_name if choice else weights_id
        path = ask_weights_file(self.page, name, filename)
        if path:
            self.import_weights(weights_id, path, then_key)

    def import_weights(self, weights_id: str, path: str, then_key: str | None = None) -> None:
        """Install the file (the runner checks it fits); once it is in, the model that needed it is
        chosen again. A file that does not fit says so here."""
        self.page.banner.dismiss()
        self._after_import = (weights_id, then_key or self.page.selected_key())
        self.page.studio.import_weights(weights_id, path, OWNER, then=then_key or self.page.selected_key())

    def _on_imported(self, info, request) -> None:
        if request.tag.get("owner") != OWNER:
            return
        after, self._after_import = self._after_import, None
        if after is not None and after[0] == info.weights_id and self.page.selected_key() == after[1]:
            self.page.load_model(after[1])  # the model that needed the file, again
        detector = self.page.state.engine.choice(info.weights_id)
        what = "this detector works" if detector is not None and detector.spec.kind == "detector" \
            else "models built on it work"
        self.page.banner.show_message(f"The weights file is installed; {what} offline now.", "info")

    def _on_failed(self, request, error) -> None:
        if request.tag.get("owner") != OWNER:
            return
        kind, task = error.kind, request.name
        if task == "classify":
            self.page.cards.drop_waiting()  # pictures that will get no answer leave no empty card
        if kind == "nomodel" and self.page.banner.isVisible():
            return  # the model's own refusal is already on screen and says more
        key = request.tag.get("key", "") if task == "model" else self.page.selected_key()
        weights_id = error.details.get("backbone") or (model_keys.value(key) if model_keys.is_detector(key) else "")
        if task == "import" and self._after_import is not None:  # the file did not fit: try another
            weights_id, key = self._after_import
        self._after_import = None if task == "import" else self._after_import
        if task == "model" and model_keys.kind(key) == "file" and kind == "modelfile":
            store.forget_model(model_keys.value(key))  # the file itself is refused: it leaves the list
            self.page.picker.fill(select=model_keys.imagenet_key(self.page.state.engine.default_backbone))
        actions = []
        if model_keys.kind(key) == "file" and (task == "model" or kind == "weights"):
            actions = [("Open another model file…", self.page.ask_open_model)]
        message = error.message
        if kind == "weights":
            imagenet = model_keys.imagenet_key(self.page.state.engine.default_backbone)
            others = ["open another model file"] if model_keys.kind(key) == "file" else []
            if key != imagenet:
                others.append("use the ImageNet labels, which need no download")
                actions.append(("Use ImageNet labels", lambda: self.page.select_model(imagenet, load=True)))
            message = weights_text(error, *others)
            if weights_id:
                filename = error.details.get("filename", "")
                actions.insert(0, (IMPORT_BUTTON, lambda: self.ask_import_weights(weights_id, key, filename)))
        self.page.banner.show_message(message, "error", actions)
