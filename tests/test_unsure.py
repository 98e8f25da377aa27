"""Saying "not sure": the limits read from the calibration, a trained model flagging pictures of
kinds it never saw while passing its own, the setting, the model file (and files from before)."""
from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from safetensors.torch import save_file

from monster_studio.core import catalogue, modelfile, predict, training, unsure
from monster_studio.core.events import Finished
from monster_studio.core.sample import CLASSES, write_picture
from monster_studio.core.settings import TrainSettings


def calibration(distances, margins, sample=None) -> unsure.Calibration:
    sample = np.eye(3, dtype=np.float16) if sample is None else sample
    return unsure.Calibration(sample, np.asarray(distances, np.float32), np.asarray(margins, np.float32), 1)


def test_limits_let_the_chosen_share_of_calibration_pictures_pass():
    rng = np.random.default_rng(0)
    c = calibration(rng.uniform(0, 1, 200), rng.uniform(0, 1, 200))
    for share in (0.8, 0.9, 0.95, 0.99, 1.0):
        assert 1 - share - 0.01 <= c.share_flagged(share) <= 1 - share + 1e-9
    assert c.share_flagged(1.0) == 0.0
    # Stricter (a higher share to be sure of) never flags more.
    assert c.share_flagged(0.9) >= c.share_flagged(0.95) >= c.share_flagged(0.99)
    # Confident check pictures never raise the "torn" limit above the cap.
    sure = calibration(rng.uniform(0, 1, 50), np.full(50, 0.99))
    assert sure.limits()[1] == unsure.TORN_CAP
    with pytest.raises(unsure.SureShareError, match="from 0.5 to 1"):
        c.limits(0.2)


def test_reasons_name_what_is_wrong():
    # Three classes along the three axes; the sample holds one picture of each.
    c = calibration([0.05, 0.1, 0.1, 0.2], [0.9, 0.8, 0.3, 0.9])
    model = SimpleNamespace(unsure=c, classes=["bee", "fly", "ant"])
    feats = np.array([[1.0, 0.05, 0], [0, 0, -1.0], [0.02, 1.0, 0]], np.float32)
    probs = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.40, 0.45, 0.15]], np.float32)
    verdicts = unsure.judge(model, feats, probs)
    assert verdicts[0] == (False, "")
    assert verdicts[1] == (True, "unlike the pictures it learned from")  # pointing away from everything
    assert verdicts[2] == (True, "torn between fly and bee")  # the two best, the winner first
    assert unsure.judge(SimpleNamespace(unsure=None, classes=["a"]), feats, probs) == [(False, "")] * 3


def test_too_few_check_pictures_calibrate_on_the_training_pictures():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(40, 16)).astype(np.float32)
    labels = np.repeat([0, 1], 20)
    probs = np.tile([0.8, 0.2], (40, 1))
    c = unsure.calibrate(train, labels, train[:3], probs[:3], train_probs=probs, k=1)
    assert c.calibrated_on == "training pictures" and len(c.distances) == 40
    # Each training picture measured against the others: never at distance 0 from itself.
    assert c.distances.min() > 0.05


def test_the_sample_is_bounded_and_keeps_every_class():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2], [1000, 150, 50])
    train = rng.normal(size=(len(labels), 2000)).astype(np.float32)
    c = unsure.calibrate(train, labels, train[:12], np.tile([0.8, 0.1, 0.1], (12, 1)))
    assert len(c.sample) == unsure.MAX_SAMPLE_VALUES // 2000 == 1000 and c.sample.dtype == np.float16
    assert c.calibrated_on == "check pictures" and len(c.distances) == 12
    # The small classes whole, the big one takes the rest: rows of class 2 are all there.
    kept = {tuple(np.round(r[:4], 2)) for r in c.sample.astype(np.float32)}
    small = unsure.normalized(train[labels == 2]).astype(np.float16).astype(np.float32)
    assert all(tuple(np.round(r[:4], 2)) in kept for r in small)


