"""'Try the sample monsters': where the pictures go, asked once, with the way to pick another folder."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def ask_sample_folder(parent: QWidget, default: str) -> str | None:
    """The folder to draw the sample into, or None when the user cancels."""
    box = QMessageBox(parent)
    box.setWindowTitle("Try the sample monsters")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText("Draw 200 pictures of five kinds of monster, train a classifier on them and try it?")
    box.setInformativeText(f"The pictures go to:\n{default}\n\nIt takes about a minute and needs no internet.")
    start = box.addButton("Start", QMessageBox.ButtonRole.AcceptRole)
    other = box.addButton("Another folder…", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(start)
    box.exec()
    if box.clickedButton() is start:
        return default
    if box.clickedButton() is other:
        parent_folder = QFileDialog.getExistingDirectory(parent, "Where should the sample pictures go?",
                                                         str(Path(default).parent))
        if parent_folder:
            return str(Path(parent_folder) / "sample-monsters")
    return None
