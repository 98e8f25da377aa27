"""Shared fixtures and helpers for the app's pytest-qt tests (imported by the test_app_* modules;
it holds no tests itself). Every test gets its own QSettings folder, so nothing touches the
user's settings, and a real MainWindow whose worker thread has finished starting."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QMimeData, QObject, QPoint, QPointF, QSettings, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

from monster_studio.core.sample import write_sample
from monster_studio.ui.app import configure_application
from monster_studio.ui.main_window import MainWindow

ENGINE_START_MS = 90_000  # the first window of a session imports torch on the worker thread
TRAIN_MS = 120_000


@pytest.fixture
def app_settings(qapp, tmp_path, quit_answers):
    QCoreApplication.setOrganizationName("MonsterStudioTests")
    QCoreApplication.setApplicationName("Monster Studio Tests")
    folder = tmp_path / "settings"
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    configure_application(qapp)
    return folder


def open_window(qtbot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.engine_ready, timeout=ENGINE_START_MS)
    return w


@pytest.fixture
def window(qtbot, app_settings):
    w = open_window(qtbot)
    yield w
    w.close()
    assert not w.host.thread.isRunning(), "the runner thread is still running after close"


@dataclass(frozen=True)
class Failure:
    """A runner error with the request it ended (for assertions)."""

    task: str
    kind: str
    message: str
    details: dict
    command: str = ""

    def __getitem__(self, key):  # failure["kind"], as the details of an error read
        return getattr(self, key) if key in ("task", "kind", "message", "command") else self.details[key]


class Events(QObject):
    """Records what the runner says, on the GUI thread, under short names:
    started (name,), idle (name, outcome), error (Failure,), and for each thing a job yields,
    phase (name, text), progress (stage, done, total, unit), scanned (ClassTable,),
    epochEnd (EpochEnd,), finished (TrainSummary,), saved (path,), modelReady (ModelInfo,),
    prediction (Answer,), classifyDone (ClassifyDone,), sampleWritten (SampleWritten,).
    (A lambda connected to a runner signal would run on the runner's thread; bound slots of a
    QObject living here are queued here.)"""

    def __init__(self, studio) -> None:
        super().__init__()
        self.log: list[tuple[str, tuple]] = []
        runner = studio.runner if hasattr(studio, "runner") else studio
        runner.started.connect(self.started)
        runner.yielded.connect(self.yielded)
        runner.idle.connect(self.idle)
        runner.error.connect(self.error)

    def _add(self, name: str, *args) -> None:
        self.log.append((name, args))

    def of(self, name: str) -> list[tuple]:
        return [args for n, args in self.log if n == name]

    def first(self, name: str, when=lambda *args: True):
        return next((args for args in self.of(name) if when(*args)), None)

    def wait(self, qtbot, name: str, when=lambda *args: True, timeout: int = TRAIN_MS) -> tuple:
        qtbot.waitUntil(lambda: self.first(name, when) is not None, timeout=timeout)
        return self.first(name, when)

    def clear(self) -> None:
        self.log.clear()

    @Slot(object)
    def started(self, request): self._add("started", request.name)  # noqa: E704

    @Slot(object, str)
    def idle(self, request, outcome): self._add("idle", request.name, outcome)  # noqa: E704

    @Slot(object, object)
    def error(self, request, e): self._add("error", Failure(request.name, e.kind, e.message, e.details, e.command))  # noqa: E704,E501

    @Slot(object, object)
    def yielded(self, request, item) -> None:
        from monster_studio.app import results
        from monster_studio.core import events

        if isinstance(item, events.Phase):
            self._add("phase", item.name, item.text)
        elif isinstance(item, events.Progress):
            self._add("progress", item.stage, item.done, item.total, item.unit)
        else:
            names = {events.ClassTable: "scanned", events.EpochEnd: "epochEnd", results.TrainSummary: "finished",
                     results.ModelReady: "modelReady", results.Answer: "prediction",
                     results.ClassifyDone: "classifyDone", results.SampleWritten: "sampleWritten",
                     results.Saved: "saved"}
            name = names.get(type(item), type(item).__name__)
            value = {results.ModelReady: lambda i: i.info, results.Saved: lambda i: i.path}.get(type(item),
                                                                                               lambda i: i)(item)
            self._add(name, value)


def fresh_pictures(tmp_path: Path, per_class: int, seed: int) -> Path:
    """A sample folder no other test has used: its features are not in the cache yet."""
    return write_sample(tmp_path / f"monsters-{seed}", per_class=per_class, seed=seed)


def choose_folder(qtbot, w: MainWindow, folder: Path) -> None:
    tp = w.train_page
    tp.set_folder(str(folder))
    qtbot.waitUntil(lambda: tp.folder_ok and tp.classes.table.rowCount() > 0 or tp.banner.isVisible(),
                    timeout=30_000)
    assert tp.folder_ok, tp.banner.text.text()


def drop(widget, paths: list[Path]) -> bool:
    """Drag file URLs over the middle of `widget` and drop them, as a file manager would: Qt
    delivers enter, move and drop to the widget under the pointer or the nearest ancestor that
    accepts drops. True when the drop was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = QPoint(widget.width() // 2, widget.height() // 2)
    target = widget.childAt(centre) or widget
    pos = target.mapFrom(widget, centre)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the QPoint overloads are the ones Qt 6 still has
        enter = QDragEnterEvent(pos, *args)
        QCoreApplication.sendEvent(target, enter)
        if not enter.isAccepted():
            return False
        QCoreApplication.sendEvent(target, QDragMoveEvent(pos, *args))
    event = QDropEvent(QPointF(pos), *args)
    QCoreApplication.sendEvent(target, event)
    return bool(event.isAccepted())


class GapProbe:
    """A QTimer on the GUI thread; the largest gap between its ticks is how long the window froze."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.largest

    @property
    def largest(self) -> float:
        return max(self.gaps, default=0.0)
