"""`monster-studio sample DIR`: the built-in sample monsters, drawn into a folder."""
from __future__ import annotations

from monster_studio.cli.words import positive


def add(sub) -> None:
    s = sub.add_parser("sample", help="write the built-in sample monsters to a folder")
    s.add_argument("dir")
    s.add_argument("--per-class", type=positive, default=40)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=run)


def run(args) -> int:
    from monster_studio.core import sample

    folder = sample.write_sample(args.dir, per_class=args.per_class, seed=args.seed)
    print(f"Wrote the sample monsters ({', '.join(sample.CLASSES)}) to {folder}")
    return 0
