"""Classify pictures with a trained (or plain ImageNet) model: batched, decoding in the background."""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monster_studio.core import engine, images, unsure
from monster_studio.core.dataset import expand
from monster_studio.core.device import pick
from monster_studio.core.events import Cancel, Cancelled, Skipped
from monster_studio.core.features import batch_size_for
from monster_studio.core.model import TrainedModel


NOT_FINITE = "the model gave no usable answer (invalid numbers): its file may be damaged"


@dataclass(slots=True)  # no dict per answer: a training answers every one of its check pictures
class Prediction:
    path: str
    top: list[tuple[str, float]]  # (label, probability), best first
    unsure: bool = False  # the model cannot tell (unlike what it learned from, or torn between classes)
    unsure_reason: str = ""  # why, in words
    model: str = ""  # which model answered, in words

    @property
    def label(self) -> str:
        return self.top[0][0]

    @property
    def confidence(self) -> float:
        return self.top[0][1]

    def to_dict(self) -> dict:
        return {"path": self.path, "top": [{"label": lab, "probability": round(p, 6)} for lab, p in self.top],
                "unsure": self.unsure, "unsure_reason": self.unsure_reason}


def classify(model: TrainedModel, paths: Iterable[str | os.PathLike], top_k: int = 3,
             cancel: Cancel | None = None, batch_size: int | None = None, device: str = "auto",
             sure_share: float | None = None) -> Iterator:
    """Yields a Prediction or a Skipped per file, in order, a batch at a time. Ends quietly on cancel.
    Yields download events first if the backbone's weights must be fetched. `sure_share`: the
    share of its check pictures the model is to be sure of (core.unsure; default 0.95): lower
    calls more pictures "not sure"."""
    files, missing = expand(paths)
    sure_share = unsure.check_share(sure_share)  # a bad setting is refused before any work
    yield from missing
    try:
        dev = pick(device)
        embed, weight, bias = yield from engine.classifier(model, dev, cancel)
        try:
            yield from _run(model, embed, weight, bias, files, top_k, cancel, batch_size or _batch(model, dev),
                            sure_share)
        finally:
            embed.close()
    except Cancelled:
        return


def _batch(model: TrainedModel, device) -> int:
    """The engine's batch, made smaller for a model that asks for bigger crops than its starting
    model's own, so a batch never takes more memory than a normal one (at least one picture)."""
    normal = batch_size_for(model.spec, device)
    scale = (model.spec.input_size / model.preprocess.crop_size) ** 2
    return max(1, min(normal, int(normal * scale)))


def answers(model: TrainedModel, paths: list, feats: np.ndarray, weight: np.ndarray, bias: np.ndarray,
            top_k: int = 3, sure_share: float | None = None, distances: np.ndarray | None = None) -> list:
    """Predictions (or a Skipped for an answer that is not a number) from features: the head, the
    probabilities, the best `top_k`, and whether the model is sure (core.unsure). `distances`: the
    rows' distances to the model's training pictures, when known already (unsure.judge)."""
    probs = engine.softmax(feats @ weight.T + bias)
    finite = np.isfinite(probs).all(axis=1)
    k = max(1, min(top_k, len(model.classes)))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    everything = bool(finite.all())  # the usual case: no copy of the features (50 MB at 10,000 pictures)
    if distances is not None and not everything:
        distances = distances[finite]
    judged = unsure.judge(model, feats if everything else feats[finite], probs if everything else probs[finite],
                          sure_share, distances)
    judged_at = iter(judged)
    out = []
    for path, ok, p, ix in zip(paths, finite, probs, order):
        if not ok:
            out.append(Skipped(str(path), NOT_FINITE))
            continue
        doubt, why = next(judged_at)
        out.append(Prediction(str(path), [(model.classes[j], float(p[j])) for j in ix], doubt, why, model.label))
    return out


def _run(model, embed, weight, bias, files, top_k, cancel, batch_size, sure_share) -> Iterator:
    pre = model.preprocess

    def decode(path: Path):
        return images.prepare(path, pre)

    with ThreadPoolExecutor(2, "decode") as pool:
        for batch in images.decoded_batches(files, decode, batch_size, pool):
            if cancel is not None:
                cancel.check()
            good = [(f, t) for f, t in batch if not isinstance(t, images.BadPicture)]
            results: dict[Path, Prediction] = {}
            if good:
                feats = embed([t for _, t in good])
                for (f, _), r in zip(good, answers(model, [f for f, _ in good], feats, weight, bias, top_k,
                                                       sure_share)):
                    results[f] = r
            for f, t in batch:
                yield Skipped(str(f), str(t)) if isinstance(t, images.BadPicture) else results[f]
