"""Every classified picture as a row (file, class, confidence, runner-up, folder), sortable and
filterable, with Export CSV. Rows arrive in bursts; they are added in batches to keep the window smooth.
A table of kind "objects" holds a detector's results instead: the things found in each picture."""
from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer

COLUMNS = ("File", "Class", "Confidence", "Runner-up", "Folder")
OBJECT_COLUMNS = ("File", "Things found", "Count", "Folder")
SORT_ROLE = Qt.ItemDataRole.UserRole
LISTED_THINGS = 10  # a row names this many things at most, then says how many more
# Excel on Windows reads a CSV as UTF-8 only when it starts with a byte-order mark. A file name that
# is not valid UTF-8 (Linux allows any bytes; Python hands them over as lone surrogates) is written
# back as the bytes it was made of, rather than stopping the export.
CSV_ENCODING = "utf-8-sig"
CSV_ERRORS = "surrogateescape"


def things_text(found: list[dict]) -> str:
    """'person 92%, dog 81%'; 'nothing found' for none."""
    if not found:
        return "nothing found"
    text = ", ".join(f"{f['label']} {f['score'] * 100:.0f}%" for f in found[:LISTED_THINGS])
    more = len(found) - LISTED_THINGS
    return text + (f" and {more} more" if more > 0 else "")


class ResultsModel(QAbstractTableModel):
    def __init__(self, parent=None, kind: str = "classes") -> None:
        super().__init__(parent)
        self.kind = kind  # "classes" (a classifier's results) or "objects" (a detector's)
        self.columns = OBJECT_COLUMNS if kind == "objects" else COLUMNS
        self.rows: list[dict] = []
        self._pending: list[dict] = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(40)
        self._flush_timer.timeout.connect(self.flush)

    # -- filling
    def append(self, result: dict) -> None:
        self._pending.append(result)
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
        self.endResetModel()

    # -- Qt model
    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        path = Path(r["path"])
        skipped = "reason" in r
        if self.kind == "objects" and col > 0:
            col = (0, 1, 2, 4)[col]  # Things found, Count, Folder: drawn like Class, Confidence, Folder
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            if col == 0:
                return path.name
            if col == 1:
                if skipped:
                    return "(not classified)"
                return things_text(r["found"]) if "found" in r else r["label"]
            if col == 2:
                if skipped:
                    return -1.0 if role == SORT_ROLE else r["reason"]
                if "found" in r:
                    return len(r["found"]) if role == SORT_ROLE else str(len(r["found"]))
                return r["confidence"] if role == SORT_ROLE else f"{r['confidence'] * 100:.1f}%"
            if col == 3:
                if skipped or len(r["top"]) < 2:
                    return ""
                label, p = r["top"][1]
                return p if role == SORT_ROLE else f"{label} ({p * 100:.0f}%)"
            if col == 4:
                return str(path.parent)
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.get("reason") or str(path)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2 and not skipped:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and skipped:
            from PySide6.QtGui import QColor

            return QColor("#b3261e")
        return None

    # -- export
    def counts(self) -> dict[str, int]:
        """Pictures per class; for a detector's table, things found per kind."""
        out: dict[str, int] = {}
        for r in self.rows:
            labels = [f["label"] for f in r["found"]] if "found" in r else [r["label"]] if "label" in r else []
            for label in labels:
                out[label] = out.get(label, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def write_csv(self, path: str | Path) -> int:
        self.flush()
        if self.kind == "objects":
            return self._write_objects_csv(path)
        top_n = max((len(r.get("top", [])) for r in self.rows), default=0)
        header = ["path", "class", "confidence"]
        for i in range(2, top_n + 1):
            header += [f"class_{i}", f"confidence_{i}"]
        header.append("note")
        with _replacing(path) as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in self.rows:
                if "reason" in r:
                    w.writerow([r["path"], "", ""] + [""] * (2 * max(0, top_n - 1)) + [r["reason"]])
                    continue
                row = [r["path"], r["label"], f"{r['confidence']:.4f}"]
                for label, p in r["top"][1:top_n]:
                    row += [label, f"{p:.4f}"]
                row += [""] * (len(header) - 1 - len(row))
                w.writerow(row + [""])
        return len(self.rows)

    def _write_objects_csv(self, path: str | Path) -> int:
        """One row per picture: how many things, and each as 'label score [x0 y0 x1 y1]' in the
        picture's own pixels."""
        with _replacing(path) as f:
            w = csv.writer(f)
            w.writerow(["path", "count", "found", "note"])
            for r in self.rows:
                if "reason" in r:
                    w.writerow([r["path"], "", "", r["reason"]])
                    continue
                found = "; ".join(f"{t['label']} {t['score']:.4f} [{' '.join(f'{v:.0f}' for v in t['box'])}]"
                                  for t in r["found"])
                w.writerow([r["path"], len(r["found"]), found, ""])
        return len(self.rows)


class _replacing:
    """A text file written next to `path` and put in its place only when complete: a failure half
    way (disk full, a name that cannot be written) leaves the previous file as it was."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __enter__(self):
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        try:
            self.file = os.fdopen(fd, "w", newline="", encoding=CSV_ENCODING, errors=CSV_ERRORS)
        except BaseException:
            os.close(fd)
            os.unlink(self.tmp)
            raise
        return self.file

    def __exit__(self, kind, value, tb) -> None:
        try:
            self.file.close()
            if kind is None:
                os.chmod(self.tmp, _new_file_mode(self.path))  # mkstemp's file is private to its owner
                os.replace(self.tmp, self.path)
        finally:
            if os.path.exists(self.tmp):
                os.unlink(self.tmp)


def _new_file_mode(path: Path) -> int:
    """The mode the file has, or the one a plain open() would give a new file (0o666 less the umask)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        pass
    umask = 0o022
    try:  # reading the umask through os.umask() would change it for every thread for a moment
        with open("/proc/self/status", encoding="ascii") as f:
            umask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, ValueError, StopIteration, IndexError):
        pass
    return 0o666 & ~umask


class ResultsProxy(QSortFilterProxyModel):
    """Sorts by the numbers behind the text; the filter matches file, class and folder."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setDynamicSortFilter(True)
