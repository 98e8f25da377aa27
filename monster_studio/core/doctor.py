"""Check my pictures: what in a training folder would mislead a model, found before it does.

Three findings, each from the frozen starting model's features (computed once and cached, so a
check after a training costs seconds):

- likely wrong labels: every picture gets an answer from a linear classifier that never saw it
  (K-fold, out-of-fold probabilities), and cleanlab's `find_label_issues` (confident learning)
  picks and ranks the pictures whose folder disagrees with what the rest of the folder teaches;
- copies: byte-identical files (content hash) first, then near-copies (a resized or re-saved
  photo) by the cosine similarity of their features; a group of copies that sits among both the
  training pictures and the check pictures is a leak: the accuracy measured on the check pictures
  is then higher than it should be;
- outliers: pictures unlike the rest of their class (far from the class's centre in feature
  space, by a robust z-score), such as a placeholder "image not found" or a photo of something else.

The check only reads: it never writes, moves or renames a file in the folder (the feature cache
lives in the app's cache folder). Changes are the user's, through core.actions.
"""
from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from monster_studio.core import catalogue, dataset, engine, features, weights
from monster_studio.core.actions import content_hash
from monster_studio.core.device import pick
from monster_studio.core.errors import UserError
from monster_studio.core.settings import DOCTOR_FOLDS, NEAR_COPY
from monster_studio.core.events import Cancel, Phase, Progress, Skipped
from monster_studio.core.wording import CHECK_PICTURES, plural

FOLDS = DOCTOR_FOLDS
# Cosine similarity of features above which two pictures count as near-copies (core.settings,
# so the command line shows it without loading torch). Measured with
# EfficientNet-Lite0: distinct photos of ants-vs-bees reach at most 0.81, distinct generated
# monsters 0.92; the same photo resized to 60% gives 0.90 to 1.00, re-saved as a JPEG at quality
# 50 0.90 to 0.94, mirrored 0.94 to 0.97. 0.95 keeps distinct pictures out; lower it to catch
# heavier edits at the risk of pairing pictures that are only alike.
# A picture whose similarity to its class's centre lies this many robust standard deviations
# (median absolute deviation x 1.4826) below the class's median is an outlier (Iglewicz and
# Hoaglin's modified z-score rule, 3.5).
OUTLIER_Z = 3.5
MIN_FOR_OUTLIERS = 8  # a class needs this many pictures for "unlike the rest" to mean anything
C = 10.0  # inverse regularization of the classifier on unit-length features (chosen on planted swaps)
_BLOCK = 1024  # rows of the similarity matrix computed at a time (memory stays ~ _BLOCK x pictures)


@dataclass(frozen=True)
class LabelIssue:
    """A picture that is probably in the wrong class folder. score: how likely its label is wrong
    (1 minus the probability the held-out classifier gave its own class), from 0 to 1;
    suggested: the class it gave the most."""

    path: str
    given: str
    suggested: str
    score: float
    part: str  # "train" or "val": where the picture sits
    confident: bool = False  # confident learning's default filter flags it too: the surest cases


@dataclass(frozen=True)
class DuplicateGroup:
    """Pictures that are copies of each other. similarity: the lowest between two of them (1.0
    for byte-identical files); exact: all of them are byte-identical; classes: their folders."""

    paths: list[str]
    similarity: float
    exact: bool
    classes: list[str]


@dataclass(frozen=True)
class Leak:
    """A group of copies among both the training pictures and the check pictures."""

    train: list[str]
    val: list[str]
    similarity: float
    exact: bool

    @property
    def paths(self) -> list[str]:
        return self.train + self.val


@dataclass(frozen=True)
class Outlier:
    """A picture unlike the rest of its class (and not already listed as a likely wrong label).
    similarity: to the class's centre (cosine); score: how many robust standard deviations below
    the class's usual similarity it lies."""

    path: str
    kind: str
    similarity: float
    score: float


