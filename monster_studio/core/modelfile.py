"""The .monster model file: safetensors tensors plus JSON metadata. No pickle anywhere.

Tensors: `head.weight`, `head.bias` (the new output layer) and, when the backbone was fine-tuned,
`backbone.<name>` for every other weight; `unsure.sample`, `unsure.distances`, `unsure.margins`
when the model can say "not sure" (core.unsure). Metadata: one key, "monster_studio", holding
JSON with the format version, class names, backbone id, preprocessing, metrics, training
settings, creation time, app version and, with the unsure tensors, their "unsure" record.
Saving is atomic: a temporary file in the same folder, then a rename.

The unsure part is an addition within format 1, not a new format: a reader that does not know it
(an older app) loads the head and ignores the extra tensors, and a file without it (an older
file) loads here as a model that is always sure.

A head-only model is written and read with safetensors' numpy API (no torch import; the bytes are
the same as its torch API writes, so files of either kind load in either); a fine-tuned one, whose
starting model's weights are torch tensors, with its torch API.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open

from monster_studio import MODEL_SUFFIX
from monster_studio.core import catalogue, files
from monster_studio.core.errors import UserError, os_error_words
from monster_studio.core.images import Preprocess
from monster_studio.core.model import TrainedModel
from monster_studio.core.unsure import Calibration

FORMAT = "monster-studio-model"
FORMAT_VERSION = 1
SUFFIX = MODEL_SUFFIX
META_KEY = "monster_studio"
MAX_HEADER = 16 * 1024 * 1024  # a fine-tuned model's header is about 30 KB; refusing a huge one stays cheap


class ModelFileError(UserError):
    """A file that is not a usable model, or one that cannot be written; str() says why."""

    kind = "modelfile"


def with_suffix(path: str | os.PathLike) -> Path:
    path = Path(path).expanduser()
    return path if path.name.endswith(SUFFIX) else path.with_name(path.name + SUFFIX)


def check_target(path: str | os.PathLike) -> Path:
    """The file a model will be saved to, checked before any work starts: its folder exists and
    can be written, and it is not a folder itself. Raises ModelFileError in plain words."""
    path = with_suffix(path)
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; choose a file name for the model.")
    why = files.check_writable_file(path)
    if why:
        raise ModelFileError(f"The model cannot be saved as {path.name}: {why}. Choose another folder.")
    return path


UNSURE = "unsure."


def _metadata(model: TrainedModel) -> dict:
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "classes": list(model.classes),
            "backbone": model.backbone_id, "preprocess": model.preprocess.to_dict(),
            "finetuned": model.backbone_state is not None, "metrics": model.metrics,
            "settings": model.settings, "created": model.created, "app_version": model.app_version}
    if model.unsure is not None:
        meta["unsure"] = model.unsure.meta()
    return meta


def save(model: TrainedModel, path: str | os.PathLike) -> Path:
    """Write atomically; on any failure the previous file at `path` is left as it was."""
    if model.head is None:
        raise ModelFileError("A pretrained model used without training has nothing of its own to save.")
    path = Path(path).expanduser()
    tensors = {f"head.{k}": np.ascontiguousarray(v, np.float32) for k, v in model.head.items()}
    if model.unsure is not None:
        tensors.update({UNSURE + k: np.ascontiguousarray(v) for k, v in model.unsure.tensors().items()})
    if model.backbone_state is not None:
        import torch

        tensors = {k: torch.from_numpy(v) for k, v in tensors.items()}
        tensors.update({f"backbone.{k}": v.detach().cpu().contiguous() for k, v in model.backbone_state.items()})
    meta = {META_KEY: json.dumps(_metadata(model), default=_json_default)}
    try:
        with files.temporary_beside(path) as tmp:
            save_file(tensors, tmp, metadata=meta)
            files.commit(tmp, path)
    except FileNotFoundError as exc:
        raise ModelFileError(f"Cannot write in {path.parent}: the folder does not exist. Choose another folder.") from exc
    except (PermissionError, IsADirectoryError) as exc:
        raise ModelFileError(f"Cannot write in {path.parent}: {os_error_words(exc)}. Choose another folder.") from exc
    except (OSError, SafetensorError) as exc:
        reason = os_error_words(exc) if isinstance(exc, OSError) else str(exc)
        raise ModelFileError(f"Could not save {path.name}: {reason}. The previous file, if any, is unchanged. "
                             "Choose another folder.") from exc
    return path


def save_file(tensors: dict, filename, metadata: dict | None = None) -> None:
    """safetensors' save_file: its numpy API for numpy arrays only (a head-only model: no torch
    import), its torch API otherwise. The two write the same bytes for the same numbers."""
    if all(isinstance(v, np.ndarray) for v in tensors.values()):
        from safetensors.numpy import save_file as write
    else:
        from safetensors.torch import save_file as write
    write(tensors, filename, metadata=metadata)


def _json_default(o):
    if isinstance(o, float):
        return o
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata, checked, without reading any tensor."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a pipe named .monster would block the read forever
        raise ModelFileError(f"{path.name} is not a Monster Studio model (not a regular file).")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            size = os.fstat(f.fileno()).st_size
            if len(head) < 8:
                raise ModelFileError(f"{path.name} is not a Monster Studio model (the file is too short).")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER or 8 + n > size:
                raise ModelFileError(f"{path.name} is not a Monster Studio model, or it is damaged (bad header).")
            header = json.loads(f.read(n))
    except FileNotFoundError as exc:
        raise ModelFileError(f"{path} does not exist.") from exc
    except RecursionError as exc:
        raise ModelFileError(f"{path.name} is not a Monster Studio model, or it is damaged (its header is nested "
                             "absurdly deep).") from exc
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ModelFileError(f"{path.name} is not a Monster Studio model, or it is damaged (bad header).") from exc
    except OSError as exc:
        raise ModelFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    extra = header.get("__metadata__") if isinstance(header, dict) else None
    raw = extra.get(META_KEY) if isinstance(extra, dict) else None
    if raw is None:
        raise ModelFileError(f"{path.name} is a safetensors file but not a Monster Studio model (no metadata).")
    try:
        meta = json.loads(raw) if isinstance(raw, str) else None
    except RecursionError as exc:
        raise ModelFileError(f"{path.name} has damaged metadata (nested absurdly deep).") from exc
    except (json.JSONDecodeError, ValueError) as exc:
        raise ModelFileError(f"{path.name} has damaged metadata.") from exc
    if _deeper_than(meta, MAX_DEPTH):
        # A real file nests 4 levels; one nested hundreds deep would load here or not depending on
        # the caller's stack, and could not be saved again.
        raise ModelFileError(f"{path.name} has damaged metadata (nested absurdly deep).")
    _check_metadata(meta, path.name)
    return meta


MAX_DEPTH = 32


def _deeper_than(obj, limit: int) -> bool:
    """Whether JSON data nests more than `limit` levels (looked at without recursion)."""
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


def _check_metadata(meta: dict, name: str) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not a Monster Studio model.")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{name} was made by a newer Monster Studio (format {version}); update the app to open it.")
    classes = meta.get("classes")
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) and c for c in classes) \
            or len(set(classes)) != len(classes):
        raise ModelFileError(f"{name} has damaged metadata (class names).")
    if not isinstance(meta.get("backbone"), str) or meta.get("backbone") not in catalogue.BACKBONES:
        raise ModelFileError(f"{name} needs the starting model '{meta.get('backbone')}', which this version of the "
                             "app does not know.")
    for key in ("metrics", "settings"):
        if not isinstance(meta.get(key, {}), dict):
            raise ModelFileError(f"{name} has damaged metadata ({key}).")
    try:
        Preprocess.from_dict(meta["preprocess"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{name} has damaged metadata (preprocessing).") from exc


# The kinds of numbers (safetensors' names) a model file may hold; BF16 only through torch (numpy has none).
KINDS = ("F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL")
BACKBONE = "backbone."


def _read_tensors(path: Path) -> tuple[dict[str, np.ndarray], dict | None]:
    """(the head's and the unsure part's arrays, floats as float32; the fine-tuned starting model's
    torch tensors or None). Only a file with starting-model weights (or bfloat16 numbers) imports
    torch; every other one is read with safetensors' numpy API. Raises ModelFileError."""
    damaged = (SafetensorError, OSError, ValueError, RuntimeError, TypeError, KeyError)
    try:
        with safe_open(str(path), framework="np") as f:
            kinds = {k: f.get_slice(k).get_dtype() for k in f.keys()}
            for key, kind in kinds.items():
                if kind not in KINDS:
                    raise ModelFileError(f"{path.name} holds numbers of a kind this app does not use ({kind} in "
                                         f"'{key}'); it was not made by Monster Studio.")
            with_torch = "BF16" in kinds.values() or any(k.startswith(BACKBONE) for k in kinds)
            arrays = {} if with_torch else {k: np.array(f.get_tensor(k)) for k in kinds}  # a copy, not the mapping
    except damaged as exc:
        raise ModelFileError(f"{path.name} is damaged: its numbers cannot be read.") from exc
    body = None
    if with_torch:
        import torch
        from safetensors.torch import load_file

        try:
            tensors = load_file(str(path), device="cpu")
        except damaged as exc:
            raise ModelFileError(f"{path.name} is damaged: its numbers cannot be read.") from exc
        tensors = {k: (v.float() if v.is_floating_point() and v.dtype != torch.float32 else v) for k, v in tensors.items()}
        body = {k[len(BACKBONE):]: v for k, v in tensors.items() if k.startswith(BACKBONE)} or None
        arrays = {k: v.numpy() for k, v in tensors.items() if not k.startswith(BACKBONE)}
    arrays = {k: (v.astype(np.float32) if v.dtype.kind == "f" and v.dtype != np.float32 else v) for k, v in arrays.items()}
    return arrays, body


