"""Weights that are missing or unusable, in words for the window, composed from the parts the
error carries (core.weights.WeightsUnavailable: backbone, filename, url, cache): the window's way
out is a button, not the command line's command. One place for both pages."""
from __future__ import annotations

from pathlib import Path

IMPORT_BUTTON = "Import weights file…"


def weights_text(error, *alternatives: str) -> str:
    """What went wrong, then the way out: get the file and press the import button, or one of the
    page's `alternatives` (e.g. "train with the bundled starting model, which needs no download").
    `error`: the runner's JobError."""
    d = error.details
    filename, url, cache = d.get("filename"), d.get("url"), d.get("cache")
    if filename and url:
        get = (f"on a computer with internet, download {filename} from {url}, bring it here and press "
               f"{IMPORT_BUTTON}" + (f" (it installs the file in {cache})" if cache else ""))
    else:
        get = f"press {IMPORT_BUTTON} to install a good copy of the weights file"
    return f"{error.message}\n\nWay out: " + "; or ".join([get, *alternatives]) + "."


def ask_weights_file(parent, name: str, filename: str = "") -> str:
    """The file dialog for a weights file (it starts in Downloads, where a browser leaves one);
    '' when the user cancels."""
    from PySide6.QtWidgets import QFileDialog

    downloads = Path.home() / "Downloads"
    path, _ = QFileDialog.getOpenFileName(parent, f"Weights file for {name}" + (f" ({filename})" if filename else ""),
                                          str(downloads if downloads.is_dir() else Path.home()),
                                          "PyTorch weights (*.pth *.pt);;All files (*)")
    return path


__all__ = ["IMPORT_BUTTON", "ask_weights_file", "weights_text"]
