"""Safe changes to the training folder from the window, each through the core's journal (so each
can be undone, even after a restart): move pictures to another class, set them aside (the
system's trash), make or rename a class, add a copy of a picture to a class ("This is actually…"),
and Undo. After each, the folder's class table is read again (unchanged pictures are known to the
cache, so it is quick) and the window learns what the next Undo would do."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from monster_studio.app.jobs import doing
from monster_studio.app.jobs.folder import examples
from monster_studio.core.events import Phase
from monster_studio.core.wording import plural, visible


@dataclass(frozen=True)
class Changed:
    """What a change (or an undo) did to `folder`: `words` for the user, `changes` the core's
    Actions as the folder now stands (source -> destination), `kind` what was asked."""

    folder: str
    kind: str  # "move", "set_aside", "batch", "create_class", "rename_class", "teach", "undo"
    words: list[str]
    changes: list = field(default_factory=list)


@dataclass(frozen=True)
class UndoState:
    """What Undo would do now in `folder`, in a few words ("move bee_12.jpg to ants"); '' for nothing."""

    folder: str
    words: str = ""


def undo_words(actions: list) -> str:
    """The next undo's actions (newest first), as the Edit menu says them after 'Undo: '."""
    if not actions:
        return ""
    kinds = {a.kind for a in actions}
    if len(actions) > 1 and kinds == {"move"}:
        return f"move {plural(len(actions), 'picture')}"
    if len(actions) > 1 and kinds == {"set_aside"}:
        return f"set {plural(len(actions), 'picture')} aside"
    if len(actions) > 1 and kinds != {"rename_class"}:
        return plural(len(actions), "change")
    a = actions[0]
    src, dst = Path(a.source), Path(a.destination)
    words = {"move": lambda: f"move {src.name} to {dst.parent.name}",
             "set_aside": lambda: f"set {src.name} aside",
             "create_class": lambda: f"new class {dst.name}",
             "rename_class": lambda: f"rename {src.name} to {dst.name}",
             "teach": lambda: f"add {src.name} to {dst.parent.name}"}.get(a.kind, lambda: "the last change")
    return visible(words())


def _journal(folder: str):
    from monster_studio.core.actions import Journal

    return Journal(folder)


def _after(ctx, journal, folder: str, val_split: float, seed: int):
    """What every change ends with: the next undo's words, then the class table as it stands."""
    from monster_studio.core import dataset

    yield UndoState(folder, undo_words(journal.next_undo()))
    ds = yield from dataset.scan_steps(folder, val_split, seed, ctx.cancel)
    yield ds.table()
    yield from examples(ctx, ds)


@doing("changing the pictures")
def change(ctx, folder: str, requests: list, val_split: float = 0.2, seed: int = 0):
    """`requests`: (kind, path, class name) triples, kind "move", "set_aside" or "teach"; several
    are one change (one Undo)."""
    from monster_studio.core.actions import ActionError, Request

    journal = _journal(folder)
    wanted = [Request(kind, str(path), name) for kind, path, name in requests]
    if len(wanted) == 1:
        r = wanted[0]
        doing_words = {"move": f"Moving {Path(r.path).name} to '{r.name}'", "set_aside": f"Setting {Path(r.path).name} aside",
                       "teach": f"Adding {Path(r.path).name} to '{r.name}'"}.get(r.kind, "Changing the pictures")
    else:
        doing_words = f"Changing {plural(len(wanted), 'picture')}"
    yield Phase("fix", visible(doing_words))
    try:
        done = yield from journal.batch_steps(wanted, ctx.cancel)
    except ActionError:
        yield from _after(ctx, journal, folder, val_split, seed)  # what a batch did before a refusal stays done
        raise
    yield Changed(folder, wanted[0].kind if len(wanted) == 1 else "batch", [a.words for a in done], list(done))
    yield from _after(ctx, journal, folder, val_split, seed)


@doing("making the class")
def create_class(ctx, folder: str, name: str, val_split: float = 0.2, seed: int = 0):
    journal = _journal(folder)
    yield Phase("fix", visible(f"Making the class '{name}'"))
    action = journal.create_class(name)
    yield Changed(folder, "create_class", [action.words], [action])
    yield from _after(ctx, journal, folder, val_split, seed)


@doing("renaming the class")
def rename_class(ctx, folder: str, old: str, new: str, val_split: float = 0.2, seed: int = 0):
    journal = _journal(folder)
    yield Phase("fix", visible(f"Renaming the class '{old}' to '{new}'"))
    done = journal.rename_class(old, new)
    yield Changed(folder, "rename_class", list(dict.fromkeys(a.words for a in done)), list(done))
    yield from _after(ctx, journal, folder, val_split, seed)


@doing("undoing the last change")
def undo(ctx, folder: str, val_split: float = 0.2, seed: int = 0):
    from monster_studio.core.actions import ActionError

    journal = _journal(folder)
    yield Phase("fix", "Undoing the last change")
    try:
        result = journal.undo()
    except ActionError:
        yield from _after(ctx, journal, folder, val_split, seed)  # a group may be undone in part
        raise
    yield Changed(folder, "undo", result.words, list(result.changes))
    yield from _after(ctx, journal, folder, val_split, seed)


@doing("reading the history of changes")
def history(ctx, folder: str):
    """What Undo would do in `folder` (changes made in an earlier session count too)."""
    from monster_studio.core.actions import ActionError

    try:
        words = undo_words(_journal(folder).next_undo())
    except ActionError:  # no such folder (any more): nothing to undo there
        words = ""
    yield UndoState(folder, words)
