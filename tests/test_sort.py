"""Sorting a folder into kinds with a trained model: a preview that writes nothing, each picture
copied exactly once, a rerun that adds nothing, --move that keeps every byte, a stop half-way
that leaves no half-written file, and class names from a model file made safe as folder names."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monster_studio.cli import main
from monster_studio.core import modelfile, sort, training
from monster_studio.core.events import Cancel, Cancelled, Phase, Progress, run_to_end
from monster_studio.core.predict import Prediction
from monster_studio.core.sample import CLASSES, write_picture, write_sample
from monster_studio.core.settings import TrainSettings

N_SORT = 200


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def contents(folder: Path) -> Counter:
    """Content hashes of every file below `folder` but the manifest, with how often each occurs."""
    return Counter(sha(Path(d) / f) for d, _, names in os.walk(folder) for f in names if f != sort.MANIFEST)


def manifest_rows(out: Path) -> list[dict]:
    with open(out / sort.MANIFEST, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


class StopAfter(Cancel):
    """A stop that comes at the n-th time the work checks for one (inside a copy, if it is copying)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    def check(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.set()
        super().check()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    data = write_sample(tmp_path_factory.mktemp("sort_train") / "monsters", per_class=8, size=96)
    done = [e for e in training.fit(data, TrainSettings(epochs=15))][-1]
    return done.model


@pytest.fixture(scope="module")
def model_file(model, tmp_path_factory):
    return modelfile.save(model, tmp_path_factory.mktemp("sort_model") / "monsters.monster")


@pytest.fixture(scope="module")
def unsorted(tmp_path_factory):
    """200 new pictures (40 of each kind) loose in a folder and one subfolder, plus an exact copy
    of one of them and a file that is not a picture. Returns (folder, {file name: its kind})."""
    root = tmp_path_factory.mktemp("sort_in") / "new pictures"
    kinds = {}
    for k in range(N_SORT):
        cls = CLASSES[k % len(CLASSES)]
        folder = root / ("batch 2" if k % 4 == 3 else "")
        folder.mkdir(parents=True, exist_ok=True)
        name = f"photo_{k:03d}.png"
        write_picture(cls, folder / name, random.Random(f"sort/{k}"), size=96)
        kinds[name] = cls
    shutil.copy2(root / "photo_000.png", root / "batch 2" / "photo_000 copy.png")
    (root / "notes.txt").write_text("sort these by Friday\n")
    return root, kinds


@pytest.fixture(scope="module")
def first_sort(model, unsorted, tmp_path_factory):
    src, _ = unsorted
    out = tmp_path_factory.mktemp("sort_out") / "sorted"
    before = contents(src)
    events = []
    plan = run_to_end(sort.plan_steps(model, src, out), events.append)
    written_by_plan = out.exists()
    result = run_to_end(sort.apply_steps(plan), events.append)
    return {"out": out, "plan": plan, "result": result, "events": events, "src_before": before,
            "written_by_plan": written_by_plan}


def test_the_preview_counts_everything_and_writes_nothing(first_sort):
    plan = first_sort["plan"]
    assert not first_sort["written_by_plan"]
    assert plan.n_new == N_SORT and sum(plan.counts.values()) == N_SORT
    assert plan.n_same == 1 and plan.n_already == 0 and plan.n_skipped == 1  # the exact copy, and notes.txt
    assert plan.skipped[0].path.endswith("notes.txt")
    same = next(i for i in plan.items if i.status == sort.SAME_AS)
    assert same.source.endswith("photo_000 copy.png") and "photo_000.png" in same.note
    assert set(plan.counts) <= set(CLASSES) | {sort.NOT_SURE}
    assert plan.summary()[0].startswith(f"{N_SORT} pictures to sort:")


def test_each_picture_is_copied_exactly_once_into_its_kind(first_sort, unsorted):
    src, kinds = unsorted
    out, result = first_sort["out"], first_sort["result"]
    assert contents(src) == first_sort["src_before"]  # a copy leaves the originals as they were
    assert result.copied == N_SORT and result.same == 1 and result.skipped == 1 and result.removed == 0
    copied = contents(out)
    originals = {sha(p) for p in src.rglob("*.png")}
    assert set(copied) == originals and all(n == 1 for n in copied.values())
    right = sum(1 for p in out.rglob("*.png") if p.parent.name == kinds[p.name])
    assert right >= 0.8 * N_SORT  # a real classification, not a shuffle
    rows = manifest_rows(out)
    assert Counter(r["status"] for r in rows)["copied"] == N_SORT and len(rows) == N_SORT + 2
    for r in rows:
        if r["status"] == "copied":
            assert sha(Path(r["destination"])) == sha(Path(r["source"])) == r["sha256"]
            assert Path(r["destination"]).parent.name in (r["kind"], sort.NOT_SURE)
            assert r["unsure"] in ("yes", "no") and 0 <= float(r["confidence"]) <= 1
    sorting = [e for e in first_sort["events"] if isinstance(e, Progress) and e.stage == "sort"]
    assert sorting[-1].done == sorting[-1].total == N_SORT + 2


def test_a_rerun_adds_nothing_and_classifies_nothing(first_sort, model, unsorted):
    src, _ = unsorted
    out = first_sort["out"]
    before, rows_before = contents(out), manifest_rows(out)
    events = []
    plan = run_to_end(sort.plan_steps(model, src, out), events.append)
    assert plan.n_new == 0 and plan.n_already == N_SORT + 1
    assert not any(isinstance(e, Phase) and e.name == "classify" for e in events)
    result = run_to_end(sort.apply_steps(plan))
    assert result.copied == 0 and contents(out) == before and manifest_rows(out) == rows_before


def test_moving_what_was_already_copied_removes_only_checked_originals(first_sort, model, unsorted, tmp_path):
    src, _ = unsorted
    again = tmp_path / "again"
    shutil.copytree(src, again)
    out = first_sort["out"]
    before = contents(out)
    result = run_to_end(sort.apply_steps(run_to_end(sort.plan_steps(model, again, out)), move=True))
    assert result.copied == 0 and result.removed == N_SORT + 1 and contents(out) == before
    assert [p.name for p in again.rglob("*") if p.is_file()] == ["notes.txt"]


def test_move_keeps_every_byte(model_file, unsorted, tmp_path, capsys):
    src, _ = unsorted
    moving = tmp_path / "to move"
    moving.mkdir()
    for p in sorted(src.glob("photo_0[0-2]*.png")) + [src / "notes.txt"]:
        shutil.copy2(p, moving / p.name)
    shutil.copy2(moving / "photo_001.png", moving / "twin of 001.png")
    pictures = {sha(p) for p in moving.glob("*.png")}
    files = len(list(moving.iterdir()))
    out = tmp_path / "sorted"

    assert main(["sort", str(model_file), str(moving), str(out), "--dry-run", "--json"]) == 0
    preview = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert not out.exists() and preview["new"] == len(pictures) and preview["skipped"] == 1

    assert main(["sort", str(model_file), str(moving), str(out), "--move", "--json"]) == 0
    line = capsys.readouterr().out.strip().splitlines()
    assert len(line) == 1
    result = json.loads(line[0])
    assert result["move"] and result["copied"] == len(pictures) and result["removed"] == files - 1
    kept = contents(out)
    assert set(kept) == pictures  # every picture's bytes, once
    assert all(n == 1 for n in kept.values())
    assert [p.name for p in moving.iterdir()] == ["notes.txt"]  # not a picture: left where it was

    assert main(["sort", str(model_file), str(moving), str(out), "--move", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip())["copied"] == 0 and contents(out) == kept


@pytest.fixture
def with_big_picture(unsorted, tmp_path):
    """A few small pictures and, first in line, one of several megabytes (copied in several chunks)."""
    src, _ = unsorted
    folder = tmp_path / "big and small"
    folder.mkdir()
    for p in sorted(src.glob("photo_00*.png")):
        shutil.copy2(p, folder / p.name)
    noise = np.random.default_rng(0).integers(0, 255, (1400, 1400, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "a_big_scan.png", compress_level=0)
    assert (folder / "a_big_scan.png").stat().st_size > 2 * (1 << 20)
    return folder


def test_a_stop_in_the_middle_of_a_copy_leaves_no_half_written_file(model, with_big_picture, tmp_path):
    out = tmp_path / "sorted"
    plan = run_to_end(sort.plan_steps(model, with_big_picture, out))
    assert plan.items[0].source.endswith("a_big_scan.png") and plan.items[0].status == sort.NEW
    with pytest.raises(Cancelled):
        run_to_end(sort.apply_steps(plan, cancel=StopAfter(3)))  # the sort's own check, then two chunks
    leftovers = [p for p in out.rglob("*") if p.is_file() and p.name != sort.MANIFEST]
    assert leftovers == []  # not even a temporary file
    assert manifest_rows(out) == []


def test_a_stop_between_pictures_keeps_what_was_done_and_a_rerun_finishes(model, with_big_picture, tmp_path):
    out = tmp_path / "sorted"
    originals = contents(with_big_picture)
    plan = run_to_end(sort.plan_steps(model, with_big_picture, out))
    with pytest.raises(Cancelled):
        run_to_end(sort.apply_steps(plan, move=True, cancel=StopAfter(40)))
    rows = manifest_rows(out)
    assert 0 < len(rows) < len(originals)
    for r in rows:  # every picture done is complete, listed, and its original gone only then
        assert sha(Path(r["destination"])) == r["sha256"] and not Path(r["source"]).exists()
    assert not [p for p in out.rglob(".ms-*")]
    assert set(contents(out)) | set(contents(with_big_picture)) == set(originals)
    run_to_end(sort.sort_steps(model, with_big_picture, out, move=True))
    assert contents(out) == originals and not any(with_big_picture.iterdir())


def fake(path, label, p, unsure=False, reason=""):
    return Prediction(str(path), [(label, p)], unsure, reason)


def test_class_names_from_a_model_file_become_safe_folder_names(tmp_path):
    classes = ["../../escape", "a/b", "a_b", "CON", sort.NOT_SURE, "bell\x07\x1b]0;owned\x07", "Ant", "ant",
               "=HYPERLINK(\"x\")", "..", "sort-manifest.csv"]
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    listed, answers = [], {}
    for k, c in enumerate(classes):
        p = src / f"p{k}.png"
        Image.new("RGB", (8, 8), (k * 20, 0, 0)).save(p)
        listed.append((p, sha(p), p.stat().st_size, ""))
        answers[str(p)] = fake(p, c, 0.9)
    doubt = src / "doubt.png"
    Image.new("RGB", (8, 8), (0, 9, 9)).save(doubt)
    low = src / "low.png"
    Image.new("RGB", (8, 8), (9, 9, 0)).save(low)
    listed += [(doubt, sha(doubt), 1, ""), (low, sha(low), 1, "")]
    answers[str(doubt)] = fake(doubt, "Ant", 0.99, True, "unlike the pictures it learned from")
    answers[str(low)] = fake(low, "Ant", 0.41)
    plan = sort.make_plan(src, out, listed, answers, {}, classes, "m", min_confidence=0.5)
    folders = list(plan.folders.values())
    assert len({f.lower() for f in folders}) == len(classes)  # unique, whatever the case
    for f in folders:
        assert "/" not in f and "\\" not in f and f not in (".", "..") and f.isprintable() and not f.startswith(".")
        assert f.lower() not in (sort.NOT_SURE, sort.MANIFEST, "con")
    assert set(plan.renamed) == set(classes) - {"a_b", "Ant"}
    assert any("'../../escape' goes into the folder" in line for line in plan.summary())
    by_source = {Path(i.source).name: i for i in plan.items}
    assert by_source["doubt.png"].folder == sort.NOT_SURE and by_source["doubt.png"].unsure
    assert by_source["low.png"].folder == sort.NOT_SURE and "below the minimum of 50%" in by_source["low.png"].unsure_reason
    assert plan.folders["a/b"] == "a_b (2)" and plan.folders["a_b"] == "a_b" and plan.folders["ant"] == "ant (2)"
    result = run_to_end(sort.apply_steps(plan))
    assert result.copied == len(classes) + 2 and result.not_sure == 2  # the class "_not_sure" has a folder of its own
    for p in out.rglob("*"):
        assert p.resolve().is_relative_to(out.resolve())
    assert sorted(d.name for d in out.iterdir() if d.is_dir()) == sorted(folders + [sort.NOT_SURE])
    with open(out / sort.MANIFEST, encoding="utf-8-sig", newline="") as f:
        cells = [row[1] for row in csv.reader(f)][1:]
    assert "'=HYPERLINK(\"x\")" in cells  # shown in a spreadsheet, never run


def test_folders_that_cannot_be_used_are_refused_before_any_work(model, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for out, words in ((src, "folder of their own"), (tmp_path, "lies inside")):
        with pytest.raises(sort.SortError, match=words):
            run_to_end(sort.plan_steps(model, src, out))
    with pytest.raises(sort.SortError, match="does not exist"):
        run_to_end(sort.plan_steps(model, tmp_path / "missing", tmp_path / "out"))
    with pytest.raises(sort.SortError, match="share from 0 to 1"):
        run_to_end(sort.plan_steps(model, src, tmp_path / "out", min_confidence=1.5))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(sort.SortError, match="is a file"):
        run_to_end(sort.plan_steps(model, src, tmp_path / "afile"))


def test_a_sorted_folder_inside_the_one_being_sorted_is_left_out(model, unsorted, tmp_path):
    src, _ = unsorted
    folder = tmp_path / "in"
    folder.mkdir()
    for p in sorted(src.glob("photo_00[0-2].png")):
        shutil.copy2(p, folder / p.name)
    out = folder / "sorted"
    run_to_end(sort.sort_steps(model, folder, out))
    plan = run_to_end(sort.plan_steps(model, folder, out))
    assert plan.n_new == 0 and plan.n_already == 3 and "left out" in plan.left_out
    assert len(plan.items) == 3  # the sorted copies are not sorted again
