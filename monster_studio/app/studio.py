"""The studio: the one place that turns what a page asks for (its intent) into jobs for the runner,
and what the jobs yield into the app state the pages observe. It holds no widgets.

Each request carries an owner ("train" or "classify"), the page whose progress bar and messages it
belongs to. Stop takes the window back to idle at once: the state forgets every stoppable request,
and the runner makes sure nothing they still say arrives.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from monster_studio.app import jobs, model_keys
from monster_studio.app.idle_words import classified_words, idle_words
from monster_studio.app.jobs import classify as classify_jobs
from monster_studio.app.jobs import folder as folder_jobs
from monster_studio.app.jobs import models as model_jobs
from monster_studio.app.jobs import start as start_jobs
from monster_studio.app.jobs import train as train_jobs
from monster_studio.app.jobs import weights as weights_jobs
from monster_studio.app.results import (
    Answer,
    Catalogue,
    ClassifyDone,
    EngineReady,
    ModelReady,
    SampleWritten,
    Saved,
    Thumbnails,
    TrainSummary,
    WeightsImported,
)
from monster_studio.app.runner import JobError, Request, RunnerThread
from monster_studio.app.state import AppState
from monster_studio.core.events import ClassTable, EpochEnd, Phase, Progress

log = logging.getLogger(__name__)
TOP_K = 3


def planned_epochs(settings: dict) -> int:
    """The epochs a training with these settings may run: the head's, then any fine-tuning's."""
    def count(key: str) -> int:
        try:
            return max(0, int(settings.get(key) or 0))
        except (TypeError, ValueError):
            return 0
    return count("epochs") + (count("finetune_epochs") if settings.get("finetune") else 0)
TRAIN, CLASSIFY = "train", "classify"
assert jobs  # the package's helpers are used by the job modules


class Studio(QObject):
    """Intent in, state out. `saved(path)`, `imported(WeightsImported, request)`: news a page acts on."""

    saved = Signal(str)
    imported = Signal(object, object)  # results.WeightsImported, the Request that asked for it
    stopped = Signal()  # a Stop ended something
    sampleTrained = Signal(list)  # the one-click sample run ended well: the pictures to try it on
    # What a job yields that the state does not hold (an evaluation, a heatmap, a doctor's report):
    # the view that asked for it listens here, by type and request. A new capability is a job and a
    # view; neither the runner nor this class learns a new signal for it.
    result = Signal(object, object)  # Request, the item

    def __init__(self, state: AppState | None = None) -> None:
        super().__init__()
        self.state = state or AppState()
        self.closed = False
        self.sure_share: float | None = None  # how often a model may say "not sure" (None: core.unsure's default)
        self._classified_words = ""  # how the last classifying went, for the progress bar
        self.host = RunnerThread()
        self.runner = self.host.runner
        self.runner.started.connect(self._on_started)
        self.runner.yielded.connect(self._on_event)
        self.runner.idle.connect(self._on_idle)
        self.runner.error.connect(self._on_error)

    # ------------------------------------------------------------------ intent

    def submit(self, name: str, job, *args, owner: str = TRAIN, stoppable: bool = True, **tag) -> Request:
        request = Request(name, job, args, stoppable, {"owner": owner, **tag})
        if self.closed:  # the window is closing: a late timer's request has nowhere to run
            return request
        self.state.jobs.pending[request.id] = request
        self.state.jobs.changed.emit()
        return self.runner.submit(request)

    def start(self, backbone_id: str = "") -> Request:
        """Import what the window needs, list the models; `backbone_id`: the Train page's choice,
        whose engine is made ahead when this computer has none yet."""
        return self.submit("start", start_jobs.start, backbone_id, owner=TRAIN, stoppable=False)

    def open_folder(self, folder: str, val_split: float = 0.2, seed: int = 0) -> Request | None:
        """Read a folder for the Train page; a folder asked for before is of no use any more."""
        f = self.state.folder
        for r in list(self.state.jobs.pending.values()):
            if r.name == "scan":
                self.cancel(r)
        f.path, f.table, f.reading, f.note, f.extra_skipped = folder, None, True, "", []
        f.changed.emit()
        return self.submit("scan", folder_jobs.scan, folder, val_split, seed, owner=TRAIN)

    def train(self, folder: str, settings: dict) -> Request:
        t = self.state.training
        t.running, t.sample, t.epochs, t.outcome = True, False, [], ""
        t.planned_epochs = planned_epochs(settings)
        t.changed.emit()
        self.state.jobs.set_phase(TRAIN, "start", f"Training on {_name(folder)}")
        return self.submit("train", train_jobs.train, folder, settings, owner=TRAIN)

    def train_sample(self, folder: str, per_class: int, settings: dict) -> Request:
        t = self.state.training
        t.running, t.sample, t.epochs, t.outcome, t.try_files = True, True, [], "", []
        t.planned_epochs = planned_epochs(settings)
        t.changed.emit()
        f = self.state.folder
        f.path, f.table, f.reading, f.note, f.extra_skipped = folder, None, True, "", []
        f.changed.emit()
        self.state.jobs.set_phase(TRAIN, "sample", "Drawing the sample monsters")
        return self.submit("sample", train_jobs.sample_and_train, folder, per_class, settings, owner=TRAIN)

    def save(self, path: str, owner: str = TRAIN) -> Request:
        # Not stoppable: a Stop meant for classifying must not lose the user's model file.
        return self.submit("save", model_jobs.save, path, owner=owner, stoppable=False)

    def choose_model(self, key: str) -> Request:
        m = self.state.model
        for r in list(self.state.jobs.pending.values()):
            if r.name == "model":
                self.cancel(r)
        m.requested, m.info, m.loading = key, None, True
        m.changed.emit()
        return self.submit("model", model_jobs.use, key, owner=CLASSIFY, key=key)

    def classify(self, paths: list[str], cards: bool) -> Request:
        if self.state.model.requested is None or (self.state.model.info is None and not self.state.model.loading):
            self.choose_model(self.state.model.requested or model_keys.imagenet_key(self.state.engine.default_backbone))
        request = self.submit("classify", classify_jobs.classify, list(paths), TOP_K, cards, self.sure_share,
                              owner=CLASSIFY)
        if cards:
            self.state.results.cards[request.id] = list(paths)
        self._classify_phase()
        return request

    def classify_image(self, image) -> Request:
        request = self.submit("classify", classify_jobs.classify_image, image, TOP_K, self.sure_share, owner=CLASSIFY)
        self.state.results.cards[request.id] = []
        self._classify_phase()
        return request

    def _classify_phase(self) -> None:
        if len([r for r in self.state.jobs.pending.values() if r.name == "classify"]) == 1:
            detecting = model_keys.is_detector(self.state.model.requested)
            self.state.jobs.set_phase(CLASSIFY, "classify", "Looking for things" if detecting else "Classifying")

    def import_weights(self, weights_id: str, file: str, owner: str, then: str = "") -> Request:
        """`then`: the model key to choose again once the file is installed."""
        return self.submit("import", weights_jobs.import_weights, weights_id, file, owner=owner,
                           stoppable=False, then=then)

    def cancel(self, request: Request) -> None:
        """Give up one request (a folder read that another folder replaces)."""
        self.runner.cancel(request)
        self._forget(request, "stopped")

    def stop(self) -> bool:
        """Esc or a page's Stop: every stoppable request ends for the window now. True when
        something was stopped."""
        stopped = [r for r in self.state.jobs.pending.values() if r.stoppable]
        self.runner.stop()
        for r in stopped:
            self._forget(r, "stopped")
        if stopped:
            self.stopped.emit()
        return bool(stopped)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        self.closed = True
        return self.host.shutdown(timeout_ms)

    # ------------------------------------------------------------------ what the runner says

    def _known(self, request: Request) -> bool:
        return request.id in self.state.jobs.pending

    @Slot(object)
    def _on_started(self, request: Request) -> None:
        if self._known(request):
            self.state.jobs.running = request
            self.state.jobs.changed.emit()

    @Slot(object, object)
    def _on_event(self, request: Request, event) -> None:
        if not self._known(request):
            return  # a request the window gave up on
        owner = request.tag.get("owner", TRAIN)
        s = self.state
        if isinstance(event, Progress):
            s.jobs.set_progress(owner, event.stage, event.done, event.total, event.unit, event.restart)
        elif isinstance(event, Phase):
            if request.name == "classify" and event.name == "classify":
                return  # the page says "Classifying" for all its requests; the job's count would flicker
            s.jobs.set_phase(owner, event.name, event.text)
        elif isinstance(event, ClassTable):
            f = s.folder
            if f.path and _same(event.folder, f.path):
                f.table, f.reading, f.note = event, False, ""
                f.changed.emit()
        elif isinstance(event, Thumbnails):
            if _same(event.folder, s.folder.path):
                s.folder.thumbnails.emit(event)
        elif isinstance(event, EpochEnd):
            s.training.epochs.append(event)
            s.training.epochAdded.emit(event)
        elif isinstance(event, TrainSummary):
            t = s.training
            t.summary, t.summary_epochs, t.saved_path, t.unsaved, t.outcome = event, list(t.epochs), "", True, "ok"
            known = {sk.path for sk in (s.folder.table.skipped if s.folder.table else [])}
            s.folder.extra_skipped = [sk for sk in event.skipped if sk.path not in known]
            s.model.trained = event.info
            s.model.changed.emit()
            s.folder.changed.emit()
        elif isinstance(event, SampleWritten):
            s.training.try_files = list(event.try_files)
        elif isinstance(event, ModelReady):
            m = s.model
            if m.requested == event.info.key:
                m.info, m.loading = event.info, False
                s.results.start(event.info)
                m.changed.emit()
        elif isinstance(event, Answer):
            s.results.add(request.id, event)
        elif isinstance(event, ClassifyDone):
            self._classified_words = classified_words(event)
            s.results.finished.emit(request.id, event)
        elif isinstance(event, Saved):
            s.training.saved_path, s.training.unsaved = event.path, False
            s.training.changed.emit()
            self.saved.emit(event.path)
        elif isinstance(event, WeightsImported):
            self.imported.emit(event, request)
        elif isinstance(event, Catalogue):
            s.engine.backbones, s.engine.detectors = event.backbones, event.detectors
            s.engine.changed.emit()
        elif isinstance(event, EngineReady):
            e = s.engine
            e.ready, e.backbones, e.detectors = True, event.backbones, event.detectors
            e.default_backbone, e.devices = event.default, event.devices
            e.changed.emit()
        else:
            self.result.emit(request, event)

    @Slot(object, object)
    def _on_error(self, request: Request, error: JobError) -> None:
        if not self._known(request):
            return
        if request.name == "start":
            self.state.engine.failed = error.message
            self.state.engine.changed.emit()
        self.state.jobs.failed.emit(request, error)

    @Slot(object, str)
    def _on_idle(self, request: Request, outcome: str) -> None:
        if self._known(request):
            self._forget(request, outcome)

    def _forget(self, request: Request, outcome: str) -> None:
        """A request ended for the window: the state follows, whatever the runner still does."""
        s = self.state
        if s.jobs.pending.pop(request.id, None) is None:
            return
        owner = request.tag.get("owner", TRAIN)
        if s.jobs.running is request:
            s.jobs.running = None
        name = request.name
        if name in ("train", "sample"):
            t = s.training
            t.running = False
            if outcome != "ok":
                t.outcome, t.epochs = outcome, []
            elif t.outcome != "ok":
                t.outcome = "nothing"  # it ended without a model (nothing to learn from)
            t.changed.emit()
            if name == "sample" and t.outcome == "ok":
                self.sampleTrained.emit(list(t.try_files))  # it ends on the Classify page
            if outcome == "stopped" and s.folder.reading:
                s.folder.reading, s.folder.note = False, "Reading the folder was stopped. Choose it again to read it."
                s.folder.changed.emit()
        elif name == "scan":
            f = s.folder
            if outcome != "ok" and f.reading and not s.jobs.busy("scan"):
                f.reading = False
                f.note = ("Reading the folder was stopped. Choose it again to read it." if outcome == "stopped"
                          else "This folder cannot be used yet; see the message above.")
                f.changed.emit()
        elif name == "model":
            m = s.model
            if request.tag.get("key") == m.requested and m.info is None:
                m.loading = False
                if outcome != "ok":
                    m.requested = None
                m.changed.emit()
        elif name == "classify":
            s.results.cards.pop(request.id, None)
        s.jobs.changed.emit()
        quiet = name in QUIET or request.tag.get("quiet")
        if not any(r.tag.get("owner", TRAIN) == owner and not (r.name in QUIET or r.tag.get("quiet"))
                   for r in s.jobs.pending.values()):
            if not quiet or outcome == "error":
                s.jobs.set_idle(owner, *idle_words(s, request, outcome, self._classified_words))
            elif not s.jobs.busy(owner=owner):  # a helper job (previews): the bar says what it said before
                s.jobs.set_idle(owner, *s.jobs.last_idle.get(owner, ("Ready", False)))


# Small helper jobs (and any request tagged quiet=True) leave the progress bar's last words alone.
QUIET = {"previews", "explain"}


def _name(folder: str) -> str:
    from pathlib import Path

    return Path(folder).name or folder


def _same(a: str, b: str) -> bool:
    from pathlib import Path

    return Path(a).expanduser() == Path(b).expanduser()
