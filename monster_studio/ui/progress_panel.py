"""One progress bar for what a page is waiting for: the phase in words, how far, the time left.
It draws the page's part of the app state (`state.jobs.progress[owner]`) and nothing else."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QVBoxLayout, QWidget

from monster_studio.core.wording import amount, eta_text
from monster_studio.ui.status_line import StatusLine
from monster_studio.ui.style import MUTED


class ProgressPanel(QWidget):
    def __init__(self, jobs=None, owner: str = "", parent=None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        row = QHBoxLayout()
        # Lines whose size does not follow their words: a new phase or time left repaints them
        # alone instead of laying out the page again (see status_line).
        self.words = StatusLine("Ready", bold=True, room_for="Looking at each picture once (features)…")
        row.addWidget(self.words, 3)
        self.eta = StatusLine(align=Qt.AlignmentFlag.AlignRight, colour=MUTED,
                              room_for="1,234 of 12,345 pictures · about 12 min left")
        row.addWidget(self.eta, 2)
        box.addLayout(row)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        box.addWidget(self.bar)
        self.phase = ""
        self._since = time.monotonic()
        # While a phase gives no figures (loading, reading a folder), say how long it has run.
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        self._jobs, self._owner = jobs, owner
        if jobs is not None:
            jobs.progressChanged.connect(lambda who: who == owner and self.show_state(jobs.progress[owner]))
            self.show_state(jobs.progress[owner])

    def show_state(self, p) -> None:
        self.phase = p.phase if p.active else ""
        if not p.active:
            self._clock.stop()
            self.words.setText(p.text)
            self.eta.setText("")
            self.bar.setRange(0, 1000)
            self.bar.setValue(1000 if p.full else 0)
            return
        self.words.setText(p.text + "…")
        self._since = p.since
        if not p.total:
            self.bar.setRange(0, 0)  # busy until the first figures arrive
            self.eta.setText("")
            self._clock.start()
            return
        self._clock.stop()
        # QProgressBar holds ints; download bytes can pass 2**31, so scale to per mille
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * min(p.done, p.total) / p.total))
        self.eta.setText(" · ".join(s for s in (amount(p.unit, p.done, p.total), eta_text(p.seconds_left)) if s))

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._since
        if self.bar.maximum() == 0 and elapsed >= 2:
            self.eta.setText(f"{elapsed:.0f} s so far")
