"""A folder of pictures -> a labeled dataset with a train/validation split and a skip report.

Layout: one subfolder per class (ImageFolder); pictures in nested folders belong to their top
class folder. A top level holding `train/` and `val/` (or `test/`) is taken as the split as given;
one holding only `train/`, or only one folder, with the classes inside, means that inner folder.
"""
from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from collections.abc import Iterable, Iterator

from monster_studio.core import images
from monster_studio.core.errors import UserError
from monster_studio.core.events import Cancel, ClassTable, Progress, Skipped, run_to_end
from monster_studio.core.store import CheckedFiles

SPLIT_TRAIN = ("train", "training")
SPLIT_VAL = ("val", "valid", "validation", "test")
MIN_CLASSES = 2
FEW_PICTURES = 10  # a class with fewer usable pictures than this earns a warning
IMBALANCE = 3.0  # largest class / smallest class above this earns a warning


class DatasetError(UserError):
    """The folder cannot be trained on; str() says why and what to do."""

    kind = "dataset"


@dataclass(frozen=True, slots=True, init=False)
class Picture:
    """One usable picture and its class. The path is kept as the text the scan read: 50,000
    pathlib paths held 0.4 KB a picture more than their text (its parts, its string, its hash)."""

    file: str
    label: int

    def __init__(self, path: str | os.PathLike, label: int) -> None:
        object.__setattr__(self, "file", os.fspath(path))
        object.__setattr__(self, "label", label)

    @property
    def path(self) -> Path:
        return Path(self.file)


@dataclass
class Dataset:
    root: Path
    classes: list[str]
    train: list[Picture]
    val: list[Picture]
    skipped: list[Skipped] = field(default_factory=list)
    split_given: bool = False
    split_names: tuple[str, str] = ("", "")  # the folders of a split given, e.g. ("train", "test")
    inside: str = ""  # the inner folder that holds the classes ("train", "photos"), when not the root
    # Each usable picture's (size, modification time) as the scan saw it, by Picture.file: the
    # feature store's check that a file is the one it looked at before, without a second stat of
    # every file.
    identities: dict = field(default_factory=dict, repr=False, compare=False)

    def counts(self) -> dict[str, int]:
        n = Counter(p.label for p in self.train + self.val)
        return {c: n[i] for i, c in enumerate(self.classes)}

    def warnings(self) -> dict:
        """What a user should know before training: classes with few pictures, strong imbalance."""
        counts = self.counts()
        few = [(c, n) for c, n in counts.items() if n < FEW_PICTURES]
        imbalance = None
        big, small = max(counts, key=counts.get), min(counts, key=counts.get)
        if counts[small] > 0 and counts[big] / counts[small] > IMBALANCE:
            imbalance = {"largest": big, "largest_count": counts[big], "smallest": small,
                         "smallest_count": counts[small]}
        return {"few": few, "imbalance": imbalance}

    def warning_lines(self) -> list[str]:
        w = self.warnings()
        out = [f"'{c}' has only {n} picture(s); {FEW_PICTURES} or more per class work better" for c, n in w["few"]]
        if w["imbalance"]:
            i = w["imbalance"]
            out.append(f"'{i['largest']}' has {i['largest_count']} pictures but '{i['smallest']}' only "
                       f"{i['smallest_count']}; the model will lean towards '{i['largest']}'")
        return out

    def table(self) -> ClassTable:
        counts = self.counts()
        w = self.warnings()
        layout = f"{self.split_names[0]}/ and {self.split_names[1]}/" if self.split_given else ""
        return ClassTable(str(self.root), list(self.classes), counts, len(self.train), len(self.val),
                          list(self.skipped), self.split_given, w["few"], w["imbalance"], self.warning_lines(), layout,
                          self.inside)

    def examples(self, label: int, k: int = 6) -> list[Path]:
        """A few pictures of one class, for thumbnails."""
        return [p.path for p in self.train + self.val if p.label == label][:k]

    def drop(self, bad: dict[str, str]) -> None:
        """Remove pictures that failed to decode later on ({Picture.file: reason}), and report them."""
        if not bad:
            return
        bad = {os.fspath(f): r for f, r in bad.items()}
        self.train = [p for p in self.train if p.file not in bad]
        self.val = [p for p in self.val if p.file not in bad]
        known = {s.path for s in self.skipped}
        self.skipped += [Skipped(str(p), r) for p, r in bad.items() if str(p) not in known]


