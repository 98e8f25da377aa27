"""The command line: the same core, plain one-line errors, exit codes, JSON and CSV output."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from pathlib import Path

from monster_studio.cli import main


def lines(text):
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def model_file(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "monsters"
    assert main(["train", str(sample_dir), "--out", str(out), "--epochs", "15", "--quiet"]) == 0
    return out.with_suffix(".monster")


def test_train_json_on_the_sample(sample_dir, tmp_path, capsys):
    out = tmp_path / "m.monster"
    code = main(["train", str(sample_dir), "--out", str(out), "--epochs", "15", "--json"])
    assert code == 0 and out.is_file()
    result = json.loads(lines(capsys.readouterr().out)[-1])
    assert result["val_accuracy"] >= 0.9
    assert result["classes"] == ["cyclops", "ghost", "mummy", "slime", "vampire"]
    assert (result["n_train"], result["n_val"]) == (95, 25) and result["skipped"] == []
    assert 0 < result["seconds"] < 120


def test_train_reports_skipped_files_in_json(bad_corpus, tmp_path, capsys):
    code = main(["train", str(bad_corpus.root), "--out", str(tmp_path / "b.monster"), "--epochs", "3", "--json"])
    assert code == 0
    result = json.loads(lines(capsys.readouterr().out)[-1])
    reported = {s["path"]: s["reason"] for s in result["skipped"]}
    assert {str(p) for p in bad_corpus.bad} <= set(reported) and all(reported.values())


def test_classify_json_and_csv(model_file, sample_dir, tmp_path, capsys):
    code = main(["classify", str(model_file), str(sample_dir / "ghost"), str(sample_dir / "slime" / "slime_000.png"),
                 "--json", "--top", "2"])
    assert code == 0
    rows = [json.loads(line) for line in lines(capsys.readouterr().out)]
    assert len(rows) == 25
    assert all(len(r["top"]) == 2 and r["top"][0]["probability"] >= r["top"][1]["probability"] for r in rows)
    ghosts = [r for r in rows if Path(r["path"]).parent.name == "ghost"]
    assert sum(r["top"][0]["label"] == "ghost" for r in ghosts) >= 22
    out = tmp_path / "results.csv"
    assert main(["classify", str(model_file), str(sample_dir / "mummy"), "--csv", str(out)]) == 0
    with open(out, newline="", encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    # the one classification CSV, the same as the window's Export CSV
    assert len(table) == 24 and {"path", "class", "confidence", "class_2", "confidence_2", "unsure", "unsure_reason",
                                 "note"} <= set(table[0])


def test_backbones_and_sample(tmp_path, capsys):
    assert main(["backbones", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    status = {r["id"]: r["status"] for r in rows}
    assert status["efficientnet_lite0"] == "bundled" and status["vgg16"] == "download"
    assert main(["backbones"]) == 0
    assert "download of 528 MB" in capsys.readouterr().out
    assert main(["sample", str(tmp_path / "s"), "--per-class", "3"]) == 0
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["cyclops", "ghost", "mummy", "slime", "vampire"]


@pytest.mark.parametrize("make_args,words", [
    (lambda t, s: ["train", str(t / "missing"), "--out", str(t / "x")], "does not exist"),
    (lambda t, s: ["train", str(s / "ghost"), "--out", str(t / "x")], "choose the folder above it"),
    (lambda t, s: ["train", str(s), "--out", str(t / "x"), "--backbone", "alexnet"], "Unknown starting model"),
    (lambda t, s: ["classify", str(s / "ghost" / "ghost_000.png"), str(s)], "not a Monster Studio model"),
    (lambda t, s: ["import-weights", "resnet18", str(t / "nothing.pth")], "does not exist"),
])
def test_errors_are_one_plain_line(tmp_path, sample_dir, capsys, make_args, words):
    assert main(make_args(tmp_path, sample_dir)) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: ")


def test_offline_backbone_is_a_clear_error(sample_dir, tmp_path, capsys, monkeypatch):
    import urllib.error
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    assert main(["train", str(sample_dir), "--out", str(tmp_path / "x"), "--backbone", "resnet18", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "resnet18-f37072fd.pth" in err and "import-weights resnet18" in err and "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_installed_entry_point_runs_as_a_program(tmp_path):
    """The real executable: help works, and a failure is an exit code with no traceback."""
    ok = subprocess.run([sys.executable, "-m", "monster_studio", "--help"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "train" in ok.stdout and "classify" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "monster_studio", "classify", str(tmp_path / "none.monster"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "does not exist" in bad.stderr


def test_val_split_zero_gives_null_accuracy(sample_dir, tmp_path, capsys):
    assert main(["train", str(sample_dir), "--out", str(tmp_path / "z"), "--epochs", "3", "--val-split", "0",
                 "--json"]) == 0
    result = json.loads(lines(capsys.readouterr().out)[-1])  # valid JSON: no NaN
    assert result["val_accuracy"] is None and result["n_val"] == 0


def test_csv_keeps_skipped_files_and_odd_names(model_file, sample_dir, tmp_path, capsys):
    import os
    import shutil

    folder = tmp_path / "in"
    folder.mkdir()
    odd = folder / os.fsdecode(b"caf\xe9.png")
    shutil.copy(sample_dir / "slime" / "slime_000.png", odd)
    (folder / "broken.jpg").write_bytes(b"not a picture")
    out = tmp_path / "r.csv"
    out.write_text("old results\n")
    assert main(["classify", str(model_file), str(folder), "--csv", str(out), "--top", "9"]) == 0
    with open(out, newline="", encoding="utf-8-sig", errors="surrogateescape") as f:
        table = list(csv.reader(f))
    header, rows = table[0], table[1:]
    assert header[-1] == "note" and "class_5" in header and "class_6" not in header  # 5 classes, not 9
    by_name = {Path(r[0]).name: r for r in rows}
    assert by_name[odd.name][1] == "slime" and by_name["broken.jpg"][-1]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".part"))]


@pytest.mark.parametrize("args", [["--device", "warp-drive"], ["--epochs", "0"], ["--val-split", "1.5"]])
def test_bad_options_are_usage_errors(sample_dir, tmp_path, args):
    with pytest.raises(SystemExit) as exc:
        main(["train", str(sample_dir), "--out", str(tmp_path / "x"), *args])
    assert exc.value.code == 2


def test_an_unexpected_error_is_one_line(tmp_path, capsys, monkeypatch):
    from monster_studio.core import sample

    monkeypatch.setattr(sample, "write_sample", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    assert main(["sample", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["error: unexpected RuntimeError: boom (run again with --debug for the details)"]