@dataclass
class CheckReport:
    """What the check found in a folder, most important first within each list."""

    folder: str
    backbone: str
    classes: list[str]
    counts: dict[str, int]
    n_train: int
    n_val: int
    split_given: bool
    label_issues: list[LabelIssue] = field(default_factory=list)
    duplicates: list[DuplicateGroup] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    outliers: list[Outlier] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    folds: int = 0
    near_copy: float = NEAR_COPY
    seconds: float = 0.0

    @property
    def pictures(self) -> int:
        return self.n_train + self.n_val

    def to_dict(self) -> dict:
        return {"folder": self.folder, "backbone": self.backbone, "classes": list(self.classes),
                "counts": dict(self.counts), "pictures": self.pictures, "n_train": self.n_train,
                "n_val": self.n_val, "split_given": self.split_given,
                "label_issues": [asdict(i) for i in self.label_issues],
                "duplicates": [asdict(d) for d in self.duplicates],
                "leaks": [{"train": k.train, "val": k.val, "paths": k.paths, "similarity": k.similarity,
                           "exact": k.exact} for k in self.leaks],
                "outliers": [asdict(o) for o in self.outliers],
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
                "folds": self.folds, "near_copy": self.near_copy, "seconds": round(self.seconds, 3)}

    def to_json(self) -> str:
        """One line of JSON (the command line's --json)."""
        return json.dumps(self.to_dict())

    def summary(self) -> list[str]:
        """The findings in plain sentences, for the terminal and the window alike."""
        lines = [f"Checked {plural(self.pictures, 'picture')} in {plural(len(self.classes), 'class')} "
                 f"({', '.join(self.classes)})."]
        if self.label_issues:
            lines.append(f"{plural(len(self.label_issues), 'picture')} may be in the wrong class folder; "
                         "the most likely first.")
        if self.duplicates:
            n = sum(len(d.paths) for d in self.duplicates)
            lines.append(f"{n} pictures are copies of one another ({plural(len(self.duplicates), 'group')}).")
        if self.leaks:
            n = sum(len(k.val) for k in self.leaks)
            lines.append(f"{n} of the {CHECK_PICTURES} {'is a copy' if n == 1 else 'are copies'} of training pictures: "
                         f"the accuracy measured on the {CHECK_PICTURES} is higher than it should be.")
        if self.outliers:
            lines.append(f"{plural(len(self.outliers), 'picture')} look{'s' if len(self.outliers) == 1 else ''} "
                         "unlike the rest of {}.".format("its class" if len(self.outliers) == 1 else "their class"))
        if not (self.label_issues or self.duplicates or self.leaks or self.outliers):
            lines.append("Nothing looks wrong.")
        if self.skipped:
            lines.append(f"{plural(len(self.skipped), 'file')} could not be used and {'was' if len(self.skipped) == 1 else 'were'} left out.")
        return lines


def check(folder, backbone: str = catalogue.DEFAULT_BACKBONE, cancel: Cancel | None = None, **options) -> CheckReport:
    """`check_steps` without the progress events."""
    from monster_studio.core.events import run_to_end

    return run_to_end(check_steps(folder, backbone, cancel=cancel, **options))


def check_steps(folder, backbone: str = catalogue.DEFAULT_BACKBONE, *, val_split: float = 0.2, seed: int = 0,
                folds: int = FOLDS, near_copy: float = NEAR_COPY, device: str = "auto",
                cancel: Cancel | None = None) -> Iterator:
    """Check a training folder. Yields Phase and Progress (and download events when the starting
    model's weights must be fetched); returns a CheckReport (`report = yield from check_steps(...)`).
    `val_split` and `seed` must be the training's for the leaks to be those of its split (they do
    not matter when the folder has its own train/ and val/). Raises Cancelled when stopped and
    DatasetError (a UserError) when the folder cannot be used."""
    t0 = time.perf_counter()
    if not 0.0 < near_copy <= 1.0:
        raise UserError("The similarity for near-copies is a share above 0 and at most 1, e.g. 0.95.")
    spec = catalogue.backbone(backbone)
    yield Phase("scan", "Reading the folder")
    ds = yield from dataset.scan_steps(folder, val_split, seed, cancel)

    yield Phase("features", "Looking at each picture once (features)")
    feats = yield from _features(ds, spec, pick(device), cancel, seed)
    pictures = ds.train + ds.val
    parts = ["train"] * len(ds.train) + ["val"] * len(ds.val)
    paths = [str(p.path) for p in pictures]
    labels = np.array([p.label for p in pictures], dtype=np.int64)
    x = np.stack([feats[(p.file, 0)] for p in pictures]).astype(np.float32)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    yield Phase("hash", "Looking for copies")
    hashes = []
    for i, p in enumerate(pictures):
        if cancel is not None:
            cancel.check()
        try:
            hashes.append(content_hash(p.path))
        except OSError:  # gone or unreadable since the scan: it is nobody's copy
            hashes.append(f"unreadable:{i}")
        if i % 50 == 49:
            yield Progress("hash", i + 1, len(pictures), "pictures")
    yield Progress("hash", len(pictures), len(pictures), "pictures")
    groups = yield from _copy_groups(x, hashes, near_copy, cancel)

    yield Phase("check", "Looking for pictures in the wrong class")
    fold_of = _group_ids(groups, len(pictures))
    probs, judged, used_folds = yield from _out_of_fold(x, labels, len(ds.classes), fold_of, folds, seed, cancel)
    row = {p: i for i, p in enumerate(paths)}
    issues = [i for i in _label_issues(probs, labels, ds.classes, paths, parts) if judged[row[i.path]]]

    duplicates, leaks = _duplicates(groups, x, hashes, paths, parts, labels, ds.classes)
    # A picture in the wrong folder is also unlike the rest of that folder; it is listed once,
    # where the way out is clearest (move it), so the outliers are the pictures that fit nowhere.
    in_issues = {i.path for i in issues}
    outliers = [o for o in _outliers(x, labels, ds.classes, paths) if o.path not in in_issues]
    return CheckReport(str(ds.root), spec.id, list(ds.classes), ds.counts(), len(ds.train), len(ds.val),
                       ds.split_given, issues, duplicates, leaks, outliers, list(ds.skipped), used_folds,
                       near_copy, time.perf_counter() - t0)


