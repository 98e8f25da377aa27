"""`monster-studio doctor DIR`: check a training folder for pictures in the wrong class, copies,
copies shared by the training and check pictures (leaks) and outliers. Changes nothing."""
from __future__ import annotations

from monster_studio.cli.words import positive, say, share
from monster_studio.core.wording import plural, visible


def add(sub) -> None:
    from monster_studio.core.catalogue import DEFAULT_BACKBONE
    from monster_studio.core.settings import DOCTOR_FOLDS as FOLDS
    from monster_studio.core.settings import NEAR_COPY

    d = sub.add_parser("doctor", help="check a training folder: pictures in the wrong class, copies, leaks, outliers "
                                      "(changes nothing)")
    d.add_argument("data_dir")
    d.add_argument("--backbone", default=DEFAULT_BACKBONE, help=f"starting model (default {DEFAULT_BACKBONE})")
    d.add_argument("--json", action="store_true", help="one JSON line with every finding")
    d.add_argument("--limit", type=positive, default=20, metavar="N", help="lines shown per finding (default 20)")
    d.add_argument("--val-split", type=share, default=0.2,
                   help="share kept aside as check pictures, as in training (default 0.2)")
    d.add_argument("--seed", type=int, default=0, help="as in training (default 0)")
    d.add_argument("--folds", type=positive, default=FOLDS, help=f"folds of the cross-check (default {FOLDS})")
    d.add_argument("--similarity", type=float, default=NEAR_COPY,
                   help=f"features this alike or more count as near-copies (default {NEAR_COPY})")
    d.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    d.set_defaults(func=run)


def run(args) -> int:
    from monster_studio.cli.progress import Bars
    from monster_studio.core import doctor
    from monster_studio.core.events import Cancel, run_to_end

    bars = Bars(enabled=not args.quiet and not args.json)
    steps = doctor.check_steps(args.data_dir, args.backbone, val_split=args.val_split, seed=args.seed,
                               folds=args.folds, near_copy=args.similarity, cancel=Cancel())
    try:
        report = run_to_end(steps, bars)
    finally:
        bars.close()
    if args.json:
        print(report.to_json(), flush=True)
        return 0
    show = lambda p: visible(doctor.relative(report, p))  # noqa: E731
    lines = report.summary()
    print(lines[0].rstrip(".") + f" ({report.seconds:.1f} s).")
    n = args.limit

    def more(items) -> None:
        if len(items) > n:
            print(f"  ... and {len(items) - n} more (--limit, or --json for all)")

    if report.label_issues:
        print(f"\nMaybe in the wrong class ({len(report.label_issues)}), most likely first:")
        for i in report.label_issues[:n]:
            sure = ", very likely" if i.confident else ""
            print(f"  {show(i.path)}: in '{visible(i.given)}', looks like '{visible(i.suggested)}' ({i.score:.2f}{sure})")
        more(report.label_issues)
    if report.leaks:
        print(f"\nAmong both the training and the check pictures ({len(report.leaks)}):")
        for k in report.leaks[:n]:
            how = "the same file" if k.exact else f"near-copies, similarity {k.similarity:.2f}"
            print(f"  {' = '.join(show(p) for p in k.train + k.val)} ({how})")
        more(report.leaks)
    leaking = {tuple(sorted(k.paths)) for k in report.leaks}
    others = [g for g in report.duplicates if tuple(sorted(g.paths)) not in leaking]  # the leaks are listed above
    if others:
        print(f"\n{'Other copies' if report.leaks else 'Copies'} ({plural(len(others), 'group')}):")
        for g in others[:n]:
            how = "the same file" if g.exact else f"similarity {g.similarity:.2f}"
            clash = f"; in different classes: {', '.join(map(visible, g.classes))}" if len(g.classes) > 1 else ""
            print(f"  {' = '.join(show(p) for p in g.paths)} ({how}{clash})")
        more(others)
    if report.outliers:
        print(f"\nUnlike the rest of their class ({len(report.outliers)}):")
        for o in report.outliers[:n]:
            print(f"  {show(o.path)} (in '{visible(o.kind)}')")
        more(report.outliers)
    print()
    for line in lines[1:]:
        print(line)
    for s in report.skipped[:n]:
        say(f"skipped {s.path}: {s.reason}")
    print("Nothing was changed.")
    return 0
