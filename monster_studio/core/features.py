"""The frozen backbone, run once per picture, with its outputs kept in the feature store.

With a frozen backbone a picture's features never change, so they are computed once (decoded
once, by the engine: ONNX Runtime on a CPU, PyTorch elsewhere) and kept in the store (core.store)
under the file's identity (path, size, modification time) as it was when the picture was decoded,
the view (0 = centre crop, N = the Nth augmented view) and, for augmented views, the seed.
Training then runs on the store: epochs cost milliseconds and a rerun with other settings reads
everything back in one go.
"""
from __future__ import annotations

import hashlib
import os
import random
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from monster_studio.core import engine, images, store
from monster_studio.core.catalogue import Backbone
from monster_studio.core.events import Cancel, Phase, Progress

Item = tuple[str | Path, int]  # (picture, view): view 0 is the centre crop, view N >= 1 an augmented one
FEATURES_TEXT = "Looking at each picture once (features)"


def batch_size_for(spec: Backbone, device) -> int:
    """Small batches on a CPU: they stay in its caches (EfficientNet-Lite0 on 2 cores: 60 pictures/s
    at batch 8, 45 at 32) and keep Stop within about a second even on heavy backbones. `device`:
    a core.device.Device or a torch.device."""
    return 64 if device.type != "cpu" else 8


CACHE_VERSION = 3  # 3: one SQLite store per starting model instead of one .npy file per picture


def store_file(spec: Backbone, root: Path | None = None) -> Path:
    """The store of one starting model. Everything that changes what a picture's features are
    names it: the store's own format, the backbone, its preprocessing, the weights file itself
    (a re-imported file differs)."""
    tag = hashlib.sha1(repr((CACHE_VERSION, spec.id, spec.preprocess.to_dict(), engine.weights_identity(spec)))
                       .encode()).hexdigest()[:10]
    return store.features_dir(root) / f"{spec.id}-{tag}.sqlite3"


class FeatureCache:
    """The feature store of one starting model, seen as (picture, view) items for one seed."""

    def __init__(self, spec: Backbone, seed: int = 0, root: Path | None = None) -> None:
        self.spec, self.seed = spec, seed
        self.store = store.FeatureStore(store_file(spec, root), spec.feature_size)
        self.dir = self.store.file.parent

    @property
    def writable(self) -> bool:
        return self.store.writable

    def key(self, item: Item) -> store.Key:
        path, view = item
        return (store.path_key(path), view, self.seed if view else 0)

    def get_many(self, items: list[Item], identities: dict | None = None) -> dict[Item, np.ndarray | str]:
        """What the store holds for these items, for the files as they are now: {item: features or
        the reason it is not a usable picture}; items not in it (or changed since) are left out.
        A file that cannot even be looked at is reported as such, not cached. `identities`: the
        files' (size, mtime_ns) as the folder's scan just saw them (Dataset.identities); a file not
        in it is looked at here."""
        out: dict[Item, np.ndarray | str] = {}
        asked: list[tuple[store.Key, store.Identity]] = []
        keys: dict[store.Key, Item] = {}
        known = identities or {}
        for it in items:
            try:
                ident = known.get(it[0]) or store.identity(it[0])
            except OSError as exc:
                out[it] = f"cannot be read ({exc.strerror or exc})"
                continue
            k = self.key(it)
            keys[k] = it
            asked.append((k, ident))
        for k, value in self.store.get_many(asked).items():
            out[keys[k]] = value
        return out

    def get_into(self, items: list[Item], out: np.ndarray, identities: dict | None = None) \
            -> tuple[np.ndarray, dict[int, str]]:
        """`get_many` into the rows of `out` (row i for items[i]): which rows were filled, and
        {row: the reason that picture is not usable}. Asked a block at a time: the keys of all
        50,000 pictures at once held 0.3 KB a picture more while the features were read."""
        filled = np.zeros(len(items), bool)
        bad: dict[int, str] = {}
        known = identities or {}
        for start in range(0, len(items), store.CHUNK):
            asked: list[tuple[store.Key, store.Identity]] = []
            rows: list[int] = []
            for i in range(start, min(start + store.CHUNK, len(items))):
                it = items[i]
                try:
                    ident = known.get(it[0]) or store.identity(it[0])
                except OSError as exc:
                    bad[i] = f"cannot be read ({exc.strerror or exc})"
                    continue
                asked.append((self.key(it), ident))
                rows.append(i)
            if not rows:
                continue
            first, last = rows[0], rows[-1] + 1
            if last - first == len(rows):  # every item of the block: straight into its rows
                got, got_bad = self.store.get_into(asked, out[first:last])
                filled[first:last] = got
                bad.update({first + j: reason for j, reason in got_bad.items()})
                continue
            part = np.empty((len(rows), out.shape[1]), out.dtype)
            got, got_bad = self.store.get_into(asked, part)
            at = np.asarray(rows, np.int64)
            out[at[got]], filled[at[got]] = part[got], True
            bad.update({rows[j]: reason for j, reason in got_bad.items()})
        return filled, bad

    def get(self, item: Item) -> np.ndarray | str | None:
        """The features, or the reason the picture was bad, or None when not cached."""
        return self.get_many([item]).get(item)

    def put_many(self, entries: list[tuple[Item, store.Identity, np.ndarray | str]]) -> None:
        """Keep features (or bad-picture reasons) under the identity each file had when decoded."""
        self.store.put_many([(self.key(it), ident, value) for it, ident, value in entries])

    def put(self, item: Item, value: np.ndarray | str, ident: store.Identity | None = None) -> None:
        if ident is None:
            try:
                ident = store.identity(item[0])
            except OSError:
                return
        self.put_many([(item, ident, value)])


