"""`monster-studio`: the app with no arguments, the same core from a terminal with a command.

Exit codes: 0 done, 1 the work failed (message on stderr), 2 wrong usage, 130 interrupted.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time

from monster_studio import APP_NAME, __version__


class Progress:
    """One line of progress on stderr: a bar on a terminal, a few plain lines otherwise."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.label = ""
        self.start = time.perf_counter()
        self.last_pct = -1

    def phase(self, text: str) -> None:
        self.end()
        self.label, self.start, self.last_pct = text, time.perf_counter(), -1
        if self.enabled and not self.tty:
            print(f"{text}...", file=sys.stderr, flush=True)

    def update(self, done: float, total: float, unit: str = "") -> None:
        if not self.enabled or total <= 0:
            return
        frac = min(1.0, done / total)
        pct = int(frac * 100)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0
        if self.tty:
            bar = "#" * int(frac * 30)
            sys.stderr.write(f"\r{self.label[:34]:<34} [{bar:<30}] {pct:3d}% {done:.0f}/{total:.0f}{unit} ETA {eta:4.0f}s")
            sys.stderr.flush()
        elif pct // 25 > self.last_pct // 25 or pct == 100 and self.last_pct != 100:
            print(f"  {pct}% ({done:.0f}/{total:.0f}{unit})", file=sys.stderr, flush=True)
        self.last_pct = pct

    def end(self) -> None:
        if self.enabled and self.tty and self.label:
            sys.stderr.write("\n")
        self.label = ""


def _number(x):
    """JSON has no NaN: a figure that could not be measured (no validation pictures) is null."""
    return None if x is None or x != x else x


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def _count(text: str) -> int:
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return n


def _share(text: str) -> float:
    x = float(text)
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError("must be from 0 up to (not including) 1, e.g. 0.2")
    return x


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def cmd_train(args) -> int:
    from monster_studio.core import modelfile, training
    from monster_studio.core.events import (Cancel, DownloadProgress, EpochEnd, FeatureProgress, Finished,
                                            Phase, ScanDone, ScanProgress, StepProgress)

    if not args.out.endswith(modelfile.SUFFIX):
        args.out += modelfile.SUFFIX
    t0 = time.perf_counter()
    settings = training.TrainSettings(backbone=args.backbone, epochs=args.epochs, lr=args.lr, val_split=args.val_split,
                                      augment=args.augment, finetune=args.finetune, seed=args.seed, device=args.device)
    progress = Progress(enabled=not args.quiet)
    say = (lambda *a: None) if args.json or args.quiet else (lambda *a: print(*a, file=sys.stderr))
    finished = None
    for ev in training.fit(args.data_dir, settings, Cancel()):
        if isinstance(ev, Phase):
            progress.phase(ev.text)
        elif isinstance(ev, ScanDone):
            progress.end()
            say(f"{len(ev.classes)} classes: " + ", ".join(f"{c} ({n})" for c, n in ev.counts.items())
                + f"; {ev.n_train} for training, {ev.n_val} for validation"
                + (" (split as given by train/ and val/)" if ev.split_given else ""))
            for line in ev.warnings:
                say(f"warning: {line}")
        elif isinstance(ev, ScanProgress):
            progress.update(ev.done, ev.total, " files")
        elif isinstance(ev, StepProgress):
            progress.update(ev.done, ev.total, " steps")
        elif isinstance(ev, DownloadProgress):
            progress.update(ev.done_bytes / 1e6, ev.total_bytes / 1e6, " MB")
        elif isinstance(ev, FeatureProgress):
            progress.update(ev.done, ev.total, " pictures")
        elif isinstance(ev, EpochEnd):
            progress.update(ev.epoch, ev.epochs, " epochs")
            if args.verbose:
                progress.end()
                say(f"epoch {ev.epoch}/{ev.epochs} [{ev.stage}] train loss {ev.train_loss:.4f} "
                    f"val loss {ev.val_loss:.4f} val accuracy {ev.val_accuracy:.3f}")
        elif isinstance(ev, Finished):
            finished = ev
    progress.end()
    if finished is None:
        return _fail("training was stopped before it finished", 130)
    progress.phase("Saving")
    path = modelfile.save(finished.model, args.out)
    progress.end()
    seconds = time.perf_counter() - t0
    m = finished.metrics
    for s in finished.skipped:
        say(f"skipped {s.path}: {s.reason}")
    if args.json:
        print(json.dumps({"val_accuracy": _number(m["val_accuracy"]), "val_loss": _number(m["val_loss"]),
                          "seconds": round(seconds, 3),
                          "n_train": m["n_train"], "n_val": m["n_val"], "classes": m["classes"],
                          "best_epoch": m["best_epoch"], "backbone": settings.backbone, "out": str(path),
                          "skipped": [{"path": s.path, "reason": s.reason} for s in finished.skipped]}))
    else:
        checked = (f"Validation accuracy {m['val_accuracy']:.1%} on {m['n_val']} pictures" if m["n_val"]
                   else "No pictures were kept aside to check the model")
        print(f"{checked} (best epoch {m['best_epoch']}); {len(finished.skipped)} file(s) skipped; "
              f"saved {path} in {seconds:.1f} s")
    return 0


