"""Start the desktop app: `monster-studio` with no arguments, or `python -m monster_studio`."""
from __future__ import annotations

import logging
import os
import signal
import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from monster_studio import APP_NAME, __version__
from monster_studio.ui import applog, platform_check, style
from monster_studio.ui.settings import ORGANIZATION

log = logging.getLogger(__name__)


def configure_application(app: QApplication | None = None) -> QApplication:
    """Names, icon and style; the same for the real app and the tests."""
    # The runner thread runs Python between torch calls; every signal the window handles needs the
    # GIL back. A 1 ms switch interval (instead of 5) keeps the longest wait for it short.
    sys.setswitchinterval(0.001)
    QCoreApplication.setOrganizationName(QCoreApplication.organizationName() or ORGANIZATION)
    QCoreApplication.setApplicationName(QCoreApplication.applicationName() or APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("monster-studio")  # Wayland/X11 docks match the .desktop file
    app = app or QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "monster-studio"])
    from monster_studio.ui.main_window import app_icon

    app.setApplicationDisplayName(APP_NAME)
    app.setWindowIcon(app_icon())
    style.apply(app)
    return app


def _quit_on_ctrl_c(window) -> None:
    """Ctrl+C in the terminal that started the app closes the window the normal way (stopping the
    runner). Python only runs signal handlers between bytecodes, so a timer lets it look now and then."""
    signal.signal(signal.SIGINT, lambda *_: window.close())
    signal.signal(signal.SIGTERM, lambda *_: window.close())  # a logout or `kill`: the same orderly close
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    path = applog.setup()
    log.info("%s %s starting (log: %s)", APP_NAME, __version__, path)
    missing = platform_check.missing_libraries()
    if missing:  # Qt would abort with a message that tells a newcomer nothing
        text = platform_check.advice(missing)
        log.error(text)
        print(text, file=sys.stderr)
        return 1
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication.instance() or QApplication(argv or ["monster-studio"])
    configure_application(app)

    from monster_studio.ui.main_window import MainWindow

    window = MainWindow()

    def show_error(text: str) -> None:
        QTimer.singleShot(0, lambda: QMessageBox.warning(window, APP_NAME, text))

    applog.install_excepthook(show_error)
    _quit_on_ctrl_c(window)
    window.show()
    code = app.exec()
    from monster_studio.core import files

    files.remove_temporaries()  # a save cut short leaves no hidden temporary file
    log.info("%s exiting with %s", APP_NAME, code)
    _end_if_stranded(code)
    return code


def _end_if_stranded(code: int) -> None:
    """A runner thread that would not stop (see RunnerThread.shutdown) is still running: the
    interpreter's clean-up would destroy it and Qt would abort the process with a crash report.
    The window is closed and the log written, so end the process here, at once."""
    from monster_studio.app.runner import stranded_threads

    if not stranded_threads():
        return
    log.warning("ending the process while a runner thread is still running")
    logging.shutdown()  # flushes and closes the log file
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "configure_application"]
