"""How well a model does on labeled pictures, computed once here and only shown by the window and
the command line: the confusion matrix, per-class precision, recall, F1 and count, the accuracy,
the mistakes, and one row per picture (so a window can show "the pictures in cell (i, j)").

Two ways in, one computation:
  - `evaluate(model, folder)`: any labeled folder (one subfolder per class, or a train/ val/ test/
    layout, whose test/ part is used, else its val/ part), classified with `predict.classify`,
    the very code `monster-studio classify` runs, so the two always agree;
  - `from_predictions(classes, truths, predictions)`: predictions already made, as training does
    for its check pictures.

Pictures in a subfolder named after no class the model knows are classified and reported apart
(`unknown`), never counted: the model could not have got them right.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from monster_studio.core import images
from monster_studio.core.dataset import SPLIT_TRAIN, files_under, subfolders
from monster_studio.core.errors import UserError
from monster_studio.core.events import Cancel, Phase, Progress, Skipped

# Which part of a train/ val/ test/ folder is checked on: pictures held out from training, the
# test part first (the one meant for a final check), else the validation part.
CHECK_PARTS = ("test", "testing", "val", "valid", "validation")


class EvaluationError(UserError):
    """A folder that cannot be checked on; str() says why and what to do."""

    kind = "dataset"


@dataclass(frozen=True, slots=True)
class Row:
    """One picture's answer beside its true class. `true` is the class folder's name; for a
    picture of a kind the model does not know it is that folder's name, not one of its classes."""

    path: str
    true: str
    predicted: str
    confidence: float  # the probability of `predicted`
    unsure: bool = False
    unsure_reason: str = ""

    @property
    def correct(self) -> bool:
        return self.true == self.predicted

    def to_dict(self) -> dict:
        return {"path": self.path, "true": self.true, "predicted": self.predicted,
                "confidence": round(self.confidence, 6), "correct": self.correct,
                "unsure": self.unsure, "unsure_reason": self.unsure_reason}


def confusion_matrix(true: Sequence[int], predicted: Sequence[int], n_classes: int) -> list[list[int]]:
    """Rows: the true class; columns: the class it was called."""
    matrix = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(true, predicted, strict=True):
        matrix[t][p] += 1
    return matrix


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None  # None: nothing to measure (no picture of it, or none called it)


def per_class(confusion: list[list[int]], classes: Sequence[str]) -> dict[str, dict]:
    """{class: {precision, recall, f1, support}}: precision among the pictures called that class,
    recall among the pictures that are that class, F1 their harmonic mean, support how many
    pictures are that class. A figure that cannot be measured (no picture is of that class, or
    none was called it) is None."""
    n = len(classes)
    out = {}
    for i, c in enumerate(classes):
        tp = confusion[i][i]
        called = sum(confusion[r][i] for r in range(n))
        actual = sum(confusion[i])
        precision, recall = _ratio(tp, called), _ratio(tp, actual)
        # 2TP / (2TP + FP + FN): the harmonic mean of the two where both exist, and 0, not
        # "cannot be measured", for a class with pictures that the model never once called.
        f1 = _ratio(2 * tp, tp + called + actual - tp)
        out[c] = {"precision": precision, "recall": recall, "f1": f1, "support": actual}
    return out


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