def cmd_classify(args) -> int:
    from monster_studio.core import modelfile, predict
    from monster_studio.core.events import Cancel, DownloadProgress, Skipped

    model = modelfile.load(args.model)
    progress = Progress(enabled=not args.quiet and not args.json)
    k = max(1, min(args.top, len(model.classes)))
    rows: list[list[str]] = []
    n_ok = n_bad = 0
    for r in predict.classify(model, args.paths, top_k=k, cancel=Cancel()):
        if isinstance(r, DownloadProgress):
            progress.update(r.done_bytes / 1e6, r.total_bytes / 1e6, " MB")
        elif isinstance(r, Skipped):
            n_bad += 1
            rows.append([r.path] + [""] * (2 * k) + [r.reason])
            if args.json:
                print(json.dumps({"path": r.path, "top": [], "error": r.reason}), flush=True)
            else:
                print(f"skipped {r.path}: {r.reason}", file=sys.stderr)
        elif isinstance(r, predict.Prediction):
            n_ok += 1
            rows.append([r.path] + [x for lab, p in r.top for x in (lab, f"{p:.6f}")] + [""])
            if args.json:
                print(json.dumps(r.to_dict()), flush=True)
            elif not args.csv:
                tops = ", ".join(f"{lab} {p:.1%}" for lab, p in r.top)
                print(f"{r.path}\t{tops}", flush=True)
    if args.csv:
        header = ["path", "label", "probability"]
        header += [x for i in range(2, k + 1) for x in (f"label_{i}", f"probability_{i}")] + ["note"]
        write_csv(args.csv, header, rows)
        if not args.json:
            print(f"{n_ok} picture(s) classified into {args.csv}; {n_bad} skipped", file=sys.stderr)
    if n_ok == 0:
        return _fail("no picture could be classified" + (f" ({n_bad} skipped)" if n_bad else ""))
    return 0


def write_csv(path: str, header: list[str], rows: list[list[str]]) -> None:
    """Atomically (a failure leaves any earlier file as it was), UTF-8 without a BOM (scripts read
    this one; the app's export adds the BOM spreadsheets want), file names that are not valid
    UTF-8 kept as their bytes."""
    import tempfile

    target = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".csv-", suffix=".tmp", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cmd_detect(args) -> int:
    from monster_studio.core import detect
    from monster_studio.core.events import Cancel, DownloadProgress, Skipped

    progress = Progress(enabled=not args.json)
    n_ok = 0
    for r in detect.detect(args.detector, args.paths, min_score=args.min_score, cancel=Cancel()):
        if isinstance(r, DownloadProgress):
            progress.update(r.done_bytes / 1e6, r.total_bytes / 1e6, " MB")
        elif isinstance(r, Skipped):
            print(json.dumps({"path": r.path, "found": [], "error": r.reason}) if args.json
                  else f"skipped {r.path}: {r.reason}", file=sys.stdout if args.json else sys.stderr)
        elif isinstance(r, detect.Detections):
            n_ok += 1
            if args.json:
                print(json.dumps(r.to_dict()), flush=True)
            else:
                things = ", ".join(f"{f.label} {f.score:.0%}" for f in r.found) or "nothing found"
                print(f"{r.path}\t{things}", flush=True)
    progress.end()
    return 0 if n_ok else _fail("no picture could be read")


def cmd_backbones(args) -> int:
    from monster_studio.core import backbones, weights

    rows = []
    for spec in backbones.CATALOGUE.values():
        d = spec.describe()
        d["status"] = weights.status(spec)
        rows.append(d)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'id':<20} {'name':<30} {'speed':<14} {'top-1':>6} {'size':>8}  status")
    for spec, d in zip(backbones.CATALOGUE.values(), rows):
        print(f"{d['id']:<20} {d['name']:<30} {d['speed']:<14} {d['imagenet_top1']:>5.1f}% {d['download_mb']:>6.0f}MB"
              f"  {weights.status_text(spec)}")
        print(f"{'':<20} {spec.guidance}")
    from monster_studio.core.detect import DETECTORS

    print("\nDetectors, used as they are with COCO's 80 kinds of things ('monster-studio detect'):")
    for det in DETECTORS.values():
        print(f"{det.id:<36} {det.display_name:<30} {weights.status_text(det)}")
    return 0


