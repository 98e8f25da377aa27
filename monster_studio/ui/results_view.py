"""The Classify page's table: every answer of the current model, a filter, the counts (of what the
filter shows), and Export CSV. A classifier's and a detector's answers differ in kind; each has
its own table, and the one shown follows the chosen model."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QKeyCombination, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monster_studio.core.wording import plural, visible
from monster_studio.ui.inputs import ComboBox
from monster_studio.ui.open_file import open_picture, picture_menu
from monster_studio.ui.results_table import ResultsModel, ResultsProxy
from monster_studio.ui.style import SPACING, role


class ResultsView(QWidget):
    exportRequested = Signal()
    clearRequested = Signal()
    countsChanged = Signal()
    sessionChosen = Signal(int)  # -1: the current model's answers; i: earlier ones, state.results.previous[i]

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, SPACING, 0, 0)
        row = QHBoxLayout()
        self.history = ComboBox()
        self.history.setToolTip("Answers of earlier models are kept apart; choose one to look at them again")
        self.history.hide()
        self.history.currentIndexChanged.connect(lambda i: i >= 0 and self.sessionChosen.emit(self.history.itemData(i)))
        row.addWidget(self.history)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by file, class or folder")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAcceptDrops(False)
        self.filter.installEventFilter(self)  # Ctrl+E exports even while typing a filter
        row.addWidget(self.filter, 1)
        self.unsure_only = QCheckBox("Only “not sure”")
        self.unsure_only.setToolTip("Show only the pictures the model was not sure of")
        self.unsure_only.toggled.connect(lambda on: self.proxy.set_only_unsure(on))
        row.addWidget(self.unsure_only)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save every result as a spreadsheet file (Ctrl+E)")
        self.export_button.clicked.connect(self.exportRequested)
        row.addWidget(self.export_button)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove all results from the page")
        self.clear_button.clicked.connect(self.clearRequested)
        row.addWidget(self.clear_button)
        box.addLayout(row)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.counts_label.setTextFormat(Qt.TextFormat.PlainText)
        role(self.counts_label, "hint")
        box.addWidget(self.counts_label)
        self.menu_extras: list = []  # see ClassifyPage.menu_extras
        self.tables = {"classes": ResultsModel(self), "objects": ResultsModel(self, kind="objects")}
        self.model = self.tables["classes"]
        self.proxy = ResultsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._size_columns()
        self.table.doubleClicked.connect(lambda index: open_picture(self._answer_at(index).path))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        box.addWidget(self.table, 1)
        for model in self.tables.values():
            model.rowsInserted.connect(self.update_counts)
            model.modelReset.connect(self.update_counts)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):
            signal.connect(self.update_counts)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        # A line edit claims Ctrl+E for itself on X11 (emacs-style "end of line"); here it is Export.
        if watched is self.filter and event.type() == QEvent.Type.ShortcutOverride and \
                event.keyCombination() == QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_E):
            event.ignore()
            return True
        return super().eventFilter(watched, event)

    def _answer_at(self, index):
        return self.model.rows[self.proxy.mapToSource(index).row()]

    def _menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        if index.isValid():
            answer = self._answer_at(index)
            extra = [item for provider in self.menu_extras for item in provider(answer)]
            picture_menu(self.table, answer.path, extra).exec(self.table.viewport().mapToGlobal(pos))

    def _size_columns(self) -> None:
        widths = (220, 320, 60, 260, 200) if self.model.kind == "objects" else (200, 130, 85, 150, 90, 150, 230, 160)
        for col, width in enumerate(widths):
            self.table.setColumnWidth(col, width)

    def set_classes(self, classes: list[str]) -> None:
        """The chosen model's classes: pictures in folders named after them are marked right or wrong."""
        self.tables["classes"].set_classes(classes)

    def show_kind(self, kind: str) -> None:
        if self.model is self.tables[kind]:
            return
        self.model = self.tables[kind]
        self.proxy.setSourceModel(self.model)
        self.filter.setPlaceholderText(f"Filter by file, {'thing' if kind == 'objects' else 'class'} or folder")
        self._size_columns()
        self.update_counts()

    def clear(self) -> None:
        for model in self.tables.values():
            model.clear()

    def set_history(self, current: str, previous: list) -> None:
        """The current model's name and the earlier sessions (state.results.Session), newest first."""
        self.history.blockSignals(True)
        self.history.clear()
        self.history.addItem(f"Answers of {visible(current)}", -1)
        for i in reversed(range(len(previous))):
            session = previous[i]
            self.history.addItem(f"Earlier: {visible(session.name)} ({plural(len(session.answers), 'picture')})", i)
        self.history.setVisible(bool(previous))
        self.history.blockSignals(False)

    def show_answers(self, answers: list) -> None:
        """Fill the table with answers of one session (an earlier model's, to look at again)."""
        self.clear()
        for a in answers:
            kind = "objects" if hasattr(a.result, "found") else "classes"
            self.tables[kind].append(a)
        if answers:
            self.show_kind("objects" if hasattr(answers[0].result, "found") else "classes")
        for model in self.tables.values():
            model.flush()

    def shown_rows(self) -> list:
        """The answers the filter lets through, in the table's order."""
        rows = self.model.rows
        return [rows[self.proxy.mapToSource(self.proxy.index(i, 0)).row()] for i in range(self.proxy.rowCount())]

    def _shown_indexes(self) -> range | list[int]:
        """The rows the filter lets through, in any order (for counting)."""
        if self.proxy.rowCount() == self.model.rowCount():  # nothing filtered out: no mapping needed
            return range(self.model.rowCount())
        return [self.proxy.mapToSource(self.proxy.index(i, 0)).row() for i in range(self.proxy.rowCount())]

    def update_counts(self, *_) -> None:
        shown = self._shown_indexes()
        out: dict[str, int] = {}
        skipped = labeled = right = unsure = 0
        for i in shown:
            bad, labels, not_sure, has_truth, is_right = self.model.stats(i)
            if bad:
                skipped += 1
                continue
            unsure += not_sure
            labeled += has_truth
            right += is_right
            for label in labels:
                out[label] = out.get(label, 0) + 1
        counts = sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))
        parts = [f"{visible(c)} {n}" for c, n in counts[:12]]
        more = len(counts) - 12
        total = len(self.model.rows)
        text = plural(len(shown), "picture") + (f" of {total}" if len(shown) != total else "")
        if self.model.kind == "objects":
            text += f" · {plural(sum(out.values()), 'thing')} found"
        if parts:
            what = "kinds" if self.model.kind == "objects" else "classes"
            text += ": " + " · ".join(parts) + (f" · and {more} more {what}" if more > 0 else "")
        if labeled:
            text += (f" · {right} of {labeled} right ({right / labeled * 100:.0f}%) where the folder names the "
                     "class")
        if unsure:
            text += f" · not sure of {unsure}"
        if skipped:
            text += f" · {skipped} not readable"
        self.counts_label.setText(text if total else "")
        self.export_button.setEnabled(bool(self.model.rows))
        self.countsChanged.emit()
