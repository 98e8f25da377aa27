"""The bundled EfficientNet-Lite engines made without torch: the weights file read with numpy
(core.torchfile), the headless network written to ONNX (core.lite_graph), and checked against
PyTorch's features on a fixed batch, which the project recorded for that very weights file (by its
SHA-256) with the same PyTorch network the app fine-tunes with (timm's tf_efficientnet_lite, through
core.weights). `tools/record_engine_checks.py` records them; a test compares every record with a
live PyTorch pass, so a record cannot drift from what torch and timm compute.

Why: exporting with torch.onnx means importing torch and timm first, 7 to 10 s of a cold process on
this project's 2-core CPU, more than the rest of a first training. Written here it takes about
0.3 s, and the graph runs faster too (TensorFlow's padding is part of each Conv, not a Pad before
it: 97 to 108 pictures/s against 69 to 78 for the exported file at batch 8, measured side by side).

When this cannot be used (another weights file, a file it does not read, features that differ),
the caller exports with torch as for every other starting model, checked against a live PyTorch
pass; the log says why.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monster_studio.core import lite_graph, torchfile, weights
from monster_studio.core.catalogue import Backbone

log = logging.getLogger(__name__)

CHECKS_DIR = Path(__file__).with_name("engine_checks")
HOW = "written from the weights file by Monster Studio, without torch"


@dataclass
class Made:
    onnx: bytes
    pictures: np.ndarray  # uint8 (N, 3, S, S): the fixed batch
    expected: np.ndarray  # PyTorch's features for them, as recorded
    head: tuple[np.ndarray, np.ndarray] | None  # the original last layer (ImageNet's 1000 classes)
    recorded_with: str


def check_file(spec: Backbone) -> Path:
    return CHECKS_DIR / f"{spec.id}.npz"


def applies(spec: Backbone) -> bool:
    """True for a bundled EfficientNet-Lite with a recorded check (no file is read)."""
    return spec.bundled and spec.builder == "timm" and spec.arch.startswith("tf_efficientnet_lite") \
        and check_file(spec).is_file()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def recorded(spec: Backbone) -> dict | None:
    """The record for `spec`: sha256, pictures, features, recorded_with; None when unreadable."""
    try:
        with np.load(check_file(spec), allow_pickle=False) as z:
            rec = {k: z[k] for k in ("sha256", "pictures", "features", "recorded_with")}
    except (OSError, KeyError, ValueError):
        return None
    pics, feats = rec["pictures"], rec["features"]
    if pics.dtype != np.uint8 or pics.ndim != 4 or pics.shape[1:] != (3, spec.input_size, spec.input_size) \
            or feats.dtype != np.float32 or feats.shape != (len(pics), spec.feature_size) or not np.isfinite(feats).all():
        return None
    return {"sha256": str(rec["sha256"]), "pictures": pics, "features": feats, "recorded_with": str(rec["recorded_with"])}


def make(spec: Backbone) -> Made | None:
    """The engine file's bytes with what to check it on, or None (and a line in the log) when this
    weights file is not the recorded one or cannot be written this way."""
    path = weights.cached_file(spec)
    rec = recorded(spec) if path is not None else None
    if rec is None:
        return None
    try:
        if sha256(path) != rec["sha256"]:
            log.info("%s is not the weights file the engine check was recorded for; exporting with torch.", path.name)
            return None
        state = torchfile.read(path)
        data = lite_graph.build(state, spec.input_size)
    except (OSError, torchfile.NotReadable, lite_graph.NotLite) as exc:
        log.warning("The engine for %s cannot be written from %s (%s); exporting with torch.",
                    spec.display_name, path.name, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - whatever it is, the torch export is the way out
        log.warning("The engine for %s could not be written from %s (%s: %s); exporting with torch.",
                    spec.display_name, path.name, type(exc).__name__, exc)
        return None
    return Made(data, rec["pictures"], rec["features"], lite_graph.imagenet_head(state), rec["recorded_with"])


def imagenet_categories() -> list[str] | None:
    """ImageNet's 1000 names as torchvision lists them, read from its source without importing it
    (importing torchvision imports torch)."""
    try:
        found = importlib.util.find_spec("torchvision")
        if found is None or not found.submodule_search_locations:
            return None
        source = Path(list(found.submodule_search_locations)[0]) / "models" / "_meta.py"
        for stmt in ast.parse(source.read_text(encoding="utf-8")).body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_IMAGENET_CATEGORIES"
                                                    for t in stmt.targets):
                names = ast.literal_eval(stmt.value)
                if isinstance(names, list) and len(names) == 1000 and all(isinstance(n, str) for n in names):
                    return names
    except (OSError, ValueError, SyntaxError, ImportError):
        return None
    return None
