"""Writing a model as a file other programs read (ONNX or TorchScript), checked against the app's
own answers before it is put in place."""
from __future__ import annotations

from pathlib import Path

from monster_studio.app import model_keys
from monster_studio.app.jobs import doing
from monster_studio.core.errors import UserError
from monster_studio.core.events import Phase


@doing("exporting the model")
def export(ctx, key: str, path: str, kind: str):
    """`kind`: "onnx" or "torchscript". Yields the core's Exported when the file is in place."""
    from monster_studio.core import export as exporting
    from monster_studio.core import modelfile

    model = ctx.shelf.get(key)
    if model is None and model_keys.kind(key) == "file":
        model = modelfile.load(model_keys.value(key))
    if model is None or model_keys.kind(key) not in ("trained", "file") or getattr(model, "head", None) is None:
        raise UserError("Only a classifier trained here (or opened from a .monster file) can be exported. "
                        "Train one, or choose one on the Classify page.")
    name = "ONNX" if kind == "onnx" else "TorchScript"
    yield Phase("export", f"Writing {Path(path).name} ({name}) and checking its answers")
    steps = exporting.to_onnx(model, path, ctx.cancel) if kind == "onnx" else exporting.to_torchscript(model, path, ctx.cancel)
    done = yield from steps
    yield done
