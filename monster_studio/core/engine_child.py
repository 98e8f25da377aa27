"""`python -m monster_studio.core.engine_child BACKBONE [--nice N]`: the child process of engine_process.
It loads the pretrained network from the weights file already on this computer and prepares the
engine as the in-process path does (engine.prepare); exit 0 when the engine is ready in the cache,
3 when the weights would need a download (the caller's, with its progress), 1 when refused."""
from __future__ import annotations

import logging
import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1] == "--nice":  # made ahead of need: below the window and its jobs
        try:
            os.nice(max(0, min(19, int(argv[2]))))
        except (ValueError, OSError, AttributeError):  # not a number; or no nice here (Windows)
            pass
    import signal

    from monster_studio.core import catalogue, engine, files, weights
    from monster_studio.core.events import run_to_end

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: the temporary file is removed
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        spec = catalogue.backbone(argv[0])
        if weights.cached_file(spec) is None:
            return 3  # a download is the caller's, with its progress and its messages
        return 0 if engine.prepare(spec, run_to_end(weights.load_pretrained(spec))) is not None else 1
    finally:
        files.remove_temporaries()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
