"""Benchmark: training on N generated pictures (the sample monsters, core.sample), cold and warm, as
whole `monster-studio train` processes. Prints time per 1,000 pictures, peak resident memory of
each process, and the warm rerun time (other settings: another learning rate and epochs, features
from the store); asserts nothing.

usage: python benchmarks/scale.py [--sizes 1000 10000 50000] [--size 128] [--keep DIR]

Targets (issue 9): a rerun with other settings on ~13,000 pictures within 3 s as a whole process;
no run above 1.5 GB resident at 13,000 pictures, memory growing with the features alone (~5 KB a
picture for Lite0's 1280 numbers).
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


def measured(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak resident MB, stdout) of one whole process; the peak is read from the
    child's own rusage (wait4), so it is that process's alone."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read()[-2000:]}")
        peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
        return seconds, peak, out.read()


def make_pictures(folder: Path, n: int, size: int) -> float:
    from monster_studio.core import sample

    t0 = time.perf_counter()
    sample.write_sample(folder, per_class=max(1, n // len(sample.CLASSES)), seed=11, size=size)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--size", type=int, default=128, help="picture side in pixels (small photos)")
    ap.add_argument("--keep", type=Path, help="keep the generated pictures and cache here (reused when present)")
    args = ap.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f} (other programs on these cores slow every figure)")
    results = []
    with tempfile.TemporaryDirectory(prefix="ms-scale-") as tmp:
        base = args.keep or Path(tmp)
        for n in args.sizes:
            folder = base / f"pictures-{n}"
            env = dict(os.environ, MONSTER_STUDIO_CACHE=str(base / f"cache-{n}"), PYTHONUNBUFFERED="1")
            made = 0.0 if folder.is_dir() else make_pictures(folder, n, args.size)
            out = base / f"model-{n}.monster"
            train = [sys.executable, "-m", "monster_studio", "train", str(folder), "--out", str(out), "--json", "--quiet"]
            cold, cold_mb, stdout = measured(train, env)
            first = json.loads(stdout.strip().splitlines()[-1])
            warm, warm_mb, stdout = measured(train + ["--lr", "0.001", "--epochs", "20"], env)
            again = json.loads(stdout.strip().splitlines()[-1])
            count = first["n_train"] + first["n_val"]
            store = sum(f.stat().st_size for f in (base / f"cache-{n}" / "features").glob("*.sqlite3"))
            row = {"pictures": count, "made_s": round(made, 1), "cold_s": round(cold, 2),
                   "cold_s_per_1000": round(1000 * cold / count, 2), "cold_peak_mb": round(cold_mb),
                   "warm_s": round(warm, 2), "warm_peak_mb": round(warm_mb), "store_mb": round(store / 1e6, 1),
                   "val_accuracy": first["val_accuracy"], "warm_val_accuracy": again["val_accuracy"]}
            results.append(row)
            print(f"{count:6d} pictures: cold {cold:7.1f} s ({row['cold_s_per_1000']:.1f} s per 1,000), peak "
                  f"{cold_mb:5.0f} MB | warm rerun, other settings {warm:5.2f} s, peak {warm_mb:5.0f} MB | store "
                  f"{row['store_mb']} MB | val accuracy {first['val_accuracy']:.3f} / {again['val_accuracy']:.3f}",
                  flush=True)
    if len(results) > 1:
        a, b = results[0], results[-1]
        per = (b["warm_peak_mb"] - a["warm_peak_mb"]) * 1e3 / max(1, b["pictures"] - a["pictures"])
        print(f"warm peak memory grows {per:.1f} KB per picture between {a['pictures']} and {b['pictures']}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
