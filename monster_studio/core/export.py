"""A trained model as a file other programs read: ONNX (any language, onnxruntime) or TorchScript
(PyTorch without Monster Studio). One network from normalized pixels (N, 3, H, W float32, any N) to
probabilities (softmax over the classes), for head-only and fine-tuned models alike, with the class
names and the preprocessing written in the file:

    ONNX metadata_props  "classes"    JSON list of class names, in the order of the outputs
                         "preprocess" JSON {"resize_size", "crop_size", "mean", "std", "interpolation"}:
                                      resize the short side, crop the centre, scale to 0..1, then
                                      (x - mean) / std per channel, RGB
    TorchScript extra files "classes.json", "preprocess.json": the same

Each file is checked against the app's own answers (the engine that classifies, then the last
layer) on a fixed batch of pictures before it is put in place (within 1e-4), and written
atomically: a failure leaves any earlier file as it was.
"""
from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from monster_studio.core import backbones, engine, files, weights
from monster_studio.core.errors import UserError, os_error_words
from monster_studio.core.model import TrainedModel

TOLERANCE = 1e-4
INPUT, OUTPUT = "pixels", "probabilities"


class ExportError(UserError):
    kind = "export"


class Probabilities(nn.Module):
    """The classifier as one network: normalized pixels in, probabilities out."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(pixels), dim=1)


@dataclass(frozen=True)
class Exported:
    path: Path
    kind: str  # "ONNX" or "TorchScript"
    max_diff: float  # largest difference from the app's probabilities on the check batch
    bytes: int


def network(model: TrainedModel, cancel=None) -> Iterator:
    """The whole classifier for export, built from layers that trace to fixed shapes; yields
    download events if the starting model's weights must be fetched; returns a Probabilities."""
    spec = model.spec
    net = backbones.architecture(spec, exportable=True)
    if model.backbone_state is not None:
        state = dict(model.backbone_state)
    else:
        pretrained = yield from weights.load_pretrained(spec, cancel)
        state = pretrained.state_dict()
    if model.head is not None:
        backbones.replace_head(net, spec, len(model.classes))
        prefix = spec.head_path + "."
        state = {k: v for k, v in state.items() if not k.startswith(prefix)}
        state.update({prefix + k: v for k, v in model.torch_head().items()})
    net.load_state_dict(state)
    for p in net.parameters():
        p.requires_grad = False
    return Probabilities(net.eval()).eval()


def metadata(model: TrainedModel) -> dict[str, str]:
    return {"classes": json.dumps(list(model.classes)), "preprocess": json.dumps(model.preprocess.to_dict()),
            "backbone": model.backbone_id, "input": f"{INPUT}: float32 (N, 3, {model.preprocess.crop_size}, "
            f"{model.preprocess.crop_size}), RGB, normalized", "output": f"{OUTPUT}: float32 (N, classes), softmax",
            "producer": f"Monster Studio {model.app_version}"}


def _app_answers(model: TrainedModel, cancel=None) -> Iterator:
    """The check batch (normalized pixels) and the app's own probabilities for it, computed the way
    classifying computes them (the engine, then the last layer, then softmax)."""
    arrays = engine.fixed_batch(model.preprocess.crop_size)
    embed, weight, bias = yield from engine.classifier(model, torch.device("cpu"), cancel)
    try:
        probs = engine.softmax(embed(arrays) @ weight.T + bias)
    finally:
        embed.close()
    return model.preprocess.normalize(np.stack(arrays)), probs


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise ExportError(f"{path} is a folder; choose a file name to export to.")
    why = files.check_writable_folder(path.parent)
    if why:
        raise ExportError(f"Cannot export to {path.name}: {why}. Choose another folder.")


def _check_answers(kind: str, diff: float) -> None:
    if not np.isfinite(diff) or diff > TOLERANCE:
        raise ExportError(f"The {kind} file does not give the app's answers (its probabilities differ by {diff:.2g}); "
                          "it was not written.")


def to_onnx(model: TrainedModel, path: str | os.PathLike, cancel=None) -> Iterator:
    """Write the model as ONNX; yields download events if needed, returns Exported."""
    path = Path(path).expanduser()
    _check_target(path)
    x, expected = yield from _app_answers(model, cancel)
    wrapped = yield from network(model, cancel)
    import onnx

    try:
        with files.temporary_beside(path) as tmp:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(wrapped, (torch.from_numpy(x[:2]),), tmp, input_names=[INPUT], output_names=[OUTPUT],
                                  dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}, opset_version=engine.OPSET,
                                  dynamo=False)
            proto = onnx.load(tmp)
            for key, value in metadata(model).items():
                entry = proto.metadata_props.add()
                entry.key, entry.value = key, value
            proto.doc_string = "Monster Studio classifier: normalized pixels in, class probabilities out."
            onnx.save(proto, tmp)
            import onnxruntime as ort

            session = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
            got = session.run(None, {INPUT: x})[0]
            diff = float(np.abs(got - expected).max())
            _check_answers("ONNX", diff)
            files.commit(tmp, path)
    except OSError as exc:
        raise ExportError(f"Could not write {path.name}: {os_error_words(exc)}. Choose another folder.") from exc
    return Exported(path, "ONNX", diff, path.stat().st_size)


def to_torchscript(model: TrainedModel, path: str | os.PathLike, cancel=None) -> Iterator:
    """Write the model as TorchScript (torch.jit.load reads it); yields download events if needed."""
    path = Path(path).expanduser()
    _check_target(path)
    x, expected = yield from _app_answers(model, cancel)
    x = torch.from_numpy(x)
    wrapped = yield from network(model, cancel)
    extra = {"classes.json": json.dumps(list(model.classes)), "preprocess.json": json.dumps(model.preprocess.to_dict())}
    try:
        with files.temporary_beside(path) as tmp:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                traced = torch.jit.trace(wrapped, x[:2], check_trace=False)
                torch.jit.save(traced, tmp, _extra_files=extra)
                loaded = torch.jit.load(tmp, map_location="cpu")
                got = loaded(x).numpy()
            diff = float(np.abs(got - expected).max())
            _check_answers("TorchScript", diff)
            files.commit(tmp, path)
    except OSError as exc:
        raise ExportError(f"Could not write {path.name}: {os_error_words(exc)}. Choose another folder.") from exc
    return Exported(path, "TorchScript", diff, path.stat().st_size)
