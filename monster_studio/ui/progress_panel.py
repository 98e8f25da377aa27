"""One progress bar for whatever is running, with the phase in words and the time left."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from monster_studio.ui.style import role
from monster_studio.worker import eta_text


def amount(phase: str, done, total) -> str:
    if not total:
        return ""
    done, total = int(done), int(total)
    if phase == "download":
        return f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"
    if phase == "train":
        return f"epoch {done} of {total}"
    if phase == "finetune":  # counted in steps (decoding, batches), which mean nothing to a user
        return f"{100 * done // total}%"
    return f"{done} of {total}"


class ProgressPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        row = QHBoxLayout()
        self.words = QLabel("Ready")
        self.words.setStyleSheet("font-weight: 600;")
        row.addWidget(self.words, 1)
        self.eta = QLabel()
        role(self.eta, "hint")
        self.eta.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.eta)
        box.addLayout(row)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        box.addWidget(self.bar)
        self.phase = ""
        self.text = ""
        self._since = 0.0
        # While a phase gives no figures (loading, reading a folder), say how long it has run.
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)

    def set_phase(self, name: str, text: str) -> None:
        self.phase, self.text = name, text
        self.words.setText(text + "…")
        self.eta.setText("")
        self.bar.setRange(0, 0)  # busy until the first figures arrive
        self._since = time.monotonic()
        self._clock.start()

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._since
        if self.bar.maximum() == 0 and elapsed >= 2:
            self.eta.setText(f"{elapsed:.0f} s so far")

    def set_progress(self, phase: str, done, total, seconds_left) -> None:
        if not total:
            self.bar.setRange(0, 0)
            return
        self._clock.stop()
        # QProgressBar holds ints; download bytes can pass 2**31, so scale to per mille
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * min(done, total) / total))
        left = eta_text(seconds_left)
        self.eta.setText(" · ".join(s for s in (amount(phase, done, total), left) if s))

    def set_idle(self, text: str = "Ready", full: bool = False) -> None:
        self._clock.stop()
        self.phase = ""
        self.words.setText(text)
        self.eta.setText("")
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000 if full else 0)
