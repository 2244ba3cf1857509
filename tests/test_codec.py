"""The wire format: plain data round-trips; anything else, oversized or over-deep, is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader.sandbox import codec


def roundtrip(value):
    frame = codec.encode(value)
    return codec.decode(frame[codec.HEADER.size:])


@pytest.mark.parametrize(
    "value",
    [None, True, 3, -2.5, "text", [1, [2, 3]], (1, "a"), {"a": 1, 2: (3, 4)}, {"loss": {0: 1.5, 10: 0.25}}],
)
def test_plain_values_round_trip(value):
    assert roundtrip(value) == value


def test_arrays_keep_dtype_shape_and_values():
    for array in (np.arange(12, dtype=np.float32).reshape(3, 4), np.array([True, False]), np.zeros((0, 3)),
                  np.arange(6, dtype=np.uint8), np.array(2.5)):
        back = roundtrip(array)
        assert back.dtype == array.dtype and back.shape == array.shape
        assert np.array_equal(back, array)


def test_non_finite_floats_and_numpy_scalars_survive():
    back = roundtrip([float("nan"), float("inf"), np.float32(1.5), np.int64(7)])
    assert np.isnan(back[0]) and back[1] == float("inf")
    assert back[2] == np.float32(1.5) and type(back[2]) is np.float32
    assert type(back[3]) is np.int64


def test_objects_cannot_be_sent_without_a_handle_table():
    with pytest.raises(codec.CodecError):
        codec.encode({"f": lambda: 1})
    with pytest.raises(codec.CodecError):
        codec.encode(np.array([object()], dtype=object))


def test_float_subclass_crosses_as_a_plain_float():
    class Liar(float):
        def __eq__(self, other):
            return True

    # the worker's encoder only accepts exact types, so a subclass becomes a handle, never a lying float
    seen = []
    codec.to_wire(Liar(1.0), handle_for=lambda v: seen.append(v) or {"$h": [1, "Liar"]})
    assert seen and isinstance(seen[0], Liar)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        json.dumps({"$x": 1}).encode(),
        json.dumps({"$a": ["object", [1], "AA=="]}).encode(),
        json.dumps({"$a": ["float64", [4], "AAAA"]}).encode(),  # data shorter than the shape says
        json.dumps({"$h": [1, "Model"]}).encode(),  # a handle where the host expects data only
        b"[" * 10000 + b"]" * 10000,
    ],
)
def test_decoder_rejects_malformed_or_hostile_messages(payload):
    with pytest.raises(codec.CodecError):
        codec.decode(payload)


def test_decoder_rejects_deep_nesting_and_huge_item_counts(monkeypatch):
    deep = 1
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(codec.CodecError):
        codec.decode(json.dumps(deep).encode())
    monkeypatch.setattr(codec, "MAX_ITEMS", 1000)
    with pytest.raises(codec.CodecError):
        codec.decode(json.dumps(list(range(5000))).encode())
