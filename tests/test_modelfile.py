"""The .monster file: round trip, refusal of anything damaged or foreign, atomic saving."""
from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from monster_studio.core import backbones, catalogue, modelfile
from monster_studio.core.events import run_to_end
from monster_studio.core.model import TrainedModel
from monster_studio.core.modelfile import ModelFileError

CLASSES = ["ghost", "mummy", "slime"]


def make_model(backbone_id="efficientnet_lite0", finetuned=False, seed=0) -> TrainedModel:
    spec = catalogue.backbone(backbone_id)
    g = torch.Generator().manual_seed(seed)
    head = {"weight": torch.randn(len(CLASSES), spec.feature_size, generator=g), "bias": torch.randn(len(CLASSES), generator=g)}
    body = None
    if finetuned:
        net = backbones.architecture(spec)
        body = {k: v for k, v in net.state_dict().items() if not k.startswith(spec.head_path + ".")}
    return TrainedModel(spec.id, list(CLASSES), spec.preprocess, head, body,
                        metrics={"val_accuracy": 0.9}, settings={"epochs": 3})


def test_round_trip_keeps_everything(tmp_path):
    m = make_model()
    path = modelfile.save(m, tmp_path / "m.monster")
    back = modelfile.load(path)
    assert back.classes == CLASSES and back.backbone_id == m.backbone_id
    assert back.preprocess == m.preprocess and back.backbone_state is None
    assert back.metrics == {"val_accuracy": 0.9} and back.settings == {"epochs": 3}
    assert back.created == m.created and back.app_version
    for k in m.head:
        assert np.array_equal(back.head[k], m.head[k]) and back.head[k].dtype == np.float32
    meta = modelfile.read_metadata(path)
    assert meta["format_version"] == modelfile.FORMAT_VERSION and meta["finetuned"] is False


def test_round_trip_with_finetuned_backbone(tmp_path):
    m = make_model(finetuned=True)
    back = modelfile.load(modelfile.save(m, tmp_path / "ft.monster"))
    assert set(back.backbone_state) == set(m.backbone_state)
    k = next(iter(m.backbone_state))
    assert torch.equal(back.backbone_state[k], m.backbone_state[k])
    # The saved network is rebuilt from the file alone, head included.
    net = run_to_end(back.network())
    assert np.array_equal(backbones.get_head(net, back.spec).weight.detach().numpy(), m.head["weight"])


def test_pickle_payload_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "evil.monster"
    bad.write_bytes(pickle.dumps({"head": Evil()}))
    with pytest.raises(ModelFileError, match="not a Monster Studio model"):
        modelfile.load(bad)
    assert not marker.exists()
    # torch.save output (a zip of pickles) renamed .monster is refused the same way
    torch.save({"w": torch.zeros(2)}, tmp_path / "t.monster")
    with pytest.raises(ModelFileError):
        modelfile.load(tmp_path / "t.monster")


@pytest.mark.parametrize("keep", [0, 5, 100, 0.5, -10])
def test_truncated_file_is_refused(tmp_path, keep):
    path = modelfile.save(make_model(), tmp_path / "m.monster")
    data = path.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else (len(data) + keep if keep < 0 else keep)
    cut = tmp_path / "cut.monster"
    cut.write_bytes(data[:n])
    with pytest.raises(ModelFileError):
        modelfile.load(cut)


def _write_with_meta(path, meta: dict | None, tensors=None):
    spec = catalogue.backbone("efficientnet_lite0")
    tensors = tensors or {"head.weight": torch.zeros(3, spec.feature_size), "head.bias": torch.zeros(3)}
    save_file(tensors, str(path), metadata=None if meta is None else {"monster_studio": json.dumps(meta)})


def _good_meta(**change):
    meta = modelfile._metadata(make_model())
    meta.update(change)
    return meta


@pytest.mark.parametrize("change,words", [
    ({"format": "something-else"}, "not a Monster Studio model"),
    ({"format_version": 99}, "newer"),
    ({"classes": ["only-one"]}, "class names"),
    ({"classes": ["a", "a", "b"]}, "class names"),
    ({"classes": ["a", "b"]}, "does not fit 2 classes"),
    ({"backbone": "alexnet"}, "does not know"),
    ({"preprocess": {"crop_size": 3}}, "preprocessing"),
    ({"preprocess": {"resize_size": 256, "crop_size": 224, "mean": [0.5, 0.5], "std": [0.5, 0.5, 0.5]}},
     "preprocessing"),
    ({"preprocess": {"resize_size": 256, "crop_size": 224, "mean": [0.5] * 3, "std": [0.5, 0, 0.5]}},
     "preprocessing"),
    ({"preprocess": {"resize_size": 256, "crop_size": 224, "mean": [0.5] * 3, "std": [0.5] * 3,
                     "interpolation": "lanczos"}}, "preprocessing"),
])
def test_wrong_metadata_is_refused(tmp_path, change, words):
    path = tmp_path / "x.monster"
    _write_with_meta(path, _good_meta(**change))
    with pytest.raises(ModelFileError, match=words):
        modelfile.load(path)


