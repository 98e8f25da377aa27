"""The feature store: what the frozen starting model saw in each picture, kept on disk so it is
computed once. One SQLite database per starting model (and weights file and preprocessing), plus
one small record of which files the folder scan has already checked.

Why SQLite (the standard library's): one file instead of one per picture (13,200 small files took
6.9 s to read back; the same features come back from one database in a fraction of a second), safe
with two processes at once (WAL: readers never wait, writers take turns), and a run killed
mid-write leaves the last committed state (every commit is fsynced first: synchronous=FULL), so a
write counts only once it is durable. Memory grows with the features alone (4 bytes a number,
5 KB a picture for 1280 numbers); the database is read in chunks, never as a whole.

Every entry is keyed by the file's identity (path, size, modification time in nanoseconds) taken
when the picture was decoded: a changed file no longer matches, so it is looked at again. An entry
that is empty, of the wrong size, holds invalid numbers (NaN, infinity) or cannot be read counts as
missing and is recomputed; a database that is damaged as a whole is set aside and started afresh.
Only a damage that cannot be repaired that way stops a run, with a message that names the cache
folder and how to clear it (`clear_cache`, also the app's Help > Clear cached features).
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monster_studio.core.errors import UserError, os_error_words
from monster_studio.core.paths import cache_dir

log = logging.getLogger(__name__)

SCHEMA = 1
CHUNK = 500  # keys per query: well under SQLite's limit on bound values, few round trips
Identity = tuple[int, int]  # (size in bytes, modification time in nanoseconds)
Key = tuple[bytes, int, int]  # (absolute path as bytes, view, seed of the view; 0 for view 0)


class CacheError(UserError):
    """The cache on disk is damaged beyond what it repairs by itself."""

    kind = "cache"

    def __init__(self, what: str, folder: Path) -> None:
        super().__init__(
            f"{what} Clearing the cache repairs it and loses nothing but time (what it holds is computed again): "
            f"use Help > Clear cached features in the app, or delete the folder {folder}.",
            command=f"delete the folder {folder}", cache=str(folder))


def features_dir(root: Path | None = None) -> Path:
    return (root or cache_dir()) / "features"


def identity(path: str | os.PathLike) -> Identity:
    """What says a file is still the one that was looked at; raises OSError."""
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns)


def path_key(path: str | os.PathLike) -> bytes:
    # Bytes, not text: on Linux a file name need not be valid UTF-8. abspath, not resolve(): no
    # system call per folder level (13,000 of those cost half a second); a folder reached through
    # a link is then looked at once more, never answered wrongly.
    if isinstance(path, str) and _plain_absolute(path):
        return os.fsencode(path)  # what abspath would give back: a folder scan's own paths (26,000 a rerun)
    return os.fsencode(os.path.abspath(path))


def _plain_absolute(path: str) -> bool:
    """An absolute POSIX path that normalizing leaves as it is (no '.', '..', '//' or trailing '/')."""
    return (os.sep == "/" and path.startswith("/") and not path.startswith("//") and not path.endswith("/")
            and "//" not in path and "/./" not in path and "/../" not in path
            and not path.endswith(("/.", "/..")))


def _is_damage(exc: sqlite3.Error) -> bool:
    """A database file that is not one, or whose pages are broken (as opposed to busy or full)."""
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "disk i/o error" in text


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _patiently(fn, seconds: float = 30.0):
    """Run `fn`, trying again while another process holds the database: SQLite waits by itself
    (busy_timeout) in most places, but not in all (setting up WAL, recovering one after a kill)."""
    deadline, pause = time.monotonic() + seconds, 0.02
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(0.5, pause * 2)


class _Database:
    """One SQLite file with the settings every store here uses; repairs itself once if damaged.

    `writable` drops to False when the disk is full or read-only, or another process holds the
    lock too long: that costs speed (pictures are looked at again next time), never a result."""

    def __init__(self, file: Path, create_sql: str) -> None:
        self.file, self.create_sql = file, create_sql
        self.writable = True
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._repaired = False
        self._failed = False

    @property
    def folder(self) -> Path:
        return self.file.parent

    def _open(self) -> sqlite3.Connection | None:
        if self._conn is not None or self._failed:
            return self._conn
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.file, timeout=30.0, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            return self._read_only(exc)
        def setup() -> None:
            conn.text_factory = bytes  # a damaged text cell must not raise on reading
            conn.execute("PRAGMA busy_timeout = 30000")
            # WAL: readers and one writer at once, across processes. Where it cannot be had
            # (a network drive), the rollback journal is just as safe, only less concurrent.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")  # a commit is on disk before it returns
            conn.executescript(self.create_sql)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA):
                raise sqlite3.DatabaseError(f"file is not a database of this version ({version})")
            if version == 0:
                conn.execute(f"PRAGMA user_version = {SCHEMA}")

        try:
            _patiently(setup)
        except sqlite3.Error as exc:
            conn.close()
            if _is_damage(exc):
                self._repair(exc)
                return self._open()
            return self._read_only(exc)
        self._conn = conn
        return conn

    def _read_only(self, exc: BaseException) -> sqlite3.Connection | None:
        """The folder cannot be written: read what is there, if anything, and write nothing."""
        self.writable = False
        log.warning("The cache %s cannot be written (%s); pictures will be looked at again next time.",
                    self.file, os_error_words(exc) if isinstance(exc, OSError) else exc)
        if self.file.is_file():
            try:
                conn = sqlite3.connect(f"{self.file.as_uri()}?mode=ro", uri=True, timeout=30.0,
                                       isolation_level=None, check_same_thread=False)
                conn.text_factory = bytes
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                self._conn = conn
                return conn
            except sqlite3.Error:
                pass
        self._failed = True
        return None

    def _repair(self, exc: BaseException) -> None:
        """A damaged database is removed and started afresh (once per run): it only holds what can
        be computed again. If even that fails, the user is told where the cache is."""
        if self._repaired:
            raise CacheError(f"The cache file {self.file.name} is damaged ({exc}) and could not be repaired.",
                             self.folder) from exc
        self._repaired = True
        log.warning("The cache %s is damaged (%s); starting it afresh.", self.file, exc)
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            part = Path(f"{self.file}{suffix}")
            try:
                part.unlink()
            except FileNotFoundError:
                pass
            except OSError as err:
                raise CacheError(f"The cache file {self.file.name} is damaged and cannot be removed "
                                 f"({os_error_words(err)}).", self.folder) from err

    def read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            for _ in range(2):
                conn = self._open()
                if conn is None:
                    return []
                try:
                    return _patiently(lambda: conn.execute(sql, params).fetchall())
                except sqlite3.Error as exc:
                    if not _is_damage(exc):
                        log.warning("Reading the cache %s failed (%s); looking at the pictures again.", self.file, exc)
                        return []
                    self._repair(exc)
            return []

    def write(self, sql: str, rows: list[tuple]) -> bool:
        """All rows in one transaction, durable when this returns True."""
        if not rows:
            return True
        with self._lock:
            conn = self._open() if self.writable else None
            if conn is None or not self.writable:
                return False
            def transaction() -> None:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(sql, rows)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

            try:
                _patiently(transaction)
                return True
            except sqlite3.Error as exc:
                if _is_damage(exc):
                    self._repair(exc)  # raises only if it cannot; this batch is simply not kept
                else:  # full, read-only, or locked for 30 s by another process
                    log.warning("The cache %s cannot be written (%s); carrying on without it.", self.file, exc)
                    self.writable = False
                return False

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass
                self._conn = None


_OPEN: weakref.WeakSet[_Database] = weakref.WeakSet()  # so clear_cache can let go of them first
_OPEN_LOCK = threading.Lock()


def _register(db: _Database) -> _Database:
    with _OPEN_LOCK:
        _OPEN.add(db)
    return db


def _chunks(seq: list, n: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


# ------------------------------------------------------------------ features of one starting model

_FEATURES_SQL = """
CREATE TABLE IF NOT EXISTS entries (
    path BLOB NOT NULL, view INTEGER NOT NULL, seed INTEGER NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    features BLOB, bad BLOB,
    PRIMARY KEY (path, view, seed));
