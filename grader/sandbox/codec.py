"""The wire format between host and worker: plain data only, nothing that can execute.

Values cross as JSON with a few tagged forms:

    tuple            {"$t": [...]}
    dict             {"$d": [[key, value], ...]}      (keys may be ints, as in {step: loss})
    ndarray          {"$a": [dtype, shape, base64]}   (numeric or bool dtypes only)
    numpy scalar     {"$n": [dtype, base64]}
    tensor request   {"$T": <ndarray form>}           (host asks the worker for a torch tensor)
    worker object    {"$h": [id, type name]}          (a handle; the object stays in the worker)
    float nan/inf    {"$f": "nan" | "inf" | "-inf"}

Messages are framed as an 8-byte big-endian length followed by the UTF-8 JSON text.

This file is imported by the worker too, so it depends on the standard library and
numpy only. The host decodes what the worker sends with `decode`, which treats the
bytes as untrusted input: sizes, depth, tags and dtypes are checked, and nothing is
ever unpickled or evaluated.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import struct
from typing import Any

import numpy as np

HEADER = struct.Struct(">Q")
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64
MAX_ITEMS = 5_000_000
ALLOWED_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128".split()
)


class CodecError(ValueError):
    """A message that is not valid plain data: too big, too deep, or of an unknown form."""


class Handle:
    """Host-side stand-in for an object that lives in the worker."""

    __slots__ = ("id", "type_name")

    def __init__(self, id: int, type_name: str) -> None:
        self.id = id
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<worker {self.type_name} #{self.id}>"


class TensorRequest:
    """An array the host wants the worker to turn into a torch tensor."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


# ---------------------------------------------------------------- encode


def to_wire(value: Any, handle_for: Any = None, depth: int = 0) -> Any:
    """Turn a value into JSON-ready data; objects that are not data go to `handle_for` (worker only)."""
    if depth > MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    if kind in (list, tuple, dict) and len(value) > MAX_ITEMS:
        raise CodecError(f"a {kind.__name__} of {len(value):,} items is more than the limit of {MAX_ITEMS:,}")
    if kind is list:
        return [to_wire(v, handle_for, depth + 1) for v in value]
    if kind is tuple:
        return {"$t": [to_wire(v, handle_for, depth + 1) for v in value]}
    if kind is dict:
        return {"$d": [[to_wire(k, handle_for, depth + 1), to_wire(v, handle_for, depth + 1)] for k, v in value.items()]}
    if kind is np.ndarray and value.dtype.name in ALLOWED_DTYPES:
        return {"$a": _array_fields(value)}
    if isinstance(value, np.generic) and kind.__module__ == "numpy" and value.dtype.name in ALLOWED_DTYPES:
        return {"$n": [value.dtype.name, base64.b64encode(np.asarray(value).tobytes()).decode("ascii")]}
    if kind is Handle:
        return {"$h": [value.id, value.type_name]}
    if kind is TensorRequest:
        return {"$T": {"$a": _array_fields(value.array)}}
    if handle_for is None:
        raise CodecError(f"cannot send a value of type {kind.__name__}")
    return handle_for(value)


def _array_fields(array: np.ndarray) -> list[Any]:
    if array.nbytes * 4 // 3 > MAX_MESSAGE_BYTES:
        raise CodecError(f"an array of {array.nbytes / 2**20:,.0f} MB is larger than the limit of {MAX_MESSAGE_BYTES // 2**20} MB")
    contiguous = np.require(array, requirements="C")  # ascontiguousarray would turn 0-d into 1-d
    if contiguous.dtype.byteorder == ">":
        contiguous = contiguous.astype(contiguous.dtype.newbyteorder("<"))
    return [contiguous.dtype.name, list(contiguous.shape), base64.b64encode(contiguous.tobytes()).decode("ascii")]


def encode(message: Any, handle_for: Any = None) -> bytes:
    """One framed message."""
    text = json.dumps(to_wire(message, handle_for), separators=(",", ":"), allow_nan=False)
    body = text.encode("utf-8")
    if len(body) > MAX_MESSAGE_BYTES:
        raise CodecError(f"message of {len(body)} bytes exceeds the limit of {MAX_MESSAGE_BYTES}")
    return HEADER.pack(len(body)) + body


# ---------------------------------------------------------------- decode


