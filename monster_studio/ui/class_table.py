"""The chosen folder as the model will see it: one row per class with its picture count and a
strip of examples, then the warnings (skipped files, small classes, strong imbalance)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidget,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from monster_studio.core.wording import plural, visible
from monster_studio.ui.style import role

THUMB = 40
STRIP = 5
MAX_VISIBLE_ROWS = 7


def strip(images: list[QImage], size: int = THUMB, count: int = STRIP) -> QPixmap:
    """Thumbnails side by side, each centred in a square, on a transparent strip."""
    gap = 4
    pm = QPixmap(count * (size + gap) - gap, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    for i, img in enumerate(images[:count]):
        scaled = img.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        x = i * (size + gap) + (size - scaled.width()) // 2
        y = (size - scaled.height()) // 2
        p.drawImage(x, y, scaled)
    p.end()
    return pm


class ClassTable(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Class", "Pictures", "Examples"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setIconSize(QSize(STRIP * (THUMB + 4), THUMB))
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 8)
        header = self.table.horizontalHeader()
        # The class name gets what the strip leaves; on a narrow window the strip is cut, not the name.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        self.table.setColumnWidth(0, 110)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_height(3)
        box.addWidget(self.table)
        # Right-click entries: each provider is called with the class under the pointer ('' for none)
        # and returns (text, callback) pairs (rename a class, make one: see fix_actions).
        self.menu_extras: list = []
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        self.summary = QLabel()
        role(self.summary, "hint")
        self.summary.setWordWrap(True)
        box.addWidget(self.summary)
        self.warnings = QLabel()
        role(self.warnings, "warning")
        self.warnings.setWordWrap(True)
        self.warnings.hide()
        box.addWidget(self.warnings)
        self.skipped_toggle = QToolButton()
        self.skipped_toggle.setObjectName("fold")
        self.skipped_toggle.setCheckable(True)
        self.skipped_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.skipped_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.skipped_toggle.toggled.connect(self._toggle_skipped)
        self.skipped_toggle.hide()
        box.addWidget(self.skipped_toggle)
        self.skipped = QListWidget()
        self.skipped.setObjectName("skipped")
        self.skipped.setMaximumHeight(140)
        self.skipped.setWordWrap(True)
        self.skipped.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.skipped.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.skipped.hide()
        box.addWidget(self.skipped)
        self.folder = ""
        self._rows: dict[str, int] = {}
        self._table = None  # the core ClassTable shown
        self._shown = None  # (it, the extra skipped files) as drawn
        self._strips: dict[tuple[str, str], QPixmap] = {}  # (folder, class) -> its examples, drawn once
        self.show_placeholder()

    def _fit_height(self, rows: int) -> None:
        """Tall enough for every class up to a handful; the table scrolls beyond that."""
        rows = min(max(rows, 2), MAX_VISIBLE_ROWS)
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(header + rows * self.table.verticalHeader().defaultSectionSize() + 4)

    def show_placeholder(self, text: str = "Choose a folder to see its classes here.") -> None:
        self.table.setRowCount(0)
        self._fit_height(3)
        self._rows.clear()
        self._table = None
        self.summary.setText(text)
        self.warnings.hide()
        self.skipped_toggle.hide()
        self.skipped.hide()
        self.skipped.clear()

    def show_table(self, table, extra_skipped: list | None = None) -> None:
        """A core ClassTable; `extra_skipped`: files found unusable only when training decoded them
        (a damaged picture whose header looks fine), so the list holds every file the model did not see."""
        shown = (table, list(extra_skipped or []))
        if self._table is not None and shown == self._shown:
            return  # the same folder read again, as each training reads it: nothing to draw again
        self._shown = shown
        self._table = table
        self.folder = table.folder
        self.table.setRowCount(len(table.classes))
        self._rows = {}
        for row, c in enumerate(table.classes):
            n = table.counts[c]
            name = QTableWidgetItem(visible(c))
            name.setToolTip(visible(str(Path(self.folder) / c)))
            count = QTableWidgetItem(str(n))
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if n < 10:
                count.setForeground(QColor("#a85d00"))
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, count)
            examples = QTableWidgetItem()
            if (self.folder, c) in self._strips:  # the same folder read again (training reads it too)
                examples.setIcon(self._strips[(self.folder, c)])
            self.table.setItem(row, 2, examples)
            self._rows[c] = row
        self._fit_height(len(table.classes))
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(0, min(max(self.table.columnWidth(0) + 12, 90), 180))
        total = sum(table.counts.values())
        split = (f"uses the folder's own {table.layout} split, {table.n_train} to learn from and {table.n_val} "
                 "to check on" if table.split_given else
                 f"{table.n_train} to learn from, {table.n_val} kept aside to check the model")
        where = f" (the classes inside {visible(table.inside)}/)" if table.inside else ""
        self.summary.setText(f"{plural(len(table.classes), 'class')}{where}, {plural(total, 'picture')}: {split}.")
        self._show_warnings(table, list(table.skipped) + list(extra_skipped or []), done=bool(extra_skipped))

    def _show_warnings(self, table, skipped: list, done: bool = False) -> None:
        lines = []
        if table.few:
            names = ", ".join(f"{visible(c)} ({n})" for c, n in table.few)
            lines.append(f"⚠ Few pictures in {names}: 10 or more per class work much better.")
        imb = table.imbalance
        if imb:
            lines.append(f"⚠ Unbalanced: {visible(imb['largest'])} has {imb['largest_count']} pictures but "
                         f"{visible(imb['smallest'])} only {imb['smallest_count']}; the model may favour "
                         f"{visible(imb['largest'])}.")
        if skipped:
            n = len(skipped)
            lines.append(f"⚠ {plural(n, 'file')} {('were' if n != 1 else 'was') if done else 'will be'} "
                         "skipped (not pictures, damaged, or outside a class folder).")
        self.warnings.setText("\n".join(lines))
        self.warnings.setVisible(bool(lines))
        self.skipped.clear()
        for s in skipped:
            try:
                shown = str(Path(s.path).relative_to(self.folder))
            except ValueError:
                shown = s.path
            self.skipped.addItem(f"{visible(shown)} — {s.reason}")
            self.skipped.item(self.skipped.count() - 1).setToolTip(f"{visible(s.path)}\n{s.reason}")
        self.skipped_toggle.setText(f"Show the {plural(len(skipped), 'skipped file')}")
        self.skipped_toggle.setVisible(bool(skipped))
        self.skipped_toggle.setChecked(False)
        self.skipped.hide()

    def _toggle_skipped(self, shown: bool) -> None:
        self.skipped.setVisible(shown)
        self.skipped_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.skipped_toggle.setText(f"{'Hide' if shown else 'Show'} the {plural(self.skipped.count(), 'skipped file')}")

    def set_thumbnails(self, thumbs) -> None:
        """A results.Thumbnails strip for one class of the folder shown."""
        if thumbs.folder != self.folder or thumbs.class_name not in self._rows:
            return
        item = self.table.item(self._rows[thumbs.class_name], 2)
        if item is not None:
            pm = strip(thumbs.images)
            self._strips = {k: v for k, v in self._strips.items() if k[0] == thumbs.folder}
            self._strips[(thumbs.folder, thumbs.class_name)] = pm
            item.setIcon(pm)
            item.setSizeHint(QSize(STRIP * (THUMB + 4), THUMB + 4))

    def menu_entries(self, class_name: str) -> list:
        return [entry for provider in self.menu_extras for entry in provider(class_name)]

    def _menu(self, pos) -> None:
        item = self.table.itemAt(pos)
        name = self._table.classes[item.row()] if item is not None and self._table is not None else ""
        entries = self.menu_entries(name) if self._table is not None else []
        if entries:
            menu = QMenu(self)
            for text, callback in entries:
                menu.addAction(text, callback)
            menu.exec(self.table.viewport().mapToGlobal(pos))

    def class_names(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())]
