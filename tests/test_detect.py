"""Pretrained detectors used directly: the real torchvision loading code from a planted hub cache
(random numbers under the official file name), boxes scaled to the picture's real size."""
from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from monster_studio.cli import main
from monster_studio.core import catalogue, detect, weights
from monster_studio.core.events import Skipped, run_to_end


@pytest.fixture
def planted(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    spec = catalogue.DETECTORS[catalogue.DEFAULT_DETECTOR]
    torch.manual_seed(0)
    state = weights.import_architecture(spec).state_dict()
    source = tmp_path / "from-elsewhere.pth"
    torch.save(state, source)
    assert weights.status(spec) == "download"
    weights.import_weights(spec, source)  # the offline way in, checked against the architecture
    assert weights.status(spec) == "on disk"
    return spec, state


def test_detector_loads_through_torchvision_and_reports(planted, tmp_path, sample_dir):
    spec, state = planted
    model = run_to_end(detect.load(spec.id))
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k])
    big = tmp_path / "big.jpg"
    Image.new("RGB", (1600, 1200), (90, 120, 200)).save(big)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a picture")
    results = list(detect.detect(spec.id, [big, junk, sample_dir / "ghost" / "ghost_000.png"], min_score=0.0))
    assert isinstance(results[1], Skipped)
    first = results[0]
    assert first.size == (1600, 1200)  # real size, although decoded in draft mode
    assert len(first.found) > 0 and all(f.label in detect.categories(spec) for f in first.found)
    for f in first.found:
        x0, y0, x1, y1 = f.box
        assert 0 <= x0 <= x1 <= 1600 * 1.01 and 0 <= y0 <= y1 <= 1200 * 1.01


def test_detect_cli_json(planted, sample_dir, capsys):
    assert main(["detect", str(sample_dir / "slime" / "slime_000.png"), "--json", "--min-score", "0"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["path"].endswith("slime_000.png") and isinstance(row["found"], list)
