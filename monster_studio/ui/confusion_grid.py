"""The confusion matrix as a coloured grid: one row per true class, one column per class the model
said; the diagonal (right) in green, the rest (mistakes) in red, deeper for a larger share of the
row. Clicking a cell asks for the pictures in it."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from monster_studio.core.wording import plural, visible


def _blend(colour: tuple[int, int, int], share: float) -> QColor:
    """White for 0, the colour itself for 1."""
    share = max(0.0, min(1.0, share))
    return QColor(*(round(255 - (255 - c) * share) for c in colour))


GREEN, RED = (46, 125, 50), (179, 38, 30)


class ConfusionGrid(QTableWidget):
    cellChosen = Signal(int, int)  # true class index, predicted class index

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("Rows: what each picture really is. Columns: what the model said. Click a cell to see "
                        "its pictures.")
        self.cellClicked.connect(lambda r, c: self.cellChosen.emit(r, c))

    def show_matrix(self, classes: list[str], confusion: list[list[int]]) -> None:
        n = len(classes)
        self.clear()
        self.setRowCount(n)
        self.setColumnCount(n)
        names = [visible(c) for c in classes]
        self.setHorizontalHeaderLabels(names)
        self.setVerticalHeaderLabels(names)
        for i, name in enumerate(names):
            self.horizontalHeaderItem(i).setToolTip(f"what the model said: {name}")
            self.verticalHeaderItem(i).setToolTip(f"what the picture is: {name}")
        for i, row in enumerate(confusion):
            total = sum(row)
            for j, count in enumerate(row):
                item = QTableWidgetItem(str(count) if count else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = count / total if total else 0.0
                item.setBackground(_blend(GREEN if i == j else RED, share * (0.85 if i == j else 1.6)))
                if share > 0.55:
                    item.setForeground(QColor("white"))
                verdict = "right" if i == j else f"called {names[j]}"
                item.setToolTip(f"{plural(count, 'picture')} of {names[i]} {verdict}"
                                + (f" ({share * 100:.0f}% of {names[i]})" if total else ""))
                self.setItem(i, j, item)
