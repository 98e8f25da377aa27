"""Classify pictures with a trained (or plain ImageNet) model: batched, decoding in the background."""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch

from monster_studio.core import dataset, images
from monster_studio.core.device import pick
from monster_studio.core.events import Cancel, Cancelled, Skipped
from monster_studio.core.features import batch_size_for
from monster_studio.core.model import TrainedModel


@dataclass
class Prediction:
    path: str
    top: list[tuple[str, float]]  # (label, probability), best first

    @property
    def label(self) -> str:
        return self.top[0][0]

    @property
    def confidence(self) -> float:
        return self.top[0][1]

    def to_dict(self) -> dict:
        return {"path": self.path, "top": [{"label": lab, "probability": round(p, 6)} for lab, p in self.top]}


def expand(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Skipped]]:
    """Pictures and folders (recursed) -> the files to classify; litter ignored, missing reported."""
    files: list[Path] = []
    missing: list[Skipped] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += [f for f in dataset.files_under(p, missing) if not images.is_litter(f)]
        elif p.is_file():
            files.append(p)
        else:
            missing.append(Skipped(str(p), "does not exist"))
    return files, missing


def classify(model: TrainedModel, paths: Iterable[str | os.PathLike], top_k: int = 3,
             cancel: Cancel | None = None, batch_size: int | None = None, device: str = "auto") -> Iterator:
    """Yields a Prediction or a Skipped per file, in order, a batch at a time. Ends quietly on cancel.
    Yields download events first if the backbone's weights must be fetched."""
    files, missing = expand(paths)
    yield from missing
    try:
        net = yield from model.network(cancel)
        dev = pick(device)
        yield from _run(model, net, files, top_k, cancel, batch_size or batch_size_for(model.spec, dev), dev)
    except Cancelled:
        return


def _run(model, net, files, top_k, cancel, batch_size, device) -> Iterator:
    pre = model.preprocess
    k = max(1, min(top_k, len(model.classes)))
    net.to(device).to(memory_format=torch.channels_last)

    def decode(path: Path):
        return pre.center(images.load_rgb(path, min_side=pre.resize_size))

    with ThreadPoolExecutor(2, "decode") as pool, torch.inference_mode():
        for batch in images.decoded_batches(files, decode, batch_size, pool):
            if cancel is not None:
                cancel.check()
            good = [(f, t) for f, t in batch if not isinstance(t, images.BadPicture)]
            results: dict[Path, Prediction] = {}
            if good:
                x = pre.normalize(torch.stack([t for _, t in good]).to(device)).contiguous(memory_format=torch.channels_last)
                probs = torch.softmax(net(x).float(), dim=1).cpu()
                values, indices = probs.topk(k, dim=1)
                for (f, _), vs, ix in zip(good, values.tolist(), indices.tolist()):
                    results[f] = Prediction(str(f), [(model.classes[j], v) for v, j in zip(vs, ix)])
            for f, t in batch:
                yield Skipped(str(f), str(t)) if isinstance(t, images.BadPicture) else results[f]
    net.cpu()