def cmd_import_weights(args) -> int:
    from monster_studio.core import weights

    dest = weights.import_weights(args.backbone, args.file)
    print(f"Installed {dest}")
    return 0


def cmd_sample(args) -> int:
    from monster_studio.core import sample

    folder = sample.write_sample(args.dir, per_class=args.per_class, seed=args.seed)
    print(f"Wrote the sample monsters ({', '.join(sample.CLASSES)}) to {folder}")
    return 0


def parser() -> argparse.ArgumentParser:
    from monster_studio.core import device
    from monster_studio.core.backbones import DEFAULT_BACKBONE

    p = argparse.ArgumentParser(prog="monster-studio", description=f"{APP_NAME}: build an image classifier from a "
                                "folder of pictures. With no command, opens the app.")
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument("--debug", action="store_true", help="show the Python traceback of an unexpected error")
    p.add_argument("--install-desktop-entry", action="store_true",
                   help="add Monster Studio to the desktop's application menu (Linux), then exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a classifier on a folder with one subfolder per class")
    t.add_argument("data_dir")
    t.add_argument("--out", required=True, help="model file to write (.monster)")
    t.add_argument("--backbone", default=DEFAULT_BACKBONE, help=f"pretrained model (default {DEFAULT_BACKBONE}; see 'backbones')")
    t.add_argument("--epochs", type=_positive, default=40)
    t.add_argument("--lr", type=float, default=3e-3, help="learning rate")
    t.add_argument("--val-split", type=_share, default=0.2, help="share of pictures kept for validation (0 to 0.9)")
    t.add_argument("--augment", type=_count, default=0, metavar="N", help="augmented views per training picture")
    t.add_argument("--finetune", action="store_true", help="also fine-tune the backbone's last layers (slower)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", choices=device.choices(), help="where the work runs (default: auto)")
    t.add_argument("--json", action="store_true", help="end with one JSON line of results")
    t.add_argument("--verbose", "-v", action="store_true", help="print every epoch")
    t.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    t.set_defaults(func=cmd_train)

    c = sub.add_parser("classify", help="classify pictures (or folders of pictures) with a model file")
    c.add_argument("model")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--top", type=_positive, default=3)
    c.add_argument("--csv", metavar="OUT.csv")
    c.add_argument("--json", action="store_true", help="one JSON line per picture")
    c.add_argument("--quiet", "-q", action="store_true")
    c.set_defaults(func=cmd_classify)

    from monster_studio.core.detect import DEFAULT_DETECTOR, DETECTORS

    d = sub.add_parser("detect", help="find and box COCO's 80 kinds of things with a pretrained detector (no training)")
    d.add_argument("paths", nargs="+", metavar="PATH")
    d.add_argument("--detector", default=DEFAULT_DETECTOR, choices=list(DETECTORS))
    d.add_argument("--min-score", type=float, default=0.5)
    d.add_argument("--json", action="store_true", help="one JSON line per picture")
    d.set_defaults(func=cmd_detect)

    b = sub.add_parser("backbones", help="list the pretrained models and whether they are on this computer")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_backbones)

    i = sub.add_parser("import-weights", help="install a backbone's (or detector's) weights file obtained elsewhere")
    i.add_argument("backbone")
    i.add_argument("file")
    i.set_defaults(func=cmd_import_weights)

    s = sub.add_parser("sample", help="write the built-in sample monsters to a folder")
    s.add_argument("dir")
    s.add_argument("--per-class", type=int, default=40)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_sample)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from monster_studio.ui.app import main as app_main

        return app_main(sys.argv[:1])
    for stream in (sys.stdout, sys.stderr):  # file names need not be valid UTF-8 on Linux
        try:
            stream.reconfigure(errors="surrogateescape")
        except (AttributeError, ValueError):
            pass
    args = parser().parse_args(argv)
    from monster_studio.core.backbones import UnknownBackbone
    from monster_studio.core.dataset import DatasetError
    from monster_studio.core.modelfile import ModelFileError
    from monster_studio.core.weights import WeightsUnavailable

    try:
        if args.install_desktop_entry:
            from monster_studio.ui.desktop_entry import install

            print(f"Installed {install()}")
            return 0
        if args.command is None:
            parser().print_help()
            return 2
        return args.func(args)
    except (DatasetError, WeightsUnavailable, ModelFileError, UnknownBackbone) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `monster-studio classify ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        return _fail(f"{exc.filename or ''} {exc.strerror or exc}".strip())
    except Exception as exc:  # noqa: BLE001 - one plain line, never a traceback (unless asked for)
        if args.debug:
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the details)")

if __name__ == "__main__":
    raise SystemExit(main())
