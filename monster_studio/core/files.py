"""Writing files the user (or the cache) relies on: atomically, durably, with the permissions a
plain `open()` would give them.

`replacing(path)` writes next to the target and renames into place only once the content is
complete and on disk; any failure leaves the previous file as it was and removes the temporary
one. The temporary files alive at any moment are known, so a SIGTERM or Ctrl+C can remove them on
the way out (`remove_temporaries`, installed by the CLI and the app).
"""
from __future__ import annotations

import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

_LIVE: set[str] = set()
_LOCK = threading.Lock()
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


def _temp_name(path: Path) -> tuple[int, str]:
    # A short name: a legal long target name must not fail because of the temporary's suffix.
    fd, tmp = tempfile.mkstemp(prefix=".ms-", suffix=TEMP_SUFFIX, dir=path.parent)
    with _LOCK:
        _LIVE.add(tmp)
    return fd, tmp


def _forget(tmp: str) -> None:
    with _LOCK:
        _LIVE.discard(tmp)
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    except OSError:
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
        os.chmod(tmp, new_file_mode(path))  # mkstemp's file is private to its owner
        os.replace(tmp, path)
        with _LOCK:
            _LIVE.discard(tmp)
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
    os.close(fd)
    try:
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
    os.chmod(tmp, new_file_mode(path))
    os.replace(tmp, path)
    with _LOCK:
        _LIVE.discard(tmp)
    return path


def remove_temporaries() -> int:
    """Remove every temporary file still being written (on SIGTERM or Ctrl+C); how many."""
    with _LOCK:
        live = list(_LIVE)
        _LIVE.clear()
    for tmp in live:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return len(live)


def check_writable_folder(folder: str | os.PathLike) -> str | None:
    """Why a file cannot be written in `folder` (missing, not a folder, read-only), or None."""
    folder = Path(folder)
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ms-check-", dir=folder)
    except OSError as exc:
        from monster_studio.core.errors import os_error_words

        return f"cannot write in {folder} ({os_error_words(exc)})"
    os.close(fd)
    os.unlink(tmp)
    return None
