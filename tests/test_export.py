"""Export: one ONNX or TorchScript network from normalized pixels to probabilities, for head-only
and fine-tuned models, giving the app's own answers; the ONNX file read by onnxruntime and Pillow
alone, as the README's snippet does."""
from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from monster_studio.cli import main
from monster_studio.core import backbones, export, images, modelfile, predict, sample, training, weights
from monster_studio.core.events import Finished
from monster_studio.core.model import TrainedModel
from monster_studio.core.settings import TrainSettings

# The README's snippet, word for word: a photo classified with onnxruntime and Pillow alone.
SNIPPET = """\
import json, sys, numpy as np, onnxruntime as ort; from PIL import Image, ImageOps
session = ort.InferenceSession("model.onnx")
meta = session.get_modelmeta().custom_metadata_map
classes, pre = json.loads(meta["classes"]), json.loads(meta["preprocess"])
img = Image.open(sys.argv[1]); img.draft("RGB", (pre["resize_size"],) * 2); img = ImageOps.exif_transpose(img).convert("RGB")
s, c, how = pre["resize_size"] / min(img.size), pre["crop_size"], Image.BICUBIC if pre["interpolation"] == "bicubic" else Image.BILINEAR
img = img.resize((max(c, round(img.width * s)), max(c, round(img.height * s))), how, reducing_gap=3.0)
l, t = (img.width - c) // 2, (img.height - c) // 2; img = img.crop((l, t, l + c, t + c))
x = ((np.asarray(img, np.float32) / 255 - pre["mean"]) / pre["std"]).transpose(2, 0, 1)[None].astype(np.float32)
p = session.run(None, {"pixels": x})[0][0]; print(classes[p.argmax()], f"{p.max():.1%}")
"""


@pytest.fixture(scope="module")
def head_only(tmp_path_factory) -> Path:
    folder = sample.write_sample(tmp_path_factory.mktemp("export") / "monsters", per_class=6, seed=3, size=96)
    done = list(training.fit(folder, TrainSettings(epochs=8)))[-1]
    assert isinstance(done, Finished)
    return modelfile.save(done.model, folder.parent / "head.monster")


@pytest.fixture(scope="module")
def finetuned(head_only) -> Path:
    """A fine-tuned model as the app saves one: its own backbone weights (the last stage moved
    away from the pretrained ones) and its new last layer."""
    base = modelfile.load(head_only)
    spec = base.spec
    net = weights.pretrained(spec)
    head = backbones.replace_head(net, spec, len(base.classes))
    head.load_state_dict(base.torch_head())
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.get_submodule("blocks.6").parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.02)
    model = TrainedModel.from_network(net, spec, base.classes, True, {}, {})
    return modelfile.save(model, head_only.with_name("tuned.monster"))


def generated(folder: Path, n: int = 7) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random("export check")
    return [sample.write_picture(sample.CLASSES[i % 5], folder / f"p{i}.jpg", rng, 100 + 20 * i) for i in range(n)]


def app_probabilities(model: TrainedModel, files: list[Path]) -> np.ndarray:
    """The app's answers, as (pictures x classes) in the model's class order."""
    answers = list(predict.classify(model, files, top_k=len(model.classes)))
    return np.array([[dict(a.top)[c] for c in model.classes] for a in answers])


@pytest.fixture(scope="module")
def exported(head_only, finetuned, tmp_path_factory) -> dict:
    """Both models exported once each, by the command a user types: {name: (model, onnx, torchscript)}."""
    out = {}
    for name, model_file in (("head_only", head_only), ("finetuned", finetuned)):
        folder = tmp_path_factory.mktemp(name)
        onnx_file, ts_file = folder / "model.onnx", folder / "model.pt"
        said = io.StringIO()
        with contextlib.redirect_stderr(said):
            assert main(["export", str(model_file), "--onnx", str(onnx_file), "--torchscript", str(ts_file)]) == 0
        lines = said.getvalue().splitlines()
        assert any(f"{onnx_file} (ONNX" in line and "gives the app's answers to within" in line for line in lines)
        assert any(f"{ts_file} (TorchScript" in line and "5 classes" in line for line in lines)
        out[name] = (model_file, onnx_file, ts_file)
    return out


@pytest.mark.parametrize("which", ["head_only", "finetuned"])
def test_exported_files_give_the_apps_answers(which, exported, tmp_path):
    model_file, onnx_file, ts_file = exported[which]
    model = modelfile.load(model_file)
    assert (model.backbone_state is not None) == (which == "finetuned")
    files = generated(tmp_path / "pics")
    expected = app_probabilities(model, files)
    x = model.preprocess.normalize(np.stack([images.prepare(f, model.preprocess) for f in files]))

    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["classes"]) == model.classes
    assert json.loads(meta["preprocess"]) == model.preprocess.to_dict()
    (inp,) = session.get_inputs()
    assert inp.name == "pixels" and inp.shape[1:] == [3, 224, 224] and not isinstance(inp.shape[0], int)
    got = session.run(None, {"pixels": x})[0]
    assert got.shape == expected.shape and np.abs(got - expected).max() <= 1e-4
    assert np.allclose(got.sum(1), 1, atol=1e-5)
    assert np.abs(session.run(None, {"pixels": x[:1]})[0] - expected[:1]).max() <= 1e-4  # any batch size

    extra = {"classes.json": "", "preprocess.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch 2.9+ calls TorchScript deprecated; it still loads
        script = torch.jit.load(str(ts_file), map_location="cpu", _extra_files=extra)
    assert json.loads(extra["classes.json"]) == model.classes
    assert json.loads(extra["preprocess.json"]) == model.preprocess.to_dict()
    with torch.inference_mode():
        traced = script(torch.from_numpy(x)).numpy()
    assert np.abs(traced - expected).max() <= 1e-4


def test_the_readme_snippet_needs_only_onnxruntime_and_pillow(exported, tmp_path):
    model_file, onnx_file, _ = exported["head_only"]
    shutil.copyfile(onnx_file, tmp_path / "model.onnx")
    model = modelfile.load(model_file)
    (photo,) = generated(tmp_path / "pics", 1)
    assert len(SNIPPET.splitlines()) == 10
    code = SNIPPET + "\nprint(sorted(m for m in sys.modules if m.split('.')[0] in " \
                                 "('torch', 'monster_studio', 'torchvision', 'timm')))\n"
    out = subprocess.run([sys.executable, "-c", code, str(photo)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    answer, modules = out.stdout.strip().splitlines()
    assert modules == "[]"
    (app,) = list(predict.classify(model, [photo], top_k=1))
    label, share = answer.rsplit(" ", 1)
    assert label == app.label and abs(float(share.rstrip("%")) / 100 - app.confidence) <= 0.001


def test_export_refuses_plainly_and_leaves_the_old_file(head_only, tmp_path, capsys, monkeypatch):
    assert main(["export", str(head_only)]) == 2
    assert "--onnx" in capsys.readouterr().err
    assert main(["export", str(head_only), "--onnx", str(tmp_path / "missing" / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    old = tmp_path / "m.onnx"
    old.write_bytes(b"an earlier export")
    monkeypatch.setattr(export, "TOLERANCE", -1.0)  # no file can pass the check now
    assert main(["export", str(head_only), "--onnx", str(old)]) == 1
    assert "does not give the app's answers" in capsys.readouterr().err
    assert old.read_bytes() == b"an earlier export" and [p.name for p in tmp_path.iterdir()] == ["m.onnx"]

