"""The `monster-studio` program: with no arguments it opens the app, with a command it is the
command line. The one module that knows both, so the window and the terminal stay independent."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        import os

        # Before numpy is imported: OpenBLAS then starts no thread of its own at the window's
        # priority; the runner's threads start any it needs, below it (app.thread_priority).
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from monster_studio.ui.app import main as app_main

        return app_main(sys.argv[:1])
    if argv == ["--install-desktop-entry"]:
        from monster_studio.ui.desktop_entry import install

        print(f"Installed {install()}")
        return 0
    from monster_studio.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
