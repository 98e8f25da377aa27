"""Evaluation: the figures against hand-computed values, a labeled folder with a known answer
(test/ part, unknown kinds, skipped files), training's check-picture evaluation, and the command
line (`evaluate --json` agrees with `classify --json`)."""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch

from monster_studio.cli import main
from monster_studio.core import catalogue, evaluate, modelfile, training
from monster_studio.core.events import Finished, Skipped, run_to_end
from monster_studio.core.model import TrainedModel
from monster_studio.core.predict import Prediction
from monster_studio.core.sample import write_picture
from monster_studio.core.settings import TrainSettings


def answer(path, said, confidence, unsure=False):
    return Prediction(path, [(said, confidence)], unsure, "torn between a and b" if unsure else "")


def test_figures_match_a_hand_count():
    # true:  a a a b b c      said: a a b b c c   (and d: no picture, never said)
    truths = ["a", "a", "a", "b", "b", "c"]
    said = ["a", "a", "b", "b", "c", "c"]
    conf = [0.9, 0.8, 0.7, 0.6, 0.95, 0.5]
    preds = [answer(f"p{i}.png", s, c, unsure=(i == 4)) for i, (s, c) in enumerate(zip(said, conf))]
    r = evaluate.from_predictions(["a", "b", "c", "d"], truths, preds)
    assert r.confusion == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert r.count == 6 and r.correct == 4 and r.accuracy == pytest.approx(4 / 6)
    pc = r.per_class
    # a: 2 of the 2 called a are a; 2 of the 3 a found; F1 = 2*1*(2/3)/(1+2/3) = 0.8
    assert pc["a"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3})
    # b: called b twice (one right); 1 of 2 b found
    assert pc["b"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    # c: called c twice (one right); its one picture found; F1 = 2*0.5*1/1.5
    assert pc["c"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    assert pc["d"] == {"precision": None, "recall": None, "f1": None, "support": 0}
    assert r.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)  # d has no pictures: left out
    # The mistakes, the most confident first, and the pictures of one cell.
    assert [(m.path, m.true, m.predicted) for m in r.misclassified] == [("p4.png", "b", "c"), ("p2.png", "a", "b")]
    assert [x.path for x in r.cell(0, 0)] == ["p0.png", "p1.png"] and r.cell("b", "c")[0].unsure
    assert [x.path for x in r.of_class("b")] == ["p3.png", "p4.png"]
    assert r.unsure_count == 1 and r.sure_accuracy == pytest.approx(4 / 5)


def test_a_class_never_called_has_f1_zero_and_json_has_no_nan():
    r = evaluate.from_predictions(["a", "b"], ["a", "b", "b"], [answer("x", "a", 0.6), answer("y", "a", 0.7),
                                                                   Skipped("z", "damaged")])
    assert r.per_class["b"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}  # z: not classified
    assert [s.path for s in r.skipped] == ["z"] and r.count == 2
    d = json.loads(r.to_json())
    assert {"accuracy", "classes", "confusion", "per_class", "misclassified", "skipped", "pictures"} <= set(d)
    assert d["misclassified"] == [{"path": "y", "true": "b", "predicted": "a", "confidence": 0.7, "unsure": False}]
    empty = evaluate.from_predictions(["a", "b"], [], [])
    assert empty.accuracy is None and json.loads(empty.to_json())["accuracy"] is None


def _pictures(folder: Path, kind: str, n: int, rng: random.Random, drawn_as: str | None = None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_picture(drawn_as or kind, folder / f"{kind.lower()}_{i}.png", rng, size=64) for i in range(n)]


def test_a_labeled_folder_with_a_known_answer(tmp_path):
    """A model that says "ant" whatever it sees (zero weights, a bias for ant): every figure is known."""
    spec = catalogue.backbone("efficientnet_lite0")
    head = {"weight": torch.zeros(3, spec.feature_size), "bias": torch.tensor([2.0, 0.0, 0.0])}
    model = TrainedModel(spec.id, ["ant", "bee", "fly"], spec.preprocess, head)
    rng = random.Random(3)
    root = tmp_path / "bugs"
    _pictures(root / "train" / "ant", "ant", 2, rng, "ghost")  # not checked on: the test/ part is
    test = root / "test"
    ants = _pictures(test / "ant", "ant", 3, rng, "ghost")
    _pictures(test / "bee", "bee", 2, rng, "slime")
    _pictures(test / "Fly", "Fly", 1, rng, "mummy")  # the model's "fly", in another case
    moths = _pictures(test / "moth", "moth", 2, rng, "vampire")  # a kind the model does not know
    (test / "bee" / "readme.txt").write_text("not a picture")
    write_picture("ghost", test / "loose.png", rng, size=64)

    r = run_to_end(evaluate.evaluate(model, root))
    assert Path(r.folder) == test and r.classes == ["ant", "bee", "fly"]
    assert r.confusion == [[3, 0, 0], [2, 0, 0], [1, 0, 0]] and r.accuracy == 0.5
    assert r.per_class["ant"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 3})
    assert r.per_class["fly"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}
    p_ant = math.exp(2) / (math.exp(2) + 2)
    assert len(r.misclassified) == 3 and all(m.predicted == "ant" and m.confidence == pytest.approx(p_ant, abs=1e-6)
                                             for m in r.misclassified)
    assert {m.true for m in r.misclassified} == {"bee", "fly"}
    assert sorted(x.path for x in r.cell("ant", "ant")) == sorted(map(str, ants))
    assert sorted(u.path for u in r.unknown) == sorted(map(str, moths)) and r.unknown_kinds() == {"moth": 2}
    reasons = {Path(s.path).name: s.reason for s in r.skipped}
    assert set(reasons) == {"readme.txt", "loose.png"} and "class folder" in reasons["loose.png"]
    assert not any(r.unsure for r in r.rows)  # no calibration: a model that cannot say "not sure"
    assert evaluate.label_from_folder(test / "Fly" / "fly_0.png", model.classes) == "fly"
    assert evaluate.label_from_folder(moths[0], model.classes) is None


