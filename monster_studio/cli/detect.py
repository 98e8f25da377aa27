"""`monster-studio detect PATH...`: COCO's 80 kinds of things found and boxed, no training."""
from __future__ import annotations

import json

from monster_studio.cli.words import fail, probability, say
from monster_studio.core.wording import visible


def add(sub) -> None:
    from monster_studio.core.catalogue import DEFAULT_DETECTOR, DETECTORS

    d = sub.add_parser("detect", help="find and box COCO's 80 kinds of things with a pretrained detector (no training)")
    d.add_argument("paths", nargs="+", metavar="PATH")
    d.add_argument("--detector", default=DEFAULT_DETECTOR, choices=list(DETECTORS))
    d.add_argument("--min-score", type=probability, default=0.5)
    d.add_argument("--json", action="store_true", help="one JSON line per picture")
    d.set_defaults(func=run)


def run(args) -> int:
    from monster_studio.cli.progress import Bars
    from monster_studio.core import detect
    from monster_studio.core.events import Cancel, Skipped

    bars = Bars(enabled=not args.json)
    n_ok = 0
    for r in detect.detect(args.detector, args.paths, min_score=args.min_score, cancel=Cancel()):
        if bars(r):
            continue
        if isinstance(r, Skipped):
            if args.json:
                print(json.dumps({"path": r.path, "found": [], "error": r.reason}), flush=True)
            else:
                say(f"skipped {r.path}: {r.reason}")
        elif isinstance(r, detect.Detections):
            n_ok += 1
            if args.json:
                print(json.dumps(r.to_dict()), flush=True)
            else:
                things = ", ".join(f"{f.label} {f.score:.0%}" for f in r.found) or "nothing found"
                print(visible(f"{r.path}\t{things}"), flush=True)
    bars.close()
    return 0 if n_ok else fail("no picture could be read")
