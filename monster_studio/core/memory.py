"""Handing freed memory back to the system.

Features read from the store arrive one picture at a time (5 KB each), which the C library keeps in
its heap; when they are copied into one array and let go, the heap keeps the pages unless asked to
return them, and a process then holds the features twice (measured with benchmarks/scale.py: 13.5
KB a picture at 50,000 pictures, for 5 KB of features). glibc's malloc_trim returns the free pages;
elsewhere (macOS, Windows, musl) nothing is done and only the figure is higher.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

_trim = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _trim = _libc.malloc_trim
        _trim.argtypes = [ctypes.c_size_t]
        _trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc
        _trim = None


def give_back() -> bool:
    """Return the heap's free pages to the system; True when there was a way to ask."""
    if _trim is None:
        return False
    _trim(0)
    return True
