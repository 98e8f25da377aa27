"""Shared wording: time left, amounts, plurals, percentages, text made safe to show, and the
classification CSV. The command line and the window both use these, so they say the same things
in the same words and write the same files.

Vocabulary (one word per idea, in every label, message and menu):
  class           a kind of picture the user has, one subfolder each
  starting model  the pretrained network (the code calls it a backbone)
  new last layer  the layer trained for the user's classes (the code calls it the head)
  check pictures  the validation pictures, kept aside to check the model
"""
from __future__ import annotations

import csv
import math
import os
import time
import unicodedata

STARTING_MODEL = "starting model"
NEW_LAYER = "new last layer"
CHECK_PICTURES = "check pictures"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 picture', '3 pictures', '2 classes' (words ending in s/x/sh/ch take -es)."""
    if n == 1:
        return f"1 {word}"
    if many is None:
        many = word + ("es" if word.endswith(("s", "x", "sh", "ch")) else "s")
    return f"{n} {many}"


def percent(x: float | None, digits: int = 0) -> str:
    """'95%'; '–' for a figure that could not be measured (None or NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x * 100:.{digits}f}%"


def duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{seconds:.0f} s"
    m, s = divmod(round(seconds), 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def amount(unit: str, done: float, total: float) -> str:
    """How far a stage is, in its own unit: '5.0 of 20.0 MB', 'epoch 3 of 40', '20%', '10 of 398'."""
    if not total:
        return ""
    if unit == "bytes":
        return f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"
    done_i, total_i = int(done), int(total)
    if unit == "epochs":
        return f"epoch {done_i} of {total_i}"
    if unit == "steps":  # units of about equal time that mean nothing to a user
        return f"{100 * done_i // total_i}%"
    return f"{done_i} of {total_i}"


def eta_text(seconds: float | None) -> str:
    """Time left in honest, round words: 'a few seconds left', 'about 40 s left',
    'about a minute left', 'about 7 min left', 'about 2 h 10 min left'; '' while unknown."""
    if seconds is None or seconds < 0 or math.isnan(seconds) or math.isinf(seconds):
        return ""
    if seconds < 8:
        return "a few seconds left"
    if seconds < 50:
        return f"about {max(10, 5 * round(seconds / 5))} s left"
    if seconds < 100:
        return "about a minute left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    h, rest = divmod(round(seconds / 60), 60)
    return f"about {h} h {rest:02d} min left"


class Eta:
    """Seconds left in one stage, from the rate seen so far, or None while it cannot be known.

    Honest rather than eager: nothing is promised before the stage has run a couple of seconds
    and done a few percent of its work; the first point of a stage is its starting point (work
    found done in a cache does not make the rest look fast); and the estimate itself is smoothed,
    so one quick or slow batch does not swing it from 8 s to 4 min."""

    MIN_SECONDS = 2.0
    MIN_SHARE = 0.03

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self._start: tuple[float, float] | None = None
        self._estimate: tuple[float, float] | None = None  # (when, seconds left then)

    def update(self, done: float, total: float) -> float | None:
        now = self._clock()
        if self._start is None or done < self._start[1]:
            self._start = (now, done)
            self._estimate = None
            return None
        t0, d0 = self._start
        elapsed, worked = now - t0, done - d0
        if total <= 0 or worked <= 0 or elapsed < self.MIN_SECONDS or worked < self.MIN_SHARE * (total - d0):
            return self._aged(now)
        raw = (total - done) * elapsed / worked  # at the stage's own average rate, not the last batch's
        if self._estimate is None:
            self._estimate = (now, raw)
        else:
            self._estimate = (now, 0.6 * raw + 0.4 * self._aged(now))
        return self._estimate[1]

    def _aged(self, now: float) -> float | None:
        """The last estimate, counted down by the time since it was made."""
        if self._estimate is None:
            return None
        when, left = self._estimate
        return max(0.0, left - (now - when))


# ------------------------------------------------------------------ text made safe to show

_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
         "\u200e", "\u200f", "\u061c"}


def visible(text: str) -> str:
    """Text from outside (a class name in a shared model file, a file name) as it can be shown on
    a terminal or in the window: control characters and bidirectional overrides are written out
    as escapes, so they are seen, never obeyed (no retitled terminal, no reversed file name)."""
    if text.isprintable() and not (_BIDI & set(text)):
        return text
    out = []
    for ch in text:
        if ch in _BIDI or (not ch.isprintable() and ch != " "):
            code = ord(ch)
            if 0xDC80 <= code <= 0xDCFF:  # a byte that was not valid UTF-8 (surrogateescape)
                out.append(f"\\x{code - 0xDC00:02x}")
            elif code < 0x100:
                out.append(f"\\x{code:02x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def is_plain_name(text: str) -> bool:
    """A name that needs no escaping to be shown (printable, no bidi controls, not blank)."""
    return bool(text.strip()) and visible(text) == text and unicodedata.category(text[0])[0] != "Z"


# ------------------------------------------------------------------ CSV

CSV_ENCODING = "utf-8-sig"  # a byte-order mark: Excel on Windows then reads the file as UTF-8
CSV_ERRORS = "surrogateescape"  # a file name that is not valid UTF-8 is written back as its bytes
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """One cell, safe to open in a spreadsheet (OWASP's rule against CSV injection): text that
    would start a formula is prefixed with an apostrophe, so it is shown, never run."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_csv(path: str | os.PathLike, header: list[str], rows) -> int:
    """Write rows atomically (a failure leaves any earlier file as it was); every cell neutralized.
    Returns the number of rows written."""
    from monster_studio.core.files import replacing

    n = 0
    with replacing(path, text=True, encoding=CSV_ENCODING, errors=CSV_ERRORS, newline="") as f:
        writer = csv.writer(f)
        writer.writerow([csv_cell(h) for h in header])
        for row in rows:
            writer.writerow([csv_cell(c) for c in row])
            n += 1
    return n


class CsvAppender:
    """Rows written as they come (so Ctrl+C keeps what was done), into a temporary file that takes
    the target's place when closed, also after an interruption; a failure to write leaves any
    earlier file untouched."""

    def __init__(self, path: str | os.PathLike, header: list[str]) -> None:
        from monster_studio.core.files import replacing

        self._ctx = replacing(path, text=True, encoding=CSV_ENCODING, errors=CSV_ERRORS, newline="")
        self._file = self._ctx.__enter__()
        self.rows = 0
        try:
            self._writer = csv.writer(self._file)
            self._writer.writerow([csv_cell(h) for h in header])
        except BaseException:
            self.close(keep=False)  # no temporary file outlives a header that could not be written
            raise

    def add(self, row) -> None:
        self._writer.writerow([csv_cell(c) for c in row])
        self.rows += 1

    def close(self, keep: bool = True) -> None:
        if self._ctx is None:
            return
        ctx, self._ctx = self._ctx, None
        if keep:
            ctx.__exit__(None, None, None)
        else:
            ctx.__exit__(RuntimeError, RuntimeError("discarded"), None)


def classification_header(k: int) -> list[str]:
    """The one classification CSV: the best class and its confidence, the runners-up, whether the
    model was not sure and why, and a note for a file that could not be classified."""
    header = ["path", "class", "confidence"]
    for i in range(2, k + 1):
        header += [f"class_{i}", f"confidence_{i}"]
    return header + ["unsure", "unsure_reason", "model", "note"]


def classification_row(result, k: int) -> list[str]:
    """A row for a Prediction (core.predict) or a Skipped (core.events)."""
    if not hasattr(result, "top"):  # Skipped
        return [result.path] + [""] * (2 * k) + ["", "", "", result.reason]
    row = [result.path]
    for label, p in list(result.top)[:k]:
        row += [label, f"{p:.6f}"]
    row += [""] * (1 + 2 * k - len(row))
    unsure = getattr(result, "unsure", False)
    return row + ["yes" if unsure else "no", getattr(result, "unsure_reason", "") or "",
                  getattr(result, "model", "") or "", ""]


def detection_header() -> list[str]:
    return ["path", "count", "found", "model", "note"]


def detection_row(result) -> list[str]:
    """A row for a Detections (core.detect) or a Skipped: each thing as 'label score [x0 y0 x1 y1]'
    in the picture's own pixels."""
    if not hasattr(result, "found"):
        return [result.path, "", "", "", result.reason]
    found = "; ".join(f"{t.label} {t.score:.4f} [{' '.join(f'{v:.0f}' for v in t.box)}]" for t in result.found)
    return [result.path, str(len(result.found)), found, getattr(result, "model", "") or "", ""]
