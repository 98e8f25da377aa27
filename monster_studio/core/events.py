"""Typed events that the core's long-running iterators yield.

The CLI prints them, the app's runner re-emits them as they come; neither needs to know how the
work is done. Cancellation goes the other way: a `Cancel` token the caller sets and the core checks
at least once per batch.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def run_to_end(steps: Generator[Any, None, T], on_event: Callable[[Any], None] | None = None) -> T:
    """Drive a core generator to its end, handing each event to `on_event`; return its result
    (the value a `yield from` would give)."""
    while True:
        try:
            event = next(steps)
        except StopIteration as stop:
            return stop.value
        if on_event is not None:
            on_event(event)


class Cancelled(Exception):
    """Raised inside the core when the caller asked to stop; iterators end quietly on it."""


class Cancel:
    """A thread-safe stop flag: the GUI thread sets it, the worker's loop checks it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for a stop; whether one was asked."""
        return self._event.wait(seconds)


@dataclass(frozen=True)
class Skipped:
    """A file that could not be used, and why, in words a user understands."""

    path: str
    reason: str


@dataclass(frozen=True)
class Phase:
    """A new phase of the work started (for the progress bar's words)."""

    name: str  # "scan", "download", "load", "features", "train", "finetune", "save", "classify", ...
    text: str


@dataclass(frozen=True)
class Progress:
    """How far the current stage is: the one progress event every job yields.

    unit: what is counted ("files", "bytes", "pictures", "epochs", "steps": units of about equal
    time that mean nothing to a user, shown as a percentage). restart: the work done so far was
    found ready (in the cache), so a rate for the time left is measured from here on."""

    stage: str
    done: float
    total: float  # 0 while unknown
    unit: str = ""
    restart: bool = False


@dataclass(frozen=True)
class ClassTable:
    """A folder as the model will see it: its classes and how many usable pictures each has, the
    split, the files that cannot be used, and what a user should know before training."""

    folder: str
    classes: list[str]
    counts: dict[str, int]  # usable pictures per class
    n_train: int
    n_val: int
    skipped: list[Skipped]
    split_given: bool  # the folder had its own train/ and val/ (or test/) folders
    few: list[tuple[str, int]] = field(default_factory=list)  # classes with few pictures
    imbalance: dict | None = None  # {"largest", "largest_count", "smallest", "smallest_count"}
    warnings: list[str] = field(default_factory=list)  # the two above, in words
    layout: str = ""  # the folder's own split in words ("train/ and test/"), when it has one
    inside: str = ""  # the inner folder holding the classes ("train", "photos"), when not the folder itself


@dataclass
class EpochEnd:
    epoch: int  # 1-based
    epochs: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    stage: str = "head"  # "head" or "finetune"


@dataclass
class Finished:
    """The end of training: the model, ready to save or to classify with, and its figures."""

    model: Any  # monster_studio.core.predict.TrainedModel
    metrics: dict
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    # The check pictures' evaluation (core.evaluate.Evaluation): confusion, per-class figures and
    # one row per picture (none when no pictures were kept aside to check on).
    evaluation: Any = None