# ---------------------------------------------------------------- a trained model

def no_kind_pictures(folder: Path, n: int) -> list[Path]:
    """Pictures of no kind the monsters model learned: noise, stripes, flat colours, blocks."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            a = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
        elif kind == 1:
            wave = (np.sin(np.arange(96) / rng.uniform(2, 12)) > 0)[None, :, None]
            a = np.ascontiguousarray(np.broadcast_to(wave * rng.uniform(60, 255, 3), (96, 96, 3))).astype(np.uint8)
        elif kind == 2:
            a = np.full((96, 96, 3), rng.integers(0, 256, 3), np.uint8)
        else:
            img = Image.new("RGB", (96, 96), tuple(int(v) for v in rng.integers(0, 256, 3)))
            d = ImageDraw.Draw(img)
            for _ in range(6):
                x, y, w = rng.uniform(0, 96, 3)
                d.rectangle((x, y, x + w / 2, y + w / 3), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
            a = np.asarray(img)
        out.append(folder / f"nothing_{i}.png")
        Image.fromarray(a).save(out[-1])
    return out


@pytest.fixture(scope="module")
def trained(sample_dir):
    events = list(training.fit(sample_dir, TrainSettings(epochs=15)))
    assert isinstance(events[-1], Finished)
    return events[-1]


@pytest.fixture(scope="module")
def new_monsters(tmp_path_factory) -> list[Path]:
    """Monsters the model has not seen, drawn like the sample's (another seed)."""
    folder = tmp_path_factory.mktemp("new_monsters")
    rng = random.Random("new monsters")
    return [write_picture(c, folder / f"{c}_{i}.png", rng, size=160) for c in CLASSES for i in range(4)]


def test_unseen_kinds_are_flagged_and_its_own_kinds_are_not(trained, new_monsters, tmp_path):
    model = trained.model
    assert isinstance(model.unsure, unsure.Calibration) and model.unsure.calibrated_on == "check pictures"
    check = trained.evaluation
    assert check.unsure_count <= 2  # of 25 check pictures: calibrated so that about 95% pass
    assert trained.metrics["unsure"]["share_not_sure"] == pytest.approx(check.unsure_count / check.count)
    strangers = [r for r in predict.classify(model, no_kind_pictures(tmp_path / "nothing", 16))]
    assert sum(r.unsure for r in strangers) >= 14
    assert all(r.unsure_reason == unsure.UNLIKE for r in strangers if r.unsure)
    known = list(predict.classify(model, new_monsters))
    assert sum(r.unsure for r in known) <= 5  # of 20 new pictures of its own classes
    assert all(r.label == Path(r.path).stem.split("_")[0] for r in known)
    # The setting: asking to be sure of fewer check pictures calls more pictures "not sure".
    counts = [sum(r.unsure for r in predict.classify(model, new_monsters, sure_share=s)) for s in (1.0, 0.95, 0.6)]
    assert counts[0] <= counts[1] <= counts[2] and counts[2] > counts[0]
    with pytest.raises(unsure.SureShareError):
        list(predict.classify(model, new_monsters, sure_share=0.1))


def test_the_model_file_keeps_it(trained, new_monsters, tmp_path):
    path = modelfile.save(trained.model, tmp_path / "m.monster")
    back = modelfile.load(path)
    c, d = trained.model.unsure, back.unsure
    assert np.array_equal(c.sample, d.sample) and np.array_equal(c.distances, d.distances)
    assert (d.k, d.calibrated_on) == (c.k, c.calibrated_on)
    before = [(r.label, r.unsure, r.unsure_reason) for r in predict.classify(trained.model, new_monsters)]
    assert [(r.label, r.unsure, r.unsure_reason) for r in predict.classify(back, new_monsters)] == before
    meta = modelfile.read_metadata(path)
    assert meta["format_version"] == 1 and meta["unsure"]["sample_size"] == len(c.sample)


