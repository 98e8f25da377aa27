"""The ONNX Runtime engine prepared in a process of its own, for the window.

Importing torch and timm and exporting the network hold Python's interpreter lock for up to 1.7 s
at a time (measured with benchmarks/responsiveness.py: a cold training froze the window for 1.0 to
1.7 s while its runner thread did this). In a child process they hold only the child's. The
window's jobs turn this on (`use(True)`); the command line keeps the export in its own process,
where nothing waits on the lock.

The child, `python -m monster_studio.core.engine_child BACKBONE`, loads the pretrained network
from the weights file already on this computer and prepares the engine exactly as in-process
(engine.prepare: exported, checked against PyTorch, kept in the cache, or refused with a note).
It exits 0 when the engine is ready. Anything else (no weights file here, a refusal, a crash) and
the caller takes the in-process path, with its own messages and downloads.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time

from monster_studio.core.catalogue import Backbone

log = logging.getLogger(__name__)

_ENABLED = False
STOP_WAIT_S = 5.0
CHILD = "monster_studio.core.engine_child"


def use(enabled: bool = True) -> None:
    global _ENABLED
    _ENABLED = bool(enabled)


def enabled() -> bool:
    return _ENABLED


def prepare(spec: Backbone, cancel=None) -> bool:
    """Run the child for `spec` and wait for it, checking `cancel` every 50 ms (a stop ends the
    child with SIGTERM; it removes its temporary files). True when the engine is ready."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err:
        proc = subprocess.Popen([sys.executable, "-m", CHILD, spec.id], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, env=dict(os.environ))
        try:
            while proc.poll() is None:
                if cancel is not None and cancel.wait(0.05):
                    break
                if cancel is None:
                    time.sleep(0.05)
        finally:
            if proc.poll() is None:  # stopped (or this thread is being torn down): end the child
                proc.terminate()
                try:
                    proc.wait(STOP_WAIT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if cancel is not None:
            cancel.check()
        if proc.returncode == 0:
            log.info("Prepared the engine for %s in a separate process in %.1f s.", spec.display_name,
                     time.perf_counter() - t0)
            return True
        err.seek(0)
        tail = err.read()[-2000:].strip()
    log.warning("Preparing the engine for %s in a separate process ended with code %s; this process "
                "prepares it instead.%s", spec.display_name, proc.returncode, f"\n{tail}" if tail else "")
    return False
