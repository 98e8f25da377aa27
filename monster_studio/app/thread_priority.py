"""The runner's thread below the window's: on Linux, a thread's nice value is its own, and every
thread and process it starts inherits it (the decode pool, ONNX Runtime's threads, the engine's
child process). The model work then uses what the window leaves, and the window gets a core when
it needs one to draw.

Measured with benchmarks/responsiveness.py on this project's 2-core CPU: while a folder was
classified, four busy threads (two decoders, two for the engine) shared the two cores with the
window's, and a repaint of the table that takes 22 ms on its own took 40 to 50 ms. Elsewhere (macOS,
Windows) nothing is changed: a thread id there is not something setpriority takes.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

NICENESS = 10  # how much lower than the window the model work runs (Linux nice values, 0 to 19)


def lower_this_thread(niceness: int = NICENESS) -> bool:
    """Lower the calling thread's priority by `niceness` (once: raising it back needs privileges).
    True when it was lowered."""
    if not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        return False
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + niceness))
    except OSError as exc:
        log.info("The runner's thread keeps the window's priority (%s).", exc)
        return False
    return True


def this_thread() -> int:
    """The calling thread's nice value (Linux), else 0."""
    if not sys.platform.startswith("linux") or not hasattr(os, "getpriority"):
        return 0
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


_BLAS = None


def blas_on_one_thread():
    """A context: BLAS (numpy's products) on the calling thread alone while a job runs. OpenBLAS
    starts its second thread when numpy is imported, from the window's thread and at its priority,
    and after each product that thread spins on a core for a while waiting for the next: the jobs'
    products here are small (a batch of features times a head, against the "not sure" sample), and
    the spinning took the core the window needed to draw. The app's launch also sets
    OPENBLAS_NUM_THREADS=1 before numpy is imported, so that thread is never started; a job that
    raises the limit (core.doctor's all-pairs product) starts its threads from the runner's, below
    the window. Set for each job, not once: a limit another part of the process restores cannot
    outlive a job. An unknown BLAS keeps its threads."""
    global _BLAS
    try:
        if _BLAS is None:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        return _BLAS.limit(limits=1, user_api="blas")
    except Exception as exc:  # noqa: BLE001 - nothing else changes
        log.info("BLAS keeps its threads (%s).", exc)
        return contextlib.nullcontext()