def test_a_file_from_before_opens_and_is_always_sure(trained, tmp_path, new_monsters):
    """Written the old way (head tensors and metadata only, no "not sure" part)."""
    model = trained.model
    spec = catalogue.backbone(model.backbone_id)
    meta = {"format": "monster-studio-model", "format_version": 1, "classes": list(model.classes),
            "backbone": spec.id, "preprocess": spec.preprocess.to_dict(), "finetuned": False,
            "metrics": {"val_accuracy": 1.0}, "settings": {"epochs": 15}, "created": "2024-05-01T10:00:00+00:00",
            "app_version": "0.1.0"}
    old = tmp_path / "old.monster"
    save_file({f"head.{k}": torch.from_numpy(v) for k, v in model.head.items()}, str(old),
              metadata={"monster_studio": json.dumps(meta)})
    back = modelfile.load(old)
    assert back.unsure is None and back.classes == model.classes
    answers = list(predict.classify(back, new_monsters + [new_monsters[0].parent / "nope.png"]))
    said = [r for r in answers if isinstance(r, predict.Prediction)]
    assert len(said) == 20 and not any(r.unsure or r.unsure_reason for r in said)
    assert [r.label for r in said] == [r.label for r in predict.classify(model, new_monsters)]


def test_a_damaged_calibration_is_refused(trained, tmp_path):
    path = modelfile.save(trained.model, tmp_path / "m.monster")
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    meta = modelfile.read_metadata(path)
    tensors["unsure.sample"] = torch.zeros(3, 7, dtype=torch.float16)  # not the starting model's feature size
    save_file(tensors, str(path), metadata={"monster_studio": json.dumps(meta)})
    with pytest.raises(modelfile.ModelFileError, match="not sure"):
        modelfile.load(path)


def test_imagenet_mode_is_always_sure(sample_dir):
    from monster_studio.core.model import TrainedModel

    (r,) = list(predict.classify(TrainedModel.imagenet(), [next((sample_dir / "ghost").iterdir())]))
    assert r.unsure is False and r.unsure_reason == ""


@pytest.mark.parametrize("exclude_self", [False, True])
def test_knn_distance_in_chunks_is_the_whole_matrix_s(exclude_self):
    """Pictures are measured KNN_ROWS at a time (bounded memory); across chunk edges the answer is
    the one the whole similarity matrix gives, a picture never its own neighbour when excluded."""
    rng = np.random.default_rng(3)
    feats = rng.standard_normal((unsure.KNN_ROWS * 2 + 37, 16)).astype(np.float32)
    sample = unsure.normalized(feats)
    got = unsure.knn_distance(sample, feats, 3, exclude_self=exclude_self)
    sims = unsure.normalized(feats) @ sample.T
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    want = 1.0 - np.sort(sims, axis=1)[:, ::-1][:, 2]
    assert np.allclose(got, want, atol=1e-6)


def test_a_training_judges_its_check_pictures_on_the_distances_its_calibration_measured():
    """The check pictures' distances are measured once, by the calibration; judged with them, the
    answers are the ones measuring them again gives."""
    rng = np.random.default_rng(5)
    feats = rng.standard_normal((300, 16)).astype(np.float32)
    labels = np.arange(300) % 3
    check = rng.standard_normal((40, 16)).astype(np.float32) + 0.5
    probs = np.abs(rng.standard_normal((40, 3))).astype(np.float32)
    probs /= probs.sum(axis=1, keepdims=True)
    cal = unsure.calibrate(feats, labels, check, probs)
    assert cal.calibrated_on == "check pictures" and len(cal.distances) == 40
    model = SimpleNamespace(unsure=cal, classes=["a", "b", "c"])
    assert unsure.judge(model, check, probs, distances=cal.distances) == unsure.judge(model, check, probs)