"""


@dataclass(frozen=True)
class Entry:
    """What the store gives back for a key: features (float32) or the reason a picture is bad."""

    identity: Identity
    value: np.ndarray | str


class FeatureStore:
    """The features of one starting model, `width` numbers per picture and view."""

    def __init__(self, file: Path, width: int) -> None:
        self.width = width
        self.db = _register(_Database(Path(file), _FEATURES_SQL))

    @property
    def file(self) -> Path:
        return self.db.file

    @property
    def writable(self) -> bool:
        return self.db.writable

    def _decode(self, features, bad) -> np.ndarray | str | None:
        """An entry as it was stored, or None for one that must be computed again."""
        if features is not None:
            if not isinstance(features, bytes) or len(features) != 4 * self.width:
                return None  # empty, cut short or of another shape
            value = np.frombuffer(features, dtype="<f4")
            if not np.isfinite(value).all():
                return None  # invalid numbers would train a model that only guesses
            return value.astype(np.float32)  # a writable copy, like the engine's own output
        if isinstance(bad, bytes) and bad:
            try:
                return bad.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None

    def get_many(self, keys: list[tuple[Key, Identity]]) -> dict[Key, np.ndarray | str]:
        """The usable entries among `keys`, each given with the file's identity now: an entry made
        from another version of the file does not match and is left out."""
        wanted = {k: ident for k, ident in keys}
        out: dict[Key, np.ndarray | str] = {}
        paths = sorted({k[0] for k in wanted})
        for chunk in _chunks(paths):
            marks = ",".join("?" * len(chunk))
            rows = self.db.read(f"SELECT path, view, seed, size, mtime_ns, features, bad FROM entries "
                                f"WHERE path IN ({marks})", tuple(chunk))
            numbers: list[tuple[Key, bytes]] = []
            for path, view, seed, size, mtime, features, bad in rows:
                key = (bytes(path), view, seed)
                if wanted.get(key) != (size, mtime):
                    continue
                if features is not None and isinstance(features, bytes) and len(features) == 4 * self.width:
                    numbers.append((key, features))  # checked below, the chunk at once
                    continue
                value = self._decode(features, bad)
                if value is not None:
                    out[key] = value
            if numbers:  # one array for the chunk: its numbers checked at once, each row copied out
                block = np.frombuffer(b"".join(f for _, f in numbers), dtype="<f4").reshape(len(numbers), self.width)
                finite = np.isfinite(block).all(axis=1)
                for (key, _), row, ok in zip(numbers, block, finite):
                    if ok:  # invalid numbers would train a model that only guesses: computed again
                        out[key] = row.astype(np.float32)  # a writable copy of its own
        return out

    def get_into(self, keys: list[tuple[Key, Identity]], out: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
        """`get_many` into the rows of `out` (row i for keys[i]), with no array per entry: returns
        which rows were filled and {row: the reason that picture is not usable}."""
        where = {k: i for i, (k, _) in enumerate(keys)}
        filled = np.zeros(len(keys), bool)
        bad: dict[int, str] = {}
        # Only the views and seeds asked for: a block of augmented views does not read the centre
        # crops of the same files too (nor a block of centre crops their augmented views).
        views, seeds = sorted({k[1] for k in where}), sorted({k[2] for k in where})
        narrow, also = "", ()
        if len(views) + len(seeds) <= CHUNK:
            narrow = f" AND view IN ({','.join('?' * len(views))}) AND seed IN ({','.join('?' * len(seeds))})"
            also = (*views, *seeds)
        for chunk in _chunks(sorted({k[0] for k in where})):
            marks = ",".join("?" * len(chunk))
            rows = self.db.read(f"SELECT path, view, seed, size, mtime_ns, features, bad FROM entries "
                                f"WHERE path IN ({marks}){narrow}", (*chunk, *also))
            at: list[int] = []
            numbers: list[bytes] = []
            for path, view, seed, size, mtime, features, reason in rows:
                i = where.get((bytes(path), view, seed))
                if i is None or keys[i][1] != (size, mtime):
                    continue
                if features is not None and isinstance(features, bytes) and len(features) == 4 * self.width:
                    at.append(i)
                    numbers.append(features)
                    continue
                value = self._decode(features, reason)
                if isinstance(value, str):
                    bad[i] = value
                elif value is not None:
                    out[i], filled[i] = value, True
            if at:  # the chunk's numbers checked at once, then written into their rows
                block = np.frombuffer(b"".join(numbers), dtype="<f4").reshape(len(at), self.width)
                finite = np.isfinite(block).all(axis=1)
                rows_ok = np.asarray(at, np.int64)[finite]
                out[rows_ok] = block[finite]
                filled[rows_ok] = True
        return filled, bad

    def put_many(self, entries: Iterable[tuple[Key, Identity, np.ndarray | str]]) -> bool:
        """Keep entries, in one durable transaction; entries with invalid numbers are not kept."""
        rows = []
        for (path, view, seed), (size, mtime), value in entries:
            if isinstance(value, str):
                rows.append((path, view, seed, size, mtime, None, value.encode("utf-8", "surrogateescape")))
                continue
            value = np.asarray(value, dtype="<f4").reshape(-1)
            if value.size != self.width or not np.isfinite(value).all():
                continue
            rows.append((path, view, seed, size, mtime, value.tobytes(), None))
        return self.db.write("INSERT OR REPLACE INTO entries (path, view, seed, size, mtime_ns, features, bad) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def count(self) -> int:
        rows = self.db.read("SELECT count(*) FROM entries")
        return rows[0][0] if rows else 0

    def close(self) -> None:
        self.db.close()


# ------------------------------------------------------------------ files the scan has checked

_PICTURES_SQL = """
CREATE TABLE IF NOT EXISTS checked (
    path BLOB PRIMARY KEY NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL, bad BLOB);
