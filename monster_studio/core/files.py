"""Writing files the user (or the cache) relies on: atomically, durably, with the permissions a
plain `open()` would give them.

`replacing(path)` writes next to the target and renames into place only once the content is
complete and on disk; any failure leaves the previous file as it was and removes the temporary
one. The temporary files alive at any moment are known, so a SIGTERM or Ctrl+C can remove them on
the way out (`remove_temporaries`, installed by the CLI and the app).
"""
from __future__ import annotations

import errno
import os
import secrets
import threading
from contextlib import contextmanager
from pathlib import Path

_LIVE: set[str] = set()
# Re-entrant: a signal handler's unwinding (SIGTERM raises SystemExit wherever the main thread is)
# may need the lock again on its way out.
_LOCK = threading.RLock()
TEMP_PREFIX = ".ms-"
TEMP_SUFFIX = ".part"


def umask() -> int:
    """The process's umask, read without changing it (os.umask() would, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _LOCK:  # no /proc (macOS, Windows): the brief change is guarded against our own threads
        old = os.umask(0o022)
        os.umask(old)
    return old


def new_file_mode(path: Path) -> int:
    """The mode an existing file has, or the one a plain open() would give a new file."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~umask()


def _in_folder(exc: OSError, folder: Path) -> OSError:
    """The error of creating a temporary file, about the folder (the user never named the
    temporary file, so a message must not show it)."""
    return OSError(exc.errno, exc.strerror, str(folder))  # OSError(errno, ...) is the right subclass


def _temp_name(path: Path) -> tuple[int, str]:
    """A new private file beside `path`, open for writing. A short name of its own: a legal long
    target name must not fail because of the temporary's suffix. The name is registered before the
    file exists, so a signal at any moment finds every temporary file there is."""
    folder = path.parent
    for _ in range(100):
        tmp = os.path.join(folder, f"{TEMP_PREFIX}{secrets.token_hex(4)}{TEMP_SUFFIX}")
        with _LOCK:
            _LIVE.add(tmp)
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except FileExistsError:
            _untrack(tmp)
            continue
        except OSError as exc:
            _untrack(tmp)
            raise _in_folder(exc, folder) from None
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


def _untrack(tmp: str) -> None:
    with _LOCK:
        _LIVE.discard(tmp)


def _forget(tmp: str) -> None:
    """Remove a temporary file, then stop tracking it (in that order: a signal in between still
    finds it in the list of files to remove)."""
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    except OSError:
        return  # still tracked: remove_temporaries tries again on the way out
    _untrack(tmp)


def _keep_group(tmp: str, path: Path) -> None:
    """A file replaced in a shared folder keeps its group where we may give it (a member of it)."""
    try:
        gid = path.stat().st_gid
        if os.stat(tmp).st_gid != gid:
            os.chown(tmp, -1, gid)
    except (OSError, AttributeError):
        pass


@contextmanager
def replacing(path: str | os.PathLike, text: bool = False, encoding: str = "utf-8",
              errors: str = "strict", newline: str | None = None, fsync: bool = True):
    """`with replacing(path) as f: f.write(...)`: the file appears complete or not at all."""
    path = Path(path)
    fd, tmp = _temp_name(path)
    try:
        f = os.fdopen(fd, "w" if text else "wb", encoding=encoding if text else None,
                      errors=errors if text else None, newline=newline if text else None)
    except BaseException:
        os.close(fd)
        _forget(tmp)
        raise
    try:
        with f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        _settle(tmp, path)
    finally:
        if tmp in _LIVE:
            _forget(tmp)


def write_bytes(path: str | os.PathLike, data: bytes, fsync: bool = True) -> Path:
    with replacing(path, fsync=fsync) as f:
        f.write(data)
    return Path(path)


@contextmanager
def temporary_beside(path: str | os.PathLike):
    """A temporary file name beside `path` for a library that writes by name (safetensors, torch,
    onnx); yields the name, and on success the caller has moved it into place with `commit`."""
    path = Path(path)
    fd, tmp = _temp_name(path)
    try:
        os.close(fd)
        yield tmp
    finally:
        if tmp in _LIVE:
            _forget(tmp)


def commit(tmp: str, path: str | os.PathLike, fsync: bool = True) -> Path:
    """Put a finished temporary file (from `temporary_beside`) in place of `path`."""
    path = Path(path)
    if fsync:
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
    _settle(tmp, path)
    return path


def _settle(tmp: str, path: Path) -> None:
    """Give a finished temporary file the mode (and group) the target has or a plain open() would
    give it, then its place."""
    os.chmod(tmp, new_file_mode(path))  # the temporary file is private to its owner
    _keep_group(tmp, path)
    os.replace(tmp, path)
    _untrack(tmp)


def remove_temporaries() -> int:
    """Remove every temporary file still being written (on SIGTERM or Ctrl+C); how many. Each one
    leaves the list only once it is gone, so a second signal during this still finds the rest."""
    with _LOCK:
        live = list(_LIVE)
    for tmp in live:
        _forget(tmp)
    return len(live)


def check_writable_folder(folder: str | os.PathLike) -> str | None:
    """Why a file cannot be written in `folder` (missing, not a folder, read-only), or None."""
    folder = Path(folder)
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        fd, tmp = _temp_name(folder / "check")  # tracked like any temporary file: a signal removes it
    except OSError as exc:
        from monster_studio.core.errors import os_error_words

        return f"cannot write in {folder} ({os_error_words(exc)})"
    try:
        os.close(fd)
    finally:
        _forget(tmp)
    return None


def name_limit(folder: Path) -> int:
    """The longest file name (in bytes) the disk holding `folder` takes."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def check_writable_file(path: str | os.PathLike) -> str | None:
    """Why a file cannot be written (or replaced) at `path`, or None: its folder as in
    `check_writable_folder`, a folder in its place, a name longer than the disk allows, or a name
    the disk refuses (a USB stick formatted FAT takes no ':' or '?'). For a target that does not
    exist yet, the name itself is tried (made and removed at once), so a long training never ends
    in a file that cannot be written."""
    path = Path(path)
    folder = path.parent
    why = check_writable_folder(folder)
    if why:
        return why
    size, limit = len(os.fsencode(path.name)), name_limit(folder)
    if size > limit:
        return f"the file name is too long ({size} bytes; this disk takes at most {limit})"
    if os.path.isdir(path):
        return f"{path} is a folder"
    if os.path.lexists(path):
        return None  # replaced by a rename in a folder that can be written: nothing more to try
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:  # made meanwhile by someone else: it will be replaced
        return None
    except OSError as exc:
        from monster_studio.core.errors import os_error_words

        return f"this disk does not take the name {path.name} ({os_error_words(exc)})"
    # Tracked only once it is ours (O_EXCL): whatever happens, no one else's file is removed.
    with _LOCK:
        _LIVE.add(str(path))
    try:
        os.close(fd)
    finally:
        _forget(str(path))
    return None
