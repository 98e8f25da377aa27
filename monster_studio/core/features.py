"""The frozen backbone, run once per picture, with its outputs cached on disk.

With a frozen backbone a picture's features never change, so they are computed once (decoded
once, in inference mode, channels_last) and kept under a key made of the file's identity (path,
size, mtime), the backbone and the view (0 = centre crop, N = the Nth augmented view). Training
then runs on the cache: epochs cost milliseconds and a rerun with other settings is instant.
"""
from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import nn

from monster_studio.core import files, images, weights
from monster_studio.core.catalogue import Backbone
from monster_studio.core.engine import TorchEmbedder
from monster_studio.core.events import Cancel, Progress
from monster_studio.core.paths import cache_dir

Item = tuple[Path, int]  # (picture, view): view 0 is the centre crop, view N >= 1 an augmented one


def batch_size_for(spec: Backbone, device: torch.device) -> int:
    """Small batches on a CPU: they stay in its caches (EfficientNet-Lite0 on 2 cores: 60 pictures/s
    at batch 8, 45 at 32) and keep Stop within about a second even on heavy backbones."""
    return 64 if device.type != "cpu" else 8


CACHE_VERSION = 2


def _weights_identity(spec: Backbone) -> tuple:
    path = weights.cached_file(spec)
    try:
        st = path.stat() if path else None
    except OSError:
        st = None
    return (path.name, st.st_size, st.st_mtime_ns) if st else ()


class FeatureCache:
    """One .npy per (picture, view) under the cache folder; a `.bad` file remembers undecodable ones."""

    def __init__(self, spec: Backbone, seed: int = 0, root: Path | None = None) -> None:
        # Everything that changes what a picture's features are: the cache's own format, the
        # backbone, its preprocessing, and the weights file itself (a re-imported file differs).
        tag = hashlib.sha1(repr((CACHE_VERSION, spec.id, spec.preprocess.to_dict(), _weights_identity(spec)))
                           .encode()).hexdigest()[:10]
        self.dir = (root or cache_dir()) / "features" / f"{spec.id}-{tag}"
        self.seed = seed
        self.writable = True

    def key(self, item: Item) -> str:
        path, view = item
        st = path.stat()
        # Bytes, not text: on Linux a file name need not be valid UTF-8.
        ident = b"\0".join([os.fsencode(path.resolve()), b"%d" % st.st_size, b"%d" % st.st_mtime_ns,
                            b"%d" % view, b"%d" % self.seed if view else b""])
        return hashlib.sha1(ident).hexdigest()

    def _file(self, key: str, suffix: str) -> Path:
        return self.dir / key[:2] / f"{key}{suffix}"

    def get(self, item: Item) -> np.ndarray | str | None:
        """The features, or the reason the picture was bad, or None when not cached."""
        try:
            key = self.key(item)
        except OSError as exc:
            return f"cannot be read ({exc.strerror or exc})"
        try:
            return np.load(self._file(key, ".npy"), allow_pickle=False)
        except (OSError, ValueError):
            pass
        try:
            return self._file(key, ".bad").read_text(encoding="utf-8")
        except OSError:
            return None

    def put(self, item: Item, value: np.ndarray | str) -> None:
        if not self.writable:
            return
        try:
            key = self.key(item)
            target = self._file(key, ".bad" if isinstance(value, str) else ".npy")
            target.parent.mkdir(parents=True, exist_ok=True)
            with files.replacing(target) as f:
                if isinstance(value, str):
                    f.write(value.encode("utf-8"))
                else:
                    np.save(f, value, allow_pickle=False)
        except OSError:
            self.writable = False  # a read-only or full disk costs speed, never the result


def _view_rng(path: Path, view: int, seed: int) -> random.Random:
    return random.Random(hashlib.sha1(b"%d:%s:%d" % (seed, os.fsencode(path), view)).digest())


def decode(item: Item, spec: Backbone, seed: int) -> np.ndarray:
    """One picture -> the uint8 array the backbone sees (centre crop or an augmented view)."""
    path, view = item
    return images.prepare(path, spec.preprocess, None if view == 0 else _view_rng(path, view, seed))


def compute(model: nn.Module, spec: Backbone, items: list[Item], cache: FeatureCache | None,
            device: torch.device, cancel: Cancel | None = None, seed: int = 0) -> Iterator[int]:
    """Run the headless backbone over `items`; yields how many were done after each batch and
    returns {item: features or bad-reason}."""
    out: dict[Item, np.ndarray | str] = {}
    if not items:
        return out
    bs = batch_size_for(spec, device)
    embed = TorchEmbedder(model, spec, spec.preprocess, device)
    done = 0
    with ThreadPoolExecutor(2, "decode") as pool:
        for batch in images.decoded_batches(items, lambda it: decode(it, spec, seed), bs, pool):
            if cancel is not None:
                cancel.check()
            good = [(it, t) for it, t in batch if not isinstance(t, images.BadPicture)]
            for it, bad in batch:
                if isinstance(bad, images.BadPicture):
                    out[it] = str(bad)
                    if cache is not None and not bad.transient:
                        cache.put(it, str(bad))
            if good:
                feats = embed([t for _, t in good])
                for (it, _), f in zip(good, feats):
                    out[it] = f
                    if cache is not None:
                        cache.put(it, f)
            done += len(batch)
            yield done
    return out


def gather(model_loader: Callable[[], Iterator], spec: Backbone, items: list[Item], cache: FeatureCache,
           device: torch.device, cancel: Cancel | None = None, seed: int = 0) -> Iterator:
    """Features for every item, from the cache where possible. Yields Progress (and the
    loader's own events, e.g. downloads) and returns (features, bad, model_or_None).
    `model_loader()` is a generator returning the network; it is only called on a cache miss."""
    found: dict[Item, np.ndarray | str] = {}
    missing: list[Item] = []
    for it in items:
        v = cache.get(it)
        (missing.append(it) if v is None else found.__setitem__(it, v))
    total, cached = len(items), len(found)
    yield Progress("features", cached, total, "pictures", restart=True)
    model = None
    if missing:
        model = yield from model_loader()
        gen = compute(model, spec, missing, cache, device, cancel, seed)
        while True:
            try:
                n = next(gen)
            except StopIteration as stop:
                found.update(stop.value)
                break
            yield Progress("features", cached + n, total, "pictures")
    feats = {it: v for it, v in found.items() if not isinstance(v, str)}
    bad = {it[0]: v for it, v in found.items() if isinstance(v, str)}
    return feats, bad, model
