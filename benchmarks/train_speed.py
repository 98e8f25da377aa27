"""Benchmark: Monster Studio's training and classification speed against the PyTorch tutorial's
recipe, measured in the same run on the same machine. Prints figures; asserts nothing.

usage: python benchmarks/train_speed.py DATA_DIR [--anchor PATH] [--skip-anchor] [--photos 2000]

  cold (export)   `monster-studio train DATA_DIR` as a whole process, wall clock, with an empty
                  cache: includes preparing the ONNX Runtime engine (once per starting model)
  cold (engine)   the same with the engine already prepared but no features cached: what every
                  new folder costs
  warm            the same command again (features from the store)
  anchor          one epoch of ../shared/bench/anchor_tutorial.py (it needs 25 for its best
                  accuracy); the colds are given as a share of it (target <= 0.5)
  forward         the starting model alone on ready-made tensors at batch 8: PyTorch
                  (channels_last, inference mode) and the engine (ONNX Runtime), same weights
  classify        pictures/s classifying a folder of PHOTOS small photos (DATA_DIR's photos,
                  copied round-robin) with the trained model once loaded, against PyTorch's bare
                  forward rate (target >= 1.3x), and as a whole `monster-studio classify` process
  one picture     the time to answer one picture once the model is loaded (target <= 50 ms)
  bundled models  the engine's forward rate for EfficientNet-Lite0, Lite1 and Lite2 (the
                  catalogue's words on what each costs come from these)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ANCHOR = HERE.parent.parent / "shared" / "bench" / "anchor_tutorial.py"
BATCH = 8


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


def cli_train(data: str, out: Path, env: dict) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "monster_studio", "train", data, "--out", str(out), "--json", "--quiet"]
    seconds, stdout = timed(cmd, env)
    return seconds, json.loads(stdout.strip().splitlines()[-1])


def anchor_epoch(anchor: Path, data: str) -> dict:
    proc = subprocess.run([sys.executable, str(anchor), data, "--epochs", "1"], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def forward_rates(repeats: int = 12) -> tuple[float, float]:
    """(PyTorch, engine) pictures/s of the bare starting model at batch 8 on the same tensor."""
    import numpy as np
    import torch

    from monster_studio.core import backbones, catalogue, engine, weights

    spec = catalogue.backbone(catalogue.DEFAULT_BACKBONE)
    net = weights.pretrained(spec).to(memory_format=torch.channels_last)
    x = torch.randn(BATCH, 3, spec.input_size, spec.input_size, generator=torch.Generator().manual_seed(0))
    xc = x.contiguous(memory_format=torch.channels_last)
    with backbones.headless(net, spec), torch.inference_mode():
        net(xc)
        t0 = time.perf_counter()
        for _ in range(repeats):
            net(xc)
        torch_rate = BATCH * repeats / (time.perf_counter() - t0)
    ready = engine.ensure(spec)
    xn = np.ascontiguousarray(x.numpy())
    ready.run(xn)
    t0 = time.perf_counter()
    for _ in range(repeats):
        ready.run(xn)
    return torch_rate, BATCH * repeats / (time.perf_counter() - t0)


def engine_rate(backbone_id: str, repeats: int = 12) -> float:
    import numpy as np

    from monster_studio.core import catalogue, engine

    spec = catalogue.backbone(backbone_id)
    ready = engine.ensure(spec)
    x = np.random.default_rng(0).standard_normal((BATCH, 3, spec.input_size, spec.input_size)).astype(np.float32)
    ready.run(x)
    t0 = time.perf_counter()
    for _ in range(repeats):
        ready.run(x)
    return BATCH * repeats / (time.perf_counter() - t0)


def photo_folder(data: str, n: int, dest: Path) -> Path:
    """n small photos: the data set's own, copied round-robin under new names (real JPEGs)."""
    from monster_studio.core import images
    from monster_studio.core.dataset import expand

    photos = [f for f in expand([data])[0] if images.looks_like_picture(f)]
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        src = photos[i % len(photos)]
        shutil.copyfile(src, dest / f"{i:05d}{src.suffix.lower()}")
    return dest