def _view_rng(path: Path, view: int, seed: int) -> random.Random:
    return random.Random(hashlib.sha1(b"%d:%s:%d" % (seed, os.fsencode(path), view)).digest())


def decode(item: Item, spec: Backbone, seed: int) -> np.ndarray:
    """One picture -> the uint8 array the backbone sees (centre crop or an augmented view)."""
    path, view = item
    return images.prepare(path, spec.preprocess, None if view == 0 else _view_rng(path, view, seed))


def _decode_as_it_was(item: Item, spec: Backbone, seed: int):
    """(identity, array or BadPicture): the file's identity taken around the decoding, or None
    when the file changed while it was read, so what is kept never carries a newer file's name."""
    try:
        before = store.identity(item[0])
    except OSError as exc:
        return None, images.BadPicture(f"cannot be read ({exc.strerror or exc})", transient=True)
    try:
        value = decode(item, spec, seed)
    except images.BadPicture as exc:
        value = exc
    try:
        after = store.identity(item[0])
    except OSError:
        after = None
    return (before if after == before else None), value


def _is_network(model) -> bool:
    """Whether `model` is a torch network (it cannot be one while torch is not even imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def compute(model, spec: Backbone, items: list[Item], cache: FeatureCache | None,
            device, cancel: Cancel | None = None, seed: int = 0,
            put: Callable[[Item, np.ndarray | str], None] | None = None) -> Iterator[int]:
    """Run the headless backbone over `items`; yields how many were done after each batch and
    returns {item: features or bad-reason}, or hands each to `put(item, value)` instead (and
    returns {}). `model`: an embedder from core.engine, or a torch network (run by PyTorch). Each
    batch is in the store before the next one starts."""
    out: dict[Item, np.ndarray | str] = {}
    if put is None:
        put = out.__setitem__
    if not items:
        return out
    bs = batch_size_for(spec, device)
    embed = engine.TorchEmbedder(model, spec, spec.preprocess, device) if _is_network(model) else model
    done = 0
    with ThreadPoolExecutor(engine.decode_threads(), "decode") as pool:
        for batch in images.decoded_batches(items, lambda it: _decode_as_it_was(it, spec, seed), bs, pool):
            if cancel is not None:
                cancel.check()
            keep: list[tuple[Item, store.Identity, np.ndarray | str]] = []
            good = []
            for it, (ident, value) in batch:
                if isinstance(value, images.BadPicture):
                    put(it, str(value))
                    if ident is not None and not value.transient:
                        keep.append((it, ident, str(value)))
                else:
                    good.append((it, ident, value))
            if good:
                feats = embed([v for _, _, v in good])
                for (it, ident, _), f in zip(good, feats):
                    put(it, f)
                    if ident is not None:
                        keep.append((it, ident, f))
            if cache is not None:
                cache.put_many(keep)
            done += len(batch)
            yield done
    return out


class Features(Mapping):
    """The features of the usable items, {item: row}: the rows of one array, in the order the
    items were asked for (a training takes its arrays from it without a copy; 50,000 pictures held
    as an array each cost 0.3 KB a picture more, and the training's copy of them half of them
    again while it was made)."""

    def __init__(self, array: np.ndarray, rows: dict[Item, int]) -> None:
        self.array, self.rows = array, rows

    def __getitem__(self, item: Item) -> np.ndarray:
        return self.array[self.rows[item]]

    def __contains__(self, item) -> bool:
        return item in self.rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def gather(model_loader: Callable[[], Iterator], spec: Backbone, items: list[Item], cache: FeatureCache,
           device, cancel: Cancel | None = None, seed: int = 0, identities: dict | None = None) -> Iterator:
    """Features for every item, from the store where possible. Yields Progress (and the
    loader's own events, e.g. downloads) and returns (Features, bad, model_or_None), bad being
    {file: reason}. `model_loader()` is a generator returning the network; it is only called when
    the engine needs it (pictures are missing and no prepared engine is on disk)."""
    array = np.empty((len(items), spec.feature_size), np.float32)  # a row's pages are taken when it is written
    filled, bad_rows = cache.get_into(items, array, identities)
    missing = [items[i] for i in np.flatnonzero(~filled) if i not in bad_rows]
    total, cached = len(items), len(items) - len(missing)
    yield Progress("features", cached, total, "pictures", restart=True)
    model = None
    if missing:
        row_of = {it: i for i, it in enumerate(items)}

        def put(item: Item, value: np.ndarray | str) -> None:
            i = row_of[item]
            if isinstance(value, str):
                bad_rows[i] = value
            else:
                array[i], filled[i] = value, True

        steps = engine.frozen(spec, device, model_loader, cancel)
        prepared = False
        while True:
            try:
                event = next(steps)
            except StopIteration as stop:
                embed, model = stop.value
                break
            prepared = prepared or (isinstance(event, Phase) and event.name == "engine")
            yield event
        if prepared:
            yield Phase("features", FEATURES_TEXT)
        try:
            n = 0
            for n in compute(embed, spec, missing, cache, device, cancel, seed, put):
                yield Progress("features", cached + n, total, "pictures")
        finally:
            embed.close()
    feats = Features(array, {items[i]: int(i) for i in np.flatnonzero(filled)})
    bad = {items[i][0]: reason for i, reason in bad_rows.items() if not filled[i]}
    return feats, bad, model


def clear_cache() -> store.Cleared:
    """Remove every cached feature and prepared engine (Help > Clear cached features): the next
    training looks at each picture again, and the engine is prepared again when first needed."""
    engine.forget_sessions()
    return store.clear_cache()
