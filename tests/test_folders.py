"""Odd folders, taken as the user meant or reported in plain words (issue 7, items 7 and 14): a
folder holding only train/ (or one folder) with the classes inside, links back to the folder or
to a folder already included, absurd nesting, pipes and devices, folders that cannot be read."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from monster_studio.core import dataset, images, modelfile, predict
from monster_studio.core.dataset import DatasetError, scan
from monster_studio.core.events import Skipped
from monster_studio.core.sample import write_sample


@pytest.fixture
def small(tmp_path) -> Path:
    return write_sample(tmp_path / "monsters", per_class=3, seed=4, size=64)


def reasons(ds) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in ds.skipped}


def test_a_folder_with_only_train_inside_is_the_classes_it_holds(small, tmp_path):
    root = tmp_path / "photos"
    shutil.copytree(small, root / "train")
    ds = scan(root)
    assert ds.classes == ["cyclops", "ghost", "mummy", "slime", "vampire"] and "train" not in ds.classes
    assert not ds.split_given and len(ds.train) + len(ds.val) == 15 and ds.inside == "train"
    assert ds.table().inside == "train"


def test_one_folder_around_the_classes_is_looked_into(small, tmp_path):
    root = tmp_path / "holiday"
    shutil.copytree(small, root / "sorted" / "by kind")
    ds = scan(root)
    assert ds.classes == ["cyclops", "ghost", "mummy", "slime", "vampire"]
    assert ds.inside == str(Path("sorted") / "by kind")


def test_a_link_back_to_the_folder_is_not_a_class(small):
    os.symlink(small, small / "again")
    ds = scan(small)
    assert "again" not in ds.classes and "link back" in reasons(ds)["again"]


def test_a_linked_folder_inside_a_class_is_followed_once(small, tmp_path):
    extra = write_sample(tmp_path / "extra", per_class=2, seed=9, size=64) / "ghost"
    os.symlink(extra, small / "ghost" / "more ghosts")  # followed: its pictures count for ghost
    os.symlink(small / "ghost", small / "ghost" / "loop")  # a folder already included: reported, counted once
    ds = scan(small)
    assert ds.counts()["ghost"] == 5
    assert "already included" in reasons(ds)["loop"]


def test_absurd_nesting_is_reported_in_words(small):
    levels = [small / "ghost"]
    for _ in range(1100):  # one at a time: pathlib's and shutil's own recursion would give up first
        levels.append(levels[-1] / "d")
        os.mkdir(levels[-1])
    shutil.copy(next((small / "slime").iterdir()), levels[-1] / "lost.png")
    try:
        ds = scan(small)  # no RecursionError
        assert any(f"more than {dataset.MAX_DEPTH} levels" in s.reason for s in ds.skipped)
        assert ds.counts()["ghost"] == 3
    finally:
        os.unlink(levels[-1] / "lost.png")
        for folder in reversed(levels[1:]):
            os.rmdir(folder)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_never_blocks(small, tmp_path):
    fifo = small / "ghost" / "pipe.jpg"
    os.mkfifo(fifo)
    fake_model = tmp_path / "model.monster"
    os.mkfifo(fake_model)
    done = {}

    def work():
        done["scan"] = scan(small)
        done["classify"] = predict.expand([fifo])
        try:
            modelfile.load(fake_model)
        except modelfile.ModelFileError as exc:
            done["model"] = str(exc)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive(), "a named pipe blocked the work"
    assert reasons(done["scan"])["pipe.jpg"] == images.NOT_A_FILE
    assert done["classify"] == ([], [Skipped(str(fifo), images.NOT_A_FILE)])
    assert "not a regular file" in done["model"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_class_folder_says_so(small):
    locked = small / "mummy"
    locked.chmod(0o000)
    try:
        with pytest.raises(DatasetError, match="'mummy' cannot be read \\(permission denied\\)"):
            scan(small)
    finally:
        locked.chmod(0o755)
