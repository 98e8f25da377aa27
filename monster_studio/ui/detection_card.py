"""One picture looked at by a COCO detector: the picture with the found things boxed, how many
there are, and each with its score (a bar in the colour of its box)."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel

from monster_studio.app.pictures import box_colour
from monster_studio.ui.prediction_card import PredictionCard
from monster_studio.ui.style import role, set_prop

LISTED = 5  # rows on a card; the rest are counted


class DetectionCard(PredictionCard):
    def show_result(self, answer) -> None:
        """A results.Answer of a detector: the things found, or the reason the picture was skipped."""
        self.result = answer
        r = answer.result
        self._show_thumb(answer.thumb)
        if not hasattr(r, "found"):
            self._show_skipped(r.reason, "Not looked at")
            return
        set_prop(self, "state", "done")
        found = r.found
        n = len(found)
        self.verdict.setText(f"{n} thing{'s' if n != 1 else ''} found" if n else "Nothing found")
        if not n:
            none = QLabel("Nothing it knows was found with enough confidence.")
            none.setWordWrap(True)
            role(none, "hint")
            self._grid.addWidget(none, 0, 0, 1, 2)
        for row, f in enumerate(found[:LISTED]):
            self._add_row(row, f.label, f.score, f"{f.label}: {f.score * 100:.1f}% confident",
                          swatch=box_colour(f.label))
        if n > LISTED:
            more = QLabel(f"and {n - LISTED} more")
            role(more, "hint")
            self._grid.addWidget(more, LISTED, 0, 1, 2)
        self._say_model(r.model)
