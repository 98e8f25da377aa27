"""Typed events that the core's long-running iterators yield.

The CLI prints them, the app's worker re-emits them as Qt signals; neither needs to know how the
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


@dataclass(frozen=True)
class Skipped:
    """A file that could not be used, and why, in words a user understands."""

    path: str
    reason: str


@dataclass
class Phase:
    """A new phase of the work started (for the progress bar's words)."""

    name: str  # "scan", "download", "load", "features", "train", "finetune", "save", "classify"
    text: str


@dataclass
class ScanDone:
    classes: list[str]
    counts: dict[str, int]  # usable pictures per class
    n_train: int
    n_val: int
    skipped: list[Skipped]
    split_given: bool  # True when the folder had train/ and val/ (or test/)
    warnings: list[str] = field(default_factory=list)  # few pictures, imbalance: in words


@dataclass
class ScanProgress:
    done: int  # files checked
    total: int


@dataclass
class StepProgress:
    """Progress inside a stage that has no finer event of its own (fine-tuning: decoding, batches)."""

    stage: str
    done: int
    total: int


@dataclass
class DownloadProgress:
    backbone: str
    filename: str
    done_bytes: int
    total_bytes: int  # 0 when the server did not say


@dataclass
class FeatureProgress:
    done: int
    total: int
    cached: int  # how many of `done` came from the cache


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