MAX_DEPTH = 64  # folders nested deeper than this are left out, with a word (os.walk would hit Python's limit)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def subfolders(folder: Path, reported: list[Skipped] | None = None) -> list[Path]:
    """The class folders of `folder`; a link back to the folder itself (or above it) is not a
    class, and is reported when `reported` is given."""
    here = os.path.realpath(folder)
    out = []
    for d in folder.iterdir():
        if images.is_litter(d) or not _is_dir(d):
            continue
        if d.is_symlink():
            real = os.path.realpath(d)
            if here == real or here.startswith(real.rstrip(os.sep) + os.sep):
                if reported is not None:
                    reported.append(Skipped(str(d), "a link back to the folder it sits in (left out)"))
                continue
        out.append(d)
    return sorted(out, key=lambda d: d.name.lower())


def files_under(folder: Path, unreadable: list[Skipped] | None = None, cancel: Cancel | None = None) -> list[Path]:
    """Every file below `folder`, in order, hidden folders left out. Folders that cannot be read,
    links to a folder already included (followed once) and folders nested absurdly deep are
    reported in `unreadable` rather than passed over in silence."""
    return [Path(f) for f in file_names_under(folder, unreadable, cancel)]


def file_names_under(folder: Path, unreadable: list[Skipped] | None = None, cancel: Cancel | None = None) -> list[str]:
    """`files_under` as text (what a scan of a big folder keeps)."""
    from monster_studio.core.errors import os_error_words

    def report(path, reason: str) -> None:
        if unreadable is not None:
            unreadable.append(Skipped(str(path), reason))

    out: list[str] = []
    seen = {os.path.realpath(folder)}
    stack = [(Path(folder), 0)]
    while stack:
        if cancel is not None:
            cancel.check()
        here, depth = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            report(here, f"folder cannot be read ({os_error_words(err)})")
            continue
        below = []
        for e in entries:
            if images.is_litter_name(e.name):  # the name alone: no Path made for each of 13,000 files
                continue
            try:
                is_dir = e.is_dir()  # a link to a folder counts as one, followed once
            except OSError:
                is_dir = False
            if not is_dir:
                out.append(e.path)
                continue
            real = os.path.realpath(e.path)
            if real in seen:
                if e.is_symlink():
                    report(e.path, "a link to a folder already included (its pictures are counted once)")
                continue
            if depth + 1 > MAX_DEPTH:
                report(e.path, f"folders nested more than {MAX_DEPTH} levels deep are left out")
                continue
            seen.add(real)
            below.append(Path(e.path))
        stack.extend((d, depth + 1) for d in reversed(below))
    return out


def meant_root(root: Path) -> tuple[Path, str]:
    """The folder the user meant: a folder holding only `train/` (no val/ or test/ beside it), or
    only one folder, with the classes inside, means that inner folder. Returns it and its path
    relative to `root` ('' when it is `root` itself)."""
    inner = root
    for _ in range(3):
        subs = subfolders(inner)
        loose = any(images.looks_like_picture(f) for f in inner.iterdir() if f.is_file() and not images.is_litter(f))
        if len(subs) != 1 or loose or find_split(inner) is not None or not subfolders(subs[0]):
            break
        inner = subs[0]
    return inner, "" if inner == root else str(inner.relative_to(root))


