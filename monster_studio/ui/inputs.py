"""Fields that leave the mouse wheel to the page: a wheel turned over a number or a list scrolls
the page unless the field has the keyboard focus (clicked or tabbed into), so a setting never
changes just because the pointer passed over it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox


class _FocusedWheel:
    def _setup(self) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone does not give focus

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # the scroll area behind takes it


class SpinBox(_FocusedWheel, QSpinBox):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._setup()


class DoubleSpinBox(_FocusedWheel, QDoubleSpinBox):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._setup()


class ComboBox(_FocusedWheel, QComboBox):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._setup()