@dataclass
class Evaluation:
    """A model checked on labeled pictures. `rows` (one per counted picture, in the order they
    were classified) is the source; every other figure is derived from it, so they cannot
    disagree."""

    classes: list[str]
    rows: list[Row]
    unknown: list[Row] = field(default_factory=list)  # pictures of kinds the model does not know
    skipped: list[Skipped] = field(default_factory=list)
    folder: str = ""  # the folder whose pictures were counted ("" for the check pictures of a training)

    def __post_init__(self) -> None:
        index = {c: i for i, c in enumerate(self.classes)}
        self._index = index
        self.confusion = confusion_matrix([index[r.true] for r in self.rows],
                                          [index[r.predicted] for r in self.rows], len(self.classes))
        self.per_class = per_class(self.confusion, self.classes)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def correct(self) -> int:
        return sum(self.confusion[i][i] for i in range(len(self.classes)))

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.count)

    @property
    def macro_f1(self) -> float | None:
        """F1 averaged over the classes that have pictures here (each class weighs the same)."""
        return _mean(m["f1"] for m in self.per_class.values() if m["support"])

    @property
    def misclassified(self) -> list[Row]:
        """The mistakes, the most confident first: those are the ones to look at."""
        return sorted((r for r in self.rows if not r.correct), key=lambda r: -r.confidence)

    @property
    def unsure_count(self) -> int:
        return sum(r.unsure for r in self.rows)

    @property
    def sure_accuracy(self) -> float | None:
        """Accuracy on the pictures the model was sure of."""
        sure = [r for r in self.rows if not r.unsure]
        return _ratio(sum(r.correct for r in sure), len(sure))

    def cell(self, true: int | str, predicted: int | str) -> list[Row]:
        """The pictures in one cell of the confusion matrix: true class `true`, called `predicted`
        (indices into `classes`, or names)."""
        t = self.classes[true] if isinstance(true, int) else true
        p = self.classes[predicted] if isinstance(predicted, int) else predicted
        return [r for r in self.rows if r.true == t and r.predicted == p]

    def of_class(self, name: str) -> list[Row]:
        """The pictures that are of class `name`, whatever they were called."""
        return [r for r in self.rows if r.true == name]

    def unknown_kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.unknown:
            counts[r.true] = counts.get(r.true, 0) + 1
        return counts

    def to_dict(self) -> dict:
        """Everything, JSON-ready (a figure that cannot be measured is null, never NaN)."""
        def number(x):
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 6)

        return {
            "folder": self.folder, "accuracy": number(self.accuracy), "count": self.count,
            "correct": self.correct, "classes": list(self.classes), "confusion": self.confusion,
            "per_class": {c: {k: (v if k == "support" else number(v)) for k, v in m.items()}
                          for c, m in self.per_class.items()},
            "macro_f1": number(self.macro_f1),
            "misclassified": [{"path": r.path, "true": r.true, "predicted": r.predicted,
                               "confidence": round(r.confidence, 6), "unsure": r.unsure} for r in self.misclassified],
            "unsure": self.unsure_count, "sure_accuracy": number(self.sure_accuracy),
            "pictures": [r.to_dict() for r in self.rows],
            "unknown_kinds": self.unknown_kinds(),
            "unknown": [r.to_dict() for r in self.unknown],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }

    def to_json(self) -> str:
        """One JSON line (what `monster-studio evaluate --json` prints)."""
        return json.dumps(self.to_dict())


def from_predictions(classes: Sequence[str], truths: Sequence[str], predictions: Sequence,
                     skipped: Sequence[Skipped] = (), folder: str = "") -> Evaluation:
    """An Evaluation from answers already made: `truths[i]` is the true class name of
    `predictions[i]` (a core.predict.Prediction, or a Skipped for a picture that could not be
    classified). A truth that is not one of `classes` puts the picture among the unknown kinds."""
    known = set(classes)
    rows, unknown, skip = [], [], list(skipped)
    for truth, p in zip(truths, predictions, strict=True):
        if isinstance(p, Skipped):
            skip.append(p)
            continue
        row = Row(p.path, truth, p.label, float(p.confidence), bool(p.unsure), p.unsure_reason)
        (rows if truth in known else unknown).append(row)
    return Evaluation(list(classes), rows, unknown, skip, folder)


# ------------------------------------------------------------------ a labeled folder

def checked_part(root: Path) -> Path:
    """The folder whose subfolders are the classes: `root` itself, or its test/ (else val/) part
    when it is laid out as train/ val/ test/."""
    subs = {d.name.lower(): d for d in subfolders(root)}
    for name in CHECK_PARTS:
        if name in subs:
            return subs[name]
    train = next((subs[n] for n in SPLIT_TRAIN if n in subs), None)
    if train is not None and len(subs) == 1:
        raise EvaluationError(f"{root} holds only a {train.name}/ folder, the pictures a model learns from. "
                              f"Choose a folder of pictures held back for checking (one subfolder per class), "
                              f"or {train} itself to see how the model does on those.")
    return root


