"""Files the user asked for (issue 7, items 8 and 9): modes that honour the umask, no hidden
temporary file after a signal or a full disk, a save target checked before any work, long names."""
from __future__ import annotations

import csv
import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from monster_studio.cli import main
from monster_studio.core import catalogue, files, modelfile, training, wording
from monster_studio.core.model import TrainedModel
from monster_studio.core.modelfile import ModelFileError


def tiny_model(classes=("ants", "bees"), seed=0) -> TrainedModel:
    """A model with a random new last layer on the bundled starting model: saved in milliseconds."""
    spec = catalogue.backbone("efficientnet_lite0")
    g = torch.Generator().manual_seed(seed)
    head = {"weight": torch.randn(len(classes), spec.feature_size, generator=g),
            "bias": torch.randn(len(classes), generator=g)}
    return TrainedModel(spec.id, list(classes), spec.preprocess, head)


@contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return os.stat(path).st_mode & 0o777


def leftovers(folder: Path) -> list[str]:
    """Hidden or temporary files a write may have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith((".part", ".tmp")))


# ------------------------------------------------------------------ item 8: modes

@pytest.mark.parametrize("mask,expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_saved_model_and_csv_follow_the_umask(tmp_path, mask, expected):
    rows = [["a.png", "ants", "0.9"]]
    with umask(mask):
        model = modelfile.save(tiny_model(), tmp_path / "m.monster")
        table = tmp_path / "r.csv"
        wording.write_csv(table, ["path", "class", "confidence"], rows)  # the window's Export CSV
        appended = wording.CsvAppender(tmp_path / "a.csv", ["path", "class", "confidence"])  # classify --csv
        appended.add(rows[0])
        appended.close()
    assert (mode(model), mode(table), mode(tmp_path / "a.csv")) == (expected,) * 3
    assert leftovers(tmp_path) == []


def test_classify_csv_is_0644_under_umask_022(tmp_path, capsys):
    from PIL import Image

    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "red.png")
    model = modelfile.save(tiny_model(), tmp_path / "m.monster")
    with umask(0o022):
        assert main(["classify", str(model), str(tmp_path / "red.png"), "--csv", str(tmp_path / "r.csv")]) == 0
    assert mode(tmp_path / "r.csv") == 0o644
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("before", [0o644, 0o640, 0o664])
def test_overwriting_keeps_the_files_mode(tmp_path, before):
    path = modelfile.save(tiny_model(seed=1), tmp_path / "m.monster")
    path.chmod(before)
    with umask(0o077):  # a private umask must not make a shared model private
        modelfile.save(tiny_model(seed=2), path)
        wording.write_csv(tmp_path / "r.csv", ["path"], [])
        (tmp_path / "r.csv").chmod(before)
        wording.write_csv(tmp_path / "r.csv", ["path"], [["x"]])
    assert mode(path) == before and mode(tmp_path / "r.csv") == before
    assert np.array_equal(modelfile.load(path).head["weight"], tiny_model(seed=2).head["weight"])


def test_overwriting_keeps_the_files_group(tmp_path):
    """A model replaced in a shared folder stays in the folder's group (when we may give it)."""
    path = modelfile.save(tiny_model(seed=1), tmp_path / "m.monster")
    mine = os.stat(path).st_gid
    others = [g for g in os.getgroups() if g != mine]
    if os.geteuid() == 0:
        others = [mine + 4242]
    if not others:
        pytest.skip("this user belongs to a single group")
    os.chown(path, -1, others[0])
    modelfile.save(tiny_model(seed=2), path)
    assert os.stat(path).st_gid == others[0]


# ------------------------------------------------------------------ item 8: a full disk

