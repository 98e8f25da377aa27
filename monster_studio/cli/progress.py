"""Progress on stderr from the core's events: tqdm bars on a terminal, a few plain lines otherwise
(a log file or CI gets the phases, not a screenful of carriage returns)."""
from __future__ import annotations

import sys

from monster_studio.core.events import Phase, Progress

_UNITS = {"bytes": ("B", True, 1), "files": (" files", False, 1), "pictures": (" pictures", False, 1),
          "epochs": (" epochs", False, 1), "steps": ("%", False, 1)}


class Bars:
    """Feed it every event of a job (`bars(event)`); it shows the ones about progress and returns
    True for those, False for the events the command handles itself."""

    def __init__(self, enabled: bool = True, stream=None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.text = ""
        self._bar = None
        self._stage = ""

    def __call__(self, event) -> bool:
        if isinstance(event, Phase):
            self.phase(event.text)
            return True
        if isinstance(event, Progress):
            self.update(event)
            return True
        return False

    def phase(self, text: str) -> None:
        self.close()
        self.text = text
        if self.enabled and not self.tty:
            print(f"{text}...", file=self.stream, flush=True)

    def update(self, p: Progress) -> None:
        if not self.enabled or not self.tty or p.total <= 0:
            return
        unit, scale, _ = _UNITS.get(p.unit, ("", False, 1))
        total, done = p.total, p.done
        if p.unit == "steps":  # units that mean nothing to a user: a percentage
            total, done = 100, 100 * p.done / p.total
        if self._bar is None or self._stage != p.stage or self._bar.total != total:
            self.close(keep_text=True)
            from tqdm import tqdm

            self._stage = p.stage
            self._bar = tqdm(total=total, desc=(self.text or p.stage)[:34], unit=unit.strip() or "it",
                             unit_scale=scale, file=self.stream, leave=True, dynamic_ncols=True,
                             bar_format=None if p.unit != "steps" else "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
        self._bar.n = done
        self._bar.refresh()

    def close(self, keep_text: bool = False) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._stage = ""
        if not keep_text:
            self.text = ""
