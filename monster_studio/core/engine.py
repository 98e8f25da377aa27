"""What runs the frozen starting model: pictures (uint8 arrays) in, features out. Every use of a
frozen backbone goes through an embedder from here: feature extraction for training, classifying
with a head-only model, ImageNet mode. The head (a linear layer) is applied by the caller, so the
engine can change without the answers changing.

On a CPU the frozen network runs in ONNX Runtime (`OrtEmbedder`). The headless network is made
into an ONNX file once per starting model and weights file, into the cache (`<cache>/engines/`,
beside the features), with a sidecar saying what it was made from, how, how far it was from
PyTorch, ImageNet's category names and the network's original last layer (so ImageNet mode builds
no torch network either). The bundled EfficientNet-Lite models' files are written from their
weights without torch (core.engine_direct: 0.4 s instead of 7 to 10 s of importing torch and timm
and exporting), and checked against PyTorch's features recorded for that weights file; every other
one is exported with torch.onnx and checked against a live PyTorch pass. An engine is kept only if
it matches PyTorch within 1e-4 on a fixed batch of pictures; otherwise a note says why (in the log
and on disk) and PyTorch is used, without trying again until torch or onnxruntime change. A run
that finds the engine ready imports no torch at all (nor torchvision or timm): torch is imported
here only where a torch network runs.

`TorchEmbedder` runs the headless network in PyTorch (channels_last, inference mode) on any
device; it is what CUDA/MPS, a fine-tuned model and the heatmaps use.

Threads: the engine and the decode pool share the CPU's cores (the pool decodes the next batch
while the engine runs this one). Measured on this project's 2-core CPU with benchmarks/
engine_threads.py (Lite0, batch 8, 160 ants-and-bees photos, decode + engine together; best of two
rounds; other programs were using the cores, load average 3 to 5, so only the order is telling):

    decode threads  engine threads  spinning   pictures/s
          1               1           off         16.8
          1               2           off         20.1
          2               1           off         27.7
          2               2           off         28.1   <- chosen
          2               2           on          20.1   (onnxruntime's default: its idle threads
                                                          spin on the cores the decoders need)

OpenVINO 2026.4 on the same engine file, same run: 40.7 pictures/s at batch 8 and 21.4 ms for one
picture (latency hint) against ONNX Runtime's 30.2 and 29.7 ms; features within 7e-6. About a
third faster, for a 180 MB package: not added (one picture is already answered well within 50 ms).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from monster_studio.core import files, weights
from monster_studio.core.catalogue import Backbone
from monster_studio.core.events import Phase
from monster_studio.core.images import Preprocess, to_chw
from monster_studio.core.paths import cache_dir

if TYPE_CHECKING:  # torch is imported where a torch network runs, never on the engine's own path
    import torch
    from torch import nn

log = logging.getLogger(__name__)

ENGINE_VERSION = 2  # 2: the bundled models' engines written without torch (core.engine_direct)
TOLERANCE = 1e-4  # largest difference from PyTorch's features an engine may have
OPSET = 17
PREPARING = "Preparing the faster engine for this computer (only the first time)"


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def engine_threads() -> int:
    """ONNX Runtime's intra-op threads: one per core, not spinning (see the table above)."""
    return cores()


def decode_threads() -> int:
    """The decode pool beside the engine: two (2 decoders beat 1 by a third in the table above)."""
    return 2


# ------------------------------------------------------------------ PyTorch

def to_input(arrays: list[np.ndarray], pre: Preprocess, device) -> torch.Tensor:
    """uint8 CHW arrays -> the normalized, channels_last batch a torch backbone takes."""
    import torch

    x = torch.from_numpy(np.stack(arrays)).to(device, non_blocking=True)
    mean = torch.tensor(pre.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(pre.std, device=device).view(1, 3, 1, 1)
    return ((x.float().div_(255.0) - mean) / std).contiguous(memory_format=torch.channels_last)


class TorchEmbedder:
    """The network with its head taken off, in PyTorch. Call it with a list of uint8 CHW arrays."""

    name = "PyTorch"

    def __init__(self, net: nn.Module, spec: Backbone, pre: Preprocess, device) -> None:
        import torch

        from monster_studio.core import backbones

        self.net, self.spec, self.pre, self.device = net, spec, pre, device
        self.head = backbones.get_head(net, spec)
        net.eval().to(device).to(memory_format=torch.channels_last)

    def __call__(self, arrays: list[np.ndarray]) -> np.ndarray:
        import torch

        from monster_studio.core import backbones

        with backbones.headless(self.net, self.spec), torch.inference_mode():
            return self.net(to_input(arrays, self.pre, self.device)).float().cpu().numpy()

    def head_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The network's own last layer (for a model used as it is: ImageNet's 1000 classes)."""
        return (self.head.weight.detach().float().cpu().numpy(), self.head.bias.detach().float().cpu().numpy())

    def close(self) -> None:
        self.net.cpu()


# ------------------------------------------------------------------ ONNX Runtime

class OrtEmbedder:
    """The prepared engine's session with a preprocessing; same call as TorchEmbedder."""

    name = "ONNX Runtime"

    def __init__(self, engine: "OrtEngine", pre: Preprocess) -> None:
        self.engine, self.pre = engine, pre

    def __call__(self, arrays: list[np.ndarray]) -> np.ndarray:
        x = self.pre.normalize(np.stack(arrays))
        return self.engine.run(x)

    def close(self) -> None:
        pass  # the session is kept for the next call (a dropped picture must not wait for it)