def load(path: str | os.PathLike) -> TrainedModel:
    """Read and check a model file; never unpickles. Raises ModelFileError with a reason."""
    path = Path(path).expanduser()
    meta = read_metadata(path)
    tensors, body = _read_tensors(path)
    spec = catalogue.backbone(meta["backbone"])
    n = len(meta["classes"])
    head = {k[5:]: v for k, v in tensors.items() if k.startswith("head.")}
    w, b = head.get("weight"), head.get("bias")
    if w is None or b is None or tuple(w.shape) != (n, spec.feature_size) or tuple(b.shape) != (n,):
        raise ModelFileError(f"{path.name} is damaged: its output layer does not fit {n} classes on {spec.display_name}.")
    if not (w.dtype == np.float32 and b.dtype == np.float32 and np.isfinite(w).all() and np.isfinite(b).all()):
        raise ModelFileError(f"{path.name} is damaged: its weights hold invalid numbers.")
    if meta.get("finetuned") and body is None:
        raise ModelFileError(f"{path.name} is damaged: the fine-tuned starting model's weights are missing.")
    if body is not None:
        import torch

        from monster_studio.core import backbones

        expected = {k: v.shape for k, v in backbones.architecture(spec).state_dict().items()
                    if not k.startswith(spec.head_path + ".")}
        if set(body) != set(expected) or any(body[k].shape != expected[k] for k in expected):
            raise ModelFileError(f"{path.name} is damaged: its weights do not fit {spec.display_name}.")
        if not all(torch.isfinite(v).all() for v in body.values() if v.is_floating_point()):
            raise ModelFileError(f"{path.name} is damaged: its weights hold invalid numbers.")
    return TrainedModel(spec.id, list(meta["classes"]), Preprocess.from_dict(meta["preprocess"]), head, body,
                        meta.get("metrics") or {}, meta.get("settings") or {}, meta.get("created", ""),
                        meta.get("app_version", ""), source=str(path), unsure=_calibration(tensors, meta, spec, path))


def _calibration(tensors: dict, meta: dict, spec, path: Path) -> Calibration | None:
    """The "not sure" calibration, if the file has one (files from before it have none)."""
    parts = {k[len(UNSURE):]: v for k, v in tensors.items() if k.startswith(UNSURE)}
    if not parts and "unsure" not in meta:
        return None
    try:
        return Calibration.from_parts(parts, meta.get("unsure"), spec.feature_size)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path.name} is damaged: the figures it uses to say \"not sure\" cannot be read. "
                             "Train the model again, or use an undamaged copy of the file.") from exc
