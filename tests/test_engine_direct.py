"""The bundled models' engines written without torch (core.engine_direct, lite_graph, torchfile,
onnx_proto): the records they are checked on match a live PyTorch pass, the written network matches
PyTorch on other pictures too and is a valid ONNX file, a first training makes it without importing
torch, and whatever does not fit (another weights file, features that differ, a file with code in
it, a zip-format or damaged file, weights of another network) falls back or is refused."""
from __future__ import annotations

import io
import json
import logging
import os
import pickle
import random
import struct
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch

from monster_studio.core import (backbones, catalogue, engine, engine_direct, features, images, lite_graph, sample,
                                 torchfile, weights)
from monster_studio.core.events import run_to_end

LITES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
CPU = torch.device("cpu")
TORCH_FAMILY = ("torch", "torchvision", "timm")


def torch_features(spec, arrays):
    return engine.TorchEmbedder(weights.pretrained(spec), spec, spec.preprocess, CPU)(arrays)


@pytest.mark.parametrize("backbone_id", LITES)
def test_each_record_is_what_pytorch_computes_for_its_weights_file(backbone_id):
    spec = catalogue.backbone(backbone_id)
    rec = engine_direct.recorded(spec)
    assert rec is not None and rec["sha256"] == engine_direct.sha256(weights.cached_file(spec))
    live = torch_features(spec, list(rec["pictures"]))
    assert np.abs(live - rec["features"]).max() <= 1e-5, "run tools/record_engine_checks.py again"
    assert np.array_equal(rec["pictures"], np.stack(engine.fixed_batch(spec.input_size)))


@pytest.mark.parametrize("backbone_id", LITES)
def test_the_written_network_is_valid_onnx_and_matches_pytorch_on_other_pictures(backbone_id, tmp_path):
    spec = catalogue.backbone(backbone_id)
    made = engine_direct.make(spec)
    assert made is not None
    model = onnx.load_from_string(made.onnx)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["pixels"] and [o.name for o in model.graph.output] == ["features"]
    assert {n.op_type for n in model.graph.node} == {"Conv", "Clip", "Add", "GlobalAveragePool", "Flatten"}
    rng = random.Random(backbone_id)
    paths = [sample.write_picture(sample.CLASSES[i % 5], tmp_path / f"p{i}.jpg", rng, 150 + 37 * i) for i in range(6)]
    arrays = [images.prepare(p, spec.preprocess) for p in paths]
    path = tmp_path / "engine.onnx"
    path.write_bytes(made.onnx)
    got = engine._session(path).run(None, {"pixels": spec.preprocess.normalize(np.stack(arrays))})[0]
    assert got.shape == (6, spec.feature_size)
    assert np.abs(got - torch_features(spec, arrays)).max() <= engine.TOLERANCE
    net = weights.pretrained(spec)
    head = backbones.get_head(net, spec)
    assert np.array_equal(made.head[0], head.weight.detach().numpy()) and np.array_equal(made.head[1], head.bias.detach().numpy())