class OrtEngine:
    """A prepared engine on disk, loaded: the session, the sidecar, the original last layer."""

    def __init__(self, base: Path, session, sidecar: dict) -> None:
        self.base, self.session, self.sidecar = base, session, sidecar
        self.input = session.get_inputs()[0].name
        self._head: tuple[np.ndarray, np.ndarray] | None = None

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input: np.ascontiguousarray(x, dtype=np.float32)})[0]

    def embedder(self, pre: Preprocess) -> OrtEmbedder:
        return OrtEmbedder(self, pre)

    def head_weights(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The network's original last layer (ImageNet's 1000 classes), or None if not kept."""
        if self._head is None:
            try:
                with np.load(_part(self.base, ".head.npz"), allow_pickle=False) as z:
                    w, b = z["weight"].astype(np.float32), z["bias"].astype(np.float32)
            except (OSError, KeyError, ValueError):
                return None
            if w.ndim != 2 or b.shape != (w.shape[0],) or not (np.isfinite(w).all() and np.isfinite(b).all()):
                return None
            self._head = (w, b)
        return self._head


def weights_identity(spec: Backbone) -> tuple:
    """The weights file as it is on disk (name, size, time): a re-imported file is another file."""
    path = weights.cached_file(spec)
    try:
        st = path.stat() if path else None
    except OSError:
        st = None
    return (path.name, st.st_size, st.st_mtime_ns) if st else ()


def engines_dir() -> Path:
    return cache_dir() / "engines"


def _base(spec: Backbone) -> Path | None:
    """Where this starting model's engine lives; None while its weights are not on this computer."""
    ident = weights_identity(spec)
    if not ident:
        return None
    tag = hashlib.sha1(repr((ENGINE_VERSION, spec.id, spec.arch, spec.input_size, ident)).encode()).hexdigest()[:12]
    return engines_dir() / f"{spec.id}-{tag}"


def _part(base: Path, suffix: str) -> Path:
    return base.with_name(base.name + suffix)


