"""Small helpers every command shares: argument types, the error line, JSON-safe numbers."""
from __future__ import annotations

import argparse
import sys

from monster_studio.core.wording import visible


def fail(message: str, code: int = 1) -> int:
    lines = [visible(line) for line in message.split("\n")]
    print(f"error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(f"  {line}", file=sys.stderr)
    return code


def say(*parts, quiet: bool = False) -> None:
    """A line for the person at the terminal (stderr): outside text made visible, never obeyed."""
    if not quiet:
        print(*(visible(str(p)) for p in parts), file=sys.stderr)


def number(x):
    """JSON has no NaN: a figure that could not be measured (no validation pictures) is null."""
    return None if x is None or x != x else x


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def count(text: str) -> int:
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return n


def share(text: str) -> float:
    x = float(text)
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError("must be from 0 up to (not including) 1, e.g. 0.2")
    return x


def probability(text: str) -> float:
    x = float(text)
    if not 0 <= x <= 1:
        raise argparse.ArgumentTypeError("must be from 0 to 1, e.g. 0.5")
    return x