def _features(ds: dataset.Dataset, spec, device, cancel, seed) -> Iterator:
    """Features of every picture through the feature store (cached, shared with training); the
    pictures that cannot be decoded are dropped from `ds` and reported as skipped."""
    def load():
        yield Phase("load", f"Loading {spec.display_name}")
        net = yield from weights.load_pretrained(spec, cancel)
        yield Phase("features", "Looking at each picture once (features)")
        return net

    items = [(p.file, 0) for p in ds.train + ds.val]
    cache = features.FeatureCache(spec, seed)
    feats, bad, _net = yield from features.gather(load, spec, items, cache, device, cancel, seed, ds.identities)
    ds.drop(bad)
    counts = ds.counts()
    if sum(1 for n in counts.values() if n) < dataset.MIN_CLASSES:
        raise dataset.DatasetError("Too few pictures could be decoded to check; see the skipped files.")
    return feats


# ------------------------------------------------------------------ copies

def _copy_groups(x: np.ndarray, hashes: list[str], threshold: float, cancel) -> Iterator:
    """Groups (lists of indices, 2 or more) of pictures that are byte-identical or whose features
    are at least `threshold` alike, joined transitively (union-find)."""
    n = len(hashes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first: dict[str, int] = {}
    for i, h in enumerate(hashes):  # exact copies first: no feature can tell them apart anyway
        if h in first:
            join(first[h], i)
        else:
            first[h] = i
    from threadpoolctl import threadpool_limits

    for start in range(0, n, _BLOCK):
        if cancel is not None:
            cancel.check()
        # Every pair of pictures: the one big product here, on every core (the app keeps BLAS on
        # one thread for its small ones, app.thread_priority.blas_on_one_thread).
        with threadpool_limits(engine.cores(), user_api="blas"):
            sims = x[start:start + _BLOCK] @ x.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist()):
            if c > start + r:
                join(start + r, c)
        yield Progress("copies", min(n, start + _BLOCK), n, "pictures")
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    return [m for m in members.values() if len(m) > 1]


def _group_ids(groups: list[list[int]], n: int) -> np.ndarray:
    """One id per picture, shared by copies: folds keep copies together, so no picture's answer
    comes from a classifier that learned from its own copy."""
    ids = np.arange(n)
    for g in groups:
        ids[g] = g[0]
    return ids


def _duplicates(groups, x, hashes, paths, parts, labels, classes) -> tuple[list[DuplicateGroup], list[Leak]]:
    duplicates, leaks = [], []
    for g in groups:
        exact = len({hashes[i] for i in g}) == 1
        if exact:
            similarity = 1.0
        else:
            sims = x[g] @ x[g].T
            same = np.array([[hashes[i] == hashes[j] for j in g] for i in g])
            similarity = float(np.where(same, 1.0, sims).min())
        similarity = round(min(1.0, similarity), 4)
        kinds = sorted({classes[labels[i]] for i in g}, key=str.lower)
        duplicates.append(DuplicateGroup([paths[i] for i in g], similarity, exact, kinds))
        train = [paths[i] for i in g if parts[i] == "train"]
        val = [paths[i] for i in g if parts[i] == "val"]
        if train and val:
            leaks.append(Leak(train, val, similarity, exact))
    duplicates.sort(key=lambda d: (not d.exact, -d.similarity, d.paths[0]))
    leaks.sort(key=lambda k: (not k.exact, -k.similarity, k.train[0]))
    return duplicates, leaks


# ------------------------------------------------------------------ wrong labels

