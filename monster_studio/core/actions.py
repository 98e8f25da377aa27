"""Safe actions on the user's own pictures in a training folder, each one recorded so it can be
undone: move a picture to another class, set it aside (the system's trash), create or rename a
class (a folder), and teach from an answer (a copy of a picture into a class).

The rules every action keeps:
- nothing is overwritten: a name that is taken gets a suffix ("ant (2).jpg"), and the final
  step is a hard link (which fails on a taken name) rather than a rename (which replaces it);
- nothing is deleted for good: a picture set aside goes to the system's trash (send2trash);
- every path and name from outside is checked: a picture must sit inside the training folder, in
  a class folder, and be a plain file (not a link); a class name must make a plain folder name on
  every system. Refusals are `ActionError`s (UserErrors) in plain words;
- undo gives back byte-identical files with their modification times, so the feature cache, keyed
  by (path, size, modification time), still knows them.

Undoing "set aside": send2trash has no way back (on macOS and Windows the trash is the desktop's,
and on Linux the user may empty it), so before a picture goes to the trash its bytes are copied,
checked, into the app's data folder (`Journal.store`). Undo puts it back from the trash itself
where it can still be found there (the freedesktop.org trash layout that Linux desktops and
send2trash share: files/NAME and info/NAME.trashinfo), otherwise from the kept copy, and always
checks the content hash. The kept copies go when the history is forgotten (`Journal.forget`).

The journal is one JSON line per action (and one per undo) in the app's data folder, one journal
per training folder, written as each action completes, so Undo survives a restart of the app.
"""
from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from monster_studio.core import dataset, files, images
from monster_studio.core.errors import UserError, os_error_words
from monster_studio.core.events import Cancel, Progress
from monster_studio.core.paths import data_dir
from monster_studio.core.wording import visible

CHUNK = 1 << 20
MAX_NAME = 100  # characters in a class name: long enough for any label, short enough for every file system
_WINDOWS_BAD = set('<>:"/\\|?*')
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


class ActionError(UserError):
    """An action that was refused or could not be done; nothing was changed unless it says so."""

    kind = "actions"


class UnsafePath(ActionError):
    """A path outside the training folder, or not a plain picture file inside a class folder."""


class BadName(ActionError):
    """A class name that cannot be a folder's name."""


class AlreadyThere(ActionError):
    """The same picture (same bytes) is already in that class: nothing was copied."""


class CannotUndo(ActionError):
    """The files changed since the action, so undoing it could lose something: nothing was done."""


# ------------------------------------------------------------------ files: hashes, names, copies

def content_hash(path: str | os.PathLike, cancel: Cancel | None = None) -> str:
    """The file's SHA-256, read in chunks (a stop is noticed within one chunk)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            if cancel is not None:
                cancel.check()
            chunk = f.read(CHUNK)
            if not chunk:
                return h.hexdigest()
            h.update(chunk)


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a class folder's name, in words, or None when it can. The rules hold
    on Linux, macOS and Windows alike, so a folder made here can be copied anywhere."""
    if not isinstance(name, str) or not name.strip():
        return "a class needs a name"
    if len(name) > MAX_NAME or len(os.fsencode(name)) > 4 * MAX_NAME:
        return f"a class name can have at most {MAX_NAME} characters"
    if name in (".", ".."):
        return f"'{name}' is not a name a folder can have"
    if visible(name) != name:
        return "a class name cannot hold control characters or text-direction marks"
    bad = sorted({c for c in name if c in _WINDOWS_BAD})
    if bad:
        return "a class name cannot hold " + " or ".join(f"'{c}'" for c in bad)
    if name.startswith("."):
        return "a class name cannot start with '.' (such folders are hidden and left out)"
    if name != name.strip():
        return "a class name cannot start or end with a space"
    if name.endswith("."):
        return "a class name cannot end with '.'"
    if name.split(".")[0].lower() in _WINDOWS_DEVICES:
        return f"'{name}' is a name Windows keeps for a device"
    if images.is_litter(Path(name)):
        return f"'{name}' is a name the operating system uses for its own files"
    return None


def check_class_name(name: str) -> str:
    """The name, when it can be a class folder's name; BadName in plain words otherwise."""
    why = name_problem(name)
    if why:
        raise BadName(f"'{visible(str(name))}' cannot be a class: {why}. Choose another name.", name=visible(str(name)))
    return name


