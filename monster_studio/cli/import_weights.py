"""`monster-studio import-weights ID FILE`: install a weights file fetched on another computer."""
from __future__ import annotations


def add(sub) -> None:
    i = sub.add_parser("import-weights", help="install a starting model's (or detector's) weights file obtained elsewhere")
    i.add_argument("backbone", help="the id of a starting model or a detector (see 'backbones')")
    i.add_argument("file")
    i.set_defaults(func=run)


def run(args) -> int:
    from monster_studio.core import catalogue, weights

    dest = weights.import_weights(catalogue.find(args.backbone), args.file)
    print(f"Installed {dest}")
    return 0