def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_during_model_save_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = modelfile.save(tiny_model(seed=1), tmp_path / "m.monster")
    before = path.read_bytes()

    def half_written(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"\x00" * 1000)
        _no_space()

    monkeypatch.setattr(modelfile, "save_file", half_written)
    with pytest.raises(ModelFileError, match="disk is full"):
        modelfile.save(tiny_model(seed=2), path)
    monkeypatch.undo()
    monkeypatch.setattr(files.os, "fsync", _no_space)  # a full disk often shows only at fsync
    with pytest.raises(ModelFileError, match="disk is full"):
        modelfile.save(tiny_model(seed=2), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.monster"]


@pytest.mark.parametrize("where", ["fsync", "write"])
def test_full_disk_while_writing_a_csv_leaves_no_temporary_file(tmp_path, monkeypatch, where):
    table = tmp_path / "r.csv"
    table.write_text("earlier results\n")
    if where == "fsync":
        monkeypatch.setattr(files.os, "fsync", _no_space)
    else:
        real = files.os.fdopen

        class Full:
            def __init__(self, f):
                self.f = f

            def write(self, text):
                _no_space()

            def __getattr__(self, name):
                return getattr(self.f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

        monkeypatch.setattr(files.os, "fdopen", lambda *a, **k: Full(real(*a, **k)))
    with pytest.raises(OSError) as exc:
        wording.write_csv(table, ["path"], [["a.png"]] * 1000)
    assert exc.value.errno == errno.ENOSPC
    with pytest.raises(OSError) as kept:  # the error kept, as a log or a window's message would keep it
        appender = wording.CsvAppender(table, ["path"])
        for _ in range(1000):
            appender.add(["a.png"])
        appender.close()
    assert kept.value.errno == errno.ENOSPC
    assert table.read_text() == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]
    assert files._LIVE == set()


# ------------------------------------------------------------------ item 8: signals during a save

SLOW_SAVE_CHILD = textwrap.dedent('''
    import os, signal, sys, time
    import torch
    from monster_studio import cli
    from monster_studio.core import catalogue, modelfile, training
    from monster_studio.core.events import Finished
    from monster_studio.core.model import TrainedModel

    folder = sys.argv[1]
    spec = catalogue.backbone("efficientnet_lite0")
    model = TrainedModel(spec.id, ["ants", "bees"], spec.preprocess,
                         {"weight": torch.ones(2, spec.feature_size), "bias": torch.zeros(2)})
    real = modelfile.save_file

    def slow(tensors, filename, metadata=None):  # safetensors, slowed down: half the file, then a wait
        with open(filename, "wb") as f:
            f.write(b"half a model")
        time.sleep(60)
        real(tensors, filename, metadata=metadata)

    modelfile.save_file = slow
    # 1. a plain save under the CLI's handler
    signal.signal(signal.SIGTERM, cli._on_sigterm)
    try:
        modelfile.save(model, os.path.join(folder, "m.monster"))
    except SystemExit as exc:
        print("plain", exc.code, flush=True)
    sys.stdin.readline()  # the test has looked at the folder: the next save may start
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # 2. `monster-studio train`, the training itself already done, its terminal closed while saving
    training.fit = lambda *a, **k: iter([Finished(model, {})])
    args = ["train", folder, "--out", os.path.join(folder, "m.monster"), "--quiet"]
    print("hup", cli.main(args), flush=True)
    sys.stdin.readline()
    # 3. the same, killed while saving
    sys.exit(cli.main(args))
''')


def _wait_for_half_written(folder: Path, child) -> None:
    deadline = time.monotonic() + 90
    while not any(p.name.endswith(files.TEMP_SUFFIX) and p.stat().st_size for p in folder.iterdir()):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the save never started"
        time.sleep(0.05)


def test_sigterm_or_sighup_during_save_leaves_no_temporary_file(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    previous = modelfile.save(tiny_model(seed=3), folder / "m.monster").read_bytes()
    script = tmp_path / "child.py"
    script.write_text(SLOW_SAVE_CHILD)
    child = subprocess.Popen([sys.executable, str(script), str(folder)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def go_on() -> None:  # the child waits for this before its next save (which makes a new temporary file)
        child.stdin.write("\n")
        child.stdin.flush()

    try:
        _wait_for_half_written(folder, child)
        child.send_signal(signal.SIGTERM)  # mid-save of a plain modelfile.save
        assert child.stdout.readline().split() == ["plain", str(128 + signal.SIGTERM)]
        assert sorted(p.name for p in folder.iterdir()) == ["m.monster"]
        go_on()
        _wait_for_half_written(folder, child)
        child.send_signal(signal.SIGHUP)  # the terminal of `monster-studio train` closed mid-save
        assert child.stdout.readline().split() == ["hup", str(128 + signal.SIGHUP)]
        assert sorted(p.name for p in folder.iterdir()) == ["m.monster"]
        go_on()
        _wait_for_half_written(folder, child)
        child.send_signal(signal.SIGTERM)  # mid-save of `monster-studio train`
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 128 + signal.SIGTERM, err
    assert sorted(p.name for p in folder.iterdir()) == ["m.monster"]  # nothing hidden left behind
    assert (folder / "m.monster").read_bytes() == previous  # and the previous model untouched
    assert "Traceback" not in err and "stopped" in err


def test_a_signal_at_any_step_still_finds_the_temporary_file(tmp_path, monkeypatch):
    """SIGTERM raises where the main thread happens to be; whatever step that is, the temporary
    file is still known afterwards, so the way out (remove_temporaries) removes it."""
    real_unlink, real_open = files.os.unlink, files.os.open

    def once(real):
        fired = []

        def step(*args, **kwargs):
            if not fired:
                fired.append(True)
                raise SystemExit(143)
            return real(*args, **kwargs)
        return step

    # the signal arrives just as the temporary file is being removed after a failure
    monkeypatch.setattr(files.os, "unlink", once(real_unlink))
    with pytest.raises(SystemExit):
        with files.replacing(tmp_path / "a.csv") as f:
            f.write(b"half")
            raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(files.os, "unlink", real_unlink)
    assert leftovers(tmp_path)  # the signal did cut the clean-up short...
    files.remove_temporaries()
    assert leftovers(tmp_path) == []  # ...and the way out still removed the file

    # the signal arrives just after the file was made, before anything is written into it
    def made_then_signal(*args, **kwargs):
        real_open(*args, **kwargs)
        raise SystemExit(143)

    monkeypatch.setattr(files.os, "open", made_then_signal)
    with pytest.raises(SystemExit):
        files.write_bytes(tmp_path / "b.bin", b"data")
    monkeypatch.setattr(files.os, "open", real_open)
    assert leftovers(tmp_path)
    files.remove_temporaries()
    assert leftovers(tmp_path) == [] and files._LIVE == set()


def test_a_folder_check_leaves_nothing_behind(tmp_path, monkeypatch):
    real_close = files.os.close

    def interrupted(fd):
        real_close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "close", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.check_writable_folder(tmp_path)
    monkeypatch.undo()
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------ item 9: the save target, checked first

def read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write in: a mode of 0555, or for root (who writes anywhere) a
    kernel folder that refuses new files; the refusal itself is checked, never assumed."""
    candidates = [tmp_path / "ro"]
    candidates[0].mkdir()
    candidates[0].chmod(0o555)
    candidates += [Path("/sys"), Path("/proc/self")]
    for folder in candidates:
        try:
            fd = os.open(folder / "probe.monster", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            return folder
        os.close(fd)
        os.unlink(folder / "probe.monster")
    pytest.skip("no folder here refuses new files to this user")


def _never_trained(*args, **kwargs):
    raise AssertionError("the training started although the model could not be saved")


@pytest.mark.parametrize("target,words", [
    (lambda t: Path("/missing/folder/m.monster"), "the folder /missing/folder does not exist"),
    (lambda t: read_only_folder(t) / "m.monster", "cannot write in"),
    (lambda t: t / ("m" * 300 + ".monster"), "too long"),
    (lambda t: t / "photo.png" / "m.monster", "is not a folder"),
])
def test_train_reports_a_bad_target_at_once(tmp_path, capsys, monkeypatch, target, words):
    (tmp_path / "photo.png").write_bytes(b"x")
    monkeypatch.setattr(training, "fit", _never_trained)
    t0 = time.perf_counter()
    code = main(["train", str(tmp_path), "--out", str(target(tmp_path)), "--epochs", "50"])
    took = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert code == 1 and took < 1.0, (code, took, err)  # at once: no training, no loading of a network
    assert words in err and err.startswith("error: The model cannot be saved as ")
    assert not any(w in err for w in ("Errno", "Traceback", "unexpected", "Error:", ".part"))


def test_a_legal_long_name_is_not_refused(tmp_path):
    name = "m" * (255 - len(".monster")) + ".monster"  # the longest name the disk takes
    assert files.check_writable_file(tmp_path / name) is None
    path = modelfile.save(tiny_model(), tmp_path / name)
    assert path.name == name and modelfile.load(path).classes == ["ants", "bees"]
    csv_name = "r" * 251 + ".csv"
    wording.write_csv(tmp_path / csv_name, ["path"], [["a.png"]])
    with open(tmp_path / csv_name, newline="", encoding="utf-8-sig") as f:
        assert list(csv.reader(f)) == [["path"], ["a.png"]]
    assert leftovers(tmp_path) == []
    assert files.check_writable_file(tmp_path / ("m" + name)) is not None  # one byte more is too long
    assert leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == sorted([name, csv_name])


def test_a_name_the_disk_refuses_is_found_before_any_work(tmp_path, monkeypatch):
    """A name the folder takes for a temporary file but not as itself (FAT's ':'), simulated: the
    exact name is tried, and nothing of the try is left."""
    real_open = files.os.open

    def fat(path, flags, *args):
        if str(path).endswith("a:b.monster"):
            raise OSError(errno.EINVAL, "Invalid argument", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(files.os, "open", fat)
    why = files.check_writable_file(tmp_path / "a:b.monster")
    assert why and "a:b.monster" in why and "Errno" not in why
    assert files.check_writable_file(tmp_path / "ab.monster") is None
    assert list(tmp_path.iterdir()) == []


def test_a_csv_in_a_missing_folder_names_the_folder_not_a_temporary_file(tmp_path, capsys):
    from PIL import Image

    Image.new("RGB", (40, 40)).save(tmp_path / "p.png")
    model = modelfile.save(tiny_model(), tmp_path / "m.monster")
    assert main(["classify", str(model), str(tmp_path / "p.png"), "--csv", str(tmp_path / "gone" / "r.csv")]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "gone") in err and ".part" not in err and ".ms-" not in err
