"""Whether a trained model is sure of an answer: a picture unlike anything it learned from, or one
torn between two classes, is flagged with a reason in plain words. What it needs is stored in the
.monster file; a model without it (older files, ImageNet mode) simply never says "not sure".

Two tests, both on what the model already computes for every picture (its features and its
probabilities), so saying "not sure" costs no second look at the picture:

- unlike the pictures it learned from: the cosine distance from the picture's features to its
  k-th nearest neighbour among the training pictures' features (deep nearest neighbours, Sun et
  al., ICML 2022: L2-normalized features, no assumption about their distribution, which a few
  dozen pictures per class could not support anyway). A compact sample of the training features
  is kept in the model file for this: at most MAX_SAMPLE_VALUES numbers, as float16.
- torn between two classes: the winner's probability is not far enough above the runner-up's.

Both limits are calibrated on the check pictures (held out from training, so they are new to the
model the way a user's pictures will be): the distances and margins of every check picture are
stored, and the limits are read from them for the share of check pictures the user wants the
model to be sure of (`sure_share`, 0.95 by default). That share is a setting at prediction time,
not baked into the file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monster_studio.core.errors import UserError

DEFAULT_SURE_SHARE = 0.95  # of the check pictures, the share the model is sure of
MIN_SURE_SHARE = 0.5
MAX_SAMPLE_VALUES = 2_000_000  # float16: at most 4 MB of a model file (1,562 pictures of 1,280 features)
# Rows of pictures measured against the sample at once: 256 x 1,562 similarities (1.6 MB) and their
# partition. At 1,024 these transients were about 40 MB, the largest part of a rerun's peak at 13,000.
KNN_ROWS = 256
NEIGHBOURS = 3  # k: the k-th nearest training picture, robust to one odd or mislabeled neighbour
MIN_CHECK = 10  # with fewer check pictures, the training pictures calibrate (each against the others)
# A runner-up this far below the winner is never "torn", however confident the check pictures
# were: with 0.5, a torn answer has a runner-up of at least half the winner's remaining lead.
TORN_CAP = 0.5
FORMAT = 1

UNLIKE = "unlike the pictures it learned from"


def torn_words(first: str, second: str) -> str:
    return f"torn between {first} and {second}"


class SureShareError(UserError):
    kind = "settings"


def check_share(sure_share: float | None) -> float:
    """The share of check pictures to be sure of, checked; None is the default."""
    if sure_share is None:
        return DEFAULT_SURE_SHARE
    try:
        share = float(sure_share)
    except (TypeError, ValueError):
        share = float("nan")
    if not (MIN_SURE_SHARE <= share <= 1.0):
        raise SureShareError(f"The share of check pictures the model is to be sure of must be from {MIN_SURE_SHARE} "
                             f"to 1 (it was {sure_share}); {DEFAULT_SURE_SHARE} is the usual choice.")
    return share


def normalized(feats: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Rows scaled to length 1; `in_place`: `feats` is a float32 copy of the caller's own, scaled
    where it is (the sample's 8 MB are then not held twice)."""
    f = np.asarray(feats, dtype=np.float32)
    norm = np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    if in_place:
        f /= norm
        return f
    return f / norm


def knn_distance(sample: np.ndarray, feats: np.ndarray, k: int, exclude_self: bool = False) -> np.ndarray:
    """Cosine distance (0 same direction, 2 opposite) from each row of `feats` to its k-th
    nearest row of `sample` (L2-normalized). `exclude_self`: `feats` is `sample` itself, and a
    picture is not its own neighbour."""
    s = np.asarray(sample, dtype=np.float32)
    out = np.empty(len(feats), np.float32)
    step = KNN_ROWS
    for i in range(0, len(feats), step):  # bounded memory for a big folder
        sims = normalized(feats[i:i + step]) @ s.T
        if exclude_self:
            rows = np.arange(len(sims))
            sims[rows, rows + i] = -np.inf
        kk = min(k, sims.shape[1]) - 1
        np.negative(sims, out=sims)
        kth = -np.partition(sims, kk, axis=1)[:, kk]
        out[i:i + step] = 1.0 - kth
    return out


def margins(probs: np.ndarray) -> np.ndarray:
    """The winner's probability minus the runner-up's."""
    top2 = -np.partition(-np.asarray(probs, np.float32), 1, axis=1)[:, :2]
    return top2[:, 0] - top2[:, 1]


