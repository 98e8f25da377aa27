"""Sort a folder of pictures into one folder per class with a trained model: OUT/<class>/, the
pictures the model is not sure of in OUT/_not_sure/, and a manifest (OUT/sort-manifest.csv)
saying where each picture went and why.

Two steps, so a preview comes before anything is written: `plan_steps` lists the pictures,
recognises those already sorted and classifies the rest; `apply_steps` copies (or moves) them.

- Safe to rerun: a picture is known by its content (SHA-256), so one whose bytes are already
  anywhere in OUT is not copied again, whatever its name, and nothing is duplicated; the
  manifest keeps its earlier rows and gains only the new ones.
- Safe to stop: each copy is written under a temporary name, checked, and only then given its
  name, so a stop (or a crash) leaves no half-written picture; the manifest then holds every
  picture done so far.
- --move never loses a byte: copy, check the copy against the original's hash, make it durable,
  and only then remove the original.
- Class names come from the model file, which may come from anyone: each becomes a folder name
  that holds no path separator, no '..', no control character (`folder_names`), and the plan says
  which were changed.
"""
from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from monster_studio.core import dataset, images
from monster_studio.core.actions import MAX_NAME, content_hash, copy_file, name_problem
from monster_studio.core.errors import UserError
from monster_studio.core.events import Cancel, Phase, Progress, Skipped
from monster_studio.core.wording import CSV_ENCODING, CSV_ERRORS, CsvAppender, percent, plural, visible

NOT_SURE = "_not_sure"
MANIFEST = "sort-manifest.csv"
HEADER = ["source", "kind", "confidence", "unsure", "unsure_reason", "destination", "sha256", "status"]

NEW, ALREADY, SAME_AS, SKIPPED = "new", "already", "same_as", "skipped"


class SortError(UserError):
    """Folders that cannot be sorted as asked; nothing was written."""

    kind = "sort"


@dataclass
class SortItem:
    """One file of the folder being sorted, and what the plan does with it.

    status: "new" (to be copied to `destination`), "already" (its bytes are already in OUT, at
    `destination`), "same_as" (the same bytes as an earlier picture of this folder, which goes to
    `destination`), "skipped" (not a picture that could be classified; `note` says why)."""

    source: str
    status: str
    sha256: str = ""
    size: int = 0
    kind: str = ""  # the class the model answered (from the model file, as it is)
    confidence: float | None = None
    unsure: bool = False
    unsure_reason: str = ""
    folder: str = ""  # the folder under OUT it goes to
    destination: str = ""
    note: str = ""


@dataclass
class SortPlan:
    """What a sort will do, before anything is written. `folders`: class -> its folder name under
    OUT; `renamed`: the classes whose name could not be a folder's as it is."""

    in_dir: str
    out_dir: str
    model: str
    min_confidence: float
    items: list[SortItem]
    folders: dict[str, str]
    renamed: dict[str, str] = field(default_factory=dict)
    left_out: str = ""  # why part of the folder was left out (OUT inside IN), in words

    def _count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def counts(self) -> dict[str, int]:
        """New pictures per folder under OUT (the not-sure folder included)."""
        return dict(sorted(Counter(i.folder for i in self.items if i.status == NEW).items()))

    @property
    def n_new(self) -> int:
        return self._count(NEW)

    @property
    def n_already(self) -> int:
        """Pictures whose bytes are already in OUT."""
        return self._count(ALREADY)

    @property
    def n_same(self) -> int:
        """Pictures with the same bytes as another one being sorted: sorted once."""
        return self._count(SAME_AS)

    @property
    def n_skipped(self) -> int:
        return self._count(SKIPPED)

    @property
    def n_not_sure(self) -> int:
        return sum(1 for i in self.items if i.status == NEW and i.folder == NOT_SURE)

    @property
    def skipped(self) -> list[Skipped]:
        return [Skipped(i.source, i.note) for i in self.items if i.status == SKIPPED]

    def to_dict(self) -> dict:
        return {"in": self.in_dir, "out": self.out_dir, "model": self.model, "min_confidence": self.min_confidence,
                "new": self.n_new, "already": self.n_already, "same": self.n_same, "skipped": self.n_skipped,
                "not_sure": self.n_not_sure, "counts": self.counts, "folders": dict(self.folders),
                "renamed": dict(self.renamed), "left_out": self.left_out,
                "items": [asdict(i) for i in self.items]}

    def summary(self) -> list[str]:
        """The preview in plain sentences."""
        lines = []
        if self.n_new:
            where = ", ".join(f"{n} to {visible(f)}" for f, n in self.counts.items())
            lines.append(f"{plural(self.n_new, 'picture')} to sort: {where}.")
        else:
            lines.append("No new picture to sort.")
        if self.n_already:
            lines.append(f"{plural(self.n_already, 'picture')} {'is' if self.n_already == 1 else 'are'} already sorted "
                         "(the same bytes are in the sorted folder) and will not be copied again.")
        if self.n_same:
            lines.append(f"{plural(self.n_same, 'picture')} {'is a copy' if self.n_same == 1 else 'are copies'} of "
                         "another picture here; the picture is sorted once.")
        if self.n_skipped:
            lines.append("1 file cannot be sorted (not a picture that can be read) and will be left where it is."
                         if self.n_skipped == 1 else
                         f"{self.n_skipped} files cannot be sorted (not pictures that can be read) and will be left "
                         "where they are.")
        for cls, folder in self.renamed.items():
            lines.append(f"The class '{visible(cls)}' goes into the folder '{visible(folder)}': its name cannot be a "
                         "folder's name as it is.")
        if self.left_out:
            lines.append(self.left_out)
        return lines


