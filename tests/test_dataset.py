"""dataset.scan: folder layout -> classes, a stratified seeded split and a report of skipped files."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from monster_studio.core import images
from monster_studio.core.dataset import DatasetError, scan
from monster_studio.core.events import Cancel, Cancelled
from monster_studio.core.sample import CLASSES


def pictures(folder: Path, n: int, colour=(200, 50, 50), start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        p = folder / f"pic_{i:02d}.png"
        Image.new("RGB", (8, 8), colour).save(p)
        out.append(p)
    return out


def split_of(ds) -> tuple[set, set]:
    return {p.path for p in ds.train}, {p.path for p in ds.val}


# ---------------------------------------------------------------- the corpus of bad files

def test_bad_files_are_skipped_with_path_and_reason(bad_corpus):
    ds = scan(bad_corpus.root)
    assert ds.classes == bad_corpus.classes
    reasons = {Path(s.path): s.reason for s in ds.skipped}
    assert len(reasons) == len(ds.skipped)  # each file reported once
    assert set(reasons) == set(bad_corpus.bad) | set(bad_corpus.stray)
    for path, words in bad_corpus.bad.items():
        assert words in reasons[path].lower(), (path.name, reasons[path])
    assert "class folder" in reasons[bad_corpus.stray[0]]


def test_litter_is_ignored_silently(bad_corpus):
    ds = scan(bad_corpus.root)
    mentioned = {Path(s.path) for s in ds.skipped} | {p.path for p in ds.train + ds.val}
    assert not mentioned & set(bad_corpus.litter)


def test_every_usable_file_is_labelled_by_its_top_class(bad_corpus):
    ds = scan(bad_corpus.root)
    got = {p.path: ds.classes[p.label] for p in ds.train + ds.val}
    assert len(ds.train) + len(ds.val) == len(got)  # no picture twice
    assert got == bad_corpus.label  # good pictures and the cut-short JPEG (its header is fine)
    assert got[bad_corpus.path("nested.png")] == "ghost"
    assert "trip" not in ds.classes and "day2" not in ds.classes
    assert ds.counts() == Counter(bad_corpus.label.values())


def test_pictures_that_fail_later_can_be_dropped_and_reported(bad_corpus):
    ds = scan(bad_corpus.root)
    broken = {}
    for p in ds.train + ds.val:
        try:
            images.load_rgb(p.path)
        except images.BadPicture as exc:
            broken[p.path] = str(exc)
    assert set(broken) == set(bad_corpus.broken)
    before = len(ds.skipped)
    ds.drop(broken)
    assert not {p.path for p in ds.train + ds.val} & set(broken)
    assert len(ds.skipped) == before + len(broken)
    assert any("truncated" in s.reason for s in ds.skipped)


# ---------------------------------------------------------------- the split

def test_default_split_is_stratified_twenty_percent(sample_dir):
    ds = scan(sample_dir)
    assert ds.classes == list(CLASSES) and not ds.split_given and not ds.skipped
    assert ds.counts() == {c: 24 for c in CLASSES}
    val = Counter(ds.classes[p.label] for p in ds.val)
    train = Counter(ds.classes[p.label] for p in ds.train)
    assert val == {c: 5 for c in CLASSES}  # round(24 * 0.2)
    assert train == {c: 19 for c in CLASSES}
    train_paths, val_paths = split_of(ds)
    assert not train_paths & val_paths
    assert all(sample_dir / ds.classes[p.label] == p.path.parent for p in ds.train + ds.val)


def test_split_is_reproducible_for_a_seed(sample_dir):
    assert split_of(scan(sample_dir, seed=3)) == split_of(scan(sample_dir, seed=3))
    assert split_of(scan(sample_dir, seed=3)) != split_of(scan(sample_dir, seed=4))
    assert len(scan(sample_dir, val_split=0.5).val) == 60


def test_small_classes_still_land_on_both_sides(tmp_path):
    pictures(tmp_path / "two", 2)
    pictures(tmp_path / "three", 3)
    pictures(tmp_path / "eleven", 11)
    for seed in range(5):
        ds = scan(tmp_path, seed=seed)
        for side in (ds.train, ds.val):
            assert Counter(ds.classes[p.label] for p in side).keys() == {"two", "three", "eleven"}


def test_a_single_picture_stays_in_training(tmp_path):
    pictures(tmp_path / "lonely", 1)
    pictures(tmp_path / "crowd", 10)
    ds = scan(tmp_path)
    assert [ds.classes[p.label] for p in ds.train].count("lonely") == 1
    assert all(ds.classes[p.label] == "crowd" for p in ds.val)


def test_no_validation_when_asked(sample_dir):
    ds = scan(sample_dir, val_split=0.0)
    assert ds.val == [] and len(ds.train) == 120


@pytest.mark.parametrize("val_name", ["val", "test"])
def test_train_and_val_folders_are_used_as_given(tmp_path, val_name):
    train = pictures(tmp_path / "train" / "cat", 3) + pictures(tmp_path / "train" / "dog", 4)
    val = pictures(tmp_path / val_name / "cat", 2) + pictures(tmp_path / val_name / "dog", 1)
    ds = scan(tmp_path, seed=9)
    assert ds.split_given and ds.classes == ["cat", "dog"]
    assert split_of(ds) == (set(train), set(val))
    assert all(ds.classes[p.label] == p.path.parent.name for p in ds.train + ds.val)


# ---------------------------------------------------------------- folders that cannot be trained on

def test_one_class_is_not_enough(tmp_path):
    pictures(tmp_path / "only", 5)
    with pytest.raises(DatasetError, match="at least 2") as caught:
        scan(tmp_path)
    assert "'only'" in str(caught.value)


def test_no_class_folders_at_all(tmp_path):
    pictures(tmp_path, 3)  # pictures, but not in class folders: likely a class folder chosen by mistake
    with pytest.raises(DatasetError, match=r"not sorted into subfolders.*choose the folder above it"):
        scan(tmp_path)


def test_a_class_with_only_bad_files_is_named(tmp_path):
    pictures(tmp_path / "cat", 3)
    pictures(tmp_path / "dog", 3)
    (tmp_path / "bird").mkdir()
    (tmp_path / "bird" / "empty.jpg").write_bytes(b"")
    (tmp_path / "bird" / "letter.png").write_text("not a picture")
    (tmp_path / "bird" / ".DS_Store").write_bytes(bytes(8))
    with pytest.raises(DatasetError, match="'bird'"):
        scan(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        scan(tmp_path / "nowhere")


def test_a_file_is_not_a_folder(tmp_path):
    f = tmp_path / "photo.jpg"
    Image.new("RGB", (4, 4)).save(f)
    with pytest.raises(DatasetError, match="is a file"):
        scan(f)


def test_hidden_folders_are_not_classes(tmp_path):
    pictures(tmp_path / "cat", 2)
    pictures(tmp_path / "dog", 2)
    pictures(tmp_path / ".thumbnails", 2)
    pictures(tmp_path / "cat" / ".cache", 2, start=10)
    ds = scan(tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.counts() == {"cat": 2, "dog": 2}


def test_scan_can_be_cancelled(sample_dir):
    cancel = Cancel()
    cancel.set()
    with pytest.raises(Cancelled):
        scan(sample_dir, cancel=cancel)


def _dataset_with(counts: dict[str, int]):
    from monster_studio.core.dataset import Dataset, Picture

    classes = list(counts)
    train = [Picture(Path(f"{c}/{i}.png"), k) for k, c in enumerate(classes) for i in range(counts[c])]
    return Dataset(Path("."), classes, train, [])


def test_warnings_for_few_pictures_and_imbalance():
    w = _dataset_with({"cat": 40, "dog": 8, "fox": 12}).warnings()
    assert w["few"] == [("dog", 8)]
    assert w["imbalance"] == {"largest": "cat", "largest_count": 40, "smallest": "dog", "smallest_count": 8}
    assert _dataset_with({"a": 20, "b": 10}).warnings() == {"few": [], "imbalance": None}
    lines = _dataset_with({"cat": 40, "dog": 8}).warning_lines()
    assert len(lines) == 2 and "'dog' has only 8" in lines[0] and "lean towards 'cat'" in lines[1]


def test_scan_reports_progress(tmp_path):
    from monster_studio.core.dataset import scan_steps
    from monster_studio.core.events import Progress, run_to_end

    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(60):
            Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / cls / f"{i}.png")
    events = []
    ds = run_to_end(scan_steps(tmp_path), events.append)
    assert all(isinstance(e, Progress) and e.stage == "scan" and e.unit == "files" and e.total == 120 for e in events)
    assert events[0].done == 0 and events[-1].done == 120 and len(events) >= 4
    assert [e.done for e in events] == sorted(e.done for e in events)
    assert len(ds.train) + len(ds.val) == 120



def test_unreadable_folders_are_reported(tmp_path, monkeypatch):
    import os as os_module

    from monster_studio.core import dataset

    for cls in ("a", "b"):
        pictures(tmp_path / cls, 3)
    (tmp_path / "b" / "locked").mkdir()
    real_scandir = os_module.scandir

    def scandir(path):  # as root, permissions cannot be made to fail
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(dataset.os, "scandir", scandir)
    ds = scan(tmp_path)
    (locked,) = [s for s in ds.skipped if s.path.endswith("locked")]
    assert "folder cannot be read" in locked.reason


def test_the_scan_keeps_each_usable_pictures_identity(sample_dir, tmp_path, monkeypatch):
    """The feature store checks a file is the one it looked at by (size, mtime); the scan has just
    looked, and its figures are kept for that check (one stat of each file per run, not two)."""
    import os

    from monster_studio.core import dataset as ds_mod

    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    ds = ds_mod.scan(sample_dir)
    pictures = ds.train + ds.val
    assert set(ds.identities) == {p.file for p in pictures}
    some = pictures[0].file
    st = os.stat(some)
    assert ds.identities[some] == (st.st_size, st.st_mtime_ns)
    again = ds_mod.scan(sample_dir)  # the second scan (verdicts from the record) keeps them too
    assert again.identities == ds.identities
