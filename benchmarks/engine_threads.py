"""Benchmark: how many threads the decode pool and the ONNX Runtime engine should each have, measured
together (they share the cores: the pool decodes the next batch while the engine runs this one).
Prints pictures/s for each combination over the same photos; asserts nothing.

usage: python benchmarks/engine_threads.py PHOTOS_DIR [--backbone efficientnet_lite0] [--n 240] [--openvino]

--openvino also measures OpenVINO (when importable; it is not a dependency) against ONNX Runtime on
the same engine file and the same ready-made tensors: batch 8 throughput and one-picture latency.
"""
from __future__ import annotations

import argparse
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("photos")
    ap.add_argument("--backbone", default="efficientnet_lite0")
    ap.add_argument("--n", type=int, default=240)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--openvino", action="store_true")
    ap.add_argument("--repeat", type=int, default=2, help="rounds over all combinations; the best round counts "
                    "(other programs on a shared machine only ever slow a round down)")
    args = ap.parse_args()

    import onnxruntime as ort

    from monster_studio.core import catalogue, engine, images
    from monster_studio.core.dataset import expand

    spec = catalogue.backbone(args.backbone)
    ready = engine.ensure(spec)
    onnx_file = ready.base.with_name(ready.base.name + ".onnx")
    files = [f for f in expand([args.photos])[0] if images.looks_like_picture(f)][:args.n]
    pre = spec.preprocess
    print(f"{len(files)} photos from {args.photos}, {spec.display_name}, batch {args.batch}, {engine.cores()} cores")

    def run(decoders: int, threads: int, spin: bool) -> float:
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        session = ort.InferenceSession(str(onnx_file), so, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        session.run(None, {name: pre.normalize(images.prepare(files[0], pre)[None])})  # warm-up
        t0 = time.perf_counter()
        with ThreadPoolExecutor(decoders) as pool:
            for batch in images.decoded_batches(files, lambda f: images.prepare(f, pre), args.batch, pool):
                good = [a for _, a in batch if not isinstance(a, images.BadPicture)]
                session.run(None, {name: pre.normalize(__import__("numpy").stack(good))})
        return len(files) / (time.perf_counter() - t0)

    import os

    combos = list(itertools.product((1, 2), (1, 2), (False, True)))
    best_of: dict[tuple, float] = {}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for _ in range(args.repeat):
        for combo in combos:
            best_of[combo] = max(best_of.get(combo, 0.0), run(*combo))
    print(f"load average after:  {os.getloadavg()[0]:.2f}")
    rows = []
    for (decoders, threads, spin), rate in best_of.items():
        rows.append((rate, decoders, threads, spin))
        print(f"decode threads {decoders}  engine threads {threads}  spinning {'on ' if spin else 'off'}  "
              f"{rate:6.1f} pictures/s", flush=True)
    best = max(rows)
    print(f"best: decode {best[1]}, engine {best[2]}, spinning {'on' if best[3] else 'off'} ({best[0]:.1f}/s)")
    if args.openvino:
        compare_openvino(onnx_file, spec, args.batch)
    return 0


def compare_openvino(onnx_file: Path, spec, batch: int, repeats: int = 12) -> None:
    import numpy as np

    from monster_studio.core import engine

    x = np.random.default_rng(0).standard_normal((batch, 3, spec.input_size, spec.input_size)).astype(np.float32)
    ready = engine.cached(spec)

    def rate(fn, xb, n=repeats):
        fn(xb)
        t0 = time.perf_counter()
        for _ in range(n):
            fn(xb)
        return (time.perf_counter() - t0) / n

    ort_b = rate(ready.run, x)
    ort_1 = rate(ready.run, x[:1], 30)
    print(f"ONNX Runtime: {batch / ort_b:6.1f} pictures/s at batch {batch}, one picture {1000 * ort_1:5.1f} ms")
    try:
        import openvino as ov
    except ImportError as exc:
        print(f"OpenVINO not measured: {exc}")
        return
    core = ov.Core()
    model = core.read_model(str(onnx_file))
    for hint in ("LATENCY", "THROUGHPUT"):
        compiled = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": hint})
        request = compiled.create_infer_request()
        fn = lambda xb: request.infer({0: xb})  # noqa: E731
        ov_b = rate(fn, x)
        ov_1 = rate(fn, x[:1], 30)
        diff = float(np.abs(next(iter(request.infer({0: x}).values())) - ready.run(x)).max())
        print(f"OpenVINO {ov.__version__} ({hint.lower()} hint): {batch / ov_b:6.1f} pictures/s at batch {batch}, "
              f"one picture {1000 * ov_1:5.1f} ms, largest difference from ONNX Runtime {diff:.1g}")


if __name__ == "__main__":
    raise SystemExit(main())