@dataclass
class SortResult:
    """What a sort did. copied: new pictures written to OUT; removed: originals removed after
    their copy was checked (--move). A sort that was stopped has no result: it raised Cancelled,
    and the manifest lists what it did."""

    plan: SortPlan
    move: bool
    copied: int = 0
    removed: int = 0
    already: int = 0  # already in OUT before this sort
    same: int = 0  # copies of another picture of this sort, sorted once
    not_sure: int = 0
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    manifest: str = ""

    def to_dict(self) -> dict:
        return {"in": self.plan.in_dir, "out": self.plan.out_dir, "model": self.plan.model, "move": self.move,
                "copied": self.copied, "removed": self.removed, "already": self.already, "same": self.same,
                "not_sure": self.not_sure, "skipped": self.skipped, "counts": dict(self.counts),
                "renamed": dict(self.plan.renamed), "manifest": self.manifest,
                "min_confidence": self.plan.min_confidence}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def summary(self) -> list[str]:
        verb = "Moved" if self.move else "Copied"
        lines = [f"{verb} {plural(self.copied, 'picture')} into {self.plan.out_dir}"
                 + (f", {self.not_sure} of them into {NOT_SURE}" if self.not_sure else "") + "."]
        removed = " (the originals were removed once the sorted copy was checked)" if self.move else ""
        if self.already:
            lines.append(f"{plural(self.already, 'picture')} {'was' if self.already == 1 else 'were'} already "
                         f"sorted{removed}.")
        if self.same:
            lines.append(f"{plural(self.same, 'picture')} {'was a copy' if self.same == 1 else 'were copies'} of "
                         f"another one, sorted once{removed}.")
        if self.skipped:
            lines.append("1 file left where it was (not a picture that can be read)." if self.skipped == 1 else
                         f"{self.skipped} files left where they were (not pictures that can be read).")
        lines.append(f"Where each picture went: {self.manifest}")
        return lines


# ------------------------------------------------------------------ names

def safe_folder_name(name: str) -> str:
    """A class name as a folder name that is safe on every system: path separators, characters
    Windows refuses and control characters become '_', a leading '.' (hidden, or '..') becomes
    '_', trailing dots and spaces go, a device name (CON, NUL...) gets a leading '_'."""
    text = "".join("_" if (c in '/\\<>:"|?*' or (not c.isprintable() and c != " ")) else c for c in str(name))
    text = text.strip().rstrip(". ")
    if text.startswith("."):
        text = "_" + text[1:]
    text = text[:MAX_NAME].rstrip(". ") or "_unnamed"
    if name_problem(text):  # a device name or the operating system's own file names
        text = "_" + text
    if name_problem(text):
        text = "_class"
    return text


