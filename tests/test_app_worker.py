"""The runner's small parts: time left per phase, and what Stop drops."""
from __future__ import annotations

from test_app_support import Events

from monster_studio.app.jobs.folder import scan
from monster_studio.app.runner import Request, RunnerThread
from monster_studio.core.wording import Eta, amount, eta_text


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_eta_from_the_rate_so_far():
    clock = Clock()
    eta = Eta(clock)
    assert eta.update(40, 100) is None  # the starting point (40 were found in the cache)
    clock.t = 2.0
    assert abs(eta.update(60, 100) - 4.0) < 1e-6  # 20 in 2 s -> 40 more take 4 s
    clock.t = 4.0
    assert abs(eta.update(80, 100) - 2.0) < 1e-6
    eta.reset()
    assert eta.update(5, 10) is None


def test_eta_in_words():
    """Round, honest words: never "almost done" at a quarter of the work, a minute said as such."""
    assert eta_text(None) == "" and eta_text(-1) == ""
    assert eta_text(0.4) == "a few seconds left"
    assert eta_text(12.4) == "about 10 s left"
    assert eta_text(75) == "about a minute left"
    assert eta_text(125) == "about 2 min left"
    assert eta_text(3 * 3600 + 600) == "about 3 h 10 min left"


def test_stop_drops_what_was_asked_before_it(qtbot, sample_dir, tmp_path):
    host = RunnerThread()
    try:
        events = Events(host.runner)
        for _ in range(3):
            host.runner.submit(Request("scan", scan, (str(sample_dir), 0.2, 0)))
        host.runner.stop()
        host.runner.submit(Request("scan", scan, (str(sample_dir), 0.2, 0)))  # asked after the Stop: it runs
        qtbot.waitUntil(lambda: len(events.of("idle")) == 4, timeout=60_000)
        outcomes = [outcome for task, outcome in events.of("idle")]
        assert outcomes[-1] == "ok" and len(events.of("scanned")) <= 2
        assert outcomes[:3].count("stopped") >= 2  # the first may have finished before the Stop came
    finally:
        assert host.shutdown()


def test_progress_amount_in_words():
    assert amount("epochs", 3, 40) == "epoch 3 of 40"
    assert amount("steps", 100, 480) == "20%"
    assert amount("bytes", 5_000_000, 20_000_000) == "5.0 of 20.0 MB"
    assert amount("pictures", 10, 398) == "10 of 398" and amount("files", 0, 0) == ""


STUCK_WORKER = r"""
import gc, sys, threading, time
from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
from monster_studio.app import runner as W

app = QCoreApplication([])
entered = threading.Event()


class Blocker(QObject):  # a slot that, like a stuck library call, never looks at the cancel flag
    @Slot()
    def block(self):
        entered.set()
        time.sleep(1.5)


class Asker(QObject):
    go = Signal()


host = W.RunnerThread()
blocker = Blocker()
blocker.moveToThread(host.thread)
asker = Asker()
asker.go.connect(blocker.block)
asker.go.emit()
assert entered.wait(10)
thread = host.thread
ended = host.shutdown(timeout_ms=50)
print("ended", ended, "kept", host in W.stranded_threads(), "running", thread.isRunning(), flush=True)
del host, thread  # the window lets go of it; Qt must not see a running QThread destroyed
gc.collect()
time.sleep(0.2)
(kept,) = W.stranded_threads()
assert kept.thread.wait(10_000)  # the slot returns in the end, and the thread's loop ends with it
print("ended later", flush=True)
"""


def test_a_stuck_worker_is_kept_alive_not_destroyed(tmp_path):
    """Closing the window while the worker is stuck: shutdown reports it and keeps the running
    QThread, instead of letting Python destroy it (Qt then aborts: 'QThread: Destroyed while
    thread is still running'). In a child process, since an abort would end the test run."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", STUCK_WORKER], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "ended False kept True running True" in out and "ended later" in out
    assert "Destroyed while thread" not in out


def test_eta_is_patient_and_smooth():
    """No promise before a couple of seconds and a few percent of the work; one slow batch moves
    the estimate, it does not throw it from seconds to minutes."""
    clock = Clock()
    eta = Eta(clock)
    assert eta.update(0, 1000) is None
    clock.t = 0.5
    assert eta.update(200, 1000) is None  # 20% in half a second: too soon to say
    eta.reset()
    for step in range(1, 11):  # steady: 10 per second
        clock.t = step
        left = eta.update(10 * step, 200)
    assert abs(left - 10.0) < 1.0
    clock.t = 16.0  # one batch took six seconds
    slow = eta.update(110, 200)
    assert 9.0 < slow < 20.0  # the raw rate would say 49 s


def _nice_of_threads():
    """A job that yields the nice value of its own thread and of a thread it starts."""
    import threading

    from monster_studio.app import thread_priority

    seen = []
    worker = threading.Thread(target=lambda: seen.append(thread_priority.this_thread()))
    worker.start()
    worker.join()
    yield (thread_priority.this_thread(), seen[0])


def test_the_runner_works_below_the_window(qtbot):
    """On Linux the runner's thread, and the threads it starts (the decode pool, the engine's),
    run at a lower priority than the window's thread, so the window gets a core to draw."""
    import sys

    from monster_studio.app import thread_priority

    if not sys.platform.startswith("linux"):
        import pytest

        pytest.skip("thread priorities are set on Linux only")
    window = thread_priority.this_thread()
    runner, started = _yielded_on_the_runner(qtbot, "nice", _nice_of_threads)
    assert thread_priority.this_thread() == window  # the window's own is left as it was
    assert runner == started == min(19, window + thread_priority.NICENESS)


def _yielded_on_the_runner(qtbot, name: str, job):
    """What `job()` (a generator yielding one tuple) yields when a fresh runner thread runs it."""
    host = RunnerThread()
    try:
        events = Events(host.runner)
        host.runner.submit(Request(name, lambda ctx: job(), ()))
        qtbot.waitUntil(lambda: bool(events.of("idle")), timeout=10_000)
        return events.of("tuple")[0][0]
    finally:
        assert host.shutdown()


def _blas_threads():
    """The threads of the BLAS numpy itself links (the wheel's, under numpy.libs)."""
    from threadpoolctl import threadpool_info

    yield ("blas", [p["num_threads"] for p in threadpool_info()
                    if p["user_api"] == "blas" and "numpy" in p.get("filepath", "")])


def test_the_runner_keeps_numpy_products_on_its_own_thread(qtbot):
    """BLAS runs on one thread while a job runs: OpenBLAS's own second thread has the
    window's priority and spins on a core after each product, while the window needs it."""
    _, threads = _yielded_on_the_runner(qtbot, "blas", _blas_threads)
    if not threads:
        import pytest

        pytest.skip("numpy here links a BLAS of its own (not the wheel's)")
    assert set(threads) == {1}
