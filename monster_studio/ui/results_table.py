"""Every answer of the current model as a row (file, class, confidence, runner-up, folder), sortable
and filterable, exported as the one classification CSV the command line writes too. Rows arrive in
bursts; they are added in batches to keep the window smooth. A table of kind "objects" holds a
detector's answers instead: the things found in each picture."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QColor

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


_ROLES = frozenset((Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ForegroundRole))
_MISSING = object()


def is_skipped(answer) -> bool:
    return not hasattr(answer.result, "top") and not hasattr(answer.result, "found")


class ResultsModel(QAbstractTableModel):
    def __init__(self, parent=None, kind: str = "classes") -> None:
        super().__init__(parent)
        self.kind = kind  # "classes" (a classifier's answers) or "objects" (a detector's)
        self.columns = OBJECT_COLUMNS if kind == "objects" else COLUMNS
        self.rows: list = []  # [results.Answer]
        self.classes: list[str] = []  # the model's classes: a picture in a folder named after one is labeled
        self._cells: dict[tuple[int, int, bool], object] = {}  # (row, column, for sorting) -> value
        self._stats: list[tuple] = []  # per row, what the counts line adds up (see stats)
        self._pending: list = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(100)  # a repaint a batch: fewer, larger batches keep it smooth
        self._flush_timer.timeout.connect(self.flush)

    # -- filling
    def append(self, answer) -> None:
        self._pending.append(answer)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(batch) - 1)
        self.rows.extend(batch)
        self.endInsertRows()

    def clear(self) -> None:
        self._pending.clear()
        self.beginResetModel()
        self.rows.clear()
        self._cells.clear()
        self._stats.clear()
        self.endResetModel()

    def set_classes(self, classes: list[str]) -> None:
        """The chosen model's classes: pictures in folders named after them are marked right or wrong."""
        self.classes = list(classes)
        self._cells.clear()
        self._stats.clear()
        self.layoutChanged.emit()

    def has_rows(self) -> bool:
        return bool(self.rows or self._pending)

    # -- Qt model
    def rowCount(self, parent=None) -> int:  # noqa: N802 - Qt's names
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent=None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        # Called for every visible cell and role at each repaint, and for every column of each new
        # row by the filter: the roles this model has nothing for leave first, the values are kept.
        if role not in _ROLES or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            key = (row, col, role == SORT_ROLE)
            value = self._cells.get(key, _MISSING)
            if value is _MISSING:
                a = self.rows[row]
                value = self._cells[key] = self._value(self.columns[col], a.result, is_skipped(a), key[2])
            return value
        a = self.rows[row]
        r = a.result
        name = self.columns[col]
        skipped = is_skipped(a)
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.reason if skipped else visible(r.path) + (f"\nanswered by {visible(r.model)}" if r.model else "")
        if role == Qt.ItemDataRole.TextAlignmentRole and name in ("Confidence", "Count") and not skipped:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and skipped:
            return QColor("#b3261e")
        return None

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

    def _value(self, name: str, r, skipped: bool, sort: bool):
        path = Path(r.path)
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