def free_name(folder: Path, name: str) -> Path:
    """folder/name, or the first free "stem (2).suffix", "stem (3).suffix", ..."""
    target = folder / name
    if not os.path.lexists(target):
        return target
    stem, suffix = os.path.splitext(name)
    if not stem:  # ".jpg" alone: the whole name is the stem
        stem, suffix = name, ""
    n = 2
    while True:
        target = folder / f"{stem} ({n}){suffix}"
        if not os.path.lexists(target):
            return target
        n += 1


def _link_no_replace(src: Path, target: Path) -> Path:
    """Give `src`'s file the name `target`, or the next free name beside it; never replaces a file.
    A hard link fails on a taken name, where a rename would silently replace it; `src` keeps its
    own name too (the caller removes it). On a file system without hard links (FAT, exFAT, some
    network shares) the file is renamed once the name is seen to be free, and `src` is gone.
    Raises OSError EXDEV when `target` is on another file system."""
    while True:
        target = free_name(target.parent, target.name)
        try:
            os.link(src, target)
            return target
        except FileExistsError:
            continue  # taken between the look and the link: the next name
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
        if os.path.lexists(target):
            continue
        os.rename(src, target)
        return target


def _fsync_folder(folder: Path) -> None:
    """Make a new name in `folder` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def copy_file(src: str | os.PathLike, folder: str | os.PathLike, name: str | None = None,
              cancel: Cancel | None = None) -> tuple[Path, str]:
    """Copy `src` into `folder` under `name` (default its own) or a free suffixed name, never
    replacing a file; the copy is written under a temporary name, flushed to disk, checked
    against the source's hash by reading it back, and only then given its name, with the
    source's modification time. A stop or a failure leaves no partial file. Returns (the copy, its SHA-256)."""
    src, folder = Path(src), Path(folder)
    target = folder / (name or src.name)
    h = hashlib.sha256()
    with files.temporary_beside(target) as tmp:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while True:
                if cancel is not None:
                    cancel.check()
                chunk = fin.read(CHUNK)
                if not chunk:
                    break
                h.update(chunk)
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        digest = h.hexdigest()
        if content_hash(tmp, cancel) != digest:
            raise ActionError(f"The copy of {src.name} did not read back the same; nothing was kept. "
                              "The disk may be failing.", filename=str(src))
        shutil.copystat(src, tmp)  # the modification time (and mode): the cache knows the picture by it
        final = _link_no_replace(Path(tmp), target)
    _fsync_folder(folder)
    return final, digest