class _Budget:
    def __init__(self) -> None:
        self.items = 0

    def spend(self, n: int = 1) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise CodecError(f"message holds more than {MAX_ITEMS} values")


def from_wire(data: Any, resolve_handle: Any = None, depth: int = 0, budget: _Budget | None = None) -> Any:
    """Rebuild a value from JSON data, checking every form; `resolve_handle(id, type)` maps handles."""
    budget = budget or _Budget()
    budget.spend()
    if depth > MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
    kind = type(data)
    if data is None or kind in (bool, str, int, float):
        if kind is int and abs(data).bit_length() > 4096:
            raise CodecError("integer too large")
        return data
    if kind is list:
        return [from_wire(v, resolve_handle, depth + 1, budget) for v in data]
    if kind is not dict or len(data) != 1:
        raise CodecError(f"unexpected value form {kind.__name__}")
    ((tag, body),) = data.items()
    if tag == "$t" and type(body) is list:
        return tuple(from_wire(v, resolve_handle, depth + 1, budget) for v in body)
    if tag == "$d" and type(body) is list:
        return _dict_from_wire(body, resolve_handle, depth, budget)
    if tag == "$a":
        return _array_from_wire(body, budget)
    if tag == "$n":
        return _scalar_from_wire(body)
    if tag == "$f" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$h" and type(body) is list and len(body) == 2 and type(body[0]) is int and type(body[1]) is str:
        if resolve_handle is None:
            raise CodecError("a handle where none may be")
        return resolve_handle(body[0], body[1][:200])
    if tag == "$T" and resolve_handle is not None:
        return TensorRequest(_array_from_wire(body.get("$a") if type(body) is dict else None, budget))
    raise CodecError(f"unknown value form {tag!r}")


def _dict_from_wire(body: list[Any], resolve_handle: Any, depth: int, budget: _Budget) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for pair in body:
        if type(pair) is not list or len(pair) != 2:
            raise CodecError("malformed dict entry")
        key = from_wire(pair[0], None, depth + 1, budget)
        if (type(key) not in (str, int, float, bool, tuple) and key is not None) or not _hashable(key):
            raise CodecError("unhashable dict key")
        out[key] = from_wire(pair[1], resolve_handle, depth + 1, budget)
    return out


def _hashable(key: Any) -> bool:
    """Whether a decoded key can index a dict (a tuple may hold a list)."""
    try:
        hash(key)
    except TypeError:
        return False
    return True


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise CodecError("malformed base64 data") from None


def _array_from_wire(body: Any, budget: _Budget) -> np.ndarray:
    if type(body) is not list or len(body) != 3:
        raise CodecError("malformed array")
    dtype_name, shape, payload = body
    if dtype_name not in ALLOWED_DTYPES or type(payload) is not str:
        raise CodecError(f"array of dtype {dtype_name!r} is not allowed")
    if type(shape) is not list or len(shape) > 32 or any(type(d) is not int or d < 0 for d in shape):
        raise CodecError("malformed array shape")
    raw = _base64(payload)
    dtype = np.dtype(dtype_name)
    count = math.prod(shape)
    if count * dtype.itemsize != len(raw):
        raise CodecError("array data does not match its shape")
    budget.spend(count // 64)
    return np.frombuffer(raw, dtype=dtype).reshape(tuple(shape)).copy()


def _scalar_from_wire(body: Any) -> Any:
    if type(body) is not list or len(body) != 2 or body[0] not in ALLOWED_DTYPES or type(body[1]) is not str:
        raise CodecError("malformed numpy scalar")
    raw = _base64(body[1])
    dtype = np.dtype(body[0])
    if len(raw) != dtype.itemsize:
        raise CodecError("numpy scalar of the wrong size")
    return np.frombuffer(raw, dtype=dtype)[0]


def decode(body: bytes, resolve_handle: Any = None) -> Any:
    """Parse one message body (without its header) into plain data."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise CodecError("message too large")
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # also an integer of more digits than int() accepts
        raise CodecError(f"not a valid message: {type(error).__name__}") from None
    return from_wire(data, resolve_handle)


# ---------------------------------------------------------------- framing on file descriptors


def write_message(fd: int, frame: bytes) -> None:
    """Write a whole framed message to a file descriptor."""
    view = memoryview(frame)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int) -> bytes:
    """Read `size` bytes, or raise EOFError if the other side closed first."""
    chunks = []
    remaining = size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
