"""What the window redraws while work runs: lines of progress that do not lay out the page again,
and a loss plot whose axes stay put while epochs arrive (a redraw of the axes, or a new layout of
the page, was what held the window for 30 to 60 ms)."""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from monster_studio.core.events import EpochEnd
from monster_studio.ui.loss_plot import LossPlot, epoch_span, loss_top
from monster_studio.ui.status_line import StatusLine


class LayoutRequests(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _row(qtbot, line) -> tuple[QWidget, LayoutRequests]:
    page = QWidget()
    row = QHBoxLayout(page)
    row.addWidget(line, 1)
    qtbot.addWidget(page)
    page.resize(300, 40)
    page.show()
    qtbot.waitExposed(page)
    qtbot.wait(20)
    return page, LayoutRequests(page)


def test_a_status_line_changes_without_laying_out_its_page(qtbot):
    line = StatusLine("Ready", room_for="Looking at each picture once")
    _, requests = _row(qtbot, line)
    for i in range(20):
        line.setText(f"{i * 37} of 740 pictures · about {60 - i} s left")
        qtbot.wait(1)
    assert requests.count == 0 and line.text().startswith("703 of 740")
    label = QLabel("Ready")  # the same changes to a QLabel lay the page out again: what this avoids
    _, label_requests = _row(qtbot, label)
    for i in range(20):
        label.setText(f"{i * 37} of 740 pictures · about {60 - i} s left")
        qtbot.wait(1)
    assert label_requests.count > 0


def test_a_status_line_too_long_for_its_width_has_the_whole_text_as_tooltip(qtbot):
    line = StatusLine()
    page, _ = _row(qtbot, line)
    line.setText("short")
    assert line.toolTip() == ""
    long = "Looking at each picture once (features) in a folder with a very long name indeed " * 3
    line.setText(long)
    assert line.toolTip() == long
    grabbed = line.grab()
    assert not grabbed.isNull() and grabbed.width() == line.width()


def _epoch(i: int, loss: float) -> EpochEnd:
    return EpochEnd(epoch=i, epochs=40, stage="head", train_loss=loss, val_loss=loss * 1.2, val_accuracy=0.5 + i / 100)


def test_the_plot_axes_stay_put_while_the_planned_epochs_arrive(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 320)
    plot.show()
    qtbot.waitExposed(plot)
    plot.plan(40)
    ranges = set()
    for i in range(1, 41):
        plot.add_epoch(_epoch(i, 1.0 / i))
        plot.flush()
        (x0, x1), (y0, y1) = plot.loss.viewRange()
        ranges.add((round(x0, 3), round(x1, 3), round(y0, 3), round(y1, 3)))
    assert ranges == {(0.5, 40.5, 0.0, 1.5)}  # 1.2, the largest loss, under the step of 1.5
    assert plot.point_count() == 40
    for i in range(41, 61):  # a longer run than planned: the axis grows by a step, not by an epoch
        plot.add_epoch(_epoch(i, 0.01))
    plot.flush()
    assert plot.loss.viewRange()[0] == [0.5, 100.5]


def test_axis_steps():
    assert [epoch_span(n) for n in (0, 1, 5, 6, 13, 40, 51, 1000, 1200)] == [5, 5, 5, 10, 20, 50, 100, 1000, 1200]
    assert loss_top(0.69) == 0.75 and loss_top(1.2) == 1.5 and loss_top(9.9) == 15.0 and loss_top(1e308) >= 1e300
    assert loss_top(float("nan")) == 1.0 and loss_top(0.0) == 1.0 and loss_top(-3) == 1.0
    big = loss_top(3.4e6)
    assert math.isfinite(big) and big >= 3.4e6 * 1.05 and big <= 3.4e6 * 3


def test_a_plot_without_a_plan_shows_five_epochs_at_least(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.flush()
    assert plot.loss.viewRange()[0] == [0.5, 5.5]
    plot.show_epochs([_epoch(i, 0.5) for i in range(1, 8)])
    assert plot.loss.viewRange()[0] == [0.5, 10.5] and plot.point_count() == 7


def test_the_plan_sets_the_axis_before_the_first_epoch_and_any_length_is_drawn(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.plan(40)
    assert plot.loss.viewRange()[0] == [0.5, 40.5]
    plot.plan(12000)  # an absurd number of epochs still gets an axis with ticks
    assert plot.loss.viewRange()[0] == [0.5, 12000.5]
    plot.add_epoch(_epoch(1, 0.3))
    assert plot.point_count() == 1
