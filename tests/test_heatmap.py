"""Heatmaps: at the picture's size, in [0, 1], on the patch that decides the class, for any class,
for every family's layer (the ViT through its reshape), and `classify --heatmaps`."""
from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from monster_studio.cli import main
from monster_studio.core import catalogue, heatmap, modelfile, training
from monster_studio.core.events import Finished, Skipped, run_to_end
from monster_studio.core.model import TrainedModel
from monster_studio.core.settings import TrainSettings

PATCH = 36  # px on a 224-px picture: about 2.6% of it
CELL = 32  # one cell of EfficientNet-Lite0's 7 x 7 map, in the picture's pixels


def marked_or_plain(marked: bool, rng: random.Random, size: int = 224):
    """A grey picture with grey blobs; a "marked" one also has one small red-and-yellow checkered
    patch, which alone decides its class. Returns the picture and the patch's box (or None)."""
    g1, g2 = rng.uniform(70, 210), rng.uniform(70, 210)
    column = np.linspace(g1, g2, size, dtype=np.float32)[:, None, None]
    img = Image.fromarray(np.repeat(np.repeat(column, size, 1), 3, 2).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for _ in range(4):
        x, y, w, g = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(10, 30), rng.randint(60, 200)
        d.ellipse((x - w, y - w, x + w, y + w), fill=(g, g, g))
    box = None
    if marked:
        x0 = rng.randint(int(size * 0.2), int(size * 0.8) - PATCH)
        y0 = rng.randint(int(size * 0.2), int(size * 0.8) - PATCH)
        q = PATCH // 4
        for i in range(4):
            for j in range(4):
                d.rectangle((x0 + i * q, y0 + j * q, x0 + (i + 1) * q - 1, y0 + (j + 1) * q - 1),
                            fill=(240, 40, 30) if (i + j) % 2 else (250, 220, 0))
        box = (x0, y0, x0 + PATCH, y0 + PATCH)
    noise = np.random.default_rng(rng.randrange(2**31)).normal(0, 6, (size, size, 3))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8)), box


@pytest.fixture(scope="module")
def patches(tmp_path_factory):
    """A model that tells marked pictures from plain ones, and new marked pictures with their patches."""
    root = tmp_path_factory.mktemp("patches")
    rng = random.Random(5)
    for cls in ("marked", "plain"):
        (root / "pictures" / cls).mkdir(parents=True)
        for i in range(16):
            marked_or_plain(cls == "marked", rng)[0].save(root / "pictures" / cls / f"{cls}_{i:02d}.png")
    events = list(training.fit(root / "pictures", TrainSettings(epochs=60, val_split=0.25)))
    assert isinstance(events[-1], Finished) and events[-1].metrics["val_accuracy"] >= 0.85
    new = []
    for i in range(3):
        img, box = marked_or_plain(True, rng)
        img.save(root / f"new_{i}.png")
        new.append((root / f"new_{i}.png", box))
    return events[-1].model, new


def test_the_heat_lies_on_the_patch_that_decides(patches):
    model, new = patches
    assert model.classes == ["marked", "plain"]
    for (path, (x0, y0, x1, y1)), hm in zip(new, heatmap.explain_many(model, [p for p, _ in new])):
        assert hm.path == str(path) and hm.label == "marked" and hm.class_index == 0
        heat = hm.heat
        assert heat.shape == (224, 224) and heat.dtype == np.float32
        assert heat.min() >= 0 and heat.max() <= 1 and heat.max() > 0.99
        total = heat.sum()
        near = heat[max(0, y0 - CELL):y1 + CELL, max(0, x0 - CELL):x1 + CELL].sum()
        # The patch grown by one cell of the map is about a fifth of the picture; most heat is there.
        assert near / total >= 0.5, (path, near / total)
        ys, xs = np.mgrid[:224, :224]
        centre = ((heat * xs).sum() / total, (heat * ys).sum() / total)
        assert np.hypot(centre[0] - (x0 + x1) / 2, centre[1] - (y0 + y1) / 2) < 28


