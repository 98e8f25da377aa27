"""Export CSV… of the Classify page's table: the file dialog, the write, and what went wrong in
plain words with the way out (a failed write leaves any earlier file as it was)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from monster_studio.core.errors import os_error_words
from monster_studio.ui import settings as store


def ask_export(page) -> None:
    page.view.model.flush()
    if not page.view.model.rows:
        return
    folder = store.start_folder("paths/export")
    path, _ = QFileDialog.getSaveFileName(page, "Export the results", str(Path(folder) / "classified.csv"),
                                          "CSV spreadsheet (*.csv)")
    if path:
        export_csv(page, path)


def export_csv(page, path: str) -> bool:
    if not path.lower().endswith(".csv"):
        path += ".csv"
    try:
        n = page.view.model.write_csv(path)
    except OSError as exc:
        page.banner.show_message(f"Could not write {Path(path).name}: {os_error_words(exc)}. Choose another folder.",
                                 "error", [("Export somewhere else…", page.ask_export)])
        return False
    except UnicodeError:  # a name no encoding can write (not even as its raw bytes)
        page.banner.show_message(f"Could not write {Path(path).name}: a file name in the results cannot be written "
                                 "as text. Rename that picture, or clear the results and classify again without "
                                 "it.", "error")
        return False
    store.put("paths/export", str(Path(path).parent))
    page.banner.show_message(f"{n} results exported to {path}.", "info")
    return True
