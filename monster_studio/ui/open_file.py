"""Opening a picture the app shows, and showing it in the system's file manager (selected, where
the platform can), so a user can look at or fix the file behind an answer."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices


def open_picture(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def show_in_folder(path: str) -> bool:
    """The file selected in the file manager (Windows Explorer, macOS Finder, a freedesktop file
    manager over D-Bus), else its folder opened."""
    p = Path(path)
    try:
        if sys.platform == "win32":
            subprocess.Popen(["explorer", "/select,", str(p)])
            return True
        if sys.platform == "darwin":
            subprocess.Popen(["open", "-R", str(p)])
            return True
        if shutil.which("dbus-send"):
            done = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.FileManager1",
                                   "/org/freedesktop/FileManager1", "org.freedesktop.FileManager1.ShowItems",
                                   f"array:string:{QUrl.fromLocalFile(str(p)).toString()}", "string:"],
                                  capture_output=True, timeout=3)
            if done.returncode == 0:
                return True
    except (OSError, subprocess.SubprocessError):
        pass
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(p.parent)))


def picture_menu(parent, path: str, extra: list | None = None):
    """A context menu for one picture: open it, show it in its folder, then `extra` (text, callback)
    pairs; a callback that is itself a list of pairs makes a submenu ("This is actually…")."""
    from PySide6.QtWidgets import QMenu

    menu = QMenu(parent)
    menu.addAction("Open the picture", lambda: open_picture(path))
    menu.addAction("Show in folder", lambda: show_in_folder(path))
    _add(menu, extra or [])
    return menu


def _add(menu, entries) -> None:
    for text, callback in entries:
        if isinstance(callback, list):
            _add(menu.addMenu(text), callback)
        else:
            menu.addAction(text, callback)
