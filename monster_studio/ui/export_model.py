"""File > Export Model…: the chosen classifier as an ONNX or TorchScript file, for other programs
(onnxruntime in any language, or PyTorch without Monster Studio). One job, one small view: a file
dialog, then the outcome on the page that asked."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from monster_studio.app import model_keys
from monster_studio.app.jobs.export import export
from monster_studio.ui import settings as store

ONNX_FILTER = "ONNX model, for onnxruntime in any language (*.onnx)"
TORCHSCRIPT_FILTER = "TorchScript model, for PyTorch (*.pt)"


def exportable_key(window) -> str:
    """The model to export: the Classify page's choice when it is a classifier of ours, else the
    one trained in this session; '' when there is none."""
    key = window.classify_page.selected_key()
    if model_keys.kind(key) in ("trained", "file") and (key != model_keys.TRAINED or window.state.model.trained):
        return key
    return model_keys.TRAINED if window.state.model.trained is not None else ""


def ask_export(window) -> None:
    page = window.classify_page if window.current_page() == 1 else window.train_page
    key = exportable_key(window)
    if not key:
        page.banner.show_message("There is no classifier to export yet: train one, or open a .monster file on the "
                                 "Classify page.", "info")
        return
    folder = store.start_folder("paths/export")
    stem = Path(model_keys.value(key)).stem if model_keys.kind(key) == "file" else "classifier"
    path, chosen = QFileDialog.getSaveFileName(window, "Export the model", str(Path(folder) / f"{stem}.onnx"),
                                               f"{ONNX_FILTER};;{TORCHSCRIPT_FILTER}")
    if path:
        export_to(window, key, path, "torchscript" if chosen == TORCHSCRIPT_FILTER or path.endswith(".pt") else "onnx")


def export_to(window, key: str, path: str, kind: str):
    suffix = ".pt" if kind == "torchscript" else ".onnx"
    if not path.lower().endswith(suffix):
        path += suffix
    store.put("paths/export", str(Path(path).parent))
    owner = "classify" if window.current_page() == 1 else "train"
    return window.studio.submit("export", export, key, path, kind, owner=owner, stoppable=False)


def show_outcome(window, request, item) -> None:
    """The studio's result signal: an Exported for a request of ours."""
    if request.name != "export" or not hasattr(item, "max_diff"):
        return
    page = window.classify_page if request.tag.get("owner") == "classify" else window.train_page
    page.banner.show_message(f"Exported to {item.path} ({item.kind}, {item.bytes / 1e6:.0f} MB). It gives the app's "
                             f"answers: the largest difference on the check pictures was {item.max_diff:.0e}.", "info")
