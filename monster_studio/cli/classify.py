"""`monster-studio classify MODEL.monster PATH...`: what each picture is, as lines, JSON or CSV."""
from __future__ import annotations

import json
import sys

from monster_studio.cli.words import fail, positive, say
from monster_studio.core.wording import visible


def add(sub) -> None:
    c = sub.add_parser("classify", help="classify pictures (or folders of pictures) with a model file")
    c.add_argument("model")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--top", type=positive, default=3)
    c.add_argument("--csv", metavar="OUT.csv", help="write the results as a spreadsheet file (rows kept on Ctrl+C)")
    c.add_argument("--json", action="store_true", help="one JSON line per picture")
    c.add_argument("--quiet", "-q", action="store_true")
    c.set_defaults(func=run)


def run(args) -> int:
    from monster_studio.cli.progress import Bars
    from monster_studio.core import modelfile, predict, wording
    from monster_studio.core.events import Cancel, Skipped

    model = modelfile.load(args.model)
    bars = Bars(enabled=not args.quiet and not args.json)
    k = max(1, min(args.top, len(model.classes)))
    table = wording.CsvAppender(args.csv, wording.classification_header(k)) if args.csv else None
    n_ok = n_bad = 0
    interrupted = False
    try:
        for r in predict.classify(model, args.paths, top_k=k, cancel=Cancel()):
            if bars(r):
                continue
            if isinstance(r, Skipped):
                n_bad += 1
                if args.json:
                    print(json.dumps({"path": r.path, "top": [], "error": r.reason}), flush=True)
                else:
                    say(f"skipped {r.path}: {r.reason}", quiet=args.quiet and bool(table))
            elif isinstance(r, predict.Prediction):
                n_ok += 1
                if args.json:
                    print(json.dumps(r.to_dict()), flush=True)
                elif not table:
                    tops = ", ".join(f"{lab} {p:.1%}" for lab, p in r.top)
                    unsure = f"\tnot sure: {r.unsure_reason}" if r.unsure else ""
                    print(visible(f"{r.path}\t{tops}{unsure}"), flush=True)
            else:
                continue
            if table is not None:
                table.add(wording.classification_row(r, k))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bars.close()
        if table is not None:
            table.close(keep=True)  # the rows done so far, also after Ctrl+C
    if interrupted:
        if table is not None:
            print(f"\nstopped; the {table.rows} rows done so far are in {args.csv}", file=sys.stderr)
        raise KeyboardInterrupt
    if table is not None and not args.json:
        say(f"{n_ok} picture(s) classified into {args.csv}; {n_bad} skipped")
    if n_ok == 0:
        return fail("no picture could be classified" + (f" ({n_bad} skipped)" if n_bad else ""))
    return 0