class _Checker:
    """Checks file headers one by one, reporting progress every few dozen files. With `known` (the
    cache's record of files already checked, by identity), a file seen before and unchanged is not
    opened again: a second scan of 13,000 pictures costs a stat each, not a header read each."""

    def __init__(self, total: int, cancel: Cancel | None, known: CheckedFiles | None = None) -> None:
        self.total, self.done, self.cancel, self.known = total, 0, cancel, known
        self.skipped: list[Skipped] = []
        self.identities: dict[str, tuple[int, int]] = {}  # usable files: (size, mtime_ns) when checked

    def usable(self, files: list[str]) -> Iterator[Progress]:
        files = [f for f in files if not images.is_litter_name(os.path.basename(f))]
        verdicts, idents = self.known.verdicts(files) if self.known is not None else ({}, {})
        checked: dict[str, tuple] = {}
        good = []
        for f in files:
            if self.cancel is not None:
                self.cancel.check()
            self.done += 1
            if self.done % 50 == 0:
                yield Progress("scan", self.done, self.total, "files")
            if f in verdicts:
                reason = verdicts[f]
                if reason is None:
                    good.append(f)
                else:
                    self.skipped.append(Skipped(str(f), reason))
                continue
            try:
                images.probe(Path(f))
            except images.BadPicture as exc:
                self.skipped.append(Skipped(str(f), str(exc)))
                if not exc.transient and f in idents:
                    checked[f] = (idents[f], str(exc))
                continue
            good.append(f)
            if f in idents:
                checked[f] = (idents[f], None)
        if self.known is not None and checked:
            self.known.record(checked)
        for f in good:
            if f in idents:
                self.identities[f] = idents[f][:2]
        return good


def find_split(root: Path) -> tuple[Path, Path] | None:
    names = {d.name.lower(): d for d in subfolders(root)}
    train = next((names[n] for n in SPLIT_TRAIN if n in names), None)
    val = next((names[n] for n in SPLIT_VAL if n in names), None)
    if train is not None and val is not None:
        return train, val
    return None


def _class_folders(top: Path, cancel: Cancel | None) -> tuple[dict[str, list[str]], list[Skipped]]:
    """Every file under each class folder; loose files beside them, and unreadable folders, are reported."""
    reported: list[Skipped] = []
    files = {d.name: file_names_under(d, reported, cancel) for d in subfolders(top, reported)}
    reported += [Skipped(str(f), "not inside a class folder (put it in one subfolder per kind)")
                 for f in sorted(top.iterdir()) if f.is_file() and not images.is_litter(f)]
    return files, reported


def scan(root: str | os.PathLike, val_split: float = 0.2, seed: int = 0,
         cancel: Cancel | None = None, remember: bool = True) -> Dataset:
    """`scan_steps` without the progress events."""
    return run_to_end(scan_steps(root, val_split, seed, cancel, remember))


