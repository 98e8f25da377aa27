"""The one thread that does model work: a QObject on a QThread that runs jobs, one after another,
and re-emits what they yield. A job is a plain generator function (`def scan(ctx, folder): ...
yield event ... `), from the core or from `app.jobs`; a new capability is a new generator, never
a new signal or slot here.

Why not superqt's `thread_worker` (napari's standard, read for this design): its workers are
QRunnables on a QThreadPool, one per job, on whichever pool thread is free, and abort only between
two yields. The app needs one serial queue on one thread (the torch objects a job leaves behind
are used by the next), a Stop that also drops the requests queued before it, and a cancel flag
the core checks inside long steps that do not yield (a download waiting for data, a batch). The
adapter that does this is small, so it is ours: Orange3's `TaskState` idea (the job gets a small
state object with the cancel flag) with superqt's generator-to-signal shape.

Signals (emitted on the runner's thread, delivered queued to receivers on the GUI thread):
  started(request)            a request began to run
  yielded(request, obj)       something it yielded: a core event or a result dataclass
  idle(request, outcome)      it ended: "ok", "error" or "stopped"; exactly once per request
  error(request, JobError)    why it failed, in words (before its idle)
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from monster_studio.app import thread_priority
from monster_studio.app.shelf import Shelf

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.1  # at most ten progress updates a second reach the window
_ids = itertools.count(1)


@dataclass(eq=False)
class Request:
    """One thing asked of the runner. `tag`: who asked and what for (a page, a request id), for
    the window to route the outcome; the runner only carries it."""

    name: str
    job: Callable[..., Generator]
    args: tuple = ()
    stoppable: bool = True
    tag: dict = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))
    generation: int = 0


@dataclass(frozen=True)
class JobError:
    """A failure in words: `kind` the family ("dataset", "weights", "modelfile", "picture",
    "unexpected", ...), `message` for the user, `details` the parts (backbone, filename, url...)."""

    kind: str
    message: str
    details: dict = field(default_factory=dict)
    command: str = ""  # the way out on a terminal (kept for the log; the window offers buttons)


class JobContext:
    """What a job gets besides its arguments: the cancel flag (the core checks it at least once
    per batch) and the shelf of models kept across jobs on this thread."""

    def __init__(self, cancel, shelf: Shelf) -> None:
        self.cancel = cancel
        self.shelf = shelf

    def check(self) -> None:
        self.cancel.check()


class Runner(QObject):
    started = Signal(object)
    yielded = Signal(object, object)
    idle = Signal(object, str)
    error = Signal(object, object)

    _queued = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._stops = 0  # how many Stops were asked for; a request asked for before one is dropped
        self._cancelled: set[int] = set()  # requests given up one by one (see cancel)
        self._current: tuple[Request, object] | None = None
        self.shelf = Shelf()
        self._queued.connect(self._run, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------ from the GUI thread

    def submit(self, request: Request) -> Request:
        with self._lock:
            request.generation = self._stops
        self._queued.emit(request)
        return request

    def stop(self) -> None:
        """Stop the running request and drop every stoppable one asked for before now. Runs on the
        caller's thread while this one is busy, so it only flips flags; the running job ends at its
        next check, and nothing it still yields reaches the window."""
        with self._lock:
            self._stops += 1
            current = self._current
        if current is not None and current[0].stoppable:
            current[1].set()

    def cancel(self, request: Request) -> None:
        """Give up one request: dropped if it has not started, stopped at its next check if it has."""
        with self._lock:
            self._cancelled.add(request.id)
            current = self._current
        if current is not None and current[0] is request:
            current[1].set()

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def running(self) -> Request | None:
        current = self._current
        return current[0] if current else None

    # ------------------------------------------------------------ on the runner's thread

    @Slot(object)
    def _run(self, request: Request) -> None:
        from monster_studio.core.events import Cancel, Cancelled

        threading.current_thread().name = "runner"  # for the log (Python calls a QThread "Dummy-N")
        with self._lock:
            dropped = request.stoppable and request.generation < self._stops or request.id in self._cancelled
            self._cancelled.discard(request.id)
            cancel = Cancel()
            if not dropped:
                self._current = (request, cancel)
        if dropped:
            log.info("dropped %s: a Stop came after it was asked for", request.name)
            self.idle.emit(request, "stopped")
            return
        t0 = time.monotonic()
        outcome = "ok"
        log.info("%s started", request.name)
        self.started.emit(request)
        steps = None
        with thread_priority.blas_on_one_thread():  # for the job, and its clean-up
            try:
                steps = request.job(JobContext(cancel, self.shelf), *request.args)
                self._forward(request, steps, cancel)
                if cancel.is_set():
                    outcome = "stopped"
            except Cancelled:
                outcome = "stopped"
            except Exception as exc:  # noqa: BLE001 - every failure becomes words for the user
                outcome = "stopped" if cancel.is_set() else "error"
                if outcome == "error":
                    self.error.emit(request, self._describe(request, exc))
            finally:
                if steps is not None:
                    steps.close()  # the job's own clean-up (finally blocks) runs now, on this thread
                with self._lock:
                    self._current = None
                    self._cancelled.discard(request.id)
                log.info("%s ended: %s after %.1f s", request.name, outcome, time.monotonic() - t0)
                self.idle.emit(request, outcome)

    def _forward(self, request: Request, steps, cancel) -> None:
        from monster_studio.core.events import Progress

        last: dict[str, float] = {}
        for item in steps:
            if cancel.is_set():
                return  # the window has moved on: what a stopped job still says is not shown
            if isinstance(item, Progress):
                now = time.monotonic()
                first = item.stage not in last
                if not (first or item.restart or item.done >= item.total or now - last[item.stage] >= PROGRESS_INTERVAL):
                    continue
                last[item.stage] = now
            self.yielded.emit(request, item)

    @staticmethod
    def _describe(request: Request, exc: Exception) -> JobError:
        from monster_studio.core.errors import UserError, describe

        if isinstance(exc, UserError):
            log.info("%s failed (%s): %s", request.name, exc.kind, exc.message)
            return JobError(exc.kind, exc.message, dict(exc.details), exc.command)
        log.error("unexpected failure in %s", request.name, exc_info=exc)
        doing = getattr(request.job, "doing", "working")
        return JobError("unexpected", describe(exc, doing, _log_file()))


def _log_file() -> str:
    for handler in logging.getLogger().handlers:
        name = getattr(handler, "baseFilename", None)
        if name:
            return name
    return ""


# Runner threads that did not end when the window closed (a job stuck in a call that never checks
# its cancel flag). Destroying a QThread that still runs makes Qt abort the whole process, so they
# are kept here for as long as the process lives; the app's exit path then ends the process without
# the interpreter's clean-up (see ui.app.main).
_STRANDED: list["RunnerThread"] = []


def stranded_threads() -> list["RunnerThread"]:
    """The kept runner threads that are still running."""
    return [host for host in _STRANDED if host.thread.isRunning()]


class RunnerThread:
    """The runner and its thread, started together and shut down together."""

    def __init__(self) -> None:
        self.thread = QThread()
        self.thread.setObjectName("monster-studio-runner")
        self.runner = Runner()
        self.runner.moveToThread(self.thread)
        self.thread.finished.connect(self.runner.deleteLater)
        # Run in the new thread as it starts, before any job: the work below the window's drawing.
        self.thread.started.connect(thread_priority.lower_this_thread, Qt.ConnectionType.DirectConnection)
        self.thread.start()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the running job, let the thread's loop end, wait for it (bounded). True when it
        ended; False when it is still running, in which case it is kept alive (see `_STRANDED`)."""
        if not self.thread.isRunning():
            return True
        self.runner.stop()
        self.thread.quit()
        ended = self.thread.wait(timeout_ms)
        if not ended:
            running = self.runner.running
            log.error("the runner thread did not end within %d ms (job: %s); it is left running until the "
                      "process ends", timeout_ms, running.name if running else "none")
            if self not in _STRANDED:
                _STRANDED.append(self)
            for handler in logging.getLogger().handlers:  # the process may end without logging's clean-up
                handler.flush()
        return ended
