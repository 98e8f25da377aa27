"""Screenshots of the app made by the app itself (offscreen, `QWidget.grab()`), for the README.

    python -m monster_studio.ui.screenshots docs/

writes train.png (mid-training, with the plot) and classify.png (cards), plus a few more states
with --all. It draws the sample monsters into a temporary folder and never touches the user's
settings or caches."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of Monster Studio, made offscreen.")
    parser.add_argument("folder", type=Path, help="where the PNG files go")
    parser.add_argument("--all", action="store_true", help="also the other states (errors, table, about)")
    parser.add_argument("--width", type=int, default=1180)
    parser.add_argument("--height", type=int, default=780)
    parser.add_argument("--full-colour", action="store_true", help="keep every colour (larger files)")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="monster-shots-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["MONSTER_STUDIO_CACHE"] = str(home / "cache")
    os.environ["MONSTER_STUDIO_LOGS"] = str(home / "logs")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")

    from PySide6.QtCore import QCoreApplication, QEventLoop
    from PySide6.QtWidgets import QApplication

    from monster_studio.core.sample import write_sample
    from monster_studio.ui.app import configure_application

    QCoreApplication.setOrganizationName("MonsterStudioScreenshots")
    app = QApplication([sys.argv[0]])
    configure_application(app)
    from monster_studio.ui.main_window import CLASSIFY, TRAIN, MainWindow

    out = args.folder
    out.mkdir(parents=True, exist_ok=True)
    folder = write_sample(home / "monsters", per_class=30, seed=11)
    unseen = write_sample(home / "unseen", per_class=2, seed=12)

    def wait(predicate, timeout: float = 300.0) -> None:
        wait_until(app, predicate, timeout)

    def settle(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

    def shot(name: str, widget=None) -> None:
        settle()
        path = out / f"{name}.png"
        (widget or w).grab().save(str(path))
        if not args.full_colour:
            _shrink(path)
        print(f"{path} ({path.stat().st_size // 1024} KiB)")

    w = MainWindow()
    w.resize(args.width, args.height)
    w.show()
    wait(lambda: w.engine_ready)
    tp, cp = w.train_page, w.classify_page
    if args.all:
        shot("start")
    tp.set_folder(str(folder))
    wait(lambda: tp.folder_ok and tp.classes.table.rowCount() > 0)
    o, progress = tp.options, tp.result.progress
    o.epochs.setValue(40)
    # The new layer trains in a blink on cached features; fine-tuning takes long enough to be
    # caught in the act, with the plot already drawn.
    o.finetune.setChecked(True)
    o.finetune_epochs.setValue(2)
    o.advanced_toggle.setChecked(True)
    tp.start_training()
    wait(lambda: progress.phase == "finetune" and "%" in progress.eta.text() or not tp.training)
    wait(lambda: progress.bar.value() >= 300 or not tp.training)  # some way into it (of 1000)
    shot("train")
    wait(lambda: not tp.training)
    if args.all:
        shot("train-done")
    w.show_page(CLASSIFY)
    cp.select_model("trained", load=True)
    files = sorted(p for p in unseen.rglob("*") if p.is_file())
    cp.classify_paths([str(p) for p in files])
    wait(lambda: not cp.pending and cp.card_order and all(c.result for c in cp.card_order))
    shot("classify")
    if args.all:
        cp.classify_paths([str(folder)])
        wait(lambda: not cp.pending)
        shot("classify-table")
        w.show_page(TRAIN)
        tp.set_folder(str(home / "not-there"))
        wait(lambda: not tp.banner.isHidden())
        shot("error-folder")
    w.close()
    return 0


def wait_until(app, predicate, timeout: float, check_ms: int = 5) -> None:
    """Run the event loop until `predicate()` holds (for scripts that drive the window headless).
    The loop sleeps between events as app.exec() does, and the predicate is asked every `check_ms`:
    a loop that kept asking would hold a core and the interpreter lock the window's jobs need."""
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return
    end = time.monotonic() + timeout
    loop = QEventLoop()
    late = []

    def check() -> None:
        if predicate():
            loop.quit()
        elif time.monotonic() > end:
            late.append(True)
            loop.quit()

    timer = QTimer()
    timer.setInterval(check_ms)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if late:
        raise SystemExit("timed out")


def _shrink(path: Path) -> None:
    """256 colours are plenty for a window: the file shrinks to a third or less."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


if __name__ == "__main__":
    raise SystemExit(main())
