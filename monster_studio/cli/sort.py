"""`monster-studio sort MODEL.monster IN_DIR OUT_DIR`: sort a folder of pictures into one folder
per class (copies by default), the not-sure ones into OUT_DIR/_not_sure, with a manifest."""
from __future__ import annotations

from monster_studio.cli.words import fail, probability, say


def add(sub) -> None:
    s = sub.add_parser("sort", help="sort a folder of pictures into one folder per class with a model file")
    s.add_argument("model")
    s.add_argument("in_dir", metavar="IN_DIR")
    s.add_argument("out_dir", metavar="OUT_DIR")
    s.add_argument("--move", action="store_true",
                   help="move the pictures instead of copying them (each copy is checked before the original goes)")
    s.add_argument("--min-confidence", type=probability, default=0.0, metavar="P",
                   help="answers less sure than this (0 to 1) go to the not-sure folder (default 0: none)")
    s.add_argument("--dry-run", action="store_true", help="only show what would be done; write nothing")
    s.add_argument("--json", action="store_true", help="one JSON line of results")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    s.set_defaults(func=run)


def run(args) -> int:
    import json

    from monster_studio.cli.progress import Bars
    from monster_studio.core import modelfile, sort
    from monster_studio.core.events import Cancel, run_to_end

    model = modelfile.load(args.model)
    bars = Bars(enabled=not args.quiet and not args.json)
    cancel = Cancel()
    quiet = args.json or args.quiet
    try:
        plan = run_to_end(sort.plan_steps(model, args.in_dir, args.out_dir, args.min_confidence, cancel), bars)
        bars.close()
        if not plan.items:
            return fail(f"there is no file to sort in {args.in_dir}")
        for line in plan.summary():
            say(line, quiet=quiet and not args.dry_run or args.json)
        if args.dry_run:
            if args.json:
                print(json.dumps({k: v for k, v in plan.to_dict().items() if k != "items"}), flush=True)
            return 0
        bars.phase("Moving the pictures" if args.move else "Copying the pictures")
        result = run_to_end(sort.apply_steps(plan, args.move, cancel), bars)
    except KeyboardInterrupt:
        bars.close()
        say(f"stopped; every picture done so far is complete and listed in {args.out_dir}/{sort.MANIFEST}")
        raise
    finally:
        bars.close()
    if args.json:
        print(result.to_json(), flush=True)
    else:
        for line in result.summary():
            print(line)
    return 0
