"""Training end to end on the generated sample with the bundled backbone: events, cache reuse,
reproducibility, augmentation, cancel, fine-tuning, prediction."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from monster_studio.core import features, predict, training
from monster_studio.core.settings import TrainSettings
from monster_studio.core.events import Cancel, ClassTable, EpochEnd, Finished, Phase, Progress, Skipped


def stage(events, name):
    """The Progress events of one stage ("scan", "features", "train", "finetune")."""
    return [e for e in events if isinstance(e, Progress) and e.stage == name]


def run(data, cancel=None, **kw):
    settings = TrainSettings(**kw)
    return list(training.fit(data, settings, cancel))


@pytest.fixture(scope="module")
def trained(sample_dir):
    return run(sample_dir, epochs=15)


def test_events_tell_the_whole_story(trained, sample_dir):
    kinds = [type(e) for e in trained if not (isinstance(e, Progress) and e.stage == "scan")]
    assert kinds[0] is Phase and kinds[1] is ClassTable and kinds[-1] is Finished
    scan = next(e for e in trained if isinstance(e, ClassTable))
    assert [e.done for e in stage(trained, "scan")][-1] == 120
    assert scan.classes == ["cyclops", "ghost", "mummy", "slime", "vampire"]
    assert scan.counts == {c: 24 for c in scan.classes} and (scan.n_train, scan.n_val) == (95, 25)
    progress = stage(trained, "features")
    assert progress[-1].done == progress[-1].total == 120
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    epochs = [e for e in trained if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == list(range(1, len(epochs) + 1)) and epochs[0].epochs == 15
    assert [(p.done, p.total, p.unit) for p in stage(trained, "train")] == [(e.epoch, 15, "epochs") for e in epochs]
    assert epochs[-1].train_loss < epochs[0].train_loss
    done = trained[-1]
    assert done.metrics["val_accuracy"] >= 0.9
    assert set(done.metrics["per_class"]) == set(scan.classes)
    assert sum(map(sum, done.metrics["confusion"])) == 25
    assert 1 <= done.metrics["best_epoch"] <= len(epochs)


def test_rerun_uses_the_cache_and_gives_the_same_model(trained, sample_dir):
    t0 = time.perf_counter()
    again = run(sample_dir, epochs=15)
    seconds = time.perf_counter() - t0
    first = stage(again, "features")[0]
    assert first.restart and first.done == first.total == 120  # nothing recomputed
    assert not any(isinstance(e, Phase) and e.name == "load" for e in again)  # backbone not even loaded
    a, b = trained[-1].model.head, again[-1].model.head
    assert np.array_equal(a["weight"], b["weight"]) and np.array_equal(a["bias"], b["bias"])
    assert seconds < 10
    other_seed = run(sample_dir, epochs=15, seed=1)
    assert not np.array_equal(other_seed[-1].model.head["weight"], a["weight"])


def test_augmented_views_are_cached_too(sample_dir):
    events = run(sample_dir, epochs=3, augment=1)
    total = stage(events, "features")[-1].total
    assert total == 95 * 2 + 25
    again = run(sample_dir, epochs=3, augment=1)
    first = stage(again, "features")[0]
    assert first.restart and first.done == total


def test_cancel_during_feature_extraction(sample_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "fresh"))
    cancel = Cancel()
    seen = []
    t_cancel = None
    for ev in training.fit(sample_dir, TrainSettings(epochs=3), cancel):
        seen.append(ev)
        if isinstance(ev, Progress) and ev.stage == "features" and not ev.restart and t_cancel is None:
            cancel.set()
            t_cancel = time.perf_counter()
    assert t_cancel is not None and time.perf_counter() - t_cancel < 3.0  # ~0.2 s idle; room for a loaded CI
    assert not any(isinstance(e, (Finished, EpochEnd)) for e in seen)
    done = max(e.done for e in stage(seen, "features"))
    assert done < 120
    # What was computed before Stop is kept: the next run starts from it.
    cancel.clear()
    rerun = training.fit(sample_dir, TrainSettings(epochs=3), cancel)
    first = next(e for e in rerun if isinstance(e, Progress) and e.stage == "features")
    assert first.restart and first.done >= done


def test_broken_pictures_are_skipped_and_reported(bad_corpus):
    events = run(bad_corpus.root, epochs=3)
    done = events[-1]
    assert isinstance(done, Finished)
    reported = {s.path for s in done.skipped}
    assert {str(p) for p in bad_corpus.bad} <= reported
    assert {str(p) for p in bad_corpus.broken} <= reported  # found only when decoded
    assert not {str(p) for p in bad_corpus.litter} & reported


def test_finetune_trains_the_last_stage(sample_dir):
    events = run(sample_dir, epochs=5, finetune=True, finetune_epochs=1)
    tuned = [e for e in events if isinstance(e, EpochEnd) and e.stage == "finetune"]
    assert len(tuned) == 1
    steps = stage(events, "finetune")
    assert all(p.unit == "steps" for p in steps)
    assert steps[-1].done == steps[-1].total and len(steps) > 10  # progress inside the stage, for an ETA
    model = events[-1].model
    assert model.backbone_state is not None
    assert events[-1].metrics["val_accuracy"] >= 0.8


def test_predict_batches_and_reports(trained, sample_dir, bad_corpus):
    model = trained[-1].model
    files = sorted((sample_dir / "ghost").iterdir())[:3] + [bad_corpus.path("noise.jpg")]
    results = list(predict.classify(model, files + [sample_dir / "nope.png"], top_k=3, batch_size=2))
    preds = [r for r in results if isinstance(r, predict.Prediction)]
    skipped = [r for r in results if isinstance(r, Skipped)]
    assert len(preds) == 3 and len(skipped) == 2
    for p in preds:
        assert p.label == "ghost" and len(p.top) == 3
        assert p.top[0][1] >= p.top[1][1] >= p.top[2][1]
    full = list(predict.classify(model, files[:1], top_k=10))[0]
    assert len(full.top) == 5 and abs(sum(pr for _, pr in full.top) - 1) < 1e-5
    folder = list(predict.classify(model, [sample_dir / "slime"]))
    assert len(folder) == 24 and all(r.label == "slime" for r in folder)


def test_imagenet_labels_without_training(sample_dir):
    from monster_studio.core import weights
    from monster_studio.core.model import TrainedModel

    model = TrainedModel.imagenet()
    picture = next((sample_dir / "ghost").iterdir())
    (r,) = list(predict.classify(model, [picture], top_k=5))
    # The same answer as the bundled network's own 1000-class head, named with ImageNet's labels.
    net = weights.pretrained(model.spec)
    pre = model.spec.preprocess
    from monster_studio.core import backbones, images

    with torch.inference_mode():
        probs = net(torch.from_numpy(pre.normalize(pre.center(images.load_rgb(picture))[None]))).softmax(1)[0]
    best = probs.topk(5).indices.tolist()
    assert [label for label, _ in r.top] == [backbones.imagenet_categories(model.spec)[i] for i in best]
    assert len(model.classes) == 1000 and model.classes[0] == "tench"


def test_no_validation_pictures_still_trains(sample_dir):
    """Kept for checking 0%: nothing to measure on, but a model all the same (the last epoch)."""
    events = run(sample_dir, epochs=5, val_split=0.0)
    done = events[-1]
    assert isinstance(done, Finished) and done.metrics["n_val"] == 0
    assert done.metrics["val_accuracy"] != done.metrics["val_accuracy"]  # NaN: not measured
    tuned = run(sample_dir, epochs=3, val_split=0.0, finetune=True, finetune_epochs=1)
    assert tuned[-1].metrics["finetune_best_epoch"] == 1  # the fine-tuned weights are kept


def test_file_names_that_are_not_utf8(sample_dir, tmp_path):
    import os
    import shutil

    folder = tmp_path / "odd"
    for cls in ("ghost", "slime"):
        shutil.copytree(sample_dir / cls, folder / cls)
    odd = folder / "ghost" / os.fsdecode(b"caf\xe9 photo.png")  # a Latin-1 name from an old archive
    (folder / "ghost" / "ghost_000.png").rename(odd)
    events = run(folder, epochs=3, augment=1)
    assert isinstance(events[-1], Finished) and not events[-1].skipped
    (r,) = list(predict.classify(events[-1].model, [odd]))
    assert r.path == str(odd) and r.label == "ghost"


def test_batch_size_is_small_on_cpu():
    from monster_studio.core.catalogue import BACKBONES

    for spec in BACKBONES.values():
        assert features.batch_size_for(spec, torch.device("cpu")) == 8
        assert features.batch_size_for(spec, torch.device("cuda")) == 64


def test_passing_failures_are_not_remembered(sample_dir, tmp_path, monkeypatch):
    """A picture that could not be read for a passing reason (permissions, memory) is tried again
    next time; one that is damaged is remembered as bad."""
    from monster_studio.core import catalogue, images

    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    locked, damaged = sorted((sample_dir / "ghost").iterdir())[1:3]
    real = features.decode

    def decode(item, spec, seed):
        if Path(item[0]) == locked:  # the items hold the text of the path the scan read
            raise images.BadPicture("cannot be read (permission denied)", transient=True)
        if Path(item[0]) == damaged:
            raise images.BadPicture("damaged: cannot be decoded")
        return real(item, spec, seed)

    monkeypatch.setattr(features, "decode", decode)
    done = run(sample_dir, epochs=2)[-1]
    assert {s.path for s in done.skipped} >= {str(locked), str(damaged)}
    cache = features.FeatureCache(catalogue.backbone(catalogue.DEFAULT_BACKBONE))
    assert cache.get((locked, 0)) is None
    assert cache.get((damaged, 0)) == "damaged: cannot be decoded"


def _gathered(items, values):
    import numpy as np

    from monster_studio.core import features

    array = np.empty((len(items) + 2, 3), np.float32)  # rows past the items: never read
    rows = {}
    for i, it in enumerate(items):
        if it in values:
            array[i], rows[it] = values[it], i
    return features.Features(array, rows)


def test_the_arrays_are_the_gathered_features_own_rows(tmp_path):
    """Without augmented views, _split_arrays returns rows of the gathered array itself (no copy),
    closed up in place over a picture that could not be used; with augmented views, the centre
    crops' rows are the ones the check and the "not sure" calibration use."""
    from types import SimpleNamespace

    import numpy as np

    from monster_studio.core import training

    train = [SimpleNamespace(file=f"t{i}", label=i % 2) for i in range(5)]
    val = [SimpleNamespace(file=f"v{i}", label=1) for i in range(2)]
    ds = SimpleNamespace(train=train, val=val)
    items = [(p.file, 0) for p in train + val] + [(p.file, 1) for p in train]  # as training._fit asks
    values = {(p.file, v): np.full(3, 10 * j + v, np.float32) for j, p in enumerate(train) for v in (0, 1)}
    values.update({(p.file, 0): np.full(3, 100 + j, np.float32) for j, p in enumerate(val)})

    feats = _gathered(items, values)
    (tx, ty), (vx, vy), rows0 = training._split_arrays(ds, feats, 0, 3)
    assert np.shares_memory(tx, feats.array) and np.shares_memory(vx, feats.array)
    assert tx[:, 0].tolist() == [0, 10, 20, 30, 40] and vx[:, 0].tolist() == [100, 101] and rows0.tolist() == [0, 1, 2, 3, 4]

    del values[("t1", 0)]  # a picture that could not be decoded: the rows after it move up
    feats = _gathered(items, values)
    (tx, ty), (vx, vy), rows0 = training._split_arrays(ds, feats, 0, 3)
    assert np.shares_memory(tx, feats.array)
    assert tx[:, 0].tolist() == [0, 20, 30, 40] and ty.tolist() == [0, 0, 1, 0] and vx[:, 0].tolist() == [100, 101]

    del values[("t3", 1)]  # an augmented view that could not be made
    feats = _gathered(items, values)
    (tx, ty), (vx, vy), rows0 = training._split_arrays(ds, feats, 1, 3)
    assert tx[:, 0].tolist() == [0, 1, 20, 21, 30, 40, 41] and ty.tolist() == [0, 0, 0, 0, 1, 0, 0]
    assert vx[:, 0].tolist() == [100, 101] and vy.tolist() == [1, 1]
    assert tx[rows0, 0].tolist() == [0, 20, 30, 40]
    seen = training._cached_seen(((tx, ty), (vx, vy), rows0), 1, ["v0", "v1"])
    assert seen.train_feats[:, 0].tolist() == [0, 20, 30, 40] and seen.train_labels.tolist() == [0, 0, 1, 0]


@pytest.mark.parametrize("n, left_out", [(10_000, [0, 1, 4095, 4096, 4097, 9999]), (9, [])])
def test_closing_up_in_place_is_taking_the_rows(n, left_out):
    import numpy as np

    from monster_studio.core import training

    array = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    rows = np.setdiff1d(np.arange(n), left_out)
    want = array[rows].copy()
    got = training._close_up(array, rows)
    assert np.shares_memory(got, array) and np.array_equal(got, want)