def folder_names(classes: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(class -> folder name, the classes whose folder name differs from their name). Folder
    names are unique regardless of case (on macOS and Windows 'Ant' and 'ant' are one folder) and
    never the not-sure folder's or the manifest's."""
    taken = {NOT_SURE.lower(), MANIFEST.lower()}
    folders, renamed = {}, {}
    # Names that are fine as they are keep them first, so a changed name never pushes one aside
    # ('a/b' becomes 'a_b (2)' when there is also a class 'a_b').
    for keep_first in (True, False):
        for c in classes:
            if c in folders or (safe_folder_name(c) == c) != keep_first:
                continue
            base = safe_folder_name(c)
            name, n = base, 2
            while name.lower() in taken:
                name = f"{base} ({n})"
                n += 1
            taken.add(name.lower())
            folders[c] = name
    folders = {c: folders[c] for c in classes if c in folders}
    renamed = {c: f for c, f in folders.items() if f != c}
    return folders, renamed


# ------------------------------------------------------------------ plan

def _folders(in_dir, out_dir) -> tuple[Path, Path]:
    src = Path(in_dir).expanduser()
    if not src.is_dir():
        raise SortError(f"The folder {src} does not exist (or is not a folder). Choose the folder of pictures to sort.",
                        filename=str(src))
    src = src.resolve()
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise SortError(f"{out} is a file; choose a folder to sort the pictures into.", filename=str(out))
    if out == src:
        raise SortError("The sorted pictures need a folder of their own: choose another folder than the one "
                        "being sorted.")
    if src.is_relative_to(out):
        raise SortError(f"The folder being sorted lies inside {out}; choose a folder outside it for the sorted "
                        "pictures.")
    return src, out


def _listing(src: Path, out: Path, cancel: Cancel | None) -> Iterator:
    """The files to sort (OUT left out when it lies inside IN), each probed and hashed; returns
    (list of (path, sha256 or '', size, reason or ''), words about what was left out)."""
    unreadable: list[Skipped] = []
    found = [f for f in dataset.files_under(src, unreadable, cancel) if not images.is_litter(f)]
    left_out = ""
    if out.is_relative_to(src):
        inside = [f for f in found if f.is_relative_to(out)]
        found = [f for f in found if not f.is_relative_to(out)]
        if inside:
            left_out = (f"The {plural(len(inside), 'file')} already in {out} (inside the folder being sorted) "
                        f"{'was' if len(inside) == 1 else 'were'} left out.")
    listed = [(Path(s.path), "", 0, s.reason) for s in unreadable]
    yield Progress("scan", 0, len(found), "files")
    for i, f in enumerate(found, 1):
        if cancel is not None:
            cancel.check()
        try:
            images.probe(f)
            size = f.stat().st_size
            listed.append((f, content_hash(f, cancel), size, ""))
        except images.BadPicture as exc:
            listed.append((f, "", 0, str(exc)))
        except OSError as exc:
            listed.append((f, "", 0, f"cannot be read ({exc.strerror or exc})"))
        if i % 20 == 0 or i == len(found):
            yield Progress("scan", i, len(found), "files")
    return listed, left_out


def _sorted_index(out: Path, sizes: set[int], cancel: Cancel | None) -> dict[str, Path]:
    """sha256 -> a file already in OUT with those bytes (only files of a size some picture to sort
    has are read: the rest cannot match)."""
    index: dict[str, Path] = {}
    if not out.is_dir():
        return index
    for f in dataset.files_under(out, None, cancel):
        if images.is_litter(f) or f.parent == out and f.name == MANIFEST:
            continue
        try:
            if f.is_symlink() or f.stat().st_size not in sizes:
                continue
            index.setdefault(content_hash(f, cancel), f)
        except OSError:
            continue
    return index


def plan_steps(model, in_dir, out_dir, min_confidence: float = 0.0, cancel: Cancel | None = None,
               device: str = "auto") -> Iterator:
    """Look at IN_DIR and OUT_DIR and decide where each picture goes; writes nothing. Yields
    Phase and Progress (and download events); returns a SortPlan. Pictures already in OUT (by
    content) are not classified again. Raises SortError for folders that cannot be used, Cancelled
    when stopped."""
    from monster_studio.core import predict

    if not 0.0 <= min_confidence <= 1.0:
        raise SortError("The minimum confidence is a share from 0 to 1, e.g. 0.6 for 60%.")
    src, out = _folders(in_dir, out_dir)
    yield Phase("scan", "Reading the folder")
    listed, left_out = yield from _listing(src, out, cancel)
    index = _sorted_index(out, {size for _, sha, size, _ in listed if sha}, cancel)
    seen: set[str] = set()
    to_classify = []
    for path, sha, _size, reason in listed:
        if sha and sha not in index and sha not in seen:
            to_classify.append(path)
        seen.add(sha)
    answers: dict[str, object] = {}
    if to_classify:
        yield Phase("classify", "Classifying the pictures")
        yield Progress("classify", 0, len(to_classify), "pictures")
        for r in predict.classify(model, to_classify, top_k=2, cancel=cancel, device=device):
            if isinstance(r, (predict.Prediction, Skipped)):
                answers[r.path] = r
                yield Progress("classify", len(answers), len(to_classify), "pictures")
            else:  # the starting model's own events (a download)
                yield r
        if cancel is not None:
            cancel.check()  # classify ends quietly on a stop; the plan must not look complete
    return make_plan(src, out, listed, answers, index, model.classes, model.label, min_confidence, left_out)


def make_plan(in_dir: Path, out_dir: Path, listed: list[tuple[Path, str, int, str]], answers: dict,
              index: dict[str, Path], classes: list[str], model_label: str = "", min_confidence: float = 0.0,
              left_out: str = "") -> SortPlan:
    """The plan from what was found: `listed` (path, sha256 or '', size, reason it cannot be used
    or ''), `answers` (str(path) -> Prediction or Skipped, for the pictures to sort), `index`
    (sha256 -> a file already in OUT). Destination names are chosen here, unique against what is
    in OUT and each other, so the preview's counts are what will be written."""
    folders, renamed = folder_names(list(classes))
    claimed: set[str] = set()
    first_of: dict[str, SortItem] = {}
    items = []

    def destination(folder: str, name: str) -> Path:
        base = out_dir / folder
        target = base / name
        stem, suffix = os.path.splitext(name)
        n = 2
        while str(target).lower() in claimed or os.path.lexists(target):
            target = base / f"{stem} ({n}){suffix}"
            n += 1
        claimed.add(str(target).lower())
        return target

    for path, sha, size, reason in listed:
        source = str(path)
        if not sha:
            items.append(SortItem(source, SKIPPED, note=reason))
            continue
        if sha in index:
            there = index[sha]
            rel = there.relative_to(out_dir)
            items.append(SortItem(source, ALREADY, sha, size, folder=rel.parts[0] if len(rel.parts) > 1 else "",
                                  destination=str(there), note="already sorted"))
            continue
        if sha in first_of:
            first = first_of[sha]
            items.append(SortItem(source, SAME_AS, sha, size, first.kind, first.confidence, first.unsure,
                                  first.unsure_reason, first.folder, first.destination,
                                  note=f"the same picture as {first.source}"))
            continue
        answer = answers.get(source)
        if answer is None or isinstance(answer, Skipped):
            items.append(SortItem(source, SKIPPED, sha, size, note=getattr(answer, "reason", "") or "was not classified"))
            continue
        kind, conf = answer.label, float(answer.confidence)
        unsure, why = bool(answer.unsure), answer.unsure_reason or ""
        if not unsure and min_confidence and conf < min_confidence:
            unsure, why = True, f"{percent(conf)} sure, below the minimum of {percent(min_confidence)}"
        folder = NOT_SURE if unsure else folders.get(kind, safe_folder_name(kind))
        item = SortItem(source, NEW, sha, size, kind, conf, unsure, why, folder, str(destination(folder, path.name)))
        first_of[sha] = item
        items.append(item)
    return SortPlan(str(in_dir), str(out_dir), model_label, min_confidence, items, folders, renamed, left_out)


# ------------------------------------------------------------------ apply

def _old_rows(manifest: Path) -> list[list[str]]:
    """The rows of an earlier sort's manifest (kept as they are: their cells are already safe)."""
    try:
        with open(manifest, encoding=CSV_ENCODING, errors=CSV_ERRORS, newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        return []
    except (OSError, csv.Error, UnicodeError) as exc:
        raise SortError(f"The manifest of an earlier sort, {manifest}, cannot be read ({exc}); move it away and "
                        "sort again.", filename=str(manifest)) from exc
    if not rows or rows[0] != HEADER:
        raise SortError(f"{manifest} is not a manifest this app wrote; move it away and sort again.",
                        filename=str(manifest))
    return [r for r in rows[1:] if len(r) == len(HEADER)]


def _row(item: SortItem, destination: str, status: str) -> list[str]:
    conf = "" if item.confidence is None else f"{item.confidence:.6f}"
    unsure = "" if item.status == SKIPPED else ("yes" if item.unsure else "no")
    return [item.source, item.kind, conf, unsure, item.unsure_reason, destination, item.sha256, status]


def apply_steps(plan: SortPlan, move: bool = False, cancel: Cancel | None = None) -> Iterator:
    """Carry out a plan: copy (or, with `move`, copy, check, then remove the original) each new
    picture into its folder, and write the manifest. Yields Progress("sort", ...); returns a
    SortResult. A stop raises Cancelled once the manifest holds everything done so far."""
    out = Path(plan.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    old = _old_rows(manifest)
    known = {(r[0], r[6]) for r in old}
    result = SortResult(plan, move, manifest=str(manifest))
    counts: Counter = Counter()
    placed: dict[str, Path] = {}  # sha256 -> where this run put those bytes (a taken name moves them on)
    rows = CsvAppender(manifest, HEADER)
    try:
        for r in old:
            rows.add(r)
        total = len(plan.items)
        yield Progress("sort", 0, total, "pictures")
        for i, item in enumerate(plan.items, 1):
            if cancel is not None:
                cancel.check()
            src = Path(item.source)
            if item.status == NEW:
                target = Path(item.destination)
                target.parent.mkdir(parents=True, exist_ok=True)
                final, digest = copy_file(src, target.parent, target.name, cancel)
                item.destination, item.sha256 = str(final), digest
                placed[digest] = final
                status = "copied"
                if move:
                    _remove_original(src, final, digest)
                    result.removed += 1
                    status = "moved"
                result.copied += 1
                result.not_sure += item.folder == NOT_SURE
                counts[item.folder] += 1
                rows.add(_row(item, str(final), status))
            elif item.status in (ALREADY, SAME_AS):
                status = "already sorted" if item.status == ALREADY else "same picture as another, sorted once"
                if item.sha256 in placed:
                    item.destination = str(placed[item.sha256])
                if move and src.exists():
                    _remove_original(src, Path(item.destination), item.sha256)
                    result.removed += 1
                    status += "; original removed"
                if item.status == ALREADY:
                    result.already += 1
                else:
                    result.same += 1
                if (item.source, item.sha256) not in known or move:
                    rows.add(_row(item, item.destination, status))
            else:
                result.skipped += 1
                if (item.source, item.sha256) not in known:
                    rows.add(_row(item, "", f"not sorted: {item.note}"))
            yield Progress("sort", i, total, "pictures")
    finally:
        rows.close(keep=True)  # what was done is on disk, so the manifest says so, stopped or not
        result.counts = dict(sorted(counts.items()))
    return result


def _remove_original(src: Path, copy: Path, digest: str) -> None:
    """Remove an original once its copy is known to hold the same bytes and to be on disk."""
    if content_hash(copy) != digest or content_hash(src) != digest:
        raise SortError(f"The copy of {visible(src.name)} does not hold the same bytes as the original, so the "
                        "original was kept. The disk may be failing.", filename=str(src))
    os.unlink(src)


def sort_steps(model, in_dir, out_dir, move: bool = False, min_confidence: float = 0.0,
               cancel: Cancel | None = None, device: str = "auto") -> Iterator:
    """Plan and apply in one go (the plan is yielded before anything is written, for a preview).
    Returns the SortResult."""
    plan = yield from plan_steps(model, in_dir, out_dir, min_confidence, cancel, device)
    yield plan
    yield Phase("sort", "Moving the pictures into their folders" if move else "Copying the pictures into their folders")
    return (yield from apply_steps(plan, move, cancel))
