"""Benchmark: how often a trained model says "not sure" on pictures of kinds it never saw, and on
pictures of its own classes. Prints figures (and one JSON line at the end); asserts nothing.

usage: python benchmarks/unsure_rates.py [--photos ../shared/data/hymenoptera] [--per-class 40]

Two models, EfficientNet-Lite0 and the app's default training settings:
  monsters   the built-in sample (five generated monsters), shown the real photos (ants and bees),
             other real photos (the few that come with scikit-learn and matplotlib, whole and
             cropped) and generated pictures of no kind at all (noise, stripes, flat colours, blocks)
  photos     ants against bees (the folder's own train/ and val/), shown the monsters, the other
             real photos and the same generated pictures
For each: the share flagged on every unknown set (what the user wants high), the share flagged
on its own check pictures (about 5% by construction: the limits are calibrated on them), and the
honest version of that last figure: the check pictures cut in two halves, the limits calibrated
on one half and the other half judged, both ways round (what a user's new pictures of known
classes would see). A sweep over k (the neighbour) and the sure share follows, on the same
features. The default path (`predict.classify`, the model file's own calibration) gives the
headline figures; the sweep recalibrates with `unsure.calibrate`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_PHOTOS = HERE.parent.parent / "shared" / "data" / "hymenoptera"


def no_kind_pictures(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """Pictures of no kind a model could have learned: noise, stripes, flat colours, blocks."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        kind, size = i % 4, int(rng.integers(96, 320))
        if kind == 0:
            a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        elif kind == 1:
            wave = np.sin(np.arange(size) / rng.uniform(2, 14) + rng.uniform(0, 6)) > 0
            a = (np.repeat(wave[None, :, None], size, 0) * rng.uniform(60, 255, 3)).astype(np.uint8)
            a = np.ascontiguousarray(np.broadcast_to(a, (size, size, 3)))
            if rng.random() < 0.5:
                a = np.ascontiguousarray(a.transpose(1, 0, 2))
        elif kind == 2:
            a = np.full((size, size, 3), rng.integers(0, 256, 3), np.uint8)
        else:
            img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 256, 3)))
            d = ImageDraw.Draw(img)
            for _ in range(int(rng.integers(3, 9))):
                x, y = rng.uniform(0, size, 2)
                w, h = rng.uniform(0.1, 0.5, 2) * size
                d.rectangle((x, y, x + w, y + h), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
            a = np.asarray(img)
        path = folder / f"nothing_{i:03d}.png"
        Image.fromarray(a).save(path)
        out.append(path)
    return out


def other_photos(folder: Path, crops: int = 4, seed: int = 0) -> list[Path]:
    """Real photos of other things that come with installed libraries (scikit-learn's temple and
    flower, matplotlib's portrait of Grace Hopper), each whole and in a few random square crops."""
    from PIL import Image

    found = []
    try:
        import sklearn.datasets

        found += sorted((Path(sklearn.datasets.__file__).parent / "images").glob("*.jpg"))
    except ImportError:
        pass
    try:
        import matplotlib

        found += [Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"]
    except ImportError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for src in (p for p in found if p.is_file()):
        img = Image.open(src).convert("RGB")
        out.append(folder / f"{src.stem}.png")
        img.save(out[-1])
        for i in range(crops):
            side = int(min(img.size) * rng.uniform(0.4, 0.7))
            x, y = int(rng.integers(0, img.width - side)), int(rng.integers(0, img.height - side))
            out.append(folder / f"{src.stem}_{i}.png")
            img.crop((x, y, x + side, y + side)).save(out[-1])
    return out


def pictures_under(folder: Path) -> list[Path]:
    from monster_studio.core import dataset, images

    files, _ = dataset.expand([folder])
    return [f for f in files if images.looks_like_picture(f)]  # not the folder's README


def train(folder: Path):
    from monster_studio.core import training
    from monster_studio.core.events import Finished
    from monster_studio.core.settings import TrainSettings

    t0 = time.perf_counter()
    done = [e for e in training.fit(folder, TrainSettings()) if isinstance(e, Finished)][-1]
    return done, time.perf_counter() - t0


def flagged(model, paths, sure_share=None) -> tuple[float, dict]:
    """The share of `paths` the model is not sure of, on the path the app and the CLI use."""
    from monster_studio.core import predict

    said = [r for r in predict.classify(model, paths, sure_share=sure_share) if isinstance(r, predict.Prediction)]
    reasons: dict[str, int] = {}
    for r in said:
        if r.unsure:
            key = "unlike" if r.unsure_reason.startswith("unlike") else "torn"
            reasons[key] = reasons.get(key, 0) + 1
    return (sum(r.unsure for r in said) / len(said) if said else float("nan")), reasons


def features(model, paths):
    """Features and probabilities of pictures through the engine `classify` uses."""
    from monster_studio.core import engine, images
    from monster_studio.core.device import pick
    from monster_studio.core.events import run_to_end

    embed, weight, bias = run_to_end(engine.classifier(model, pick("cpu")))
    feats = []
    try:
        for i in range(0, len(paths), 8):
            feats.append(embed([images.prepare(p, model.preprocess) for p in paths[i:i + 8]]))
    finally:
        embed.close()
    f = np.concatenate(feats)
    return f, engine.softmax(f @ weight.T + bias)


def held_out_rate(train_f, train_y, check_f, check_p, check_y, k, share) -> float:
    """Check pictures cut in two halves (alternately within each class): calibrate on one, judge
    the other, both ways round; the share flagged."""
    from monster_studio.core import unsure

    halves = [np.zeros(len(check_y), bool), np.zeros(len(check_y), bool)]
    for c in np.unique(check_y):
        rows = np.flatnonzero(check_y == c)
        halves[0][rows[0::2]] = True
        halves[1][rows[1::2]] = True
    n_flagged = n = 0
    for cal, judged in (halves, halves[::-1]):
        calib = unsure.calibrate(train_f, train_y, check_f[cal], check_p[cal], k=k)
        verdicts = calib.judge(check_f[judged], check_p[judged], [str(i) for i in range(check_p.shape[1])], share)
        n_flagged += sum(v for v, _ in verdicts)
        n += len(verdicts)
    return n_flagged / n


def study(name: str, folder: Path, unknown: dict[str, list[Path]]) -> dict:
    from monster_studio.core import dataset, unsure
    from monster_studio.core.settings import TrainSettings

    done, seconds = train(folder)
    model = done.model
    ev = done.evaluation
    print(f"\n== {name}: {folder} ({len(model.classes)} classes; {done.metrics['n_train']} training, "
          f"{done.metrics['n_val']} check pictures; trained in {seconds:.1f} s; check accuracy "
          f"{done.metrics['val_accuracy']:.3f})")
    print(f"   calibrated on the {model.unsure.calibrated_on}: {len(model.unsure.distances)} pictures, sample of "
          f"{len(model.unsure.sample)}, k={model.unsure.k}; limits (distance, margin) at 0.95: "
          f"{tuple(round(x, 4) for x in model.unsure.limits())}")
    result = {"model": name, "classes": model.classes, "n_train": done.metrics["n_train"],
              "n_check": done.metrics["n_val"], "check_accuracy": done.metrics["val_accuracy"],
              "check_flagged": ev.unsure_count / ev.count, "unknown": {}}
    wrong = [r for r in ev.rows if not r.correct]
    print(f"   flagged on its own check pictures: {ev.unsure_count}/{ev.count} = {ev.unsure_count / ev.count:.1%} "
          f"(accuracy on the sure ones {ev.sure_accuracy:.3f}; {sum(r.unsure for r in wrong)} of its "
          f"{len(wrong)} mistakes flagged)")
    for kind, paths in unknown.items():
        rate, reasons = flagged(model, paths)
        result["unknown"][kind] = {"pictures": len(paths), "flagged": rate, "reasons": reasons}
        print(f"   flagged on {kind} ({len(paths)} pictures): {rate:.1%} {reasons}")

    # The same features for the sweep and the held-out figure.
    ds = dataset.scan(folder, TrainSettings().val_split, TrainSettings().seed, remember=False)
    train_f, _ = features(model, [p.path for p in ds.train])
    train_y = np.array([p.label for p in ds.train])
    check_f, check_p = features(model, [p.path for p in ds.val])
    check_y = np.array([p.label for p in ds.val])
    unknown_f = {kind: features(model, paths) for kind, paths in unknown.items()}
    held = held_out_rate(train_f, train_y, check_f, check_p, check_y, unsure.NEIGHBOURS, None)
    result["held_out_flagged"] = held
    print(f"   flagged on held-out pictures of its own classes (check pictures in two halves): {held:.1%}")
    print("   sweep (k, sure share): held-out own-class flagged | " + " | ".join(unknown))
    sweep = []
    for k in (1, 3, 10):
        for share in (0.9, 0.95, 0.99):
            calib = unsure.calibrate(train_f, train_y, check_f, check_p, k=k)
            rates = []
            for kind, (f, p) in unknown_f.items():
                verdicts = calib.judge(f, p, model.classes, share)
                rates.append(sum(v for v, _ in verdicts) / len(verdicts))
            own = held_out_rate(train_f, train_y, check_f, check_p, check_y, k, share)
            sweep.append({"k": k, "sure_share": share, "held_out_flagged": own, "unknown_flagged": rates})
            print(f"     k={k:<2} share {share:.2f}: {own:6.1%} | " + " | ".join(f"{r:6.1%}" for r in rates))
    result["sweep"] = sweep
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="a folder of real photos with train/ and val/")
    ap.add_argument("--per-class", type=int, default=40, help="sample monsters per kind")
    ap.add_argument("--nothing", type=int, default=100, help="generated pictures of no kind")
    args = ap.parse_args()
    if not args.photos.is_dir():
        print(f"no photo folder at {args.photos}; pass --photos", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="unsure-rates-") as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("MONSTER_STUDIO_CACHE", str(tmp / "cache"))
        from monster_studio.core.sample import write_sample

        monsters = write_sample(tmp / "monsters", per_class=args.per_class)
        nothing = no_kind_pictures(tmp / "nothing", args.nothing)
        photos = pictures_under(args.photos)
        others = other_photos(tmp / "others")
        other_words = f"other real photos ({len(others)} views of {len(others) // 5})"
        random.seed(0)
        out = [study("monsters", monsters, {"real photos (ants and bees)": photos, other_words: others,
                                            "pictures of no kind": nothing}),
               study("photos", args.photos, {"monsters": pictures_under(monsters), other_words: others,
                                             "pictures of no kind": nothing})]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