def _out_of_fold(x: np.ndarray, y: np.ndarray, k: int, groups: np.ndarray, folds: int, seed: int,
                 cancel) -> Iterator:
    """Probabilities for every picture from a logistic regression fitted on the other folds
    (stratified by class, copies kept in one fold). Returns (probabilities, judged, folds used);
    judged is False for a picture whose class had no picture in the other folds (a class of one
    picture): nothing could say whether it belongs there."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold
    from threadpoolctl import threadpool_limits

    smallest = int(np.bincount(y, minlength=k).min())
    n_folds = max(2, min(folds, smallest, len(np.unique(groups))))
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    probs = np.zeros((len(y), k), dtype=np.float64)
    judged = np.ones(len(y), dtype=bool)
    yield Progress("check", 0, n_folds, "steps")
    with warnings.catch_warnings():
        # "The least populated class has only N members": a class smaller than the folds is
        # handled below (a fold that lacks a class gives it no probability).
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(x, y, groups))
    for done, (fit_on, held_out) in enumerate(splits, 1):
        if cancel is not None:
            cancel.check()
        present = np.unique(y[fit_on])
        judged[held_out[~np.isin(y[held_out], present)]] = False
        if len(present) == 1:  # nothing to tell apart: the held-out pictures get that one class
            probs[np.ix_(held_out, present)] = 1.0
        else:
            clf = LogisticRegression(C=C, max_iter=2000)
            # One BLAS thread: these products are small, and several threads contending with the
            # decoding threads (or other programs) for a laptop's cores made a fit 4 to 30 times slower.
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore")  # a slow convergence still gives usable probabilities
                clf.fit(x[fit_on], y[fit_on])
            probs[np.ix_(held_out, clf.classes_)] = clf.predict_proba(x[held_out])
        yield Progress("check", done, n_folds, "steps")
    # cleanlab wants every row to sum to 1 and every probability above 0
    probs = np.clip(probs, 1e-6, None)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs, judged, n_folds


def _label_issues(probs: np.ndarray, labels: np.ndarray, classes: list[str], paths: list[str],
                  parts: list[str]) -> list[LabelIssue]:
    """Pictures the held-out classifier gives to another class, and those confident learning
    finds, ranked by how little the classifier believes their folder (self-confidence).

    Why both: cleanlab's default filter (prune_by_noise_rate) counts a picture as belonging to a
    class only above that class's average confidence, so with few errors in an easy folder it
    keeps the clearest ones only: on ants-vs-bees with 12 labels swapped it flagged 6, while the
    held-out classifier disagreed with 10 of them (and with 12 correctly labelled, hard photos),
    9 of the 12 ranking in the top 12. The disagreements are cleanlab's own `predicted_neq_given`
    filter; the ones the default filter also flags are marked `confident`."""
    from cleanlab.filter import find_label_issues

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # n_jobs=1: cleanlab would otherwise start worker processes, which a GUI app's thread must not fork
        confident = set(find_label_issues(labels, probs, n_jobs=1, return_indices_ranked_by="self_confidence").tolist())
        disagree = set(find_label_issues(labels, probs, filter_by="predicted_neq_given", n_jobs=1,
                                         return_indices_ranked_by="self_confidence").tolist())
    self_confidence = probs[np.arange(len(labels)), labels]
    ranked = sorted(confident | disagree, key=lambda i: (self_confidence[i], paths[i]))
    out = []
    for i in ranked:
        given = int(labels[i])
        order = np.argsort(-probs[i], kind="stable")
        best = int(order[0]) if int(order[0]) != given else int(order[1])
        out.append(LabelIssue(paths[i], classes[given], classes[best], round(float(1.0 - probs[i, given]), 4),
                              parts[i], i in confident))
    return out


# ------------------------------------------------------------------ outliers

def _outliers(x: np.ndarray, labels: np.ndarray, classes: list[str], paths: list[str]) -> list[Outlier]:
    out = []
    for c, name in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        if len(idx) < MIN_FOR_OUTLIERS:
            continue
        centre = x[idx].mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        sims = x[idx] @ centre
        median = float(np.median(sims))
        spread = 1.4826 * float(np.median(np.abs(sims - median)))
        if spread <= 1e-9:
            continue
        z = (sims - median) / spread
        for j in np.flatnonzero(z < -OUTLIER_Z):
            out.append(Outlier(paths[idx[j]], name, round(float(sims[j]), 4), round(float(-z[j]), 2)))
    out.sort(key=lambda o: -o.score)
    return out


def relative(report: CheckReport, path: str) -> str:
    """A picture's path as shown to a user: relative to the checked folder when inside it."""
    try:
        return str(Path(path).relative_to(report.folder))
    except ValueError:
        return path
