"""One classified picture: its thumbnail, the top guesses with confidence bars, the winner highlighted."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QImage, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QProgressBar, QSizePolicy, QToolButton, QVBoxLayout

from monster_studio.core.wording import visible
from monster_studio.ui.open_file import open_picture, picture_menu
from monster_studio.ui.style import role, set_prop

CARD_WIDTH = 220
THUMB = 196
TOP = 3


def elided(text: str, widget, width: int, mode=Qt.TextElideMode.ElideMiddle) -> str:
    return QFontMetrics(widget.font()).elidedText(text, mode, width)


class PredictionCard(QFrame):
    def __init__(self, path: str, parent=None) -> None:
        super().__init__(parent)
        self.path = path
        self.setObjectName("card")
        self.setProperty("state", "waiting")
        self.setFixedWidth(CARD_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setToolTip(visible(path))
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 10, 10, 10)
        box.setSpacing(6)
        self.picture = QLabel("…")
        self.picture.setFixedSize(THUMB, THUMB)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #f1eff7; border-radius: 6px; color: #8a84a0;")
        box.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        self.name = QLabel(elided(visible(Path(path).name), self, THUMB))
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        role(self.name, "hint")
        box.addWidget(self.name)
        self.verdict = QLabel("Waiting…")
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        box.addWidget(self.verdict)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(4)
        self._grid.setColumnStretch(1, 1)
        box.addLayout(self._grid)
        self.labels: list[str] = []
        self.bars: list[QProgressBar] = []
        self.result = None  # the results.Answer shown
        self.menu_extras: list = []  # see ClassifyPage.menu_extras
        # Heatmaps: `explain(card, label)` asks for one (set by the page); "Why?" shows it over the picture.
        self.explain = None
        self._thumb = None
        self.why = QToolButton()
        self.why.setText("Why?")
        self.why.setCheckable(True)
        self.why.setToolTip("Show what in the picture led to the answer (click a class below for that class)")
        self.why.toggled.connect(self._toggle_why)
        self.why.hide()
        box.insertWidget(1, self.why, 0, Qt.AlignmentFlag.AlignRight)

    def show_result(self, answer) -> None:
        """A results.Answer: the top guesses, or the reason the picture was skipped."""
        self.result = answer
        r = answer.result
        self._show_thumb(answer.thumb)
        if not hasattr(r, "top"):
            self._show_skipped(r.reason, "Not classified")
            return
        top = r.top[:TOP]
        unsure = getattr(r, "unsure", False)
        set_prop(self, "state", "unsure" if unsure else "done")
        if unsure:  # no bold winner: the headline says it cannot tell, and why
            self.verdict.setText("Not sure")
            self.verdict.setToolTip(r.unsure_reason)
            why = QLabel(r.unsure_reason.capitalize())
            why.setWordWrap(True)
            role(why, "hint")
            self.layout().insertWidget(self.layout().indexOf(self.verdict) + 1, why)
        else:
            self.verdict.setText(elided(visible(top[0][0]), self.verdict, THUMB, Qt.TextElideMode.ElideRight))
            self.verdict.setToolTip(visible(top[0][0]))
        for row, (label, prob) in enumerate(top):
            self._add_row(row, label, prob, f"{visible(label)}: {prob * 100:.1f}% confident", winner=not unsure)
        self._say_model(r.model)
        if self.explain is not None:
            self.why.show()

    def _say_model(self, name: str) -> None:
        if name:
            self.setToolTip(f"{visible(self.path)}\nanswered by {visible(name)}")

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's name
        open_picture(self.path)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        extra = [item for provider in self.menu_extras for item in provider(self.result)] if self.result else []
        picture_menu(self, self.path, extra).exec(event.globalPos())

    def _toggle_why(self, on: bool) -> None:
        if on and self.labels:
            self._why_for(self.labels[0])
        elif not on:
            self._show_thumb(self._thumb)

    def _why_for(self, label: str) -> None:
        if self.explain is not None and self.result is not None:
            self.why.blockSignals(True)
            self.why.setChecked(True)
            self.why.blockSignals(False)
            self.picture.setToolTip(f"Working out what led to {visible(label)}…")
            self.explain(self, label)

    def show_heatmap(self, image, label: str) -> None:
        if self.why.isChecked() and isinstance(image, QImage) and not image.isNull():
            self._set_picture(image)
            self.picture.setToolTip(f"Warm: where the picture led to {visible(label)}")

    def _show_thumb(self, thumb) -> None:
        self._thumb = thumb
        if isinstance(thumb, QImage) and not thumb.isNull():
            self._set_picture(thumb)

    def _set_picture(self, thumb) -> None:
        if isinstance(thumb, QImage) and not thumb.isNull():
            pm = QPixmap.fromImage(thumb).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation)
            self.picture.setPixmap(pm)

    def _show_skipped(self, reason: str, words: str) -> None:
        set_prop(self, "state", "skipped")
        self.picture.setText("✕")
        self.verdict.setText(words)
        set_prop(self.verdict, "state", "skipped")
        why = QLabel(reason.capitalize())
        why.setWordWrap(True)
        role(why, "hint")
        self._grid.addWidget(why, 0, 0, 1, 2)

    def _add_row(self, row: int, label: str, prob: float, tip: str, swatch: str = "", winner: bool = True) -> None:
        """One guess: its name and a bar; the first row is the winner. `swatch`: a colour shown
        before the name (the colour of its box on the picture)."""
        name = QLabel(elided(visible(label), self, 84 if swatch else 96, Qt.TextElideMode.ElideRight))
        name.setTextFormat(Qt.TextFormat.PlainText)
        if swatch:
            name.setTextFormat(Qt.TextFormat.RichText)
            name.setText(f'<span style="color:{swatch}">■</span> {html.escape(name.text())}')
        name.setToolTip(visible(label))
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(round(prob * 1000))
        bar.setFormat(f"{prob * 100:.0f}%" if prob >= 0.01 else "<1%")
        bar.setToolTip(tip)
        if row == 0 and winner:
            name.setStyleSheet("font-weight: 600;")
            role(bar, "winner")
        else:
            role(name, "hint")
            role(bar, "confidence")
        self._grid.addWidget(name, row, 0)
        self._grid.addWidget(bar, row, 1)
        self.labels.append(label)
        self.bars.append(bar)
        name.mousePressEvent = lambda event, label=label: self._why_for(label)  # a click on a class: its heatmap