def test_picture_size_range_any_class_and_the_overlay(patches, tmp_path):
    model, new = patches
    wide = tmp_path / "wide photo.jpg"
    Image.open(new[0][0]).resize((300, 180)).save(wide, quality=90)  # not square: the centre crop is a part
    hm = run_to_end(heatmap.explain(model, wide))
    assert hm.heat.shape == (180, 300) and hm.picture.size == (300, 180)
    assert 0 <= hm.heat.min() and hm.heat.max() <= 1
    # The square the model looks at: 224 of the 256 px its short side is resized to, in the middle.
    x0, y0, x1, y1 = hm.seen
    side = 180 * 224 / 256
    assert abs(x1 - x0 - side) <= 1 and abs(y1 - y0 - side) <= 1
    assert abs((x0 + x1) / 2 - 150) <= 1 and abs((y0 + y1) / 2 - 90) <= 1
    outside = np.ones_like(hm.heat, bool)
    outside[y0:y1, x0:x1] = False
    assert hm.heat[outside].max() == 0 and hm.heat[~outside].max() > 0.99  # nothing outside what it saw
    # Another class on request, at a size for a thumbnail.
    other = run_to_end(heatmap.explain(model, wide, class_index=1, max_side=100))
    assert other.label == "plain" and other.probability == pytest.approx(1 - hm.probability, abs=1e-5)
    assert other.heat.shape == (60, 100) and other.picture.size == (100, 60)
    assert not np.allclose(np.asarray(Image.fromarray(hm.heat).resize((100, 60))), other.heat, atol=0.1)
    picture = heatmap.overlay(hm)
    assert picture.size == (300, 180) and picture.mode == "RGB"
    with pytest.raises(heatmap.HeatmapError, match="no class number 5"):
        run_to_end(heatmap.explain(model, wide, class_index=5))
    results = list(heatmap.explain_many(model, [tmp_path / "missing.png", Image.open(wide)]))
    assert isinstance(results[0], Skipped) and results[1].path == "" and results[1].heat.shape == (180, 300)
    assert np.allclose(results[1].heat, hm.heat, atol=0.05)  # a picture in memory, as from the clipboard


def test_imagenet_mode(patches):
    _, new = patches
    hm = run_to_end(heatmap.explain(TrainedModel.imagenet(), new[0][0]))
    assert 0 <= hm.class_index < 1000 and hm.heat.shape == (224, 224) and 0 <= hm.heat.min() <= hm.heat.max() <= 1


def test_vit_tokens_become_a_grid():
    tokens = torch.arange(2 * 197 * 3, dtype=torch.float32).reshape(2, 197, 3)
    grid = heatmap._vit_tokens(tokens)
    assert grid.shape == (2, 3, 14, 14)
    assert torch.equal(grid[1, :, 2, 5], tokens[1, 1 + 2 * 14 + 5])  # row-major patches, class token left out


def test_a_small_vision_transformer_through_its_cam_layer():
    """torchvision's ViT, one layer deep (the real one's layer names, a fraction of its cost)."""
    from torchvision.models.vision_transformer import VisionTransformer

    spec = dataclasses.replace(catalogue.backbone("vit_b_16"), cam_layer="encoder.layers.encoder_layer_0.ln_1")
    torch.manual_seed(0)
    net = VisionTransformer(224, 16, num_layers=1, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=3).eval()
    torch.nn.init.normal_(net.heads.head.weight)  # torchvision starts it at zero: no class would differ
    for p in net.parameters():
        p.requires_grad = False
    heat, probs = heatmap.cam(net, spec, torch.randn(1, 3, 224, 224), [1])
    assert heat.shape == (1, 224, 224) and heat.max() == pytest.approx(1, abs=1e-5) and heat.min() >= 0
    assert probs.shape == (1, 3)
    # One value per 16-px patch of the 14 x 14 grid, not one for the whole picture.
    assert len(np.unique(np.round(heat[0, ::16, ::16], 4))) > 20


def test_every_starting_model_has_its_layer():
    for spec in catalogue.BACKBONES.values():
        assert spec.cam_layer, spec.id
        if spec.family == "ViT":
            assert spec.family in heatmap.RESHAPE


def test_classify_writes_one_overlay_per_picture(patches, tmp_path, capsys):
    model, new = patches
    path = modelfile.save(model, tmp_path / "patches.monster")
    for folder in ("a", "b"):  # the same file name twice, in two folders
        (tmp_path / folder).mkdir()
        Image.open(new[0][0] if folder == "a" else new[1][0]).save(tmp_path / folder / "same.png")
    out = tmp_path / "maps"
    code = main(["classify", str(path), str(tmp_path / "a"), str(tmp_path / "b"), "--json", "--heatmaps", str(out)])
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    written = sorted(out.iterdir())
    assert len(rows) == 2 and len(written) == 2 and {r["heatmap"] for r in rows} == {str(p) for p in written}
    assert all(Image.open(p).size == (224, 224) for p in written)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    again = main(["classify", str(path), str(tmp_path / "a"), "--heatmaps", str(out), "--quiet"])
    assert again == 0 and len(list(out.iterdir())) == 2  # the same picture's heatmap is replaced, not doubled
