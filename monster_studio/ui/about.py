"""Help > About: what the app is, the versions it runs on, and where its log file is."""
from __future__ import annotations

import html
import sys

from PySide6.QtWidgets import QMessageBox, QWidget

from monster_studio import APP_NAME, __version__
from monster_studio.ui.applog import log_file


def about_text() -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>"
                   for k, v in versions().items())
    return (f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Turns a folder of labeled pictures into an image classifier by transfer learning from a "
            "pretrained network, then names the pictures you drop on it.</p>"
            f"<table>{rows}</table>"
            f"<p>Log file:<br><code>{html.escape(str(log_file()))}</code></p>")


def show_about(parent: QWidget) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle(f"About {APP_NAME}")
    box.setIconPixmap(parent.windowIcon().pixmap(72, 72))
    box.setText(about_text())
    box.exec()


def versions() -> dict[str, str]:
    """What the About box shows, read from package metadata so torch need not be imported."""
    from importlib import metadata

    import PySide6
    from PySide6.QtCore import qVersion

    out = {"Monster Studio": __version__, "Python": sys.version.split()[0], "Qt": qVersion(),
           "PySide6": PySide6.__version__}
    for dist in ("torch", "torchvision", "timm", "onnxruntime", "pyqtgraph", "Pillow"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out