def classify_in_process(model_path: Path, folder: Path) -> tuple[float, int, float]:
    """(pictures/s over the folder, how many, median ms for one picture), model loaded first."""
    from monster_studio.core import modelfile, predict

    model = modelfile.load(model_path)
    files = sorted(folder.iterdir())
    list(predict.classify(model, files[:BATCH]))  # the engine's session made once: loading is not classifying
    t0 = time.perf_counter()
    n = sum(1 for r in predict.classify(model, [folder]) if isinstance(r, predict.Prediction))
    rate = n / (time.perf_counter() - t0)
    one = []
    for f in files[:25]:
        t0 = time.perf_counter()
        list(predict.classify(model, [f]))
        one.append(1000 * (time.perf_counter() - t0))
    return rate, n, statistics.median(one)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("--anchor", type=Path, default=DEFAULT_ANCHOR)
    ap.add_argument("--skip-anchor", action="store_true")
    ap.add_argument("--photos", type=int, default=2000)
    args = ap.parse_args()
    data = str(Path(args.data_dir).resolve())
    if not args.skip_anchor and not args.anchor.is_file():
        print(f"anchor not found at {args.anchor}; pass --anchor PATH or --skip-anchor", file=sys.stderr)
        return 2
    print(f"load average at the start: {os.getloadavg()[0]:.2f} (other programs on these cores slow every figure)")
    with tempfile.TemporaryDirectory(prefix="ms-bench-") as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, MONSTER_STUDIO_CACHE=str(tmp / "cache"), PYTHONUNBUFFERED="1")
        os.environ["MONSTER_STUDIO_CACHE"] = env["MONSTER_STUDIO_CACHE"]  # the in-process parts use it too
        out = tmp / "bench.monster"
        cold_export, result = cli_train(data, out, env)
        shutil.rmtree(tmp / "cache" / "features")  # the engine stays, the features go
        cold, result = cli_train(data, out, env)
        warm, again = cli_train(data, out, env)
        print(f"cold train, engine made in it: {cold_export:6.2f} s whole process")
        print(f"cold train, engine ready:      {cold:6.2f} s whole process   val accuracy {result['val_accuracy']:.4f} "
              f"({result['n_train']} train / {result['n_val']} val pictures)")
        print(f"warm rerun:                    {warm:6.2f} s whole process   val accuracy {again['val_accuracy']:.4f}")
        figures = {"cold_with_export_s": round(cold_export, 2), "cold_s": round(cold, 2), "warm_s": round(warm, 2),
                   "val_accuracy": result["val_accuracy"]}
        if not args.skip_anchor:
            a = anchor_epoch(args.anchor, data)
            epoch = a["seconds_per_epoch"]
            print(f"anchor:                        {epoch:6.2f} s for one epoch of the tutorial recipe "
                  f"(val accuracy after it {a['final_val_acc']:.4f})")
            print(f"ratio cold / anchor epoch:     {cold / epoch:6.2f} engine ready, {cold_export / epoch:.2f} with the "
                  "engine made (target <= 0.5)")
            figures.update(anchor_epoch_s=epoch, cold_over_anchor=round(cold / epoch, 3),
                           cold_with_export_over_anchor=round(cold_export / epoch, 3))
        torch_rate, ort_rate = forward_rates()
        print(f"forward, batch {BATCH}:              PyTorch {torch_rate:6.1f} pictures/s, engine (ONNX Runtime) "
              f"{ort_rate:6.1f} pictures/s -> {ort_rate / torch_rate:.2f}x")
        folder = photo_folder(data, args.photos, tmp / "photos")
        rate, n, one_ms = classify_in_process(out, folder)
        whole, _ = timed([sys.executable, "-m", "monster_studio", "classify", str(out), str(folder), "--csv",
                          str(tmp / "r.csv"), "--quiet"], env)
        print(f"classify {n} photos:          {rate:6.1f} pictures/s once loaded -> {rate / torch_rate:.2f}x PyTorch's "
              f"bare forward (target >= 1.3x); whole process {whole:.1f} s ({n / whole:.1f} pictures/s)")
        print(f"one picture, once loaded:      {one_ms:6.1f} ms (median of 25; target <= 50 ms)")
        figures.update(forward_torch_per_s=round(torch_rate, 1), forward_engine_per_s=round(ort_rate, 1),
                       classify_per_s=round(rate, 1), classify_over_torch_forward=round(rate / torch_rate, 3),
                       classify_process_s=round(whole, 2), one_picture_ms=round(one_ms, 1))
        lites = {b: engine_rate(b) for b in ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")}
        print("bundled models on the engine, batch 8: " + ", ".join(
            f"{b.rsplit('_', 1)[1]} {r:.1f} pictures/s ({lites['efficientnet_lite0'] / r:.1f}x Lite0's time)"
            for b, r in lites.items()))
        figures.update({f"engine_{b.rsplit('_', 1)[1]}_per_s": round(r, 1) for b, r in lites.items()})
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
