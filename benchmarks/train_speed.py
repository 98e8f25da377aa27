"""Benchmark: Monster Studio's training and classification speed against the PyTorch tutorial's
recipe, measured in the same run on the same machine. Prints figures; asserts nothing.

usage: python benchmarks/train_speed.py DATA_DIR [--anchor PATH] [--skip-anchor]

  cold   `monster-studio train DATA_DIR --json` with an empty feature cache ("seconds" as the CLI
         reports it: from the start of the command's work to the saved model)
  warm   the same command again (features from the cache)
  anchor one epoch of ../shared/bench/anchor_tutorial.py (it needs 25 for its best accuracy)
  classify  pictures/s classifying DATA_DIR with the trained model (decode + forward, batched),
         against the bare backbone forward rate at batch 32 on ready-made tensors
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ANCHOR = HERE.parent.parent / "shared" / "bench" / "anchor_tutorial.py"


def cli_train(data: str, out: Path, env: dict) -> dict:
    cmd = [sys.executable, "-m", "monster_studio", "train", data, "--out", str(out), "--json", "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def anchor_epoch(anchor: Path, data: str) -> dict:
    proc = subprocess.run([sys.executable, str(anchor), data, "--epochs", "1"], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def forward_rate(batch: int = 32, repeats: int = 4) -> float:
    import torch

    from monster_studio.core import backbones, features, weights

    spec = backbones.get(backbones.DEFAULT_BACKBONE)
    net = weights.pretrained(spec).to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, spec.input_size, spec.input_size).contiguous(memory_format=torch.channels_last)
    with features.headless(net, spec), torch.inference_mode():
        net(x)  # warm-up
        t0 = time.perf_counter()
        for _ in range(repeats):
            net(x)
        return batch * repeats / (time.perf_counter() - t0)


def classify_rate(model_path: Path, data: str) -> tuple[float, int]:
    from monster_studio.core import modelfile, predict
    from monster_studio.core.events import run_to_end

    model = modelfile.load(model_path)
    run_to_end(model.network())  # build the network first: loading is not classifying
    t0 = time.perf_counter()
    n = sum(1 for r in predict.classify(model, [data]) if isinstance(r, predict.Prediction))
    return n / (time.perf_counter() - t0), n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("--anchor", type=Path, default=DEFAULT_ANCHOR)
    ap.add_argument("--skip-anchor", action="store_true")
    args = ap.parse_args()
    data = str(Path(args.data_dir).resolve())
    with tempfile.TemporaryDirectory(prefix="ms-bench-") as tmp:
        env = dict(os.environ, MONSTER_STUDIO_CACHE=str(Path(tmp) / "cache"), PYTHONUNBUFFERED="1")
        out = Path(tmp) / "bench.monster"
        cold = cli_train(data, out, env)
        warm = cli_train(data, out, env)
        print(f"cold train:  {cold['seconds']:7.2f} s   val accuracy {cold['val_accuracy']:.4f} "
              f"({cold['n_train']} train / {cold['n_val']} val pictures)")
        print(f"warm rerun:  {warm['seconds']:7.2f} s   val accuracy {warm['val_accuracy']:.4f}")
        figures = {"cold_seconds": cold["seconds"], "warm_seconds": warm["seconds"],
                   "val_accuracy": cold["val_accuracy"]}
        if not args.skip_anchor:
            if not args.anchor.is_file():
                print(f"anchor not found at {args.anchor}; pass --anchor PATH or --skip-anchor", file=sys.stderr)
                return 2
            a = anchor_epoch(args.anchor, data)
            ratio = cold["seconds"] / a["seconds_per_epoch"]
            print(f"anchor:      {a['seconds_per_epoch']:7.2f} s for one epoch of the tutorial recipe "
                  f"(val accuracy after it {a['final_val_acc']:.4f})")
            print(f"ratio:       cold / one anchor epoch = {ratio:.2f}   (target <= 1.0; the anchor needs 25 epochs)")
            figures.update(anchor_epoch_seconds=a["seconds_per_epoch"], cold_over_anchor_epoch=round(ratio, 3))
        fwd = forward_rate()
        rate, n = classify_rate(out, data)
        print(f"classify:    {rate:7.1f} pictures/s over {n} pictures; bare forward {fwd:.1f} pictures/s "
              f"at batch 32 -> {rate / fwd:.0%} (target >= 80%)")
        figures.update(classify_per_s=round(rate, 1), forward_per_s=round(fwd, 1), classify_over_forward=round(rate / fwd, 3))
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