def test_a_first_training_writes_the_engine_without_torch(tmp_path):
    """An empty cache, the command line's own path (no child process): the engine is written from
    the weights file and checked, and the whole run imports none of torch, torchvision or timm."""
    folder = tmp_path / "pics"
    sample.write_sample(folder, per_class=2, seed=5, size=96)
    script = f"""
import sys
from monster_studio.core import engine, training
from monster_studio.core.catalogue import backbone
from monster_studio.core.events import Finished
from monster_studio.core.settings import TrainSettings
events = list(training.fit({str(folder)!r}, TrainSettings(epochs=2)))
assert isinstance(events[-1], Finished), events[-1]
made = engine.cached(backbone("efficientnet_lite0"))
assert made is not None and made.sidecar["made_by"].startswith("written from the weights file"), made
assert made.sidecar["max_diff"] <= engine.TOLERANCE and len(made.sidecar["imagenet_categories"]) == 1000
assert made.head_weights()[0].shape == (1000, 1280)
print(sorted(m for m in sys.modules if m.split(".")[0] in {TORCH_FAMILY!r}))
"""
    env = dict(os.environ, MONSTER_STUDIO_CACHE=str(tmp_path / "empty cache"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_imagenet_names_read_from_torchvisions_source_are_torchvisions():
    assert engine_direct.imagenet_categories() == backbones.imagenet_categories()


def _gather_two(tmp_path):
    spec = catalogue.backbone("efficientnet_lite0")
    rng = random.Random("two")
    items = [(sample.write_picture(sample.CLASSES[i], tmp_path / f"q{i}.jpg", rng, 100), 0) for i in range(2)]
    feats, _, net = run_to_end(features.gather(lambda: (yield from weights.load_pretrained(spec)), spec, items,
                                               features.FeatureCache(spec), CPU))
    return spec, feats, net


def test_another_weights_file_is_exported_with_torch_instead(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    real = engine_direct.recorded
    monkeypatch.setattr(engine_direct, "recorded", lambda spec: {**real(spec), "sha256": "0" * 64})
    with caplog.at_level(logging.INFO, logger="monster_studio.core.engine_direct"):
        spec, feats, net = _gather_two(tmp_path)
    assert len(feats) == 2 and net is not None  # the network was loaded for the export
    assert any("is not the weights file the engine check was recorded for" in r.getMessage() for r in caplog.records)
    assert engine.cached(spec).sidecar["made_by"] == "torch.onnx.export"


def test_features_that_differ_from_the_record_are_not_used(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    real = engine_direct.recorded
    monkeypatch.setattr(engine_direct, "recorded", lambda spec: {**real(spec), "features": real(spec)["features"] + 1e-3})
    with caplog.at_level(logging.WARNING, logger="monster_studio.core.engine"):
        spec, feats, _ = _gather_two(tmp_path)
    assert len(feats) == 2
    assert any("differs from PyTorch's recorded features by" in r.getMessage() for r in caplog.records)
    assert engine.cached(spec).sidecar["made_by"] == "torch.onnx.export"  # checked against a live pass instead


# ---------------------------------------------------------------- the weights file reader

def legacy(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def test_the_reader_gives_what_torch_loads_for_every_plain_number_type(tmp_path):
    g = torch.Generator().manual_seed(0)
    state = {"w": torch.randn(4, 3, 3, 3, generator=g), "half": torch.randn(5, generator=g).half(),
             "double": torch.randn(2, 2, generator=g).double(), "n": torch.tensor(7), "i": torch.arange(6, dtype=torch.int32),
             "b": torch.tensor([True, False]), "u": torch.arange(9, dtype=torch.uint8).view(3, 3),
             "view": torch.randn(6, 4, generator=g)[1:4, ::2], "scalar": torch.tensor(2.5)}
    state["shared"] = state["w"][1]  # a view of another tensor's storage
    path = tmp_path / "w.pth"
    path.write_bytes(legacy(state))
    got = torchfile.read(path)
    assert list(got) == list(state)
    for key, value in state.items():
        assert got[key].dtype == value.numpy().dtype and np.array_equal(got[key], value.numpy()), key


def test_the_reader_refuses_code_a_zip_file_and_damage_without_running_anything(tmp_path):
    ran = tmp_path / "ran"
    evil = tmp_path / "evil.pth"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {ran}",))

    evil.write_bytes(pickle.dumps(torchfile.MAGIC, 2) + pickle.dumps(torchfile.PROTOCOL, 2)
                     + pickle.dumps({"little_endian": True}, 2) + pickle.dumps({"w": Evil()}, 2) + pickle.dumps([], 2))
    with pytest.raises(torchfile.NotReadable, match="posix.system|os.system|refers to"):
        torchfile.read(evil)
    assert not ran.exists()
    zipped = tmp_path / "zip.pth"
    torch.save({"w": torch.zeros(2)}, zipped)
    with pytest.raises(torchfile.NotReadable):
        torchfile.read(zipped)
    good = legacy({"w": torch.randn(300)})
    for i, cut in enumerate((len(good) - 1, len(good) // 2, 30, 0)):
        (tmp_path / f"cut{i}.pth").write_bytes(good[:cut])
        with pytest.raises(torchfile.NotReadable):
            torchfile.read(tmp_path / f"cut{i}.pth")
    (tmp_path / "list.pth").write_bytes(legacy([torch.zeros(2)]))
    with pytest.raises(torchfile.NotReadable, match="dict of tensors"):
        torchfile.read(tmp_path / "list.pth")


def test_weights_of_another_network_are_not_written_as_lite():
    state = torchfile.read(weights.cached_file(catalogue.backbone("efficientnet_lite0")))
    missing = {k: v for k, v in state.items() if k != "_blocks.3._bn1.running_var"}
    with pytest.raises(lite_graph.NotLite, match="_blocks.3._bn1.running_var"):
        lite_graph.build(missing, 224)
    extra = {**state, "_blocks.3._se_reduce.weight": np.zeros((4, 4, 1, 1), np.float32)}
    with pytest.raises(lite_graph.NotLite, match="more than EfficientNet-Lite"):
        lite_graph.build(extra, 224)
    wrong_kernel = {**state, "_blocks.1._depthwise_conv.weight": np.zeros((96, 1, 7, 7), np.float32)}
    with pytest.raises(lite_graph.NotLite):
        lite_graph.build(wrong_kernel, 224)
    resnet = {k: v for k, v in torch.nn.Linear(3, 2).state_dict().items()}
    with pytest.raises(lite_graph.NotLite):
        lite_graph.build({k: v.numpy() for k, v in resnet.items()}, 224)


# Crafted files, written opcode by opcode (protocol 2, as torch's legacy writer), each small: the
# reader must refuse them quickly with NotReadable, without building what they claim.
def _op(x) -> bytes:
    return pickle.dumps(x, protocol=2)[2:-1]


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _tuple(*parts: bytes) -> bytes:
    return b"(" + b"".join(parts) + b"t"


def _storage(count: int = 4, key: str = "0") -> bytes:
    return _tuple(_op("storage"), _global("torch", "FloatStorage"), _op(key), _op("cpu"), _op(count)) + b"Q"


def _tensor(storage: bytes, shape: tuple, stride: tuple, offset: int = 0) -> bytes:
    hooks = _global("collections", "OrderedDict") + b")R"
    return _global("torch._utils", "_rebuild_tensor_v2") + _tuple(storage, _op(offset), _op(shape), _op(stride),
                                                                   _op(False), hooks) + b"R"


def _crafted(tmp_path, entries: bytes, count: int = 4, data: bytes | None = None, claimed: int | None = None):
    head = pickle.dumps(torchfile.MAGIC, 2) + pickle.dumps(torchfile.PROTOCOL, 2) + pickle.dumps(
        {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, 2)
    data = np.arange(count, dtype="<f4").tobytes() if data is None else data
    body = b"\x80\x02}" + entries + b"." + pickle.dumps(["0"], 2)
    path = tmp_path / "crafted.pth"
    path.write_bytes(head + body + struct.pack("<q", count if claimed is None else claimed) + data)
    return path


def test_crafted_files_are_refused_without_building_what_they_claim(tmp_path):
    good = _crafted(tmp_path, _op("w") + _tensor(_storage(), (2, 2), (2, 1)) + b"s")
    assert np.array_equal(torchfile.read(good)["w"], np.arange(4, dtype=np.float32).reshape(2, 2))
    attacks = {
        "a stride-0 tensor: 1 GB from 4 bytes": _crafted(tmp_path, _op("w") + _tensor(_storage(1), (1 << 28,), (0,))
                                                        + b"s", count=1),
        "a stride of 2**70": _crafted(tmp_path, _op("w") + _tensor(_storage(), (1,), (1 << 70,)) + b"s"),
        "a scalar before its storage": _crafted(tmp_path, _op("w") + _tensor(_storage(), (), (), offset=-3) + b"s"),
        "200 views of one storage": _crafted(tmp_path, b"".join(_op(f"w{i}") + _tensor(_storage(), (4,), (1,)) + b"s"
                                                                for i in range(200))),
        "a storage claiming 2**31 numbers": _crafted(tmp_path, _op("w") + _tensor(_storage(1 << 31), (4,), (1,)) + b"s",
                                                     count=1 << 31, data=b"\0" * 16),
        "BUILD on a tensor": _crafted(tmp_path, _op("w") + _tensor(_storage(), (4,), (1,)) + b"}" + _op("array")
                                      + _global("collections", "OrderedDict") + b"sb" + b"s"),
        "a storage key that is a number": _crafted(tmp_path, _op("w") + _tensor(
            _tuple(_op("storage"), _global("torch", "FloatStorage"), _op(0), _op("cpu"), _op(4)) + b"Q", (4,), (1,))
            + b"s"),
    }
    for what, path in attacks.items():
        with pytest.raises(torchfile.NotReadable):
            torchfile.read(path)
            pytest.fail(f"{what}: read")


def test_weights_with_absurd_shapes_are_not_lite():
    state = torchfile.read(weights.cached_file(catalogue.backbone("efficientnet_lite0")))
    for key, value in (("_blocks.2._project_conv.weight", np.zeros((), np.float32)),
                       ("_conv_stem.weight", np.zeros((32, 3, 3), np.float32)),
                       ("_blocks.0._bn1.weight", np.zeros((7,), np.float32))):
        with pytest.raises(lite_graph.NotLite):
            lite_graph.build({**state, key: value}, 224)


def test_an_engine_made_anew_removes_the_outdated_ones_of_its_model(tmp_path, monkeypatch):
    """An engine of an earlier version (or weights file) of the same model is removed when the new
    one is made; another model's engine and unrelated files are left alone."""
    monkeypatch.setenv("MONSTER_STUDIO_CACHE", str(tmp_path / "cache"))
    engines = engine.engines_dir()
    engines.mkdir(parents=True)
    old = [engines / f"efficientnet_lite0-0123456789ab{s}" for s in (".json", ".onnx", ".head.npz", ".refused.json")]
    kept = [engines / "efficientnet_lite1-0123456789ab.onnx", engines / "efficientnet_lite0-notes.txt"]
    for f in old + kept:
        f.write_bytes(b"x")
    spec = catalogue.backbone("efficientnet_lite0")
    made = engine.prepare_direct(spec)
    assert made is not None
    assert not [f for f in old if f.exists()] and all(f.exists() for f in kept)
    assert sorted(p.name for p in engines.glob("efficientnet_lite0-*")) == sorted(
        [made.base.name + s for s in (".head.npz", ".json", ".onnx")] + ["efficientnet_lite0-notes.txt"])
