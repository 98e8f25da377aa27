"""`monster-studio backbones`: the starting models and detectors, and which are on this computer."""
from __future__ import annotations

import json


def add(sub) -> None:
    b = sub.add_parser("backbones", help="list the starting models and whether they are on this computer")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=run)


def run(args) -> int:
    from monster_studio.core import weights
    from monster_studio.core.catalogue import BACKBONES, DETECTORS

    rows = [{**spec.describe(), "status": weights.status(spec)} for spec in BACKBONES.values()]
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'id':<20} {'name':<30} {'speed':<14} {'top-1':>6} {'size':>8}  status")
    for spec, d in zip(BACKBONES.values(), rows):
        print(f"{d['id']:<20} {d['name']:<30} {d['speed']:<14} {d['imagenet_top1']:>5.1f}% {d['download_mb']:>6.0f}MB"
              f"  {weights.status_text(spec)}")
        print(f"{'':<20} {spec.guidance} {spec.cost}")
    print("\nDetectors, used as they are with COCO's 80 kinds of things ('monster-studio detect'):")
    for det in DETECTORS.values():
        print(f"{det.id:<36} {det.display_name:<30} {weights.status_text(det)}")
    return 0