def _move_no_replace(src: Path, target: Path) -> Path:
    """Move a file without replacing anything: within one file system a hard link then the old
    name's removal (the bytes never move); across file systems a checked copy (`copy_file`),
    then the original's removal. Returns where it went."""
    try:
        final = _link_no_replace(src, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        final, digest = copy_file(src, target.parent, target.name)
        if content_hash(src) != digest:  # the original changed while it was copied: keep both
            raise ActionError(f"{visible(src.name)} changed while it was being moved; both copies were kept.")
    if os.path.lexists(src):
        os.unlink(src)
    _fsync_folder(final.parent)
    return final


def _identity(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return content_hash(path), st.st_size, st.st_mtime_ns


# ------------------------------------------------------------------ the record

@dataclass
class Action:
    """One change to the training folder, as recorded in the journal.

    kind: "move" (a picture to another class), "set_aside" (to the trash), "create_class",
    "rename_class", "teach" (a copy of an outside picture into a class). source/destination: the
    picture's (or folder's) path before and after, absolute. sha256/size/mtime_ns: the picture's
    content and identity, checked before undoing. kept: the app's own copy of a set-aside picture.
    made: folders this action created (removed on undo when empty). group: actions undone together.
    words: what was done, in a sentence for the user."""

    id: str
    kind: str
    source: str
    destination: str
    group: str
    time: str
    sha256: str = ""
    size: int = 0
    mtime_ns: int = 0
    kept: str = ""
    made: list[str] = field(default_factory=list)
    undone: bool = False
    words: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Action":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class UndoResult:
    """What Undo did: the actions undone (newest first), the changes it made to the folder as
    actions of their own (for `follow`), and anything the user should know, in sentences."""

    undone: list[Action]
    changes: list[Action]
    notes: list[str] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return [f"Undone: {a.words}" for a in self.undone] + self.notes


@dataclass(frozen=True)
class Request:
    """One action of a batch (`Journal.batch_steps`): kind "move" (to `name`), "set_aside", or
    "teach" (into `name`)."""

    kind: str
    path: str
    name: str = ""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _store_for(root: Path) -> Path:
    tag = hashlib.sha1(os.fsencode(root)).hexdigest()[:16]
    return data_dir() / "journal" / f"{root.name[:40]}-{tag}"


class Journal:
    """The actions on one training folder, and their Undo. Every action returns its `Action`;
    `undo()` undoes the most recent group still done. Not for two processes at once."""

    FILE = "journal.jsonl"

    def __init__(self, root: str | os.PathLike, store: str | os.PathLike | None = None) -> None:
        root = Path(root).expanduser()
        if not root.is_dir():
            raise ActionError(f"The training folder {root} does not exist (or is not a folder).", filename=str(root))
        self.root = root.resolve()
        self.store = Path(store) if store is not None else _store_for(self.root)
        self._actions: list[Action] = self._load()
        self._group: str | None = None

    # ---------------------------------------------------------- history

    def history(self) -> list[Action]:
        """Every recorded action, oldest first (undone ones marked)."""
        return list(self._actions)

    @property
    def can_undo(self) -> bool:
        return any(not a.undone for a in self._actions)

    def next_undo(self) -> list[Action]:
        """The actions the next undo() would undo, newest first."""
        live = [a for a in self._actions if not a.undone]
        if not live:
            return []
        group = live[-1].group
        return [a for a in reversed(live) if a.group == group]

    @contextmanager
    def group(self):
        """`with journal.group(): ...`: the actions inside are undone together."""
        if self._group is not None:
            yield self._group
            return
        self._group = uuid.uuid4().hex[:12]
        try:
            yield self._group
        finally:
            self._group = None

    def forget(self) -> int:
        """Drop the history and the kept copies of set-aside pictures (they stay in the system's
        trash); nothing can be undone afterwards. Returns how many actions were forgotten."""
        n = len(self._actions)
        kept = self.store / "kept"
        if kept.is_dir():
            shutil.rmtree(kept, ignore_errors=True)
        try:
            (self.store / self.FILE).unlink()
        except FileNotFoundError:
            pass
        self._actions = []
        return n

    def _load(self) -> list[Action]:
        try:
            text = (self.store / self.FILE).read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ActionError(f"The history of changes in {self.store} cannot be read ({os_error_words(exc)}).") from exc
        actions: dict[str, Action] = {}
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: what came before it still counts
            if not isinstance(entry, dict):
                continue
            if entry.get("op") == "do" and isinstance(entry.get("action"), dict):
                try:
                    a = Action.from_dict(entry["action"])
                except TypeError:
                    continue
                actions[a.id] = a
            elif entry.get("op") == "undo" and entry.get("id") in actions:
                actions[entry["id"]].undone = True
        return list(actions.values())

    def _append(self, entry: dict) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry) + "\n"  # ensure_ascii: a file name that is not UTF-8 survives as escapes
        with open(self.store / self.FILE, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def _record(self, action: Action) -> Action:
        try:
            self._append({"op": "do", "v": 1, "action": action.to_dict()})
        except OSError as exc:
            try:
                self._reverse(action)
            except (OSError, ActionError):
                pass
            raise ActionError(f"The change could not be recorded for Undo ({os_error_words(exc)}), so it was "
                              "not made.") from exc
        self._actions.append(action)
        return action

    def _new(self, kind: str, source: Path | str, destination: Path | str, words: str, **kw) -> Action:
        return Action(uuid.uuid4().hex[:12], kind, str(source), str(destination),
                      self._group or uuid.uuid4().hex[:12], _now(), words=words, **kw)

    # ---------------------------------------------------------- the folder's layout

    def parts(self) -> list[Path]:
        """Where class folders live: the folder itself, or its train/ and val/ (or test/) folders."""
        split = dataset.find_split(self.root)  # the scan's own rule, so both agree on the layout
        return list(split) if split is not None else [self.root]

    def classes(self) -> list[str]:
        names: dict[str, str] = {}
        for part in self.parts():
            for d in sorted(part.iterdir()):
                if d.is_dir() and not images.is_litter(d):
                    names.setdefault(d.name.lower(), d.name)
        return sorted(names.values(), key=str.lower)

    def _existing_class(self, name: str) -> str | None:
        """The class's spelling on disk when a class of that name exists (case aside: on macOS and
        Windows 'Ant' and 'ant' are one folder)."""
        return next((c for c in self.classes() if c.lower() == name.lower()), None)

    def _inside(self, path: str | os.PathLike, what: str = "picture") -> Path:
        """`path` made absolute without following its last part, refused unless it lies inside
        the training folder (links followed for the folders above it)."""
        p = Path(path).expanduser()
        if not p.is_absolute():
            p = Path.cwd() / p
        resolved = Path(os.path.realpath(p.parent)) / p.name
        try:
            rel = resolved.relative_to(self.root)
        except ValueError:
            raise UnsafePath(f"{visible(str(path))} is not inside the training folder {self.root}; only pictures "
                             "in it can be changed here.", filename=str(path)) from None
        if not rel.parts or ".." in rel.parts:
            raise UnsafePath(f"{visible(str(path))} is not a {what} inside the training folder.", filename=str(path))
        return resolved

    def _picture(self, path: str | os.PathLike) -> tuple[Path, Path, str]:
        """A picture in a class folder: (its absolute path, the part it is in, its class)."""
        p = self._inside(path)
        if p.is_symlink():
            raise UnsafePath(f"{visible(p.name)} is a link to another file, not a picture itself; it was left as it is.",
                             filename=str(p))
        if not p.is_file():
            raise UnsafePath(f"{visible(str(p))} does not exist, or is not a file.", filename=str(p))
        for part in self.parts():
            try:
                rel = p.relative_to(part)
            except ValueError:
                continue
            if len(rel.parts) >= 2 and not images.is_litter(Path(rel.parts[0])):
                return p, part, rel.parts[0]
        raise UnsafePath(f"{visible(p.name)} is not inside a class folder of {self.root}.", filename=str(p))

    def _class_folder(self, name: str, part: Path, made: list[str]) -> tuple[Path, str]:
        """The folder of class `name` in `part`, made when missing (noted in `made`)."""
        existing = self._existing_class(name)
        if existing is None:
            check_class_name(name)
            if self.parts() == [self.root] and name.lower() in dataset.SPLIT_TRAIN + dataset.SPLIT_VAL:
                raise BadName(f"'{name}' cannot be a class here: a folder called {name} beside the class folders "
                              "would be read as the folder's own split.", name=name)
        else:
            name = existing
        folder = part / name
        if folder.is_symlink():
            raise UnsafePath(f"The class folder {visible(name)} is a link to another place; it was left as it is.")
        if not folder.is_dir():
            folder.mkdir()
            made.append(str(folder))
        return folder, name

    # ---------------------------------------------------------- actions

    def move_to_class(self, picture: str | os.PathLike, name: str) -> Action:
        """Move a picture into class `name`'s folder (in the same part: train/ stays train/),
        created when missing. A taken name gets a suffix."""
        src, part, old = self._picture(picture)
        if old.lower() == str(name).lower():
            raise ActionError(f"{visible(src.name)} is already in '{visible(old)}'.", filename=str(src))
        made: list[str] = []
        folder, name = self._class_folder(name, part, made)
        sha, size, mtime = _identity(src)
        try:
            final = _move_no_replace(src, folder / src.name)
        except BaseException:
            _remove_empty(made)
            raise
        renamed = f" as {final.name}" if final.name != src.name else ""
        words = f"Moved {src.name} from '{old}' to '{name}'{renamed}."
        return self._record(self._new("move", src, final, visible(words), sha256=sha, size=size,
                                      mtime_ns=mtime, made=made))

    def set_aside(self, picture: str | os.PathLike) -> Action:
        """Send a picture to the system's trash (never a permanent delete), keeping a checked copy
        of its bytes in the app's data folder for Undo."""
        src, _part, old = self._picture(picture)
        sha, size, mtime = _identity(src)
        action = self._new("set_aside", src, "", "", sha256=sha, size=size, mtime_ns=mtime)
        kept_dir = self.store / "kept"
        kept_dir.mkdir(parents=True, exist_ok=True)
        kept, kept_sha = copy_file(src, kept_dir, action.id + src.suffix)
        if kept_sha != sha:
            kept.unlink()
            raise ActionError(f"{visible(src.name)} changed while it was being set aside; nothing was done.")
        try:
            _send_to_trash(src)
        except Exception as exc:  # noqa: BLE001 - whatever the trash says, the picture stays where it was
            kept.unlink(missing_ok=True)
            why = os_error_words(exc) if isinstance(exc, OSError) else str(exc) or type(exc).__name__
            raise ActionError(f"{visible(src.name)} could not be moved to the trash ({why}); it was left where it was.",
                              filename=str(src)) from exc
        action.kept = str(kept)
        action.words = visible(f"Set {src.name} aside (from '{old}', to the trash).")
        return self._record(action)

    def create_class(self, name: str) -> Action:
        """Make a new, empty class folder (in train/ when the folder has its own split)."""
        check_class_name(name)
        existing = self._existing_class(name)
        if existing is not None:
            raise BadName(f"There is already a class called '{visible(existing)}'.", name=name)
        made: list[str] = []
        folder, name = self._class_folder(name, self.parts()[0], made)
        return self._record(self._new("create_class", "", folder, visible(f"Made the class '{name}'."), made=made))

    def rename_class(self, old: str, new: str) -> list[Action]:
        """Rename a class: its folder (in train/ and val/ both, when the folder has its own split).
        Undone in one step."""
        existing = self._existing_class(old)
        if existing is None:
            raise ActionError(f"There is no class called '{visible(old)}'.", name=visible(old))
        check_class_name(new)
        clash = self._existing_class(new)
        if clash is not None and clash.lower() != existing.lower():
            raise BadName(f"There is already a class called '{visible(clash)}'; choose another name.", name=new)
        if self.parts() == [self.root] and new.lower() in dataset.SPLIT_TRAIN + dataset.SPLIT_VAL:
            raise BadName(f"'{new}' cannot be a class here: it would be read as the folder's own split.", name=new)
        if new == existing:
            raise ActionError(f"The class is already called '{visible(new)}'.")
        done: list[Action] = []
        with self.group():
            for part in self.parts():
                src = part / existing
                if not src.is_dir() or src.is_symlink():
                    continue
                target = part / new
                if os.path.lexists(target) and not _same_entry(src, target):
                    raise BadName(f"{target} already exists; choose another name.", name=new)
                _rename_folder(src, target)
                done.append(self._record(self._new("rename_class", src, target,
                                                   visible(f"Renamed the class '{existing}' to '{new}'."))))
        return done

    def teach(self, picture: str | os.PathLike, name: str, cancel: Cancel | None = None) -> Action:
        """"This is actually ...": put a copy of `picture` (from anywhere) into class `name` of the
        training folder (its training part), the class folder made when missing. The original stays
        where it is. AlreadyThere when the class already holds the same bytes."""
        src = Path(picture).expanduser()
        if not src.is_file():
            raise UnsafePath(f"{visible(str(picture))} does not exist, or is not a file.", filename=str(picture))
        inside = True
        try:
            Path(os.path.realpath(src)).relative_to(self.root)
        except ValueError:
            inside = False
        if inside:
            raise ActionError(f"{visible(src.name)} is already in the training folder; move it to '{visible(name)}' "
                              "instead of copying it.", filename=str(src))
        images.probe(src)  # a BadPicture (a UserError) in plain words for a file that is not a picture
        part = self.parts()[0]
        existing = self._existing_class(name)
        if existing is not None:
            twin = _same_content_in(part / existing, src)
            if twin is not None:
                raise AlreadyThere(f"'{existing}' already has this picture, as {visible(twin.name)}; nothing was copied.",
                                   filename=str(twin))
        made: list[str] = []
        folder, name = self._class_folder(name, part, made)
        file_name = _plain_file_name(src.name)
        try:
            final, sha = copy_file(src, folder, file_name, cancel)
        except BaseException:
            _remove_empty(made)
            raise
        st = final.stat()
        words = f"Added a copy of {src.name} to '{name}'" + (f" as {final.name}." if final.name != src.name else ".")
        return self._record(self._new("teach", src.resolve(), final, visible(words), sha256=sha, size=st.st_size,
                                      mtime_ns=st.st_mtime_ns, made=made))

    def batch_steps(self, requests: Iterable[Request], cancel: Cancel | None = None) -> Iterator:
        """Several actions as one (one Undo undoes them all), e.g. "move every suggested picture".
        Yields Progress; returns the Actions. A refusal stops the batch; what was done stays done
        and recorded (one Undo takes it back)."""
        requests = list(requests)
        done: list[Action] = []
        with self.group():
            for i, r in enumerate(requests):
                if cancel is not None:
                    cancel.check()
                if r.kind == "move":
                    done.append(self.move_to_class(r.path, r.name))
                elif r.kind == "set_aside":
                    done.append(self.set_aside(r.path))
                elif r.kind == "teach":
                    done.append(self.teach(r.path, r.name, cancel))
                else:
                    raise ActionError(f"'{r.kind}' is not an action that can be done on a picture.")
                yield Progress("actions", i + 1, len(requests), "pictures")
        return done

    # ---------------------------------------------------------- undo

    def undo(self) -> UndoResult:
        """Undo the most recent group of actions still done, newest first. CannotUndo (nothing
        changed by that action) when its files changed since."""
        todo = self.next_undo()
        if not todo:
            raise CannotUndo("There is nothing to undo.")
        result = UndoResult([], [])
        for action in todo:
            changes, notes = self._reverse(action)
            self._append({"op": "undo", "v": 1, "id": action.id, "time": _now()})
            action.undone = True
            result.undone.append(action)
            result.changes += changes
            result.notes += notes
        return result

    def _reverse(self, a: Action) -> tuple[list[Action], list[str]]:
        if a.kind == "move":
            return self._undo_move(a)
        if a.kind == "set_aside":
            return self._undo_set_aside(a)
        if a.kind == "teach":
            return self._undo_teach(a)
        if a.kind == "create_class":
            folder = Path(a.destination)
            left = _contents(folder)
            if left:
                raise CannotUndo(f"The class '{visible(folder.name)}' now holds {len(left)} file(s); move them out "
                                 "before undoing its creation.")
            if folder.is_dir():
                folder.rmdir()
            return [replace(a, kind="remove_class", source=a.destination, destination="")], []
        if a.kind == "rename_class":
            src, target = Path(a.source), Path(a.destination)
            if not target.is_dir():
                raise CannotUndo(f"The class folder {visible(target.name)} is no longer there.")
            if os.path.lexists(src) and not _same_entry(src, target):
                raise CannotUndo(f"A folder called {visible(src.name)} exists again, so the class cannot take that name "
                                 "back.")
            _rename_folder(target, src)
            return [replace(a, source=a.destination, destination=a.source)], []
        raise CannotUndo(f"'{a.kind}' cannot be undone by this version of the app.")

    def _check_unchanged(self, a: Action, path: Path) -> None:
        if not path.is_file() or path.is_symlink():
            raise CannotUndo(f"{visible(path.name)} is no longer where it was put ({visible(str(path.parent))}), so "
                             "it cannot be put back.", filename=str(path))
        st = path.stat()
        if st.st_size != a.size or content_hash(path) != a.sha256:
            raise CannotUndo(f"{visible(path.name)} was changed since, so putting it back could lose that change; "
                             "nothing was done.", filename=str(path))

    def _put_back_folder(self, original: Path) -> Path:
        """The original folder, made again if it went (inside the training folder only: the
        journal file is outside data, like any other)."""
        folder = Path(os.path.realpath(original.parent))
        try:
            rel = folder.relative_to(self.root)
        except ValueError:
            raise UnsafePath(f"{visible(str(original))} is not inside the training folder {self.root}.") from None
        if not rel.parts:
            raise UnsafePath(f"{visible(str(original))} is not inside a class folder of {self.root}.")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _undo_move(self, a: Action) -> tuple[list[Action], list[str]]:
        dest, original = Path(a.destination), Path(a.source)
        self._check_unchanged(a, dest)
        folder = self._put_back_folder(original)
        final = _move_no_replace(dest, folder / original.name)
        removed = _remove_empty(a.made)
        notes = [] if final == original else [visible(f"{original.name} was taken, so it went back as {final.name}.")]
        return [replace(a, source=str(dest), destination=str(final))] + _folders_removed(a, removed), notes

    def _undo_set_aside(self, a: Action) -> tuple[list[Action], list[str]]:
        original = Path(a.source)
        folder = self._put_back_folder(original)
        notes = []
        final = None
        trashed = _find_in_trash(original, a.sha256, a.size)
        if trashed is not None:
            trashed_file, info = trashed
            try:
                final = _move_no_replace(trashed_file, folder / original.name)
            except (OSError, ActionError):
                final = None
            else:
                try:
                    os.unlink(info)
                except OSError:
                    pass
        if final is None:
            kept = Path(a.kept)
            if not kept.is_file() or content_hash(kept) != a.sha256:
                raise CannotUndo(f"{visible(original.name)} is neither in the trash nor in the app's own copy any more; "
                                 "it cannot be put back.", filename=str(original))
            final, _ = copy_file(kept, folder, original.name)
            if sys.platform in ("darwin", "win32"):  # a trash this app cannot look into
                notes.append(visible(f"{original.name} came back from the app's own copy; the one in the "
                                     "system's trash can be removed from there."))
        os.utime(final, ns=(final.stat().st_atime_ns, a.mtime_ns))  # the cache knows it by its time
        if content_hash(final) != a.sha256:  # cannot happen after the checks above; never silently wrong
            raise CannotUndo(f"{visible(final.name)} did not come back the same; the app's copy is kept in {a.kept}.")
        Path(a.kept).unlink(missing_ok=True)
        if final != original:
            notes.append(visible(f"{original.name} was taken, so it came back as {final.name}."))
        return [replace(a, kind="restore", source="", destination=str(final))], notes

    def _undo_teach(self, a: Action) -> tuple[list[Action], list[str]]:
        copy = Path(a.destination)
        self._check_unchanged(a, copy)
        source = Path(a.source)
        notes = []
        try:
            still_there = source.is_file() and source.stat().st_size == a.size and content_hash(source) == a.sha256
        except OSError:
            still_there = False
        if still_there:
            copy.unlink()  # the same bytes are still at the source: nothing is lost
        else:  # the only copy left: kept in the app's data folder, never deleted
            kept_dir = self.store / "kept"
            kept_dir.mkdir(parents=True, exist_ok=True)
            kept = _move_no_replace(copy, kept_dir / f"{a.id}{copy.suffix}")
            notes.append(visible(f"The original of {copy.name} is gone, so the copy was kept in {kept}."))
        removed = _remove_empty(a.made)
        return [replace(a, kind="remove", source=str(copy), destination="")] + _folders_removed(a, removed), notes


# ------------------------------------------------------------------ helpers

def _contents(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir()]
    except FileNotFoundError:
        return []


def _remove_empty(folders: list[str]) -> list[str]:
    """Remove the folders an action made, those that are empty again; returns the ones removed."""
    removed = []
    for f in reversed(folders):
        try:
            os.rmdir(f)
            removed.append(f)
        except OSError:
            pass  # not empty (or gone): left as it is
    return removed


def _folders_removed(a: "Action", removed: list[str]) -> list["Action"]:
    return [replace(a, kind="remove_class", source=f, destination="") for f in removed]


def _same_entry(a: Path, b: Path) -> bool:
    """True when two names are one folder (a rename that changes only the case, on macOS/Windows)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _rename_folder(src: Path, target: Path) -> None:
    if _same_entry(src, target):  # only the case changes, on a case-insensitive disk: through a free name
        step = free_name(src.parent, f".ms-rename-{uuid.uuid4().hex[:8]}")
        os.rename(src, step)
        os.rename(step, target)
        return
    if os.path.lexists(target):  # os.rename would replace an empty folder on POSIX
        raise BadName(f"{target} already exists; choose another name.")
    os.rename(src, target)


def _same_content_in(folder: Path, src: Path) -> Path | None:
    """A file directly in `folder` with the same bytes as `src` (sizes compared first: cheap)."""
    if not folder.is_dir():
        return None
    size = src.stat().st_size
    digest = None
    for p in sorted(folder.iterdir()):
        try:
            if not p.is_file() or p.stat().st_size != size:
                continue
        except OSError:
            continue
        digest = digest or content_hash(src)
        if content_hash(p) == digest:
            return p
    return None


def _plain_file_name(name: str) -> str:
    """A file name from outside as a name inside a class folder: visible (control characters
    written out) and not hidden (the scan leaves out names starting with '.')."""
    name = visible(name).replace("\\", "_")
    if name.startswith("."):
        name = "_" + name[1:]
    return name or "picture"


def _send_to_trash(path: Path) -> None:
    from send2trash import send2trash

    send2trash(str(path))


def _find_in_trash(original: Path, sha: str, size: int) -> tuple[Path, Path] | None:
    """Where send2trash put `original` in a freedesktop.org trash (Linux and other Unix desktops;
    macOS and Windows keep theirs to themselves): (the file, its .trashinfo), newest first, only
    when its bytes are the ones set aside."""
    if sys.platform in ("darwin", "win32"):
        return None
    from urllib.parse import unquote_to_bytes

    try:
        from send2trash import plat_other as trash
    except ImportError:
        return None
    target = os.fsencode(os.path.abspath(original))
    places: list[tuple[bytes, bytes]] = [(trash.HOMETRASH_B, trash.XDG_DATA_HOME)]
    try:
        top = trash.find_mount_point(os.fsencode(original.parent))
        places += [(os.path.join(top, b".Trash", str(os.getuid()).encode()), top),
                   (os.path.join(top, b".Trash-" + str(os.getuid()).encode()), top)]
    except (OSError, AttributeError):
        pass
    found = []
    for trash_dir, top in places:
        info_dir = os.path.join(trash_dir, b"info")
        try:
            names = os.listdir(info_dir)
        except OSError:
            continue
        for info_name in names:
            if not info_name.endswith(b".trashinfo"):
                continue
            info = os.path.join(info_dir, info_name)
            try:
                with open(info, "rb") as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            where = next((ln[5:] for ln in lines if ln.startswith(b"Path=")), None)
            when = next((ln[13:] for ln in lines if ln.startswith(b"DeletionDate=")), b"")
            if where is None:
                continue
            where = unquote_to_bytes(where)
            if not os.path.isabs(where):
                where = os.path.join(top, where)
            if os.path.normpath(where) != target:
                continue
            file = os.path.join(trash_dir, b"files", info_name[: -len(b".trashinfo")])
            try:
                if os.path.getsize(file) != size or content_hash(file) != sha:
                    continue
            except OSError:
                continue
            found.append((when, Path(os.fsdecode(file)), Path(os.fsdecode(info))))
    if not found:
        return None
    found.sort(key=lambda t: t[0], reverse=True)
    return found[0][1], found[0][2]


# ------------------------------------------------------------------ the class table follows

def follow(ds: dataset.Dataset, changes: Iterable[Action]) -> dataset.Dataset:
    """The dataset as the folder stands after `changes` (actions done, or an UndoResult's
    changes), without reading the folder again: pictures moved, added, removed, classes made,
    renamed or removed. Moved pictures keep their part (training or check pictures); added ones
    join the training pictures."""
    rows = [[Path(os.path.realpath(p.path)), ds.classes[p.label], part]
            for part, pics in (("train", ds.train), ("val", ds.val)) for p in pics]
    classes = list(ds.classes)
    for a in changes:
        if a.kind == "move":
            src, dst = Path(a.source), Path(a.destination)
            for row in rows:
                if row[0] == src:
                    row[0], row[1] = dst, dst.parent.name
            if dst.parent.name not in classes:
                classes.append(dst.parent.name)
        elif a.kind in ("set_aside", "remove"):
            gone = Path(a.source)
            rows = [r for r in rows if r[0] != gone]
        elif a.kind in ("teach", "restore"):
            new = Path(a.destination)
            rows.append([new, new.parent.name, "train"])
            if new.parent.name not in classes:
                classes.append(new.parent.name)
        elif a.kind == "create_class":
            name = Path(a.destination).name
            if name not in classes:
                classes.append(name)
        elif a.kind == "remove_class":
            name = Path(a.source).name
            if not any(r[1] == name for r in rows) and name in classes:
                classes.remove(name)
        elif a.kind == "rename_class":
            old, new = Path(a.source), Path(a.destination)
            for row in rows:
                if row[1] == old.name:
                    try:
                        row[0] = new / row[0].relative_to(old)
                    except ValueError:
                        pass
                    row[1] = new.name
            classes = [new.name if c == old.name else c for c in classes]
    classes = sorted(dict.fromkeys(classes), key=str.lower)
    index = {c: i for i, c in enumerate(classes)}
    train = [dataset.Picture(p, index[c]) for p, c, part in rows if part == "train"]
    val = [dataset.Picture(p, index[c]) for p, c, part in rows if part == "val"]
    return replace(ds, classes=classes, train=train, val=val)