def _versions() -> dict:
    """torch's and onnxruntime's versions, read from their installed metadata (importing torch takes
    seconds, and a run that finds the engine ready imports none)."""
    from importlib import metadata

    found = {}
    for name in ("torch", "onnxruntime"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = ""
    return found


_LOADED: dict[Path, tuple[tuple, OrtEngine]] = {}  # sessions kept in this process, by file
_LOADED_LOCK = threading.Lock()


def forget_sessions() -> None:
    with _LOADED_LOCK:
        _LOADED.clear()


def _session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = engine_threads()
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle engine threads would otherwise spin between batches on the cores the decoders need.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _remove(base: Path) -> None:
    for suffix in (".json", ".onnx", ".head.npz"):  # the sidecar first: without it the rest is unused
        try:
            _part(base, suffix).unlink()
        except OSError:
            pass


def cached(spec: Backbone) -> OrtEngine | None:
    """The prepared engine, when one is on disk and readable; no torch network is built. A damaged
    one is removed (and so made again when next needed)."""
    base = _base(spec)
    if base is None:
        return None
    sidecar_file, onnx_file = _part(base, ".json"), _part(base, ".onnx")
    try:
        st = onnx_file.stat()
    except OSError:
        return None
    stamp = (st.st_size, st.st_mtime_ns)
    with _LOADED_LOCK:
        hit = _LOADED.get(onnx_file)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    try:
        sidecar = json.loads(sidecar_file.read_text(encoding="utf-8"))
        if not isinstance(sidecar, dict) or sidecar.get("version") != ENGINE_VERSION \
                or sidecar.get("onnx_bytes") != st.st_size:
            raise ValueError("its description does not match the file")
        session = _session(onnx_file)
    except FileNotFoundError:
        return None  # being made by another process, or never finished: made again when needed
    except Exception as exc:  # noqa: BLE001 - a damaged engine file is remade, whatever the error says
        log.warning("The prepared engine %s cannot be used (%s); it will be made again.", onnx_file, exc)
        _remove(base)
        return None
    engine = OrtEngine(base, session, sidecar)
    with _LOADED_LOCK:
        _LOADED[onnx_file] = (stamp, engine)
    return engine


def refused(spec: Backbone) -> str | None:
    """Why this starting model's engine was not kept, if it was tried with these versions."""
    base = _base(spec)
    if base is None:
        return None
    try:
        note = json.loads(_part(base, ".refused.json").read_text(encoding="utf-8"))
        if note.get("versions") != _versions():
            return None  # a new torch or onnxruntime may export (or run) it correctly
        return str(note.get("reason") or "not kept")
    except (OSError, ValueError, AttributeError):
        return None


def to_be_made(spec: Backbone) -> bool:
    """True when this starting model's weights are here but its engine is not made (nor refused):
    looked up on disk alone, with no session and no torch."""
    base = _base(spec)
    if base is None:
        return False
    return not _part(base, ".json").exists() and not _part(base, ".refused.json").exists()


def fixed_batch(size: int, n: int = 5) -> list[np.ndarray]:
    """The pictures an engine is checked on: generated monsters (real picture statistics, not
    noise), the same every time."""
    from monster_studio.core import sample

    rng = random.Random("engine check")
    return [to_chw(sample.draw_picture(sample.CLASSES[i % len(sample.CLASSES)], rng, size)) for i in range(n)]


def _exportable(spec: Backbone, net: nn.Module) -> nn.Module:
    """The same network and weights, built from layers that trace to ONNX as fixed shapes."""
    if spec.builder != "timm":
        return net
    from monster_studio.core import backbones

    twin = backbones.architecture(spec, exportable=True)
    twin.load_state_dict(net.state_dict())
    return twin.eval()


def _refuse(base: Path, spec: Backbone, reason: str, max_diff: float | None = None) -> None:
    log.warning("ONNX Runtime is not used for %s: %s. PyTorch runs it instead.", spec.display_name, reason)
    note = {"reason": reason, "max_diff": max_diff, "versions": _versions(), "made": time.time()}
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        files.write_bytes(_part(base, ".refused.json"), json.dumps(note).encode("utf-8"))
    except OSError:
        pass  # it will be tried again next time; that costs time, not a result


def _keep(base: Path, spec: Backbone, tmp: str, head: tuple[np.ndarray, np.ndarray] | None, **about) -> dict:
    """Put a checked engine file in its place, with the original last layer beside it and, last, the
    sidecar that makes them count; returns the sidecar."""
    onnx_file = _part(base, ".onnx")
    if head is not None:
        with files.replacing(_part(base, ".head.npz")) as f:
            np.savez(f, weight=head[0], bias=head[1])
    files.commit(tmp, onnx_file)
    sidecar = {"version": ENGINE_VERSION, "backbone": spec.id, "arch": spec.arch, "input_size": spec.input_size,
               "weights": list(weights_identity(spec)), "onnx_bytes": onnx_file.stat().st_size,
               "versions": _versions(), "made": time.time(), **about}
    files.write_bytes(_part(base, ".json"), json.dumps(sidecar).encode("utf-8"))  # last: it makes the rest count
    _remove_outdated(base, spec)
    return sidecar


def _remove_outdated(base: Path, spec: Backbone) -> None:
    """Remove this starting model's engines made by an earlier version or from another weights file
    (about 15 MB each): only the one just made can be used by this installation."""
    own = re.compile(re.escape(spec.id) + r"-[0-9a-f]{12}\.")
    for f in base.parent.glob(f"{spec.id}-*"):
        if own.match(f.name) and not f.name.startswith(base.name + "."):
            try:
                f.unlink()
            except OSError:
                pass  # in use elsewhere, or read-only: it costs space, not a result


def prepare_direct(spec: Backbone) -> OrtEngine | None:
    """A bundled EfficientNet-Lite's engine written from its weights file without torch
    (core.engine_direct), checked against the PyTorch features recorded for that file; None (and a
    line in the log) when it cannot be, and the caller exports with torch instead."""
    from monster_studio.core import engine_direct

    base = _base(spec)
    if base is None or not engine_direct.applies(spec):
        return None
    t0 = time.perf_counter()
    try:
        made = engine_direct.make(spec)
        if made is None:
            return None
        base.parent.mkdir(parents=True, exist_ok=True)
        with files.temporary_beside(_part(base, ".onnx")) as tmp:
            Path(tmp).write_bytes(made.onnx)
            got = _session(Path(tmp)).run(None, {"pixels": spec.preprocess.normalize(made.pictures)})[0]
            diff = float(np.abs(got - made.expected).max()) if got.shape == made.expected.shape else float("inf")
            if not diff <= TOLERANCE:  # NaN too
                log.warning("The engine written for %s differs from PyTorch's recorded features by %.2g (at most "
                            "%g is allowed); exporting with torch instead.", spec.display_name, diff, TOLERANCE)
                return None
            sidecar = _keep(base, spec, tmp, made.head, max_diff=diff, batch_checked=len(made.pictures),
                            opset=engine_direct.lite_graph.OPSET, seconds=round(time.perf_counter() - t0, 2),
                            made_by=engine_direct.HOW,
                            checked_against=f"PyTorch's features recorded for this weights file ({made.recorded_with})",
                            imagenet_categories=engine_direct.imagenet_categories())
    except OSError as exc:
        log.warning("The engine for %s could not be kept in %s (%s).", spec.display_name, base.parent, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - any runtime failure: the export path is tried instead
        log.warning("The engine written for %s could not be run (%s: %s); exporting with torch instead.",
                    spec.display_name, type(exc).__name__, exc)
        return None
    log.info("Prepared the ONNX Runtime engine for %s in %.2f s, %s (largest difference from PyTorch %.2g).",
             spec.display_name, sidecar["seconds"], engine_direct.HOW, diff)
    return cached(spec)


def prepare(spec: Backbone, net: nn.Module) -> OrtEngine | None:
    """Export `net` (the starting model with its pretrained weights and ImageNet head) to ONNX,
    check it against PyTorch, keep it in the cache; None (and a note) when it does not match."""
    import torch
    from torch import nn

    from monster_studio.core import backbones

    base = _base(spec)
    if base is None:
        return None
    t0 = time.perf_counter()
    arrays = fixed_batch(spec.input_size)
    pre = spec.preprocess
    net.eval()
    try:
        with backbones.headless(net, spec), torch.inference_mode():
            expected = net(to_input(arrays, pre, torch.device("cpu"))).float().numpy()
        head = backbones.get_head(net, spec)
        twin = _exportable(spec, net)
        base.parent.mkdir(parents=True, exist_ok=True)
        onnx_file = _part(base, ".onnx")
        with files.temporary_beside(onnx_file) as tmp:
            example = torch.from_numpy(pre.normalize(np.stack(arrays[:2])))
            with backbones.headless(twin, spec), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(twin, (example,), tmp, input_names=["pixels"], output_names=["features"],
                                  dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
                                  opset_version=OPSET, dynamo=False)
            got = _session(Path(tmp)).run(None, {"pixels": pre.normalize(np.stack(arrays))})[0]
            if got.shape != expected.shape or not np.isfinite(got).all():
                _refuse(base, spec, f"its output has the wrong shape or invalid numbers ({got.shape})")
                return None
            diff = float(np.abs(got - expected).max())
            if diff > TOLERANCE:
                _refuse(base, spec, f"its features differ from PyTorch's by {diff:.2g} (at most {TOLERANCE:g} "
                                    "is allowed)", diff)
                return None
            if isinstance(head, nn.Linear) and head.out_features == 1000:
                head = (head.weight.detach().float().numpy(), head.bias.detach().float().numpy())
            else:
                head = None
            sidecar = _keep(base, spec, tmp, head, max_diff=diff, batch_checked=len(arrays), opset=OPSET,
                            seconds=round(time.perf_counter() - t0, 2), made_by="torch.onnx.export",
                            checked_against="PyTorch, in this run", imagenet_categories=_categories_from_torchvision(spec))
    except OSError as exc:
        log.warning("The engine for %s could not be kept in %s (%s); PyTorch runs it this time.",
                    spec.display_name, base.parent, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - any exporter or runtime failure means: use PyTorch
        _refuse(base, spec, f"it could not be exported or run ({type(exc).__name__}: {exc})")
        return None
    log.info("Prepared the ONNX Runtime engine for %s in %.1f s (largest difference from PyTorch %.2g).",
             spec.display_name, sidecar["seconds"], diff)
    return cached(spec)


def _categories_from_torchvision(spec: Backbone) -> list[str] | None:
    from monster_studio.core import backbones

    try:
        return backbones.imagenet_categories(spec)
    except Exception:  # noqa: BLE001 - the names help ImageNet mode start faster; they are not needed
        return None


def imagenet_categories(spec: Backbone) -> list[str]:
    """ImageNet's 1000 class names: from the prepared engine when there is one (no torchvision
    import), else from torchvision's weights metadata."""
    base = _base(spec)
    if base is not None:
        try:
            names = json.loads(_part(base, ".json").read_text(encoding="utf-8")).get("imagenet_categories")
            if isinstance(names, list) and len(names) == 1000 and all(isinstance(n, str) for n in names):
                return names
        except (OSError, ValueError, AttributeError):
            pass
    from monster_studio.core import backbones

    return backbones.imagenet_categories(spec)


def _cpu_engine(spec: Backbone, net_loader, cancel=None) -> Iterator:
    """The ready engine, or one prepared from the network `net_loader()` yields (a generator, which
    may download the weights first); returns (engine or None, the network if one was loaded)."""
    engine = cached(spec)
    if engine is not None:
        return engine, None
    from monster_studio.core import engine_direct, engine_process

    if refused(spec) is None and engine_direct.applies(spec) and weights.cached_file(spec) is not None:
        yield Phase("engine", PREPARING)
        engine = prepare_direct(spec)
        if engine is not None:
            return engine, None

    if engine_process.enabled() and _base(spec) is not None and refused(spec) is None \
            and weights.cached_file(spec) is not None:
        yield Phase("engine", PREPARING)
        if engine_process.prepare(spec, cancel):
            engine = cached(spec)
            if engine is not None:
                return engine, None
    net = yield from net_loader()
    if _base(spec) is None or refused(spec) is not None:
        return None, net
    if cancel is not None:
        cancel.check()
    yield Phase("engine", PREPARING)
    return prepare(spec, net), net


def ensure(spec: Backbone) -> OrtEngine | None:
    """The CPU engine for `spec`, made the way a run makes it when it is not ready (for scripts)."""
    from monster_studio.core.events import run_to_end

    return run_to_end(_cpu_engine(spec, lambda: weights.load_pretrained(spec)))[0]


def frozen(spec: Backbone, device, net_loader, cancel=None) -> Iterator:
    """The embedder for a frozen pretrained starting model on `device`: ONNX Runtime on a CPU when
    it can be had, else PyTorch. `net_loader()` is a generator returning the torch network; it is
    called only when one is needed. Returns (embedder, the network or None); yields the loader's
    events, and Phase("engine") while an engine is being prepared."""
    net = None
    if device.type == "cpu":
        engine, net = yield from _cpu_engine(spec, net_loader, cancel)
        if engine is not None:
            return engine.embedder(spec.preprocess), net
    if net is None:
        net = yield from net_loader()
    return TorchEmbedder(net, spec, spec.preprocess, device), net


def classifier(model, device, cancel=None) -> Iterator:
    """An embedder for a classifier (core.model.TrainedModel) and the linear head to put on its
    features. Yields download events if weights must be fetched; returns (embed, weight, bias),
    weight (classes x features) and bias as float32 arrays."""
    spec = model.spec
    if device.type == "cpu" and model.backbone_state is None and model.preprocess.crop_size == spec.input_size:
        engine = cached(spec)
        if engine is None and refused(spec) is None and weights.cached_file(spec) is not None:
            # The first time only: the pretrained network itself (the model's own may carry its
            # new last layer), for the export and the original last layer kept beside it.
            engine, _ = yield from _cpu_engine(spec, lambda: weights.load_pretrained(spec, cancel), cancel)
        if engine is not None:
            if model.head is not None:
                return engine.embedder(model.preprocess), model.head["weight"], model.head["bias"]
            head = engine.head_weights()
            if head is not None and head[0].shape[0] == len(model.classes):
                return engine.embedder(model.preprocess), head[0], head[1]
    net = yield from model.network(cancel)
    embed = TorchEmbedder(net, model.spec, model.preprocess, device)
    if model.head is None:
        weight, bias = embed.head_weights()
    else:
        weight, bias = model.head["weight"], model.head["bias"]
    return embed, weight, bias


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
