"""The live training plot: training and validation loss above, validation accuracy below, one
point per epoch, growing as epochs end. Redraws are batched: cached features can finish dozens of
epochs within a few milliseconds, and one redraw per burst is enough for the eye.

The x axis shows the epochs a training may run from its start (beyond them, it grows in steps of 5,
10, 20, 30, 50...), the loss axis grows in steps (0.5, 0.75, 1, 1.5, 2, 3...), not with every
epoch, and each axis keeps its drawing (grid included) as a picture: a new epoch then redraws the
curves, not the axes and their grid (which were most of a redraw's 20 to 30 ms)."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem

from monster_studio.ui import style


def _pen(colour: str, width: float = 2.2, dash: bool = False):
    pen = pg.mkPen(QColor(colour), width=width)
    if dash:
        from PySide6.QtCore import Qt

        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


DOTS_UP_TO = 30  # epochs drawn with a dot each
EPOCH_STEPS = (5, 10, 20, 30, 50, 100, 200, 300, 500, 1000)
LOSS_STEPS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0)


def epoch_span(epochs: int) -> int:
    """How many epochs the x axis shows: the next step at or above `epochs`."""
    return next((s for s in EPOCH_STEPS if s >= epochs), epochs)


def loss_top(largest: float) -> float:
    """The top of the loss axis: the next step above the largest loss (a little room above it)."""
    if not math.isfinite(largest) or largest <= 0:
        return 1.0
    need = min(largest * 1.05, 1e300)
    scale = 1.0
    while LOSS_STEPS[-1] * scale < need:  # a diverging training: the same steps, ten times larger
        scale *= 10.0
    return next(s * scale for s in LOSS_STEPS if s * scale >= need)


class LossPlot(pg.GraphicsLayoutWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumSize(300, 160)
        self.ci.layout.setSpacing(4)
        self.ci.setContentsMargins(6, 6, 10, 6)
        axis_pen = pg.mkPen(QColor(style.MUTED))
        font = QFont()
        font.setPointSizeF(8.5)

        self.loss = self.addPlot(row=0, col=0)
        self.accuracy = self.addPlot(row=1, col=0)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        for plot, label in ((self.loss, "loss"), (self.accuracy, "accuracy %")):
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            for name in ("left", "bottom"):
                ax = plot.getAxis(name)
                ax.setPen(axis_pen)
                ax.setTextPen(axis_pen)
                ax.setTickFont(font)
                ax.enableAutoSIPrefix(False)  # "loss (x0.001)" with ticks at 300 reads as nonsense
            plot.setLabel("left", label, color=style.MUTED)
            for name in ("left", "bottom"):  # redrawn only when its range or ticks change
                plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.loss.disableAutoRange()
        self.accuracy.setLabel("bottom", "epoch", color=style.MUTED)
        self.accuracy.setXLink(self.loss)
        self.accuracy.setYRange(-4, 112, padding=0)
        self.accuracy.getAxis("left").setStyle(hideOverlappingLabels=False)
        self.accuracy.getAxis("left").setTicks([[(v, f"{v}") for v in (0, 25, 50, 75, 100)]])
        self.loss.getAxis("bottom").setStyle(showValues=False)
        legend = self.loss.addLegend(offset=(-10, 8), labelTextColor=style.INK, brush=pg.mkBrush(255, 255, 255, 210))
        legend.setLabelTextSize("8.5pt")
        self.train_curve = self.loss.plot([], [], pen=_pen(style.TRAIN_LOSS), name="training loss",
                                          symbol="o", symbolSize=4, symbolBrush=style.TRAIN_LOSS,
                                          symbolPen=None, connect="finite")
        self.val_curve = self.loss.plot([], [], pen=_pen(style.VAL_LOSS), name="validation loss",
                                        symbol="o", symbolSize=4, symbolBrush=style.VAL_LOSS,
                                        symbolPen=None, connect="finite")
        acc_legend = self.accuracy.addLegend(offset=(-10, -8), labelTextColor=style.INK,
                                             brush=pg.mkBrush(255, 255, 255, 210))
        acc_legend.setLabelTextSize("8.5pt")
        self.acc_curve = self.accuracy.plot([], [], pen=_pen(style.VAL_ACCURACY), name="validation accuracy",
                                            symbol="o", symbolSize=4, symbolBrush=style.VAL_ACCURACY,
                                            symbolPen=None, connect="finite")
        self._marks: list = []
        self._dots = True
        self._span: int | None = None  # the x axis's epochs, and the loss axis's top, as drawn
        self._top: float | None = None
        self._drawn: tuple | None = None  # (points, marks, planned epochs) of the last redraw
        self._planned = 0  # epochs the running training may run (see plan)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self.flush)
        self.clear_points()

    def plan(self, epochs: int) -> None:
        """The epochs the coming training may run: the x axis is set for them at once, so that it
        does not change (and redraw) as the epochs arrive."""
        self._planned = max(0, int(epochs))
        self.flush()

    def clear_points(self) -> None:
        self.x: list[int] = []
        self.train_loss: list[float] = []
        self.val_loss: list[float] = []
        self.val_accuracy: list[float] = []
        self._stage = "head"
        for mark in self._marks:
            self.loss.removeItem(mark)
        self._marks = []
        self.flush()

    def add_epoch(self, e) -> None:
        """One more point per curve: an EpochEnd (core.events); fine-tuning epochs follow the head's."""
        step = len(self.x) + 1
        if e.stage != self._stage:
            self._stage = e.stage
            line = pg.InfiniteLine(pos=step - 0.5, angle=90, pen=_pen(style.MUTED, 1, dash=True),
                                   label="fine-tuning ", labelOpts={"position": 0.55, "color": style.INK,
                                                                  "anchors": [(1, 0.5), (1, 0.5)]})
            self.loss.addItem(line)
            self._marks.append(line)
        self.x.append(step)
        self.train_loss.append(_finite(e.train_loss))
        self.val_loss.append(_finite(e.val_loss))
        self.val_accuracy.append(_finite(e.val_accuracy) * 100)
        if not self._timer.isActive():
            self._timer.start()

    def show_epochs(self, epochs: list) -> None:
        """Draw a whole run again (the last good one, after a failed or stopped training)."""
        self.clear_points()
        for e in epochs:
            self.add_epoch(e)
        self.flush()

    def flush(self) -> None:
        self._timer.stop()
        drawing = (len(self.x), len(self._marks), self._planned)
        if drawing == self._drawn:
            return  # nothing new since the last redraw
        self._drawn = drawing
        dots = len(self.x) <= DOTS_UP_TO
        if dots != self._dots:  # a dot per epoch while they can be told apart; then lines alone,
            self._dots = dots  # which also draw several times faster
            for curve in (self.train_curve, self.val_curve, self.acc_curve):
                curve.setSymbol("o" if dots else None)
        self.train_curve.setData(self.x, self.train_loss)
        self.val_curve.setData(self.x, self.val_loss)
        self.acc_curve.setData(self.x, self.val_accuracy)
        last = self.x[-1] if self.x else 0
        span = self._planned if self._planned and last <= self._planned else epoch_span(last)  # planned: to the end
        if span != self._span:
            self._span = span
            self.loss.setXRange(0.5, span + 0.5, padding=0)
            step = next((s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500) if span / s <= 10), max(1, span // 10))
            ticks = [(v, str(v)) for v in range(step, span + 1, step)]
            for plot in (self.loss, self.accuracy):
                plot.getAxis("bottom").setTicks([ticks, []])
        losses = [v for v in self.train_loss + self.val_loss if v == v]
        top = loss_top(max(losses)) if losses else self._top or 1.0  # no points: the axis stays as it was
        if top != self._top:
            self._top = top
            self.loss.setYRange(0, top, padding=0)

    def point_count(self) -> int:
        """Points drawn per curve (after any pending redraw)."""
        if self._timer.isActive():
            self._timer.stop()
            self.flush()
        data = self.train_curve.getData()[0]
        return 0 if data is None else len(data)


def _finite(v) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan
