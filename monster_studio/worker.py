"""The one thread that does model work: a QObject living on a QThread that runs the core's event
iterators and re-emits their events as Qt signals (superqt's `thread_worker` idea, Orange's
`TaskState`). Every torch object the app holds lives here; the window only sees plain data.

Requests arrive as queued slot calls (`scanFolder`, `train`, `save`, ...), so they run one after
another in the order they were asked for. `stop()` is the exception: a plain method the GUI thread
calls directly while this thread is busy. It sets the running task's `Cancel` flag (the core checks
it once per batch), drops every request queued before it, and silences whatever the stopped task
still says, so the window can return to idle at once.

Every request ends with exactly one `idle(task, outcome)`, outcome "ok", "error" or "stopped".

A COCO detector is one more model to choose (key "detector:<id>"): chosen with `usePretrained`, the
pretrained networks used as they are, it makes `classify` box the things in each picture instead.
"""
from __future__ import annotations

import functools
import logging
import math
import os
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path


from PySide6.QtCore import QObject, QRectF, Qt, QThread, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen

log = logging.getLogger(__name__)

THUMBS_PER_CLASS = 6
CLASS_THUMB_PX = 56
CARD_THUMB_PX = 192
TRAINED = "trained"  # the model key of the model trained in this session
DETECTOR = "detector:"  # model keys of the COCO detectors: "detector:<id>"
DETECT_MIN_SCORE = 0.5  # things found with less confidence are left out
DRAWN_BOXES = 12  # the best few are drawn on a card's picture; the rest only counted
BOX_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#0f9b9b", "#d6249f", "#808000",
               "#9a6324", "#000075")


class Eta:
    """Seconds left in one phase, from the rate seen so far (smoothed), or None while unknown.

    The first update of a phase is its starting point, so work that was already done (features
    found in the cache) does not make the rest look faster than it is."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self._start: tuple[float, float] | None = None
        self._rate: float | None = None
        self._last: tuple[float, float] | None = None

    def update(self, done: float, total: float) -> float | None:
        now = self._clock()
        if self._start is None or done < self._start[1]:
            self._start = self._last = (now, done)
            return None
        t0, d0 = self._last
        if done > d0 and now > t0:
            rate = (done - d0) / (now - t0)
            # weight by how much work the step covered, so one lucky batch does not swing the guess
            self._rate = rate if self._rate is None else 0.6 * self._rate + 0.4 * rate
            self._last = (now, done)
        if self._rate is None or self._rate <= 0 or total <= 0:
            return None
        elapsed = now - self._start[0]
        overall = (done - self._start[1]) / elapsed if elapsed > 0 else self._rate
        rate = 0.5 * self._rate + 0.5 * overall if overall > 0 else self._rate
        return max(0.0, (total - done) / rate)


def eta_text(seconds: float | None) -> str:
    """'about 2 min left' in words; '' while unknown."""
    if seconds is None or seconds < 0 or math.isnan(seconds):
        return ""
    if seconds < 1.5:
        return "almost done"
    if seconds < 60:
        return f"about {round(seconds)} s left"
    if seconds < 3600:
        m, s = divmod(round(seconds), 60)
        return f"about {m} min {s:02d} s left" if m < 10 else f"about {m} min left"
    h, rest = divmod(round(seconds), 3600)
    return f"about {h} h {rest // 60:02d} min left"


def qimage(pil_image) -> QImage:
    """A Pillow picture as a QImage that owns its pixels (QImage, unlike QPixmap, is fine off the GUI thread)."""
    img = pil_image.convert("RGB")
    w, h = img.size
    return QImage(img.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def box_colour(label: str) -> str:
    """One colour per kind of thing, the same on every picture and in the card's list."""
    return BOX_COLOURS[zlib.crc32(label.encode()) % len(BOX_COLOURS)]


