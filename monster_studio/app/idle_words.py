"""What a page's progress bar says when its jobs are over: done (and how it went), stopped, or
what did not finish, in the window's words."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monster_studio.app.results import ClassifyDone

_DID_NOT_FINISH = {"train": "Training did not finish", "sample": "Training did not finish",
                   "classify": "Classifying did not finish", "model": "The model could not be opened",
                   "save": "The model was not saved", "import": "The weights file was not installed",
                   "export": "The model was not exported", "scan": "Ready"}
_DONE_TEXT = {"import": "Weights installed", "export": "Exported"}


def idle_words(state, request, outcome: str, classified: str = "") -> tuple[str, bool]:
    """What a page's progress bar says once it waits for nothing more, and whether it is full."""
    name, s = request.name, state
    if outcome == "stopped":
        return ("Stopped. Press Train to start again." if name in ("train", "sample") else "Stopped"), False
    downloading = s.jobs.progress[request.tag.get("owner", "train")].phase == "download"
    if outcome == "error":
        return ("The download did not finish" if downloading else _DID_NOT_FINISH.get(name, "Did not finish")), False
    if downloading:
        return "Weights downloaded", True
    if name in ("train", "sample"):
        t = s.training
        if t.outcome != "ok" or t.summary is None:
            return "Ready", False
        acc = t.summary.metrics.get("val_accuracy")
        return "Done" + (f": {acc * 100:.0f}% right on the check pictures" if acc is not None and acc == acc
                         else ""), True
    if name == "save":
        return f"Saved to {s.training.saved_path}", True
    if name in ("scan", "start", "model"):
        return "Ready", False
    if name == "classify":
        return classified or "Done", True
    return _DONE_TEXT.get(name, "Done"), True


def classified_words(done: ClassifyDone) -> str:
    from monster_studio.core.wording import plural

    if done.detection:
        text = (f"Looked at {plural(done.classified, 'picture')} in {done.seconds:.1f} s: "
                f"{plural(done.found, 'thing')} found")
    else:
        text = f"Classified {plural(done.classified, 'picture')} in {done.seconds:.1f} s"
    return text + (f"; {done.skipped} could not be read" if done.skipped else "")