def test_foreign_safetensors_and_bad_numbers_are_refused(tmp_path):
    plain = tmp_path / "plain.monster"
    _write_with_meta(plain, None)
    with pytest.raises(ModelFileError, match="no metadata"):
        modelfile.load(plain)
    nan = tmp_path / "nan.monster"
    spec = catalogue.backbone("efficientnet_lite0")
    _write_with_meta(nan, _good_meta(), {"head.weight": torch.full((3, spec.feature_size), float("nan")),
                                         "head.bias": torch.zeros(3)})
    with pytest.raises(ModelFileError, match="invalid numbers"):
        modelfile.load(nan)
    with pytest.raises(ModelFileError, match="does not exist"):
        modelfile.load(tmp_path / "missing.monster")


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = modelfile.save(make_model(seed=1), tmp_path / "keep.monster")
    before = path.read_bytes()

    def disk_full(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(modelfile, "save_file", disk_full)
    with pytest.raises(ModelFileError, match="disk is full.*unchanged"):
        modelfile.save(make_model(seed=2), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.monster"]  # no temporary file left behind


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root can write anywhere")
def test_read_only_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ModelFileError, match="Cannot write"):
            modelfile.save(make_model(), folder / "m.monster")
    finally:
        folder.chmod(0o700)


def test_imagenet_model_has_nothing_to_save(tmp_path):
    with pytest.raises(ModelFileError, match="nothing of its own"):
        modelfile.save(TrainedModel.imagenet(), tmp_path / "x.monster")


def test_head_only_files_are_the_bytes_the_torch_api_writes_and_load_either_way(tmp_path):
    """A head-only model is written with safetensors' numpy API now: the same bytes, tensor names,
    dtypes and metadata as the torch API wrote before, so older files load here and newer ones
    load the previous way (safetensors.torch.load_file)."""
    from safetensors.torch import load_file

    from monster_studio.core.unsure import Calibration

    m = make_model(seed=3)
    rng = np.random.default_rng(0)
    m.unsure = Calibration(rng.standard_normal((4, m.spec.feature_size)).astype(np.float16),
                           rng.random(10).astype(np.float32), rng.random(10).astype(np.float32))
    path = modelfile.save(m, tmp_path / "new.monster")
    # The previous code's way of writing the same model: torch tensors through safetensors.torch.
    tensors = {f"head.{k}": torch.from_numpy(v) for k, v in m.head.items()}
    tensors.update({"unsure." + k: torch.from_numpy(np.array(v)) for k, v in m.unsure.tensors().items()})
    old = tmp_path / "old.monster"
    save_file(tensors, str(old), metadata={modelfile.META_KEY: json.dumps(modelfile._metadata(m),
                                                                          default=modelfile._json_default)})
    assert path.read_bytes() == old.read_bytes()
    read_old_way = load_file(str(path))
    assert set(read_old_way) == {"head.weight", "head.bias", "unsure.sample", "unsure.distances", "unsure.margins"}
    assert read_old_way["head.weight"].dtype == torch.float32 and read_old_way["unsure.sample"].dtype == torch.float16
    assert torch.equal(read_old_way["head.weight"], torch.from_numpy(m.head["weight"]))
    back = modelfile.load(old)
    assert np.array_equal(back.head["bias"], m.head["bias"]) and np.array_equal(back.unsure.sample, m.unsure.sample)


def test_a_bfloat16_head_is_read_through_torch_as_float32(tmp_path):
    spec = catalogue.backbone("efficientnet_lite0")
    w = torch.randn(3, spec.feature_size, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    path = tmp_path / "bf16.monster"
    _write_with_meta(path, _good_meta(), {"head.weight": w, "head.bias": torch.zeros(3, dtype=torch.bfloat16)})
    back = modelfile.load(path)
    assert back.head["weight"].dtype == np.float32 and np.array_equal(back.head["weight"], w.float().numpy())


def test_saving_and_loading_a_head_only_model_imports_no_torch(tmp_path):
    import subprocess
    import sys

    path = modelfile.save(make_model(seed=4), tmp_path / "m.monster")
    script = f"""
import sys
from monster_studio.core import modelfile
m = modelfile.load({str(path)!r})
modelfile.save(m, {str(tmp_path / "again.monster")!r})
print(sorted(k for k in sys.modules if k.split(".")[0] == "torch"))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "again.monster").read_bytes() == path.read_bytes()