"""


def _scan_identity(path: Path) -> tuple[int, int, int]:
    # The status-change time too: a file made unreadable (chmod) keeps its size and time, and the
    # scan's verdict is about whether it can be opened, not only about what it holds.
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class CheckedFiles:
    """Which files the folder scan found to be pictures (or not, and why), by file identity, so a
    second scan of the same folder opens none of them again."""

    def __init__(self, file: Path | None = None) -> None:
        self.db = _register(_Database(Path(file) if file else features_dir() / "checked-files.sqlite3", _PICTURES_SQL))

    def verdicts(self, files: list[Path]) -> tuple[dict[Path, str | None], dict[Path, tuple]]:
        """({file: None if a picture else the reason}, {file: identity now}) for the files whose
        identity still matches; the identities are for `record` (files that cannot be stat'ed are
        left to the full check, which reports them)."""
        idents: dict[Path, tuple] = {}
        by_key: dict[bytes, Path] = {}
        for f in files:
            try:
                idents[f] = _scan_identity(f)
            except OSError:
                continue
            by_key[path_key(f)] = f
        known: dict[Path, str | None] = {}
        for chunk in _chunks(list(by_key)):
            marks = ",".join("?" * len(chunk))
            for path, size, mtime, ctime, bad in self.db.read(
                    f"SELECT path, size, mtime_ns, ctime_ns, bad FROM checked WHERE path IN ({marks})", tuple(chunk)):
                f = by_key.get(bytes(path))
                if f is None or idents.get(f) != (size, mtime, ctime):
                    continue
                try:
                    known[f] = bad.decode("utf-8") if bad else None
                except (UnicodeDecodeError, AttributeError):
                    continue
        return known, idents

    def record(self, found: dict[Path, tuple[tuple, str | None]]) -> None:
        """Keep verdicts: {file: (identity before it was checked, None or the reason)}. A file whose
        identity changed while it was checked is not kept (it is checked again next time)."""
        rows = []
        for f, (ident, bad) in found.items():
            try:
                if _scan_identity(f) != ident:
                    continue
            except OSError:
                continue
            rows.append((path_key(f), *ident, bad.encode("utf-8", "surrogateescape") if bad else None))
        self.db.write("INSERT OR REPLACE INTO checked (path, size, mtime_ns, ctime_ns, bad) VALUES (?, ?, ?, ?, ?)",
                      rows)

    def close(self) -> None:
        self.db.close()


# ------------------------------------------------------------------ clearing

@dataclass(frozen=True)
class Cleared:
    folder: Path
    bytes_freed: int
    left: list[str]  # what could not be removed, in words (e.g. a file another program holds open)


def _size(path: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def _remove_tree(folder: Path, errors: list[str]) -> None:
    def note(_fn, path, exc) -> None:
        exc = exc[1] if isinstance(exc, tuple) else exc  # onerror gives exc_info, onexc the exception
        errors.append(f"{path}: {os_error_words(exc)}")

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=note)
    else:
        shutil.rmtree(folder, onerror=note)


def clear_cache(root: Path | None = None) -> Cleared:
    """Remove every cached feature and prepared engine (the app's Help > Clear cached features).
    Safe while nothing runs in this process; another process using the cache keeps its open
    files until it ends (on Windows those files stay, and are listed in `left`)."""
    root = root or cache_dir()
    with _OPEN_LOCK:
        for db in list(_OPEN):
            db.close()
    freed, left = 0, []
    for name in ("features", "engines"):
        folder = root / name
        if not folder.exists():
            continue
        before = _size(folder)
        errors: list[str] = []
        _remove_tree(folder, errors)
        freed += before - (_size(folder) if folder.exists() else 0)
        left += errors
    return Cleared(root, freed, left)