@dataclass
class Calibration:
    """What a model needs to say "not sure": the sample of training features, and each calibration
    picture's distance to it and margin (so the limits can be read for any sure share)."""

    sample: np.ndarray  # (n, features) float16, L2-normalized training features
    distances: np.ndarray  # (m,) float32: each calibration picture's k-th neighbour distance
    margins: np.ndarray  # (m,) float32: its winner's probability minus the runner-up's
    k: int = NEIGHBOURS
    calibrated_on: str = "check pictures"  # or "training pictures" when there were too few check pictures

    def limits(self, sure_share: float | None = None) -> tuple[float, float]:
        """(farthest distance that is still like the training pictures, smallest margin that is
        not torn) such that `sure_share` of the calibration pictures pass both."""
        share = check_share(sure_share)
        m = len(self.distances)
        allowed = math.floor((1.0 - share) * m + 1e-9)  # calibration pictures that may be flagged
        order = np.sort(self.margins)
        torn_allowed = allowed // 2  # half the budget for each test; the distance takes what is left
        floor = float(min(order[min(torn_allowed, m - 1)], TORN_CAP))
        passing = self.distances[self.margins >= floor]
        left = max(0, allowed - (m - len(passing)))
        if not len(passing):
            return float("inf"), floor
        far = np.sort(passing)[::-1]
        return float(far[min(left, len(far) - 1)]), floor

    def judge(self, feats: np.ndarray, probs: np.ndarray, classes, sure_share: float | None = None,
              distances: np.ndarray | None = None):
        """(unsure, reason) per row. `distances`: the rows' k-th neighbour distances when known
        already (a training's check pictures: the calibration measured them), else measured here."""
        far_limit, torn_limit = self.limits(sure_share)
        dist = knn_distance(self.sample, feats, self.k) if distances is None else distances
        gap = margins(probs) if probs.shape[1] > 1 else np.ones(len(probs), np.float32)
        out = []
        for d, g, p in zip(dist, gap, probs):
            if not np.isfinite(d) or d > far_limit:
                out.append((True, UNLIKE))
            elif g < torn_limit:
                first, second = np.argsort(-p, kind="stable")[:2]
                out.append((True, torn_words(classes[first], classes[second])))
            else:
                out.append((False, ""))
        return out

    def share_flagged(self, sure_share: float | None = None) -> float:
        """The share of the calibration pictures that would be called "not sure"."""
        far_limit, torn_limit = self.limits(sure_share)
        flagged = (self.distances > far_limit) | (self.margins < torn_limit)
        return float(flagged.mean()) if len(flagged) else 0.0

    # -------------------------------------------------------------- in the model file

    def tensors(self) -> dict[str, np.ndarray]:
        return {"sample": np.ascontiguousarray(self.sample, np.float16),
                "distances": np.ascontiguousarray(self.distances, np.float32),
                "margins": np.ascontiguousarray(self.margins, np.float32)}

    def meta(self) -> dict:
        return {"format": FORMAT, "method": "nearest neighbours and margin", "k": int(self.k),
                "calibrated_on": self.calibrated_on, "sample_size": int(len(self.sample)),
                "calibration_size": int(len(self.distances))}

    @classmethod
    def from_parts(cls, tensors: dict[str, np.ndarray], meta: dict, feature_size: int) -> "Calibration":
        """From a model file's tensors and metadata, checked (outside data). Raises ValueError."""
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("unknown format")
        k = meta.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError("bad k")
        try:
            sample, dist, marg = tensors["sample"], tensors["distances"], tensors["margins"]
        except KeyError as exc:
            raise ValueError(f"missing {exc}") from None
        if sample.ndim != 2 or sample.shape[1] != feature_size or len(sample) < 2:
            raise ValueError("bad sample")
        if dist.ndim != 1 or marg.shape != dist.shape or len(dist) < 1:
            raise ValueError("bad calibration")
        sample = sample.astype(np.float16)
        dist, marg = dist.astype(np.float32), marg.astype(np.float32)
        if not all(np.isfinite(a.astype(np.float32)).all() for a in (sample, dist, marg)):
            raise ValueError("invalid numbers")
        on = meta.get("calibrated_on", "check pictures")
        return cls(sample, dist, marg, k, on if isinstance(on, str) else "check pictures")


def _sample_rows(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Up to `limit` row indices, the classes as evenly represented as their counts allow, so a
    big class does not crowd a small one out of the sample."""
    if len(labels) <= limit:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    # sorted(set()), not np.unique: that imports numpy.ma (40 ms of a rerun) to ask if it is masked
    by_class = [rng.permutation(np.flatnonzero(labels == c)) for c in sorted(set(labels.tolist()))]
    chosen, i = [], 0
    while len(chosen) < limit:
        for rows in by_class:
            if i < len(rows) and len(chosen) < limit:
                chosen.append(rows[i])
        i += 1
    return np.sort(np.asarray(chosen))


def calibrate(train_feats: np.ndarray, train_labels: np.ndarray, check_feats: np.ndarray,
              check_probs: np.ndarray, train_probs: np.ndarray | None = None, seed: int = 0,
              k: int = NEIGHBOURS) -> Calibration | None:
    """The calibration from a finished training: features of the training pictures (centre crop,
    one row per picture) and of the check pictures with the model's probabilities for them.
    With fewer than MIN_CHECK check pictures the training pictures calibrate, each against the
    others (then `train_probs` is needed). None when there is too little to learn from."""
    train_feats = np.asarray(train_feats, np.float32)
    if len(train_feats) < 2:
        return None
    limit = max(2, MAX_SAMPLE_VALUES // train_feats.shape[1])
    rows = _sample_rows(np.asarray(train_labels), limit, seed)
    # Rounded to float16 first: the calibration then measures against exactly what the file keeps.
    sample = normalized(train_feats[rows], in_place=True).astype(np.float16)  # [rows]: a copy
    k = max(1, min(k, len(sample) - 1))
    if len(check_feats) >= MIN_CHECK:
        dist = knn_distance(sample, check_feats, k)
        gap = margins(check_probs)
        on = "check pictures"
    else:
        if train_probs is None:
            return None
        # Each training picture against the sample without itself: like a new picture would be.
        dist = knn_distance(sample, train_feats[rows], k, exclude_self=True)
        gap = margins(np.asarray(train_probs)[rows])
        on = "training pictures"
    return Calibration(sample, dist.astype(np.float32), gap.astype(np.float32), k, on)


def judge(model, feats: np.ndarray, probs: np.ndarray, sure_share: float | None = None,
          distances: np.ndarray | None = None) -> list[tuple[bool, str]]:
    """(unsure, reason) for each row of features and probabilities. A model without a calibration
    (an older file, ImageNet mode) is always sure. `distances`: see Calibration.judge."""
    calibration = getattr(model, "unsure", None)
    if calibration is None or not len(feats):
        return [(False, "")] * len(feats)
    return calibration.judge(feats, probs, model.classes, sure_share, distances)
