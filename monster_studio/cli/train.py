"""`monster-studio train DIR --out MODEL.monster`: a folder with one subfolder per class -> a model file."""
from __future__ import annotations

import json
import time

from monster_studio.cli.words import count, fail, number, positive, say, share
from monster_studio.core.wording import visible


DEVICES = ("auto", "cpu", "cuda", "mps")  # checked against this computer when the work starts


def add(sub) -> None:
    from monster_studio.core.settings import TrainSettings

    d = TrainSettings()
    t = sub.add_parser("train", help="train a classifier on a folder with one subfolder per class")
    t.add_argument("data_dir")
    t.add_argument("--out", required=True, help="model file to write (.monster)")
    t.add_argument("--backbone", default=d.backbone, help=f"starting model (default {d.backbone}; see 'backbones')")
    t.add_argument("--epochs", type=positive, default=d.epochs)
    t.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr})")
    t.add_argument("--val-split", type=share, default=d.val_split,
                   help=f"share of pictures kept aside to check the model (default {d.val_split})")
    t.add_argument("--augment", type=count, default=d.augment, metavar="N", help="augmented views per training picture")
    t.add_argument("--finetune", action="store_true", help="also fine-tune the starting model's last layers (slower)")
    t.add_argument("--finetune-epochs", type=positive, default=d.finetune_epochs)
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--device", default=d.device, choices=DEVICES,
                   help="where the work runs: auto picks a graphics card when there is one (default: auto)")
    t.add_argument("--json", action="store_true", help="end with one JSON line of results")
    t.add_argument("--verbose", "-v", action="store_true", help="print every epoch")
    t.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    t.set_defaults(func=run)


def run(args) -> int:
    from monster_studio.cli.progress import Bars
    from monster_studio.core import device, files, modelfile, training
    from monster_studio.core.errors import UserError
    from monster_studio.core.events import Cancel, ClassTable, EpochEnd, Finished
    from monster_studio.core.settings import TrainSettings

    # Where the model goes is checked before any work: a folder that is missing or cannot be
    # written, a name too long for the disk or one it refuses, reported at once in plain words.
    out = modelfile.with_suffix(args.out)
    why = files.check_writable_file(out)
    if why:
        raise UserError(f"The model cannot be saved as {out.name}: {why}. Choose another name or folder.")
    out = modelfile.check_target(out)
    try:
        device.pick(args.device)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    t0 = time.perf_counter()
    settings = TrainSettings(backbone=args.backbone, epochs=args.epochs, lr=args.lr, val_split=args.val_split,
                                      augment=args.augment, finetune=args.finetune,
                                      finetune_epochs=args.finetune_epochs, seed=args.seed, device=args.device)
    bars = Bars(enabled=not args.quiet)
    quiet = args.json or args.quiet
    finished = None
    for ev in training.fit(args.data_dir, settings, Cancel()):
        if bars(ev):
            continue
        if isinstance(ev, ClassTable):
            bars.close()
            say(f"{len(ev.classes)} classes: " + ", ".join(f"{c} ({n})" for c, n in ev.counts.items())
                + f"; {ev.n_train} for training, {ev.n_val} for checking"
                + (" (split as given by the folder's train/ and val/)" if ev.split_given else ""), quiet=quiet)
            for line in ev.warnings:
                say(f"warning: {line}", quiet=quiet)
        elif isinstance(ev, EpochEnd) and args.verbose:
            bars.close()
            say(f"epoch {ev.epoch}/{ev.epochs} [{ev.stage}] train loss {ev.train_loss:.4f} "
                f"val loss {ev.val_loss:.4f} val accuracy {ev.val_accuracy:.3f}", quiet=quiet)
        elif isinstance(ev, Finished):
            finished = ev
    bars.close()
    if finished is None:
        return fail("training was stopped before it finished", 130)
    bars.phase("Saving")
    path = modelfile.save(finished.model, out)
    bars.close()
    seconds = time.perf_counter() - t0
    m = finished.metrics
    for s in finished.skipped:
        say(f"skipped {s.path}: {s.reason}", quiet=quiet)
    if args.json:
        print(json.dumps({"val_accuracy": number(m["val_accuracy"]), "val_loss": number(m["val_loss"]),
                          "seconds": round(seconds, 3),
                          "n_train": m["n_train"], "n_val": m["n_val"], "classes": m["classes"],
                          "best_epoch": m["best_epoch"], "backbone": settings.backbone, "out": str(path),
                          "skipped": [{"path": s.path, "reason": s.reason} for s in finished.skipped]}))
    else:
        checked = (f"Validation accuracy {m['val_accuracy']:.1%} on {m['n_val']} pictures" if m["n_val"]
                   else "No pictures were kept aside to check the model")
        print(visible(f"{checked} (best epoch {m['best_epoch']}); {len(finished.skipped)} file(s) skipped; "
                      f"saved {path} in {seconds:.1f} s"))
    return 0