def scan_steps(root: str | os.PathLike, val_split: float = 0.2, seed: int = 0,
               cancel: Cancel | None = None, remember: bool = True) -> Iterator[Progress]:
    """Read the folder's layout and check every file's header (cheap; no picture is decoded).
    Yields Progress; returns the Dataset (`ds = yield from scan_steps(...)`). `remember`: use and
    keep the cache's record of files already checked (unchanged files are not opened again)."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetError(f"The folder {root} does not exist. Choose a folder that holds one subfolder per class.")
    if not root.is_dir():
        raise DatasetError(f"{root} is a file, not a folder. Choose a folder that holds one subfolder per class.")
    try:
        top, inside = meant_root(root)
        split = find_split(top)
        listed = [_class_folders(t, cancel) for t in (split if split is not None else (top,))]
    except PermissionError as exc:
        raise DatasetError(f"The folder {exc.filename or root} cannot be read (permission denied).") from exc
    total = sum(len(fs) for files, _ in listed for fs in files.values())
    checker = _Checker(total, cancel, CheckedFiles() if remember else None)
    yield Progress("scan", 0, total, "files")
    found: list[dict[str, list[str]]] = []
    try:
        for files, stray in listed:
            checker.skipped += stray
            found.append({})
            for name, fs in files.items():
                found[-1][name] = yield from checker.usable(fs)
    finally:
        if checker.known is not None:
            checker.known.close()
    yield Progress("scan", total, total, "files")
    skipped = checker.skipped
    train_files = found[0]
    val_files = found[1] if split is not None else {}

    classes = sorted(train_files, key=str.lower)
    if split is not None:
        classes = sorted(set(train_files) | set(val_files), key=str.lower)
    totals = {c: len(train_files.get(c, [])) + len(val_files.get(c, [])) for c in classes}
    empty = [c for c in classes if totals[c] == 0]
    usable = [c for c in classes if totals[c] > 0]
    if len(usable) < MIN_CLASSES:
        found = ", ".join(f"'{c}'" for c in usable) or "none"
        loose = [s for s in skipped if s.reason.startswith("not inside a class folder")]
        if not usable and loose:
            raise DatasetError(
                f"The {len(loose)} file(s) in {root} are not sorted into subfolders, one per class. If they are all "
                f"one kind of picture, choose the folder above it ({root.parent}) with one subfolder per kind; "
                f"otherwise make one subfolder per kind here and move the pictures into them.")
        raise DatasetError(
            f"{root} needs at least {MIN_CLASSES} subfolders with pictures, one per class "
            f"(found {len(usable)}: {found}). Make one subfolder per kind of picture and put the pictures in them.")
    if empty:
        unreadable = {Path(s.path).name for s in skipped if s.reason.startswith("folder cannot be read")}
        locked = [c for c in empty if c in unreadable]
        if locked:
            why = next(s.reason for s in skipped if Path(s.path).name == locked[0])
            raise DatasetError(f"The class folder '{locked[0]}' {why.removeprefix('folder ')}. Give yourself "
                               "permission to read it, or move it out of the folder.")
        names = ", ".join(f"'{c}'" for c in empty)
        raise DatasetError(f"The class folder(s) {names} hold no usable picture. Add pictures or remove the folder.")

    if split is not None:
        val_only = [c for c in classes if not train_files.get(c)]
        if val_only:
            names = ", ".join(f"'{c}'" for c in val_only)
            raise DatasetError(f"The class(es) {names} have pictures in {split[1].name}/ but none in {split[0].name}/. "
                               f"Put some of their pictures in {split[0].name}/{val_only[0]}/.")

    index = {c: i for i, c in enumerate(classes)}
    if split is not None:
        train = [Picture(p, index[c]) for c in classes for p in train_files.get(c, [])]
        val = [Picture(p, index[c]) for c in classes for p in val_files.get(c, [])]
    else:
        train, val = [], []
        rng = random.Random(seed)
        for c in classes:
            files = list(train_files[c])
            rng.shuffle(files)
            n = len(files)
            n_val = round(n * val_split) if val_split > 0 else 0
            if n >= 2 and val_split > 0:
                n_val = min(max(n_val, 1), n - 1)
            else:
                n_val = 0
            val += [Picture(p, index[c]) for p in files[:n_val]]
            train += [Picture(p, index[c]) for p in files[n_val:]]
    names = (split[0].name, split[1].name) if split is not None else ("", "")
    return Dataset(root, classes, train, val, skipped, split is not None, names, inside, checker.identities)


def expand(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Skipped]]:
    """Pictures and folders (recursed) -> the files to look at; litter ignored, missing reported."""
    files: list[Path] = []
    missing: list[Skipped] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += [f for f in files_under(p, missing) if not images.is_litter(f)]
        elif p.is_file():
            files.append(p)
        elif p.exists():  # a pipe or a device: reading it could block, so it is never opened
            missing.append(Skipped(str(p), images.NOT_A_FILE))
        else:
            missing.append(Skipped(str(p), "does not exist"))
    return files, missing
