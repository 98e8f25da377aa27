"""Every answer of the current model as a row (file, class, confidence, runner-up, folder), sortable
and filterable, exported as the one classification CSV the command line writes too. Rows arrive in
bursts; they are added in batches, at most FILL_ROWS at a time, to keep the window smooth. A table of kind "objects" holds a
detector's answers instead: the things found in each picture."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel

from monster_studio.core import wording
from monster_studio.core.wording import visible

COLUMNS = ("File", "Class", "Confidence", "Runner-up", "Right?", "Not sure", "Folder", "Note", "Model")
OBJECT_COLUMNS = ("File", "Things found", "Count", "Folder", "Note", "Model")
SORT_ROLE = Qt.ItemDataRole.UserRole
LISTED_THINGS = 10  # a row names this many things at most, then says how many more


def things_text(found: list) -> str:
    """'person 92%, dog 81%'; 'nothing found' for none."""
    if not found:
        return "nothing found"
    text = ", ".join(f"{visible(f.label)} {f.score * 100:.0f}%" for f in found[:LISTED_THINGS])
    more = len(found) - LISTED_THINGS
    return text + (f" and {more} more" if more > 0 else "")


_ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled  # read, never edited
_TEXT_SORTED = frozenset(("File", "Folder", "Note", "Model", "Class", "Things found"))  # sorted by their text
FILL_ROWS = 200  # rows written into the model at a time (about 15 ms); the rest a moment later


def is_skipped(answer) -> bool:
    return not hasattr(answer.result, "top") and not hasattr(answer.result, "found")


class ResultsModel(QStandardItemModel):
    """The answers, each cell written once as Qt's own item (text, number to sort by, tooltip):
    a repaint then asks Python nothing. With a Python model each repaint of the table made 1,800
    calls into Python (11 ms against 4 ms for the same cells), each waiting for the interpreter
    while a job ran Python of its own."""

    def __init__(self, parent=None, kind: str = "classes") -> None:
        super().__init__(0, len(OBJECT_COLUMNS if kind == "objects" else COLUMNS), parent)
        self.kind = kind  # "classes" (a classifier's answers) or "objects" (a detector's)
        self.columns = OBJECT_COLUMNS if kind == "objects" else COLUMNS
        self.setHorizontalHeaderLabels(list(self.columns))
        self.rows: list = []  # [results.Answer], in the model's rows
        self.classes: list[str] = []  # the model's classes: a picture in a folder named after one is labeled
        self._stats: list[tuple] = []  # per row, what the counts line adds up (see stats)
        self._pending: list = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(100)  # a repaint a batch: fewer, larger batches keep it smooth
        self._flush_timer.timeout.connect(self._fill_some)

    # -- filling
    def append(self, answer) -> None:
        self._pending.append(answer)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Every pending answer into the table now."""
        self._flush_timer.stop()
        while self._pending:
            self._fill(FILL_ROWS)

    def _fill_some(self) -> None:
        self._fill(FILL_ROWS)
        if self._pending:  # many at once (an earlier session shown again): the next part once the window has drawn
            QTimer.singleShot(0, self, lambda: self._flush_timer.start(0))

    def _fill(self, limit: int) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending[:limit], self._pending[limit:]
        first = len(self.rows)
        self.rows.extend(batch)
        self.insertRows(first, len(batch))  # one insertion for the batch, then its cells, then one change
        blocked = self.blockSignals(True)
        try:
            for row, answer in enumerate(batch, first):
                path = Path(answer.result.path)  # once a row, not once a cell
                for col, name in enumerate(self.columns):
                    self.setItem(row, col, self._item(name, answer, path))
        finally:
            self.blockSignals(blocked)
        self.dataChanged.emit(self.index(first, 0), self.index(first + len(batch) - 1, len(self.columns) - 1))

    def _item(self, name: str, answer, path: Path | None = None) -> QStandardItem:
        r, skipped = answer.result, is_skipped(answer)
        path = path or Path(r.path)
        text = self._value(name, r, skipped, False, path)
        item = QStandardItem(text)
        item.setFlags(_FLAGS)
        value = text if name in _TEXT_SORTED else self._value(name, r, skipped, True, path)
        item.setData(value, SORT_ROLE)
        item.setToolTip(r.reason if skipped else visible(r.path) + (f"\nanswered by {visible(r.model)}" if r.model else ""))
        if skipped:
            item.setForeground(QColor("#b3261e"))
        elif name in ("Confidence", "Count"):
            item.setData(_ALIGN_RIGHT, Qt.ItemDataRole.TextAlignmentRole)
        return item

    def clear(self) -> None:
        self._pending.clear()
        self._flush_timer.stop()
        self.beginResetModel()
        blocked = self.blockSignals(True)
        try:
            self.setRowCount(0)
        finally:
            self.blockSignals(blocked)
        self.rows.clear()
        self._stats.clear()
        self.endResetModel()

    def set_classes(self, classes: list[str]) -> None:
        """The chosen model's classes: pictures in folders named after them are marked right or wrong."""
        self.classes = list(classes)
        self._stats.clear()
        if "Right?" not in self.columns or not self.rows:
            return
        col = self.columns.index("Right?")
        blocked = self.blockSignals(True)
        try:
            for row, answer in enumerate(self.rows):
                self.setItem(row, col, self._item("Right?", answer))
        finally:
            self.blockSignals(blocked)
        self.dataChanged.emit(self.index(0, col), self.index(len(self.rows) - 1, col))

    def has_rows(self) -> bool:
        return bool(self.rows or self._pending)

    def stats(self, row: int) -> tuple[bool, tuple, bool, bool, bool]:
        """(skipped, the labels it counts for, unsure, its folder names a class, right) of one row,
        worked out once: the counts line adds these up after every batch of new rows."""
        while len(self._stats) <= row:
            a = self.rows[len(self._stats)]
            r = a.result
            if is_skipped(a):
                self._stats.append((True, (), False, False, False))
                continue
            labels = tuple(f.label for f in r.found) if hasattr(r, "found") else (r.top[0][0],)
            truth = self.truth(r) if hasattr(r, "top") else None
            self._stats.append((False, labels, bool(getattr(r, "unsure", False)), truth is not None,
                                truth is not None and truth == r.top[0][0]))
        return self._stats[row]

    def truth(self, r) -> str | None:
        """The class the picture's folder names, if it names one the model knows."""
        from monster_studio.core.evaluate import label_from_folder

        return label_from_folder(r.path, self.classes) if self.classes else None

    def _value(self, name: str, r, skipped: bool, sort: bool, path: Path):
        if name == "File":
            return visible(path.name)
        if name == "Folder":
            return visible(str(path.parent))
        if name == "Note":
            return r.reason if skipped else ""
        if name == "Model":
            return visible(getattr(r, "model", "") or "")
        if skipped:
            return -1.0 if sort and name in ("Confidence", "Count", "Runner-up", "Right?", "Not sure") else (
                "(not classified)" if name in ("Class", "Things found") else "")
        if name == "Things found":
            return things_text(r.found)
        if name == "Count":
            return len(r.found) if sort else str(len(r.found))
        if name == "Right?":
            truth = self.truth(r)
            if truth is None:
                return -1 if sort else ""
            right = truth == r.top[0][0]
            return int(right) if sort else ("✓ right" if right else f"✗ is {visible(truth)}")
        if name == "Not sure":
            return (1 if r.unsure else 0) if sort else (r.unsure_reason if r.unsure else "")
        if name == "Class":
            return visible(r.top[0][0])
        if name == "Confidence":
            return r.top[0][1] if sort else f"{r.top[0][1] * 100:.1f}%"
        if name == "Runner-up":
            if len(r.top) < 2:
                return -1.0 if sort else ""
            label, p = r.top[1]
            return p if sort else f"{visible(label)} ({p * 100:.0f}%)"
        return None

    # -- counts and export
    def counts(self) -> dict[str, int]:
        """Pictures per class; for a detector's table, things found per kind."""
        out: dict[str, int] = {}
        for a in self.rows:
            r = a.result
            labels = [f.label for f in r.found] if hasattr(r, "found") else [r.top[0][0]] if hasattr(r, "top") else []
            for label in labels:
                out[label] = out.get(label, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def write_csv(self, path: str | Path) -> int:
        """The same CSV as `monster-studio classify --csv` (or, for a detector, one row per picture
        with every thing found); atomic, and safe to open in a spreadsheet."""
        self.flush()
        if self.kind == "objects":
            return wording.write_csv(path, wording.detection_header(),
                                     (wording.detection_row(a.result) for a in self.rows))
        k = max((len(a.result.top) for a in self.rows if hasattr(a.result, "top")), default=1)
        return wording.write_csv(path, wording.classification_header(k),
                                 (wording.classification_row(a.result, k) for a in self.rows))


class ResultsProxy(QSortFilterProxyModel):
    """Sorts by the numbers behind the text; the filter matches file, class and folder, and can
    keep only the answers the model was not sure of."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.only_unsure = False
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setDynamicSortFilter(True)

    def set_only_unsure(self, only: bool) -> None:
        self.only_unsure = only
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 - Qt's name
        if self.only_unsure:
            answer = self.sourceModel().rows[row]
            if not getattr(answer.result, "unsure", False):
                return False
        return super().filterAcceptsRow(row, parent)