def test_folders_that_cannot_be_checked_are_plain_errors(tmp_path):
    spec = catalogue.backbone("efficientnet_lite0")
    model = TrainedModel(spec.id, ["ant", "bee"], spec.preprocess,
                         {"weight": torch.zeros(2, spec.feature_size), "bias": torch.zeros(2)})
    (tmp_path / "cats").mkdir()
    with pytest.raises(evaluate.EvaluationError, match="named after one of the model's classes"):
        run_to_end(evaluate.evaluate(model, tmp_path))
    with pytest.raises(evaluate.EvaluationError, match="does not exist"):
        run_to_end(evaluate.evaluate(model, tmp_path / "nope"))
    only_train = tmp_path / "only"
    (only_train / "train" / "ant").mkdir(parents=True)
    with pytest.raises(evaluate.EvaluationError, match="held back for checking"):
        run_to_end(evaluate.evaluate(model, only_train))


@pytest.fixture(scope="module")
def trained(sample_dir):
    events = list(training.fit(sample_dir, TrainSettings(epochs=15)))
    assert isinstance(events[-1], Finished)
    return events[-1]


def test_training_evaluates_its_check_pictures(trained):
    r, m = trained.evaluation, trained.metrics
    assert isinstance(r, evaluate.Evaluation) and r.count == m["n_val"] == 25
    assert r.accuracy == pytest.approx(m["val_accuracy"])
    assert m["confusion"] == r.confusion and sum(map(sum, r.confusion)) == 25
    for c in r.classes:  # the figures the window and the saved file already read, F1 beside them
        assert set(m["per_class"][c]) == {"precision", "recall", "f1", "support"} and m["per_class"][c]["support"] == 5
    assert all(Path(x.path).parent.name == x.true for x in r.rows)
    json.dumps(m)  # the metrics go into the model file as JSON


def test_evaluate_json_agrees_with_classify_json(trained, tmp_path, capsys):
    model_path = modelfile.save(trained.model, tmp_path / "monsters.monster")
    rng = random.Random(11)
    folder = tmp_path / "new"
    for kind in ("ghost", "slime", "vampire"):
        _pictures(folder / kind, kind, 4, rng)
    _pictures(folder / "werewolf", "werewolf", 2, rng, "cyclops")  # a folder named after none of its classes
    assert main(["classify", str(model_path), str(folder), "--json", "--top", "1"]) == 0
    said = {r["path"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert main(["evaluate", str(model_path), str(folder), "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    ev = json.loads(line)
    assert len(said) == len(ev["pictures"]) + len(ev["unknown"]) == 14
    for row in ev["pictures"] + ev["unknown"]:
        c = said[row["path"]]
        assert row["predicted"] == c["top"][0]["label"] and row["confidence"] == pytest.approx(c["top"][0]["probability"],
                                                                                              abs=1e-5)
        assert row["unsure"] == c["unsure"] and row["unsure_reason"] == c["unsure_reason"]
        assert row["true"] == Path(row["path"]).parent.name
    right = sum(said[p["path"]]["top"][0]["label"] == p["true"] for p in ev["pictures"])
    assert ev["accuracy"] == pytest.approx(right / 12) and ev["unknown_kinds"] == {"werewolf": 2}
    assert sum(map(sum, ev["confusion"])) == 12
    assert [m["path"] for m in ev["misclassified"]] == [p["path"] for p in sorted(
        (p for p in ev["pictures"] if not p["correct"]), key=lambda p: -p["confidence"])]
    # The report for a person: the figures in words, the unknown kind named.
    assert main(["evaluate", str(model_path), str(folder)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "Confusion matrix" in out and "'werewolf'" in out