def boxed(image: QImage, size: tuple[int, int], found: list[dict]) -> QImage:
    """A thumbnail with the found things' boxes and labels drawn on it (QPainter on a QImage is
    fine off the GUI thread). `size` is the picture's own size, which the boxes are measured in."""
    out = image.convertToFormat(QImage.Format.Format_RGB32)
    scale = out.width() / size[0] if size[0] else 1.0
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(10)
    font.setBold(True)
    painter.setFont(font)
    metrics = QFontMetrics(font)
    for f in reversed(found[:DRAWN_BOXES]):  # the most certain last, on top
        colour = QColor(f["colour"])
        x0, y0, x1, y1 = (v * scale for v in f["box"])
        painter.setPen(QPen(colour, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(x0, y0, max(1.0, x1 - x0), max(1.0, y1 - y0)))
        text = f"{f['label']} {f['score'] * 100:.0f}%"
        tag = QRectF(0, 0, metrics.horizontalAdvance(text) + 6, metrics.height() + 2)
        tag.moveTo(min(max(0.0, x0), max(0.0, out.width() - tag.width())),
                   y0 - tag.height() if y0 >= tag.height() else max(0.0, y0))
        painter.fillRect(tag, colour)
        painter.setPen(QColor("white"))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return out


@dataclass
class _Task:
    name: str
    cancel: object  # core.events.Cancel
    started: float


class _Stopped(Exception):
    """The running task saw its cancel flag; it ends with outcome 'stopped'."""


def task(name: str, stoppable: bool = True):
    """Run a slot body as one task: skip it when a Stop came after it was asked for, give it its own
    Cancel flag, turn every failure into an `error` signal in plain words, end with `idle`."""
    def deco(fn):
        @functools.wraps(fn)
        def run(self: "Worker", *args):
            self._run_task(name, stoppable, fn, args)
        return run
    return deco


class Worker(QObject):
    # Signal arguments are never None at the top level: PySide6 6.12 can crash (refcount error)
    # on a None sent through a queued `object` argument; dicts that hold None are fine.
    ready = Signal(object)  # {"backbones": [...], "default": id, "devices": [...]}
    catalogue = Signal(object)  # the backbone list again, after weights were imported
    started = Signal(str)  # task
    idle = Signal(str, str)  # task, outcome: "ok" | "error" | "stopped"
    phase = Signal(str, str)  # phase name, words for the user
    progress = Signal(str, float, float, float)  # phase, done, total (0: unknown), seconds left (-1: unknown)
    scanned = Signal(object)  # the class table, see scanFolder
    thumbnails = Signal(str, str, object)  # folder, class, [QImage]
    epochEnd = Signal(object)  # {"epoch", "epochs", "train_loss", "val_loss", "val_accuracy", "stage", "step"}
    finished = Signal(object)  # training summary, see _summary
    saved = Signal(str)
    modelReady = Signal(object)  # {"key", "name", "classes", "kind", "source", "metrics"}
    # {"request", "path", "top", "label", "confidence", "thumb"}, or {"request", "path", "reason"} when skipped;
    # with a detector: {"request", "kind": "detection", "path", "size": [w, h], "found": [{"label", "score",
    # "box": [x0, y0, x1, y1] in the picture's pixels, "colour"}, ...] best first, "thumb": boxes drawn}
    prediction = Signal(object)
    classifyDone = Signal(object)  # {"request", "classified", "skipped", "seconds"} (+ "kind", "found": detector)
    sampleWritten = Signal(object)  # {"folder", "try_folder", "try_files"}
    weightsImported = Signal(object)  # {"backbone", "path"}
    error = Signal(object)  # {"task", "kind", "message", "backbone"?}

    _marker = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pending_stops = 0
        self._task: _Task | None = None
        self._models: dict[str, object] = {}
        self._active: str | None = None
        self._eta = Eta()
        self._detector_net: tuple[str | None, object] = (None, None)
        self._last_progress = 0.0
        self.busy = False  # read from the GUI thread (tests, closing); written here only
        self._marker.connect(self._stop_marker_passed, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------ called from the GUI thread

    def stop(self) -> None:
        """Stop the running task and drop everything asked for before now. Not a slot: the
        worker thread is busy, so this runs on the caller's thread and only flips flags."""
        with self._lock:
            self._pending_stops += 1
        current = self._task
        if current is not None:
            current.cancel.set()
        self._marker.emit()  # queued behind every earlier request; they are skipped until it passes

    @Slot()
    def _stop_marker_passed(self) -> None:
        with self._lock:
            self._pending_stops -= 1

    def _stop_pending(self) -> bool:
        with self._lock:
            return self._pending_stops > 0

    # ------------------------------------------------------------ task machinery (worker thread)

    def _emit(self, signal, *args) -> None:
        """Emit unless the running task was stopped: the window has already moved on."""
        current = self._task
        if current is not None and current.cancel.is_set():
            raise _Stopped()
        signal.emit(*args)

    def _check(self) -> None:
        current = self._task
        if current is not None and current.cancel.is_set():
            raise _Stopped()

    def _run_task(self, name: str, stoppable: bool, fn, args) -> None:
        from monster_studio.core.events import Cancel

        if stoppable and self._stop_pending():
            log.info("skipped %s: a stop came after it was asked for", name)
            self.idle.emit(name, "stopped")
            return
        threading.current_thread().name = "worker"  # for the log (Python calls a QThread "Dummy-N")
        current = _Task(name, Cancel() if stoppable else _NeverCancel(), time.monotonic())
        self._task = current
        if stoppable and self._stop_pending():  # a stop that raced with the start
            current.cancel.set()
        self.busy = True
        outcome = "ok"
        self._eta.reset()
        log.info("task %s started", name)
        try:
            self.started.emit(name)
            fn(self, *args)
            if current.cancel.is_set():
                outcome = "stopped"
        except _Stopped:
            outcome = "stopped"
        except Exception as exc:  # noqa: BLE001 - every failure becomes words for the user
            outcome = "error"
            if current.cancel.is_set():
                outcome = "stopped"
            else:
                self.error.emit(self._describe(name, exc))
        finally:
            self._task = None
            self.busy = False
            log.info("task %s ended: %s after %.1f s", name, outcome, time.monotonic() - current.started)
            self.idle.emit(name, outcome)

    def _describe(self, task_name: str, exc: Exception) -> dict:
        from monster_studio.core import backbones, dataset, images, modelfile, weights

        known = {dataset.DatasetError: "dataset", weights.WeightsUnavailable: "weights",
                 modelfile.ModelFileError: "modelfile", backbones.UnknownBackbone: "backbone",
                 images.BadPicture: "picture", _UserError: "user"}
        for cls, kind in known.items():
            if isinstance(exc, cls):
                log.info("%s failed (%s): %s", task_name, kind, exc)
                out = {"task": task_name, "kind": kind, "message": str(exc)}
                out.update(getattr(exc, "details", {}) or {})
                return out
        log.error("unexpected failure in %s", task_name, exc_info=exc)
        doing = _DOING.get(task_name, "working")
        if isinstance(exc, MemoryError):
            why = "the computer ran out of memory. Close other programs, or choose a smaller backbone"
        elif isinstance(exc, OSError) and exc.errno == 28:
            why = f"the disk is full ({exc.filename or 'no space left'}). Free some space and try again"
        elif isinstance(exc, OSError):
            why = f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}"
        else:
            why = f"{type(exc).__name__}: {exc}"
        where = _log_file()
        tail = f" The details are in the log file {where}." if where else ""
        return {"task": task_name, "kind": "unexpected",
                "message": f"Something went wrong while {doing}: {why}.{tail}"}

    def _progress(self, phase: str, done, total, force: bool = False, restart: bool = False) -> None:
        if restart:  # e.g. features found in the cache: the rate is measured from here on
            self._eta.reset()
        eta = self._eta.update(done, total) if total else None
        now = time.monotonic()
        if force or done >= total or now - self._last_progress > 0.1:  # at most ten updates a second
            self._last_progress = now
            self._emit(self.progress, phase, float(done), float(total), -1.0 if eta is None else float(eta))

    def _phase(self, name: str, text: str) -> None:
        self._eta.reset()
        self._eta.update(0, 0)  # the phase's start is the first point of its rate
        self._emit(self.phase, name, text)
        self._emit(self.progress, name, 0.0, 0.0, -1.0)

    def _forward(self, event) -> bool:
        """Re-emit the events every long job shares; False for events the caller handles."""
        from monster_studio.core.events import DownloadProgress, FeatureProgress, Phase, ScanProgress, StepProgress

        if isinstance(event, Phase):
            self._phase(event.name, event.text)
        elif isinstance(event, ScanProgress):
            self._progress("scan", event.done, event.total)
        elif isinstance(event, StepProgress):
            self._progress(event.stage, event.done, event.total)
        elif isinstance(event, DownloadProgress):
            self._progress("download", event.done_bytes, event.total_bytes)
        elif isinstance(event, FeatureProgress):
            first = event.done == event.cached
            self._progress("features", event.done, event.total, force=first, restart=first)
        else:
            return False
        return True

    # ------------------------------------------------------------ requests (worker thread)

    @Slot()
    @task("start", stoppable=False)
    def warmUp(self) -> None:
        """Import the engine (torch takes seconds) here rather than on the GUI thread."""
        from monster_studio.core import backbones, device

        self.ready.emit({"backbones": self._catalogue(), "default": backbones.DEFAULT_BACKBONE,
                         "detectors": self._detectors(), "devices": device.choices()})

    def _catalogue(self) -> list[dict]:
        from monster_studio.core import backbones

        return [{"id": spec.id, "name": spec.display_name, "speed": spec.speed, "guidance": spec.guidance,
                 "status": _status_text(spec), "bundled": spec.bundled, "download_mb": spec.download_mb,
                 "filename": spec.weights_filename, "source": spec.weights_source}
                for spec in backbones.CATALOGUE.values()]

    def _detectors(self) -> list[dict]:
        from monster_studio.core import detect

        return [{"id": d.id, "name": d.display_name, "guidance": d.guidance, "status": _status_text(d)}
                for d in detect.DETECTORS.values()]

    @Slot(str, float, int)
    @task("scan")
    def scanFolder(self, path: str, val_split: float = 0.2, seed: int = 0) -> None:
        """The class table for a chosen folder: counts first, then thumbnails class by class."""
        from monster_studio.core import dataset, images

        self._phase("scan", "Reading the folder")
        ds = self._drain(dataset.scan_steps(path, val_split, seed, self._task.cancel))
        counts = ds.counts()
        table = {"folder": str(path), "classes": [{"name": c, "count": counts[c]} for c in ds.classes],
                 "n_train": len(ds.train), "n_val": len(ds.val), "split_given": ds.split_given,
                 "skipped": [(s.path, s.reason) for s in ds.skipped], **ds.warnings()}
        self._emit(self.scanned, table)
        for label, name in enumerate(ds.classes):
            thumbs = []
            for p in ds.examples(label, THUMBS_PER_CLASS):
                self._check()
                try:
                    thumbs.append(qimage(images.thumbnail(p, CLASS_THUMB_PX)))
                except images.BadPicture:
                    continue
            self._emit(self.thumbnails, str(path), name, thumbs)

    @Slot(str, object)
    @task("train")
    def train(self, path: str, settings: dict) -> None:
        from monster_studio.core import training
        from monster_studio.core.events import EpochEnd, Finished, ScanDone

        known = training.TrainSettings.__dataclass_fields__
        s = training.TrainSettings(**{k: v for k, v in settings.items() if k in known})
        step = 0
        for event in training.fit(path, s, self._task.cancel):
            if self._forward(event):
                continue
            if isinstance(event, ScanDone):
                self._emit(self.phase, "scan", f"{event.n_train} pictures to learn from, {event.n_val} to check on")
            elif isinstance(event, EpochEnd):
                step += 1
                self._emit(self.epochEnd, {"epoch": event.epoch, "epochs": event.epochs, "stage": event.stage,
                                           "train_loss": event.train_loss, "val_loss": event.val_loss,
                                           "val_accuracy": event.val_accuracy, "step": step})
                if event.stage != "finetune":  # fine-tuning reports finer steps (StepProgress) of its own
                    self._progress("train", event.epoch, event.epochs, force=True)
            elif isinstance(event, Finished):
                self._models[TRAINED] = event.model
                summary = _summary(event, s)
                self._emit(self.finished, summary)
                if self._active == TRAINED:
                    self.modelReady.emit(self._model_info(TRAINED, event.model))
        self._check()

    @Slot(str)
    @task("save", stoppable=False)  # a Stop meant for classifying must not lose the user's model file
    def save(self, path: str) -> None:
        from monster_studio.core import modelfile

        model = self._models.get(TRAINED)
        if model is None:
            raise _UserError("There is no trained model to save yet. Train one on the Train page first.")
        if not str(path).endswith(modelfile.SUFFIX):
            path = str(path) + modelfile.SUFFIX
        written = modelfile.save(model, path)
        model.source = str(written)
        self._emit(self.saved, str(written))

    @Slot(str)
    @task("model")
    def openModel(self, path: str) -> None:
        """Read a .monster file and make it the model that classifies."""
        from monster_studio.core import modelfile

        key = f"file:{Path(path).expanduser().resolve()}"
        model = self._models.get(key)
        if model is None or _changed_since(model):
            self._phase("load", f"Opening {Path(path).name}")
            model = modelfile.load(path)
            model._loaded_mtime = _mtime(path)
        self._activate(key, model)

    @Slot(str)
    @task("model")
    def usePretrained(self, key: str) -> None:
        """A pretrained network as it is, no training: a backbone names ImageNet's 1000 labels;
        "detector:<id>" boxes COCO's 80 kinds of things."""
        from monster_studio.core.model import TrainedModel

        if key.startswith(DETECTOR):
            self._use_detector(key[len(DETECTOR):])
            return
        backbone_id = key
        key = f"imagenet:{backbone_id}"
        self._activate(key, self._models.get(key) or TrainedModel.imagenet(backbone_id))

    @Slot()
    @task("model")
    def useTrained(self) -> None:
        model = self._models.get(TRAINED)
        if model is None:
            self._active = None
            raise _UserError("No model has been trained in this session yet. Train one, or open a model file.")
        self._activate(TRAINED, model)

    def _activate(self, key: str, model) -> None:
        # Build the network now (and fetch weights if needed), so the first picture is quick and a
        # missing weights file shows up when the model is chosen, not when a picture is dropped.
        self._active = None
        self._drain(model.network(self._task.cancel))
        self._check()
        self._models[key] = model
        self._forget_old_models(keep=key)
        self._active = key
        self._emit(self.modelReady, self._model_info(key, model))

    def _drain(self, gen):
        """Run a core generator, forwarding its progress events; its return value."""
        from monster_studio.core.events import run_to_end

        return run_to_end(gen, self._forward)

    def _use_detector(self, detector_id: str) -> None:
        from monster_studio.core import detect

        spec = detect.DETECTORS.get(detector_id)
        if spec is None:
            raise _UserError(f"There is no detector called {detector_id!r}. Choose one in the Model list.")
        self._active = None
        # Loaded once here, so a missing or broken weights file shows when the detector is chosen.
        net = self._drain(detect.load(detector_id, self._task.cancel))
        self._check()
        key = DETECTOR + detector_id
        self._models[key] = spec
        self._detector_net = (detector_id, net)  # kept for every request while it is chosen
        self._forget_old_models(keep=key)
        self._active = key
        self._emit(self.modelReady, {"key": key, "name": spec.display_name, "classes": [],
                                     "n_classes": len(spec.categories), "kind": "detector", "source": "",
                                     "backbone": spec.display_name, "guidance": spec.guidance,
                                     "status": _status_text(spec), "metrics": {}})

    def _forget_old_models(self, keep: str, limit: int = 4) -> None:
        """Opened models keep their network in memory; a few are plenty."""
        extra = [k for k in self._models if k not in (keep, TRAINED)]
        for k in extra[:max(0, len(extra) - (limit - 1))]:
            del self._models[k]

    @staticmethod
    def _model_info(key: str, model) -> dict:
        kind = "imagenet" if model.head is None else ("trained" if key == TRAINED else "file")
        return {"key": key, "name": model.name, "classes": list(model.classes) if model.head is not None else [],
                "n_classes": len(model.classes), "kind": kind, "source": model.source,
                "backbone": model.spec.display_name, "metrics": dict(model.metrics or {})}

    @Slot(object, int, bool, int)
    @task("classify")
    def classify(self, paths: list, top_k: int = 3, thumbnails: bool = True, request: int = 0) -> None:
        """Predictions one by one as batches finish; with `thumbnails`, each carries a preview."""
        self._classify(paths, top_k, thumbnails, request)

    def _classify(self, paths: list, top_k: int, thumbnails: bool, request: int) -> None:
        from monster_studio.core import images, predict
        from monster_studio.core.events import Skipped

        model = self._models.get(self._active) if self._active else None
        if model is None:
            raise _UserError("No model is ready to classify with. Choose one in the Model list above.",
                             details={"kind": "nomodel"})
        if self._active.startswith(DETECTOR):
            self._detect(self._active[len(DETECTOR):], paths, DETECT_MIN_SCORE, thumbnails, request)
            return
        t0 = time.monotonic()
        files, missing = predict.expand(paths)
        total = len(files) + len(missing)
        self._phase("classify", f"Classifying {total} picture{'s' if total != 1 else ''}")
        done = ok = bad = 0
        for event in predict.classify(model, [str(f) for f in files] + [m.path for m in missing], top_k,
                                      self._task.cancel):
            if self._forward(event):
                continue
            done += 1
            if isinstance(event, Skipped):
                bad += 1
                self._emit(self.prediction, {"request": request, "path": event.path, "reason": event.reason})
            else:
                ok += 1
                thumb = None
                if thumbnails:
                    try:
                        thumb = qimage(images.thumbnail(event.path, CARD_THUMB_PX))
                    except images.BadPicture:
                        pass
                self._emit(self.prediction, {"request": request, "path": event.path, "top": list(event.top),
                                             "label": event.label, "confidence": event.confidence, "thumb": thumb})
            self._progress("classify", done, total, force=done == 1)
        self._check()
        self._emit(self.classifyDone, {"request": request, "classified": ok, "skipped": bad,
                                       "seconds": time.monotonic() - t0})

    def _detect(self, detector_id: str, paths: list, min_score: float, thumbnails: bool, request: int) -> None:
        """The things a detector finds, picture by picture: plain data, and with `thumbnails` a
        preview with the boxes drawn on it."""
        from monster_studio.core import detect, images, predict
        from monster_studio.core.events import Skipped

        t0 = time.monotonic()
        files, missing = predict.expand(paths)
        total = len(files) + len(missing)
        self._phase("classify", f"Looking for things in {total} picture{'s' if total != 1 else ''}")
        done = ok = bad = things = 0
        kept_id, net = self._detector_net
        for event in detect.detect(detector_id, [str(f) for f in files] + [m.path for m in missing], min_score,
                                   self._task.cancel, net if kept_id == detector_id else None):
            if self._forward(event):
                continue
            done += 1
            if isinstance(event, Skipped):
                bad += 1
                self._emit(self.prediction, {"request": request, "kind": "detection", "path": event.path,
                                             "reason": event.reason})
            else:
                ok += 1
                found = [{"label": f.label, "score": f.score, "box": list(f.box), "colour": box_colour(f.label)}
                         for f in sorted(event.found, key=lambda f: -f.score)]
                things += len(found)
                thumb = None
                if thumbnails:
                    try:
                        thumb = boxed(qimage(images.thumbnail(event.path, CARD_THUMB_PX)), event.size, found)
                    except images.BadPicture:
                        pass
                self._emit(self.prediction, {"request": request, "kind": "detection", "path": event.path,
                                             "size": list(event.size), "found": found, "thumb": thumb})
            self._progress("classify", done, total, force=done == 1)
        self._check()
        self._emit(self.classifyDone, {"request": request, "kind": "detection", "classified": ok, "skipped": bad,
                                       "found": things, "seconds": time.monotonic() - t0})

    @Slot(QImage, int, int)
    @task("classify")
    def classifyImage(self, image: QImage, top_k: int = 3, request: int = 0) -> None:
        """A picture pasted from the clipboard: written to a temporary PNG, then classified like a file."""
        from monster_studio.core import paths

        folder = paths.cache_dir() / "pasted"
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=time.strftime("pasted-%H%M%S-"), suffix=".png", dir=folder)
        os.close(fd)
        if not image.save(name, "PNG"):
            raise _UserError("The pasted picture could not be stored for classifying.")
        self._classify([name], top_k, True, request)

    @Slot(str, int)
    @task("sample")
    def writeSample(self, folder: str, per_class: int = 40) -> None:
        """The built-in sample: `folder` to train on, and a few unseen monsters beside it to try."""
        from monster_studio.core import sample

        self._phase("sample", "Drawing the sample monsters")
        root = Path(folder).expanduser()
        try_root = root.parent / (root.name + "-to-try")
        try:
            sample.write_sample(root, per_class=per_class, seed=0)
            sample.write_sample(try_root, per_class=2, seed=1)
        except OSError as exc:
            raise _UserError(f"Could not write the sample pictures to {root}: {exc.strerror or exc}. "
                             "Choose another folder.") from exc
        from monster_studio.core import predict

        try_files = sorted(str(f) for f in predict.expand([try_root])[0])
        self._emit(self.sampleWritten, {"folder": str(root), "try_folder": str(try_root), "try_files": try_files})

    @Slot(str, str)
    @task("import", stoppable=False)  # likewise: a weights file the user chose is installed, Stop or not
    def importWeights(self, backbone_id: str, file: str) -> None:
        from monster_studio.core import weights

        self._phase("import", "Checking and installing the weights file")
        dest = weights.import_weights(backbone_id, file)
        self._emit(self.weightsImported, {"backbone": backbone_id, "path": str(dest)})
        self._emit(self.catalogue, self._catalogue())


