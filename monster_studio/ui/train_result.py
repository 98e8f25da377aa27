"""The right half of the Train page: the progress of what runs, the live plot, and the result in
plain words with Save and Try it. It draws the training state: the running training's epochs as
they come, and once it ends, the last good result (a failed or stopped training leaves it as it was)."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monster_studio.app import model_keys
from monster_studio.core.wording import percent, visible
from monster_studio.ui.evaluation_view import EvaluationView
from monster_studio.ui.loss_plot import LossPlot
from monster_studio.ui.progress_panel import ProgressPanel
from monster_studio.ui.result_text import ResultText
from monster_studio.ui.style import SPACING, role
from monster_studio.ui.summary import likely_html, summary_html

INTRO = ("<p><b>What happens when you press Train</b></p>"
         "<p>The app looks at each picture once through the starting model (this is the slow part, "
         "and it is remembered for next time), then trains a new last layer for your classes. "
         "The plot shows it learning: the <span style='color:#6a4fc8'>loss</span> should go down and the "
         "<span style='color:#2e7d32'>accuracy</span> on the check pictures up.</p>")


PLOT_MIN = 170  # pixels the plot keeps when the result needs the room
RESULT_LINES = 20  # lines the result panel has room for from the start (a usual summary needs 310 to 330 px here)
STEP_MS = 25  # between the parts of a result drawn one after the other


class TrainResult(QWidget):
    saveClicked = Signal()
    tryClicked = Signal()

    def __init__(self, studio, parent=None) -> None:
        super().__init__(parent)
        self.state = state = studio.state
        self._shown = None
        box = QVBoxLayout(self)
        box.setContentsMargins(SPACING, 0, 0, 0)
        box.setSpacing(SPACING)
        self.progress = ProgressPanel(state.jobs, "train")
        box.addWidget(self.progress)
        self.plot = LossPlot()
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.split = QSplitter(Qt.Orientation.Vertical)  # the user can give the plot or the result more room
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.plot)
        self.tabs = QTabWidget()  # "Learning" first; views of the result add their own tabs (add_tab)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.split, "Learning")
        self.where = EvaluationView(studio, "train", model_keys.TRAINED)  # the check pictures, after training
        self.tabs.addTab(self.where, "Where it fails")
        box.addWidget(self.tabs, 1)
        panel = QFrame()
        panel.setProperty("role", "panel")
        pbox = QVBoxLayout(panel)
        pbox.setContentsMargins(14, 12, 14, 12)
        self.summary = ResultText(INTRO)
        self.summary.setMinimumHeight(120)
        pbox.addWidget(self.summary, 1)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.save_button = QPushButton("Save model…")
        self.save_button.setToolTip("Keep this classifier in a .monster file (Ctrl+S)")
        self.save_button.clicked.connect(self.saveClicked)
        self.buttons.addWidget(self.save_button)
        self.try_button = QPushButton("Try it  →")
        role(self.try_button, "primary")
        self.try_button.setToolTip("Open the Classify page with this model and drop pictures on it")
        self.try_button.clicked.connect(self.tryClicked)
        self.buttons.addWidget(self.try_button)
        pbox.addLayout(self.buttons)
        self.split.addWidget(panel)
        # The result panel starts with room for a usual result and keeps it when the window grows
        # (the plot takes the rest): a result that fits does not resize the plot when it arrives,
        # and a resize redraws all of it (~30 ms).
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 0)
        self.split.setSizes([460, 460])
        self._room_made = False
        self._need = 0  # pixels the result panel needs for the coming result (0: not known yet)
        self._need_for = None  # the folder's class table that was measured for it
        self.split.installEventFilter(self)
        self.split.splitterMoved.connect(self._room_kept)
        state.training.changed.connect(self.show_training)
        state.training.epochAdded.connect(self.plot.add_epoch)
        state.folder.changed.connect(self._on_folder)

    def _on_folder(self) -> None:
        """Another folder starts a clean view; the last model stays on the Classify page."""
        t, folder = self.state.training, self.state.folder.path
        self._reserve(self.state.folder.table)
        if t.running or t.summary is None or not folder or _same(t.summary.folder, folder):
            return
        self.plot.clear_points()
        self._shown = None
        acc = t.summary.metrics.get("val_accuracy")
        right = f" ({percent(acc)} right on its check pictures)" if acc is not None and acc == acc else ""
        self.summary.setText(f"<p>The model trained on <b>{html.escape(visible(Path(t.summary.folder).name))}</b>{right} "
                             "is still on the Classify page, and <i>Save model…</i> keeps it.</p>"
                             "<p>Press Train to train on this folder.</p>")

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self.split and event.type() == QEvent.Type.Resize and not self._room_made:
            # Until the person moves the divider or a result arrives, the window's new sizes keep
            # the room for a result (the first sizes come while the window is still being laid
            # out); after the splitter has shared out its new size itself.
            QTimer.singleShot(0, self, self._make_room)
        return super().eventFilter(watched, event)

    def _make_room(self) -> None:
        total = sum(self.split.sizes())
        if self._room_made or total <= 0:
            return
        if self._need_for is not None:  # measured again at the width the panel has now
            self._need = self._room_for(likely_html(self._need_for))
        room = RESULT_LINES * self.summary.fontMetrics().lineSpacing() + self.buttons.sizeHint().height() + 40
        room = min(room, total // 2)  # a small screen keeps half for the plot, until a result needs more
        room = min(max(room, self._need), total - PLOT_MIN)
        if room > 0 and room != self.split.sizes()[1]:
            self.split.setSizes([total - room, room])

    def _room_kept(self, *_) -> None:
        self._room_made = True

    def _room_for(self, html: str | None = None) -> int:
        """Pixels the result panel needs to show its text (or `html`) whole at its present width."""
        return self.summary.height_for(max(200, self.summary.width()), html) + self.buttons.sizeHint().height() + 40

    def _grow_to(self, need: int) -> None:
        """The result panel at least `need` pixels high (the plot keeps at least PLOT_MIN)."""
        sizes = self.split.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        room = min(max(need, sizes[1]), total - PLOT_MIN)
        if room > sizes[1]:
            self.split.setSizes([total - room, room])

    def _reserve(self, table) -> None:
        """Once a folder is read, room for the result a training on it will show (summary.likely_html),
        made now: so that when the result arrives nothing moves, and the plot is not drawn again whole."""
        if table is None or table == self._need_for or self.state.training.running:
            return
        self._need_for = table
        if self._room_made:
            self._need = self._room_for(likely_html(table))
            self._grow_to(self._need)
        else:
            self._make_room()

    def _fit_summary(self) -> None:
        """Give the result the room it needs (the plot keeps at least PLOT_MIN), so the whole summary
        shows without scrolling even on a 1366 x 768 laptop screen. The room made for the folder
        (_reserve) is usually enough already, and then nothing moves."""
        self._grow_to(self._room_for())

    def _steps(self, summary, steps: list) -> None:
        """Run `steps` one after the other, while `summary` is the result shown: each STEP_MS after
        the window has done what the one before asked of it (its layout and repaint come after it
        returns; counted from the call, a step that took 35 ms with them left no moment between)."""
        def run() -> None:
            if summary is self._shown and steps:
                steps.pop(0)()
                if steps:
                    after_the_window(run)

        def after_the_window(fn) -> None:  # a 0 ms timer runs once the events posted before it are done
            QTimer.singleShot(0, self, lambda: QTimer.singleShot(STEP_MS, self, fn))  # dropped if this widget is gone
        after_the_window(run)

    def expect_epochs(self, epochs: int) -> None:
        """The epochs the next training may run, as the options say: while no curve is drawn the
        axis is set for them now, so that pressing Train does not redraw the axes and their grid
        (20 to 40 ms here) at the moment the window should answer."""
        if not self.state.training.running and not self.plot.point_count():
            self.plot.plan(epochs)

    def add_tab(self, widget: QWidget, title: str) -> int:
        return self.tabs.addTab(widget, title)

    def set_buttons(self, enabled: bool) -> None:
        self.save_button.setEnabled(enabled)
        self.try_button.setEnabled(enabled)

    def show_training(self) -> None:
        t = self.state.training
        if t.running:
            if not t.epochs and self.plot.point_count():
                self.plot.clear_points()
            self.plot.plan(t.planned_epochs)
            self.summary.setText("<p>Training… the result will appear here.</p>")
        elif t.outcome == "ok" and t.summary is not None and t.summary is not self._shown and \
                _same(t.summary.folder, self.state.folder.path):
            self._shown = t.summary
            self._room_made = True
            self.plot.flush()
            self.summary.setText(summary_html(t.summary))
            # The room for the summary, then the grid, the figures and the mistakes, each STEP_MS
            # after the window has done what the one before asked of it, so that it draws (and
            # answers) in between: done at once, the end of a training held the window for 60 to
            # 120 ms (the splitter's new sizes alone redraw the plot). Timers of 0 ms would all run
            # before a repaint.
            self._steps(t.summary, [self._fit_summary, lambda shown=t.summary: self.where.show_evaluation(
                shown.evaluation, model_keys.TRAINED)])
        elif t.outcome in ("stopped", "error", "nothing"):
            self.plot.show_epochs(t.summary_epochs)  # the last good run, as it was
            if t.summary is not None:
                self.summary.setText(summary_html(t.summary))
            elif t.outcome == "stopped":
                self.summary.setText("<p>Training was stopped before it finished; there is no new model.</p>")
            else:
                self.summary.setText(INTRO)


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and Path(a).expanduser() == Path(b).expanduser()
