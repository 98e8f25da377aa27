"""Check my pictures: planted wrong labels ranked first, planted copies across the split reported
as leaks, a copy within one part as a duplicate only, an odd picture as an outlier, and the
folder byte-identical afterwards."""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monster_studio.cli import main
from monster_studio.core import doctor
from monster_studio.core.events import Cancel, Cancelled, Phase, Progress, run_to_end
from monster_studio.core.sample import CLASSES, write_picture

PER_CLASS = 20  # 16 to train on, 4 to check with, in each of the 5 classes


def snapshot(root: Path) -> dict:
    """Every file and folder below root: content hash, size and modification time."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = Path(dirpath) / d
            out[str(p.relative_to(root)) + "/"] = p.stat().st_mtime_ns
        for f in filenames:
            p = Path(dirpath) / f
            st = p.stat()
            out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A train/ val/ folder of generated monsters with wrong labels, copies and an odd picture
    planted; the check run once on it, with the folder's state before and after."""
    root = tmp_path_factory.mktemp("doctor") / "monsters"
    for cls in CLASSES:
        for i in range(PER_CLASS):
            part = "val" if i >= 16 else "train"
            (root / part / cls).mkdir(parents=True, exist_ok=True)
            write_picture(cls, root / part / cls / f"{cls}_{i:02d}.png", random.Random(f"doctor/{cls}/{i}"), size=96)
    rng = random.Random(7)
    wrong = {}  # planted path -> its true class
    for k, cls in enumerate(CLASSES):
        for i in (3 + k, 9 + k):  # two per class, each into another class's folder
            other = CLASSES[(CLASSES.index(cls) + rng.randint(1, len(CLASSES) - 1)) % len(CLASSES)]
            src = root / "train" / cls / f"{cls}_{i:02d}.png"
            dst = root / "train" / other / f"{cls}_{i:02d}.png"
            shutil.move(src, dst)
            wrong[str(dst)] = cls
    leaks = []  # (train path, val copy)
    for cls, i in (("ghost", 1), ("mummy", 2), ("slime", 0)):
        src = root / "train" / cls / f"{cls}_{i:02d}.png"
        dst = root / "val" / cls / f"copy_of_{cls}_{i:02d}.png"
        shutil.copy2(src, dst)
        leaks.append((str(src), str(dst)))
    # the same picture saved again as a JPEG: other bytes, nearly the same features
    src = root / "train" / "vampire" / "vampire_01.png"
    resaved = root / "val" / "vampire" / "resaved_vampire_01.jpg"
    Image.open(src).save(resaved, quality=95)
    leaks.append((str(src), str(resaved)))
    twin_src = root / "train" / "cyclops" / "cyclops_00.png"
    twin = root / "train" / "cyclops" / "cyclops_00 again.png"
    shutil.copy2(twin_src, twin)
    odd = root / "train" / "slime" / "scan_of_nothing.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(odd)
    before = snapshot(root)
    events = []
    report = run_to_end(doctor.check_steps(root), events.append)
    return {"root": root, "wrong": wrong, "leaks": leaks, "twin": (str(twin_src), str(twin)), "odd": str(odd),
            "report": report, "events": events, "before": before, "after": snapshot(root)}


def test_planted_wrong_labels_are_ranked_first(planted):
    report, wrong = planted["report"], planted["wrong"]
    top = report.label_issues[:len(wrong)]
    hits = [i for i in top if i.path in wrong]
    assert len(hits) >= 0.8 * len(wrong), [(Path(i.path).name, i.given, i.suggested) for i in top]
    for issue in hits:  # each knows where it came from and what it is
        assert issue.suggested == wrong[issue.path]
        assert issue.given == Path(issue.path).parent.name and issue.part == "train"
    scores = [i.score for i in report.label_issues]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert len(report.label_issues) <= 2 * len(wrong)  # a short list to look through, not half the folder


def test_every_planted_copy_across_the_split_is_a_leak(planted):
    report = planted["report"]
    for train, val in planted["leaks"]:
        leak = next((k for k in report.leaks if train in k.train and val in k.val), None)
        assert leak is not None, (train, val)
        assert leak.exact == (not val.endswith(".jpg"))
        assert leak.similarity == 1.0 if leak.exact else doctor.NEAR_COPY <= leak.similarity < 1.0
    assert len(report.leaks) == len(planted["leaks"])  # distinct pictures are not paired up


def test_a_copy_within_one_part_is_a_duplicate_not_a_leak(planted):
    report = planted["report"]
    pair = set(planted["twin"])
    group = next(g for g in report.duplicates if pair <= set(g.paths))
    assert group.exact and group.similarity == 1.0 and group.classes == ["cyclops"]
    assert not any(pair & set(k.paths) for k in report.leaks)
    assert report.duplicates[0].exact  # byte-identical copies come first


def test_a_picture_unlike_its_class_is_an_outlier(planted):
    report = planted["report"]
    assert planted["odd"] in [o.path for o in report.outliers[:3]]
    odd = next(o for o in report.outliers if o.path == planted["odd"])
    assert odd.kind == "slime" and odd.score > doctor.OUTLIER_Z


def test_the_check_changes_no_file(planted):
    assert planted["after"] == planted["before"]


def test_report_counts_progress_and_json(planted):
    report, events = planted["report"], planted["events"]
    assert report.classes == list(CLASSES) and report.split_given
    assert report.pictures == 5 * PER_CLASS + 4 + 1 + 1 and report.folds == doctor.FOLDS
    assert [e.name for e in events if isinstance(e, Phase)][0] == "scan"
    assert {e.stage for e in events if isinstance(e, Progress)} >= {"scan", "features", "hash", "check"}
    data = json.loads(report.to_json())
    assert data == report.to_dict()
    issue = data["label_issues"][0]
    assert set(issue) >= {"path", "given", "suggested", "score"}
    assert set(data["duplicates"][0]) >= {"paths", "similarity"}
    assert set(data["leaks"][0]) >= {"train", "val", "paths"}
    assert set(data["outliers"][0]) >= {"path", "kind", "score"}
    assert report.summary()[0].startswith(f"Checked {report.pictures} pictures in 5 classes")


def test_cli_json_is_one_line_with_the_same_findings(planted, capsys):
    assert main(["doctor", str(planted["root"]), "--json"]) == 0
    out = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(out) == 1
    data = json.loads(out[0])
    report = planted["report"]
    assert [i["path"] for i in data["label_issues"]] == [i.path for i in report.label_issues]
    assert len(data["leaks"]) == len(report.leaks) and len(data["outliers"]) == len(report.outliers)
    assert snapshot(planted["root"]) == planted["before"]


def test_cli_words(planted, capsys):
    assert main(["doctor", str(planted["root"]), "--limit", "3", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "Maybe in the wrong class" in text and "Among both the training and the check pictures" in text
    assert "and 1 more" in text or len(planted["report"].leaks) <= 3
    assert text.rstrip().endswith("Nothing was changed.")


def test_a_stop_ends_the_check(planted):
    cancel = Cancel()
    cancel.set()
    with pytest.raises(Cancelled):
        run_to_end(doctor.check_steps(planted["root"], cancel=cancel))
