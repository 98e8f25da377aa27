"""Writing an ONNX file without the onnx package: its protobuf messages encoded by hand, for the
few kinds a feed-forward network needs (a graph of nodes with attributes, tensors as raw bytes,
inputs and outputs with shapes, metadata). `import onnx` costs about a second of a cold process
here (its ml_dtypes extension), which is more than writing the whole file. The field numbers are
onnx.proto3's; the tests read every file written here back with onnx and its checker.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable

import numpy as np

IR_VERSION = 8  # the IR of opset 17
FLOAT, INT64 = 1, 7  # TensorProto.DataType
_ATTR_FLOAT, _ATTR_INT, _ATTR_STRING, _ATTR_INTS = 1, 2, 3, 7  # AttributeProto.AttributeType
_ELEM = {np.dtype(np.float32): FLOAT, np.dtype(np.int64): INT64}


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64: two's complement, as protobuf writes it
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _str(field: int, text: str) -> bytes:
    return _bytes(field, text.encode("utf-8"))


def _ints(field: int, values: Iterable[int]) -> bytes:  # packed
    return _bytes(field, b"".join(_varint(v) for v in values))


def tensor(name: str, array: np.ndarray) -> bytes:
    """A TensorProto holding `array` (float32 or int64) as little-endian raw bytes."""
    array = np.asarray(array)
    kind = _ELEM[array.dtype]
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return _ints(1, array.shape) + _int(2, kind) + _str(8, name) + _bytes(9, data)


def attribute(name: str, value) -> bytes:
    if isinstance(value, float):
        return _str(1, name) + _int(20, _ATTR_FLOAT) + _key(2, 5) + struct.pack("<f", value)
    if isinstance(value, int):
        return _str(1, name) + _int(20, _ATTR_INT) + _int(3, value)
    if isinstance(value, str):
        return _str(1, name) + _int(20, _ATTR_STRING) + _str(4, value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return _str(1, name) + _int(20, _ATTR_INTS) + _ints(8, value)
    raise TypeError(f"no attribute of type {type(value).__name__}")


def node(op: str, inputs: list[str], outputs: list[str], name: str, **attrs) -> bytes:
    body = b"".join(_str(1, i) for i in inputs) + b"".join(_str(2, o) for o in outputs) + _str(3, name) + _str(4, op)
    return body + b"".join(_bytes(5, attribute(k, v)) for k, v in attrs.items())


def value_info(name: str, dims: list[int | str], elem: int = FLOAT) -> bytes:
    """An input or output: its name, element type and shape (a str is a named, dynamic size)."""
    shape = b"".join(_bytes(1, _str(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    return _str(1, name) + _bytes(2, _bytes(1, _int(1, elem) + _bytes(2, shape)))


def model(nodes: list[bytes], initializers: list[bytes], inputs: list[bytes], outputs: list[bytes],
          name: str, opset: int, metadata: dict[str, str] | None = None, producer: str = "monster-studio") -> bytes:
    graph = b"".join(_bytes(1, n) for n in nodes) + _str(2, name) + b"".join(_bytes(5, t) for t in initializers) \
        + b"".join(_bytes(11, i) for i in inputs) + b"".join(_bytes(12, o) for o in outputs)
    meta = b"".join(_bytes(14, _str(1, k) + _str(2, v)) for k, v in (metadata or {}).items())
    return _int(1, IR_VERSION) + _str(2, producer) + _bytes(7, graph) + _bytes(8, _str(1, "") + _int(2, opset)) + meta
