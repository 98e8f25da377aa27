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

The bundled models' engines need none of this: they are written without torch in under a second
(core.engine_direct). The child is for every other starting model, and for a bundled one whose
weights file is not the one its check was recorded for.

Ahead of need: the window's start job calls `start_ahead` for the starting model the Train page
will use, when its engine is not made yet (the first launch) and cannot be written without torch. The child then runs at a lower
priority while the person looks for a folder, and the first training or classifying adopts it
(`prepare` waits for that child instead of starting another). MONSTER_STUDIO_PREPARE_AHEAD=0 turns
this off (the test suite does, so that no test has a process of a window before it running).
"""
from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time

from monster_studio.core.catalogue import Backbone

log = logging.getLogger(__name__)

_ENABLED = False
STOP_WAIT_S = 5.0
CHILD = "monster_studio.core.engine_child"
AHEAD_NICENESS = 10  # below the window and its jobs: the child only uses what they leave

_AHEAD: dict[str, tuple[subprocess.Popen, object]] = {}  # children started ahead, by starting model
_AHEAD_LOCK = threading.Lock()
spawned = 0  # children started by this process (the tests count them)


def use(enabled: bool = True) -> None:
    global _ENABLED
    _ENABLED = bool(enabled)


def enabled() -> bool:
    return _ENABLED


def ahead_allowed() -> bool:
    return os.environ.get("MONSTER_STUDIO_PREPARE_AHEAD", "1").strip() != "0"


def _spawn(spec: Backbone, niceness: int = 0) -> tuple[subprocess.Popen, object]:
    global spawned
    err = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
    # The child lowers its own priority (a preexec_fn is not safe in a process with threads).
    extra = ["--nice", str(niceness)] if niceness else []
    try:
        proc = subprocess.Popen([sys.executable, "-m", CHILD, spec.id, *extra], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, env=dict(os.environ))
    except BaseException:
        err.close()
        raise
    spawned += 1
    return proc, err


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_ahead(spec: Backbone) -> bool:
    """Begin preparing `spec`'s engine in a child at a lower priority and return at once; False
    when one is already on its way (or the child could not be started)."""
    with _AHEAD_LOCK:
        running = _AHEAD.get(spec.id)
        if running is not None and running[0].poll() is None:
            return False
        try:
            _AHEAD[spec.id] = _spawn(spec, AHEAD_NICENESS)
        except OSError as exc:
            log.warning("Could not start preparing the engine for %s ahead (%s).", spec.display_name, exc)
            return False
    log.info("Preparing the engine for %s ahead, in a separate process.", spec.display_name)
    return True


def end_ahead() -> None:
    """End the children started ahead that are still running (the app is quitting); each removes its
    temporary files, and what is unfinished is made again when needed."""
    with _AHEAD_LOCK:
        children = list(_AHEAD.values())
        _AHEAD.clear()
    for proc, err in children:
        _end(proc)
        err.close()


atexit.register(end_ahead)


def prepare(spec: Backbone, cancel=None) -> bool:
    """Wait for the child preparing `spec`'s engine (the one started ahead, else a new one),
    checking `cancel` every 50 ms (a stop ends the child with SIGTERM; it removes its temporary
    files). True when the engine is ready."""
    t0 = time.perf_counter()
    with _AHEAD_LOCK:
        proc, err = _AHEAD.pop(spec.id, (None, None))
    if proc is not None and proc.poll() not in (None, 0):  # the one ahead failed: once more, to be told why
        err.close()
        proc = None
    if proc is None:
        proc, err = _spawn(spec)
    with err:
        try:
            while proc.poll() is None:
                if cancel is not None and cancel.wait(0.05):
                    break
                if cancel is None:
                    time.sleep(0.05)
        finally:
            _end(proc)  # stopped (or this thread is being torn down): end the child
        if cancel is not None:
            cancel.check()
        if proc.returncode == 0:
            log.info("Prepared the engine for %s in a separate process (waited %.1f s).", spec.display_name,
                     time.perf_counter() - t0)
            return True
        err.seek(0)
        tail = err.read()[-2000:].strip()
    log.warning("Preparing the engine for %s in a separate process ended with code %s; this process "
                "prepares it instead.%s", spec.display_name, proc.returncode, f"\n{tail}" if tail else "")
    return False
