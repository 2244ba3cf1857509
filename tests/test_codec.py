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


class _Planted:
    """A pickle that creates a file when it is loaded: proof that something was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickled(marker, protocol):
    import pickle

    return pickle.dumps(_Planted(marker), protocol=protocol)


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_a_raw_pickle_reply_is_refused_and_never_loaded(tmp_path, protocol):
    marker = tmp_path / "unpickled"
    payload = _pickled(marker, protocol)
    with open(marker.with_suffix(".check"), "wb"):  # the pickle is live: loading it would create the marker
        pass
    with pytest.raises(codec.CodecError):
        codec.decode(payload)
    with pytest.raises(codec.CodecError):
        codec.decode(payload, resolve_handle=lambda id, name: (id, name))
    assert not marker.exists()


def test_the_planted_pickle_really_creates_its_marker_when_loaded(tmp_path):
    import pickle

    marker = tmp_path / "unpickled"
    pickle.loads(_pickled(marker, 2)).close()  # the oracle: this is what a decoder that unpickles would do
    assert marker.exists()


@pytest.mark.parametrize("tag", ["$p", "$pickle", "$P", "$o", "$b", "$x", "$", "", "p", "$tt", "$T "])
@pytest.mark.parametrize("where", ["top", "in a list", "in a dict value", "in a tuple", "in an ok reply"])
def test_json_that_smuggles_a_pickle_under_any_tag_is_refused(tmp_path, tag, where):
    import base64

    marker = tmp_path / "unpickled"
    smuggled = {tag: base64.b64encode(_pickled(marker, 2)).decode("ascii")}
    message = {
        "top": smuggled,
        "in a list": [1, smuggled],
        "in a dict value": {"$d": [["key", smuggled]]},
        "in a tuple": {"$t": [smuggled]},
        "in an ok reply": {"$d": [["ok", smuggled]]},  # how the worker's {"ok": value} crosses
    }[where]
    with pytest.raises(codec.CodecError):
        codec.decode(json.dumps(message).encode(), resolve_handle=lambda id, name: (id, name))
    assert not marker.exists()


@pytest.mark.parametrize(
    "body",
    [
        ["object", [1], "gASVAAAAAAAAAAA="],  # an object array: numpy would need pickle for it
        ["O", [1], "AAAAAAAAAAA="],
        ["V8", [1], "AAAAAAAAAAA="],
        ["float64", [1], "AAAAAAAAAAA"],  # not valid base64
        ["float64", [1], 3],
        ["float64", 1, "AAAAAAAAAAA="],
        ["float64", [-1], ""],
        ["float64", [1.0], "AAAAAAAAAAA="],
        ["float64", [True], "AAAAAAAAAAA="],
        ["float64", [1] * 33, "AAAAAAAAAAA="],
        ["float64", [1], "AAAAAAAAAAA=", "extra"],
        {"dtype": "float64"},
    ],
)
def test_arrays_that_are_not_plain_numbers_are_refused(body):
    with pytest.raises(codec.CodecError):
        codec.decode(json.dumps({"$a": body}).encode())


@pytest.mark.parametrize(
    "body",
    [["object", "AAAAAAAAAAA="], ["float64", "AAAA"], ["float64", 5], ["float64"], "float64", ["float64", "AAAAAAAAAAA"]],
)
def test_numpy_scalars_that_are_not_plain_numbers_are_refused(body):
    with pytest.raises(codec.CodecError):
        codec.decode(json.dumps({"$n": body}).encode())


@pytest.mark.parametrize(
    "payload",
    [
        b"1" * 5000,  # more digits than int() accepts: a ValueError that is not a JSONDecodeError
        b"\xff\xfe",
        json.dumps({"$d": [[{"$t": [[1]]}, 1]]}).encode(),  # a tuple key holding a list
        json.dumps({"$d": [[{"$t": [{"$d": []}]}, 1]]}).encode(),
        json.dumps({"$d": [[[1], 1]]}).encode(),
        json.dumps({"$d": [[{"$a": ["float64", [1], "AAAAAAAAAAA="]}, 1]]}).encode(),
        json.dumps({"$d": [[{"$n": ["float64", "AAAAAAAAAAA="]}, 1]]}).encode(),
        json.dumps({"$d": [[1, 2, 3]]}).encode(),
        json.dumps({"$d": [5]}).encode(),
        json.dumps({"$d": {"a": 1}}).encode(),
        json.dumps({"$t": {"a": 1}}).encode(),
        json.dumps({"$f": "1e400"}).encode(),
        json.dumps({"$f": 1.0}).encode(),
        json.dumps({"$h": [1, "Model", 3]}).encode(),
        json.dumps({"$h": ["1", "Model"]}).encode(),
        json.dumps({"$h": [1, 2]}).encode(),
        json.dumps({"$T": {"$a": ["float64", [1], "AAAAAAAAAAA="]}}).encode(),  # a tensor request from the worker
        json.dumps({"$t": [1], "$d": []}).encode(),
        json.dumps({}).encode(),
        json.dumps(2**5000).encode()[:4000],  # fewer digits than int() refuses, more bits than the codec allows
    ],
)
def test_every_malformed_message_is_a_codec_error_never_another_exception(payload):
    """The client catches CodecError only: any other exception would escape with the worker still running."""
    with pytest.raises(codec.CodecError):
        codec.decode(payload)