def _match(kind: str, classes: Sequence[str]) -> str | None:
    """The model's class a folder is named after: the same name, else the same name in another case."""
    if kind in classes:
        return kind
    same = [c for c in classes if c.casefold() == kind.casefold()]
    return same[0] if len(same) == 1 else None


def label_from_folder(path: str | os.PathLike, classes: Sequence[str]) -> str | None:
    """The class a picture is labeled as by the folder it sits in (named like one of `classes`,
    in any case), or None: how the Classify page tells right from wrong for a picture dropped
    from a labeled folder."""
    return _match(Path(path).parent.name, classes)


def labeled_files(root: str | os.PathLike, classes: Sequence[str], cancel: Cancel | None = None):
    """(files, truths, skipped, top): every file of a labeled folder with the class it is labeled
    as (the model's class name, or the folder's own name for a kind the model does not know), and
    the files that cannot be used."""
    root = Path(root).expanduser()
    if not root.exists():
        raise EvaluationError(f"The folder {root} does not exist. Choose a folder that holds one subfolder per class.")
    if not root.is_dir():
        raise EvaluationError(f"{root} is a file, not a folder. Choose a folder that holds one subfolder per class.")
    try:
        top = checked_part(root)
        kinds = subfolders(top)
        loose = [f for f in sorted(top.iterdir()) if f.is_file() and not images.is_litter(f)]
    except PermissionError as exc:
        raise EvaluationError(f"The folder {exc.filename or root} cannot be read (permission denied).") from exc
    skipped = [Skipped(str(f), "not inside a class folder (put it in one subfolder per kind)") for f in loose]
    if not kinds:
        raise EvaluationError(f"{top} has no subfolders. To check a model, put the pictures in one subfolder per "
                              "class, named like the model's classes.")
    matched = {d: _match(d.name, classes) for d in kinds}
    if not any(matched.values()):
        raise EvaluationError(
            f"None of the subfolders of {top} ({', '.join(d.name for d in kinds[:8])}) is named after one of the "
            f"model's classes ({', '.join(list(classes)[:8])}). Name each subfolder after the class of its pictures.")
    files, truths = [], []
    for d in kinds:
        found = [f for f in files_under(d, skipped, cancel) if not images.is_litter(f)]
        files += found
        truths += [matched[d] or d.name] * len(found)
    return files, truths, skipped, top


def evaluate(model, folder: str | os.PathLike, cancel: Cancel | None = None, device: str = "auto",
             sure_share: float | None = None, batch_size: int | None = None) -> Iterator:
    """Check `model` (core.model.TrainedModel) on a labeled folder. Yields Phase and Progress (and
    download events, if the starting model's weights must be fetched); returns the Evaluation,
    or None when cancelled: `result = yield from evaluate(model, folder)`.
    `sure_share`: see core.unsure (the share of the check pictures the model is to be sure of)."""
    from monster_studio.core import predict

    yield Phase("evaluate", "Reading the folder")
    files, truths, skipped, top = labeled_files(folder, model.classes, cancel)
    truth_of = {str(f): t for f, t in zip(files, truths)}
    total = len(files)
    yield Phase("evaluate", f"Checking the model on {total} pictures")
    yield Progress("evaluate", 0, total, "pictures")
    answered, labels, done = [], [], 0
    for r in predict.classify(model, files, top_k=min(3, len(model.classes)), cancel=cancel,
                              batch_size=batch_size, device=device, sure_share=sure_share):
        if not isinstance(r, (predict.Prediction, Skipped)):
            yield r  # the download's own events
            continue
        answered.append(r)
        labels.append(truth_of.get(r.path, ""))
        done += 1
        yield Progress("evaluate", done, total, "pictures")
    if cancel is not None and cancel.is_set():
        return None
    return from_predictions(model.classes, labels, answered, skipped, str(top))
