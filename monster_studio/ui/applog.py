"""The app's log file (in the user's log folder), and a last-resort hook that turns an unexpected
exception on the GUI thread into a logged traceback plus a message in plain words."""
from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_NAME = "monster-studio.log"
log = logging.getLogger("monster_studio")


def log_file() -> Path:
    from monster_studio.core import paths

    return paths.log_dir() / LOG_NAME


def setup(level: int = logging.INFO) -> Path | None:
    """Log to a rotating file; returns its path, or None when the folder cannot be written."""
    root = logging.getLogger()
    for h in root.handlers:
        if getattr(h, "baseFilename", None):
            return Path(h.baseFilename)
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        logging.basicConfig(level=level)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    return path


def install_excepthook(show) -> None:
    """`show(text)` is called on the GUI thread with words for the user; the traceback goes to the log."""
    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        log.error("unexpected error", exc_info=(kind, value, tb))
        try:
            show(f"Something went wrong: {kind.__name__}: {value}.\n\n"
                 f"The app can go on. The details are in the log file {log_file()}.")
        except Exception:  # noqa: BLE001 - never raise from the hook itself
            pass
    sys.excepthook = hook
