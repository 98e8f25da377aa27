"""Quitting never loses work silently: with a model no file holds yet, or while something runs,
the window asks first. `ask` is one function so the tests (and nothing else) can answer it."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask(parent: QWidget, title: str, text: str, detail: str, buttons: list[tuple[str, str]]) -> str:
    """The key of the button pressed; `buttons`: (key, label) pairs, the first the default, and a
    Cancel button is always there (key "cancel", also what Esc and closing the box give)."""
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(text)
    box.setInformativeText(detail)
    made = {}
    for i, (key, label) in enumerate(buttons):
        role = QMessageBox.ButtonRole.AcceptRole if i == 0 else QMessageBox.ButtonRole.DestructiveRole
        made[key] = box.addButton(label, role)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(made[buttons[0][0]])
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    return next((key for key, button in made.items() if button is clicked), "cancel")
