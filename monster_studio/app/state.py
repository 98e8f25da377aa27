"""The app state, held once, observed by the pages (napari's evented model / Qt view split). Each
part is a small QObject with a `changed` signal (and one for what arrives bit by bit); the studio
is the only writer. Pages read it and draw; none keeps its own copy of what is running.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from monster_studio.app.model_keys import ModelInfo
from monster_studio.core.wording import Eta


class EngineState(QObject):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.ready = False
        self.failed = ""  # why the engine could not start
        self.backbones: list = []  # [results.Choice]
        self.detectors: list = []
        self.default_backbone = "efficientnet_lite0"
        self.devices: list[str] = []

    def choice(self, model_id: str):
        return next((c for c in self.backbones + self.detectors if c.id == model_id), None)


@dataclass
class ProgressState:
    """What one page's progress bar shows: the phase in words, how far, the time left."""

    active: bool = False
    phase: str = ""
    text: str = "Ready"
    done: float = 0.0
    total: float = 0.0
    unit: str = ""
    seconds_left: float | None = None
    since: float = field(default_factory=time.monotonic)
    full: bool = False  # an idle bar drawn full (the work is done)


class JobsState(QObject):
    """What is running, for whom ("owner": "train" or "classify"), and each page's progress."""

    changed = Signal()  # running / pending changed
    progressChanged = Signal(str)  # owner
    failed = Signal(object, object)  # request, runner.JobError

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[int, object] = {}  # request id -> Request, asked for and not yet ended
        self.running = None  # the Request running now, if the window still waits for it
        self.progress: dict[str, ProgressState] = {"train": ProgressState(), "classify": ProgressState()}
        self._eta: dict[str, Eta] = {"train": Eta(), "classify": Eta()}
        self.last_idle: dict[str, tuple[str, bool]] = {}  # what each bar said when it last went idle

    def busy(self, *names: str, owner: str | None = None) -> bool:
        return any((not names or r.name in names) and (owner is None or r.tag.get("owner") == owner)
                   for r in self.pending.values())

    def stoppable(self) -> bool:
        return any(r.stoppable for r in self.pending.values())

    # -- written by the studio
    def set_phase(self, owner: str, phase: str, text: str) -> None:
        self._eta[owner].reset()
        self.progress[owner] = ProgressState(True, phase, text)
        self.progressChanged.emit(owner)

    def set_progress(self, owner: str, stage: str, done: float, total: float, unit: str, restart: bool) -> None:
        p = self.progress[owner]
        if restart or stage != p.phase:
            self._eta[owner].reset()
        left = self._eta[owner].update(done, total) if total else None
        self.progress[owner] = ProgressState(True, stage if not p.phase else p.phase, p.text, done, total, unit,
                                             left, p.since)
        self.progressChanged.emit(owner)

    def set_idle(self, owner: str, text: str = "Ready", full: bool = False) -> None:
        self.last_idle[owner] = (text, full)
        self.progress[owner] = ProgressState(False, "", text, full=full)
        self.progressChanged.emit(owner)


class FolderState(QObject):
    """The folder chosen on the Train page and its class table."""

    changed = Signal()
    thumbnails = Signal(object)  # results.Thumbnails of the current folder

    def __init__(self) -> None:
        super().__init__()
        self.path = ""
        self.table = None  # core.events.ClassTable of `path`, once read
        self.reading = False
        self.note = ""  # why there is no table (an error, a stop), in words
        self.extra_skipped: list = []  # files found unusable only when training decoded them


class TrainingState(QObject):
    """The training running now, and the last one that ended well (kept when a later one fails)."""

    changed = Signal()
    epochAdded = Signal(object)  # core.events.EpochEnd of the running training

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.sample = False  # the one-click sample run (it ends on the Classify page)
        self.try_files: list[str] = []
        self.epochs: list = []  # EpochEnd of the running training
        self.planned_epochs = 0  # how many it may run (it may stop earlier, when it stops improving)
        self.summary = None  # results.TrainSummary of the last good training
        self.summary_epochs: list = []  # its epochs, to draw its plot again
        self.saved_path = ""
        self.unsaved = False  # a trained model that no file holds yet
        self.outcome = ""  # how the last training ended: "ok", "stopped", "error", "nothing"


class ModelState(QObject):
    """The model that classifies: the one asked for, and its details once it is ready."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.requested: str | None = None
        self.info: ModelInfo | None = None
        self.loading = False
        self.trained: ModelInfo | None = None  # the model trained in this session, for the list


@dataclass
class Session:
    """The answers of one model, in the order they came."""

    model_key: str
    info: ModelInfo | None = None
    answers: list = field(default_factory=list)  # [(request id, results.Answer)]

    @property
    def name(self) -> str:
        """The model in the words the window lists it by."""
        from pathlib import Path

        from monster_studio.app import model_keys

        kind = model_keys.kind(self.model_key)
        if kind == "trained":
            return "the model just trained"
        if kind == "file":
            return Path(model_keys.value(self.model_key)).name
        if kind == "imagenet":
            return "ImageNet labels"
        return self.info.name if self.info is not None else model_keys.value(self.model_key)


class ResultsState(QObject):
    """What the Classify page shows: the current model's answers; earlier models' answers are kept
    apart (never mixed), in `previous`."""

    cleared = Signal()  # a new session started (another model), or the user cleared
    added = Signal(int, object)  # request id, results.Answer
    finished = Signal(int, object)  # request id, results.ClassifyDone

    def __init__(self) -> None:
        super().__init__()
        self.current: Session | None = None
        self.previous: list[Session] = []
        self.cards: dict[int, list[str]] = {}  # request id -> the pictures asked for as cards

    def start(self, info: ModelInfo) -> None:
        """Answers of another model start a clean view; the earlier ones are kept apart."""
        if self.current is not None and self.current.model_key == info.key and self.current.info in (None, info):
            self.current.info = info
            return
        if self.current is not None and self.current.answers:
            self.previous.append(self.current)
        self.current = Session(info.key, info)
        self.cleared.emit()

    def clear(self) -> None:
        if self.current is not None:
            self.current = Session(self.current.model_key, self.current.info)
        self.previous.clear()
        self.cleared.emit()

    def add(self, request_id: int, answer) -> None:
        if self.current is None or answer.model_key != self.current.model_key:
            if self.current is not None and self.current.answers:
                self.previous.append(self.current)
            self.current = Session(answer.model_key)
            self.cleared.emit()
        self.current.answers.append((request_id, answer))
        self.added.emit(request_id, answer)


class AppState(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.engine = EngineState()
        self.jobs = JobsState()
        self.folder = FolderState()
        self.training = TrainingState()
        self.model = ModelState()
        self.results = ResultsState()
