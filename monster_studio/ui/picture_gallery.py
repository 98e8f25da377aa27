"""A strip of pictures from a result (the mistakes, or one cell of the confusion matrix): each with
what it is, what the model said and how sure it was; double-click opens it, right-click shows it in
its folder and whatever else can be done with it (see `menu_extras`)."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem

from monster_studio.core.wording import visible
from monster_studio.ui.open_file import open_picture, picture_menu

ICON = 96
PATH_ROLE = Qt.ItemDataRole.UserRole


def _placeholder() -> QIcon:
    pm = QPixmap(ICON, ICON)
    pm.fill(QColor("#f1eff7"))
    return QIcon(pm)


class PictureGallery(QListWidget):
    previewsWanted = Signal(list)  # paths whose previews are not drawn yet

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(ICON, ICON))
        self.setGridSize(QSize(ICON + 48, ICON + 52))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setMinimumHeight(ICON + 70)
        self.menu_extras: list = []  # providers: (row) -> [(text, callback)], row a core.evaluate.Row
        self._items: dict[str, QListWidgetItem] = {}
        self._rows: dict[str, object] = {}
        self.itemDoubleClicked.connect(lambda item: open_picture(item.data(PATH_ROLE)))
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    def show_rows(self, rows: list) -> None:
        """core.evaluate.Row objects: a picture each, previews asked for at once."""
        self.clear()
        self._items.clear()
        self._rows.clear()
        icon = _placeholder()
        for r in rows:
            text = (f"{visible(r.true)}\n✓ {r.confidence * 100:.0f}%" if r.correct else
                    f"is {visible(r.true)}\nsaid {visible(r.predicted)} {r.confidence * 100:.0f}%")
            item = QListWidgetItem(icon, text)
            item.setData(PATH_ROLE, r.path)
            item.setToolTip(visible(r.path) + (f"\nnot sure: {r.unsure_reason}" if r.unsure else ""))
            self.addItem(item)
            self._items[r.path] = item
            self._rows[r.path] = r
        if rows:
            self.previewsWanted.emit([r.path for r in rows])

    def set_preview(self, path: str, image) -> None:
        item = self._items.get(path)
        if item is not None and image is not None and not image.isNull():
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    def paths(self) -> list[str]:
        return [self.item(i).data(PATH_ROLE) for i in range(self.count())]

    def _menu(self, pos) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        row = self._rows[item.data(PATH_ROLE)]
        extra = [entry for provider in self.menu_extras for entry in provider(row)]
        picture_menu(self, row.path, extra).exec(self.viewport().mapToGlobal(pos))