class _UserError(Exception):
    """A refusal with a message meant for the user (not a bug)."""

    def __init__(self, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class _NeverCancel:
    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass

    def is_set(self) -> bool:
        return False

    def check(self) -> None:
        pass


_DOING = {"scan": "reading the folder", "train": "training", "save": "saving the model",
          "model": "opening the model", "classify": "classifying", "sample": "writing the sample pictures",
          "import": "importing the weights file", "start": "starting"}


def _summary(event, settings) -> dict:
    from monster_studio.core import backbones

    return {"metrics": event.metrics, "seconds": event.seconds, "name": event.model.name,
            "skipped": [(s.path, s.reason) for s in event.skipped],
            "backbone": backbones.get(settings.backbone).display_name, "settings": settings.to_dict()}


def _status_text(spec) -> str:
    from monster_studio.core import weights

    try:
        return weights.status_text(spec)
    except Exception:  # noqa: BLE001 - a broken torchvision must not hide the list
        log.exception("status of %s", spec.id)
        return "unknown"


def _mtime(path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def _changed_since(model) -> bool:
    return _mtime(model.source) != getattr(model, "_loaded_mtime", None)


def _log_file() -> str:
    for handler in logging.getLogger().handlers:
        name = getattr(handler, "baseFilename", None)
        if name:
            return name
    return ""


def versions() -> dict[str, str]:
    """What the About box shows, read from package metadata so torch need not be imported."""
    from importlib import metadata

    import PySide6
    from PySide6.QtCore import qVersion

    from monster_studio import __version__

    out = {"Monster Studio": __version__, "Python": sys.version.split()[0], "Qt": qVersion(),
           "PySide6": PySide6.__version__}
    for dist in ("torch", "torchvision", "timm", "pyqtgraph", "Pillow"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


# Worker threads that did not end when the window closed (a task stuck in a call that never checks
# its cancel flag). Destroying a QThread that still runs makes Qt abort the whole process, so they
# are kept here for as long as the process lives; the app's exit path then ends the process without
# the interpreter's clean-up (see ui.app.main).
_STRANDED: list["WorkerThread"] = []


def stranded_threads() -> list["WorkerThread"]:
    """The kept worker threads that are still running."""
    return [host for host in _STRANDED if host.thread.isRunning()]


class WorkerThread:
    """The worker and its thread, started together and shut down together."""

    def __init__(self) -> None:
        self.thread = QThread()
        self.thread.setObjectName("monster-studio-worker")
        self.worker = Worker()
        self.worker.moveToThread(self.thread)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the running task, let the thread's loop end, wait for it (bounded). True when it
        ended; False when it is still running, in which case it is kept alive (see `_STRANDED`)."""
        if not self.thread.isRunning():
            return True
        self.worker.stop()
        self.thread.quit()
        ended = self.thread.wait(timeout_ms)
        if not ended:
            task = self.worker._task
            log.error("the worker thread did not end within %d ms (task: %s); it is left running until the "
                      "process ends", timeout_ms, task.name if task else "none")
            if self not in _STRANDED:
                _STRANDED.append(self)
            for handler in logging.getLogger().handlers:  # the process may end without logging's clean-up
                handler.flush()
        return ended


__all__ = ["Worker", "WorkerThread", "stranded_threads", "Eta", "eta_text", "qimage", "boxed", "box_colour",
           "versions", "TRAINED", "DETECTOR"]
