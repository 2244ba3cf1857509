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


# ---------------------------------------------------------------- limits, exactly where the README puts them


def nested(kind: str, levels: int):
    """A 1 inside `levels` containers of one kind (for a dict: as the value, or inside tuple keys)."""
    value = 1
    for _ in range(levels):
        value = {"list": lambda v: [v], "tuple": lambda v: (v,), "dict": lambda v: {"k": v}}[kind](value)
    return value


def nested_key(levels: int):
    """A dict whose key is a 1 inside `levels - 1` tuples (the dict itself is the first level)."""
    key = 1
    for _ in range(levels - 1):
        key = (key,)
    return {key: "value"}


def resolver(id, type_name):
    return ("handle", id, type_name)


@pytest.mark.parametrize("kind", ["list", "tuple", "dict", "dict key"])
def test_exactly_max_depth_levels_cross_and_one_more_is_refused(monkeypatch, kind):
    monkeypatch.setattr(codec, "MAX_DEPTH", 6)
    build = nested_key if kind == "dict key" else (lambda levels: nested(kind, levels))
    assert roundtrip(build(6)) == build(6)
    with pytest.raises(codec.CodecError, match="value nested deeper than 6 levels"):
        codec.encode(build(7))
    monkeypatch.setattr(codec, "MAX_DEPTH", 7)
    too_deep = codec.encode(build(7))[codec.HEADER.size:]
    monkeypatch.setattr(codec, "MAX_DEPTH", 6)
    with pytest.raises(codec.CodecError, match="value nested deeper than 6 levels"):
        codec.decode(too_deep)


def test_the_real_depth_limit_is_64_levels():
    assert roundtrip(nested("list", 64)) == nested("list", 64)
    with pytest.raises(codec.CodecError, match="deeper than 64 levels"):
        codec.encode(nested("list", 65))
    with pytest.raises(codec.CodecError, match="deeper than 64 levels"):
        codec.decode(json.dumps(nested("list", 65)).encode())


@pytest.mark.parametrize("kind", [list, tuple, dict])
def test_a_container_of_exactly_max_items_is_sent_and_one_more_is_refused(monkeypatch, kind):
    monkeypatch.setattr(codec, "MAX_ITEMS", 5)
    make = (lambda n: {i: i for i in range(n)}) if kind is dict else (lambda n: kind(range(n)))
    codec.encode(make(5))
    with pytest.raises(codec.CodecError, match=f"a {kind.__name__} of 6 items is more than the limit of 5"):
        codec.encode(make(6))


def test_the_decoder_counts_every_value_of_a_message_against_one_budget(monkeypatch):
    monkeypatch.setattr(codec, "MAX_ITEMS", 10)
    assert codec.decode(json.dumps(list(range(9))).encode()) == list(range(9))  # the list and 9 numbers: 10 values
    with pytest.raises(codec.CodecError, match="message holds more than 10 values"):
        codec.decode(json.dumps(list(range(10))).encode())
    # the budget is the message's, not each container's: 1 + 3 * (1 + 3) = 13 values
    for message in ({"$t": [[1, 2, 3]] * 3}, {"$d": [["k", [1, 2, 3]], ["l", [1, 2, 3]], ["m", [1, 2, 3]]]},
                    {"$d": [[{"$t": [1, 2, 3]}, 0], [{"$t": [4, 5, 6]}, 0], [{"$t": [7, 8, 9]}, 0]]},
                    [{"$t": [1, 2, 3]}] * 3):
        with pytest.raises(codec.CodecError, match="more than 10 values"):
            codec.decode(json.dumps(message).encode())


def test_an_array_costs_one_value_per_64_numbers(monkeypatch):
    monkeypatch.setattr(codec, "MAX_ITEMS", 2)
    wire = lambda n: json.dumps(codec.to_wire(np.zeros(n, dtype=np.uint8))).encode()  # noqa: E731
    assert codec.decode(wire(127)).shape == (127,)  # 1 + 127 // 64 = 2
    with pytest.raises(codec.CodecError):
        codec.decode(wire(128))  # 1 + 2 = 3


def test_integers_of_up_to_4096_bits_cross():
    assert codec.decode(str(2**4096 - 1).encode()) == 2**4096 - 1
    assert codec.decode(str(-(2**4096 - 1)).encode()) == -(2**4096 - 1)
    with pytest.raises(codec.CodecError, match="^integer too large$"):
        codec.decode(str(2**4096).encode())


def test_an_array_that_would_not_fit_in_a_message_is_refused_before_encoding(monkeypatch):
    monkeypatch.setattr(codec, "MAX_MESSAGE_BYTES", 300)
    assert codec._array_fields(np.zeros(225, dtype=np.uint8))[:2] == ["uint8", [225]]  # 225 bytes are 300 in base64
    with pytest.raises(codec.CodecError):
        codec._array_fields(np.zeros(226, dtype=np.uint8))
    monkeypatch.setattr(codec, "MAX_MESSAGE_BYTES", 301)
    codec._array_fields(np.zeros(226, dtype=np.uint8))  # 301.3 bytes, rounded down
    monkeypatch.setattr(codec, "MAX_MESSAGE_BYTES", 3 * 2**20)
    with pytest.raises(codec.CodecError, match=r"^an array of 3 MB is larger than the limit of 3 MB$"):
        codec.encode(np.zeros(3 * 2**20, dtype=np.uint8))


def test_messages_up_to_the_size_limit_are_sent_and_read(monkeypatch):
    frame = codec.encode(["x" * 20])
    size = len(frame) - codec.HEADER.size
    monkeypatch.setattr(codec, "MAX_MESSAGE_BYTES", size)
    assert codec.encode(["x" * 20]) == frame
    assert codec.decode(frame[codec.HEADER.size:]) == ["x" * 20]
    with pytest.raises(codec.CodecError, match=f"message of {size + 1} bytes exceeds the limit of {size}"):
        codec.encode(["x" * 21])
    with pytest.raises(codec.CodecError, match="^message too large$"):
        codec.decode(codec.encode(["x" * 20])[codec.HEADER.size:] + b" ")


# ---------------------------------------------------------------- the exact wire format


def test_a_frame_is_a_big_endian_length_and_compact_json():
    body = b'{"$d":[["a",[1,2.5,null,true]],["t",{"$t":["x"]}]]}'
    assert codec.encode({"a": [1, 2.5, None, True], "t": ("x",)}) == len(body).to_bytes(8, "big") + body
    assert codec.encode(float("-inf")) == codec.HEADER.pack(13) + b'{"$f":"-inf"}'
    assert codec.decode(b'{"$f":"-inf"}') == float("-inf")
    with pytest.raises(codec.CodecError, match="unknown value form '\\$f'"):
        codec.decode(b'{"$f":"-INF"}')


def test_big_endian_and_strided_arrays_cross_with_their_values():
    values = np.arange(12, dtype=np.float64).reshape(3, 4) * 1.5
    for array in (values.astype(">f8"), values.astype(">i4"), values[:, ::2], values.T, values.astype(">f4").T):
        back = roundtrip(array)
        assert back.dtype == array.dtype.newbyteorder("=") and back.shape == array.shape
        assert np.array_equal(back, array)
        assert back.dtype.byteorder in ("=", "<", "|")


def test_arrays_of_32_dimensions_cross_and_33_are_refused():
    assert roundtrip(np.zeros([1] * 32)).shape == (1,) * 32
    with pytest.raises(codec.CodecError, match="malformed array shape"):
        codec.decode(json.dumps({"$a": ["float64", [1] * 33, "AAAAAAAAAAA="]}).encode())


# ---------------------------------------------------------------- handles and tensor requests


def test_handles_cross_both_ways_wherever_data_may_be():
    handle = codec.Handle(7, "Model")
    assert (handle.id, handle.type_name, repr(handle)) == (7, "Model", "<worker Model #7>")
    message = [handle, (handle,), {"k": handle}]
    frame = codec.encode(message)
    resolved = ("handle", 7, "Model")
    assert codec.decode(frame[codec.HEADER.size:], resolver) == [resolved, (resolved,), {"k": resolved}]
    assert codec.decode(json.dumps({"$h": [3, "x" * 500]}).encode(), resolver) == ("handle", 3, "x" * 200)


@pytest.mark.parametrize(
    "message",
    [{"$h": [1, "M", 3]}, {"$h": ["1", "M"]}, {"$h": [1, 2]}, {"$h": [True, "M"]}, {"$h": "1 M"}, {"$x": [1, "M"]},
     {"$H": [1, "M"]}, {"$d": [[{"$h": [1, "M"]}, 1]]}],
)
def test_malformed_handles_and_handles_as_keys_are_refused_even_where_handles_may_be(message):
    with pytest.raises(codec.CodecError):
        codec.decode(json.dumps(message).encode(), resolver)


def test_without_a_handle_table_a_handle_is_refused():
    with pytest.raises(codec.CodecError, match="^a handle where none may be$"):
        codec.decode(json.dumps([{"$h": [1, "M"]}]).encode())


def test_objects_inside_containers_go_to_the_handle_table():
    made = []

    def handle_for(value):
        made.append(value)
        return {"$h": [len(made), type(value).__name__]}

    thing = object()
    wire = codec.to_wire([thing, (thing,), {"k": thing}], handle_for)
    assert wire == [{"$h": [1, "object"]}, {"$t": [{"$h": [2, "object"]}]}, {"$d": [["k", {"$h": [3, "object"]}]]}]
    frame = codec.encode({"f": thing}, handle_for)
    assert codec.decode(frame[codec.HEADER.size:], resolver) == {"f": ("handle", 4, "object")}


def test_a_tensor_request_crosses_to_the_worker_only():
    request = codec.TensorRequest(np.arange(6, dtype=np.float32).reshape(2, 3))
    frame = codec.encode({"x": request})
    assert b'"$T":{"$a":["float32",[2,3],' in frame
    back = codec.decode(frame[codec.HEADER.size:], resolver)["x"]
    assert type(back) is codec.TensorRequest
    assert back.array.dtype == np.float32 and np.array_equal(back.array, request.array)
    with pytest.raises(codec.CodecError, match="unknown value form '\\$T'"):
        codec.decode(frame[codec.HEADER.size:])  # the host never accepts one from the worker
    for body in (["float32", [1], "AAAAAA=="], {"$A": ["float32", [1], "AAAAAA=="]}, {"$a": None}, None):
        with pytest.raises(codec.CodecError, match="malformed array"):
            codec.decode(json.dumps({"$T": body}).encode(), resolver)


# ---------------------------------------------------------------- every refusal says what it refused


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ({"$d": [[1, 2, 3]]}, "malformed dict entry"),
        ({"$d": [[[1], 2]]}, "unhashable dict key"),
        ({"$a": "float64"}, "malformed array"),
        ({"$a": ["object", [1], "AA=="]}, "array of dtype 'object' is not allowed"),
        ({"$a": ["float64", [-1], ""]}, "malformed array shape"),
        ({"$a": ["float64", [2], "AAAAAAAAAAA="]}, "array data does not match its shape"),
        ({"$a": ["float64", [1], "AAAAAAAAAAA"]}, "malformed base64 data"),
        ({"$a": ["float64", [1], "AAAAAA!AAAAA="]}, "malformed base64 data"),  # not skipped over: refused
        ({"$n": ["float64", "AAAA AAAAAAA="]}, "malformed base64 data"),
        ({"$n": ["object", "AA=="]}, "malformed numpy scalar"),
        ({"$n": ["float64", "AAAA"]}, "numpy scalar of the wrong size"),
        ({"$q": 1}, "unknown value form '\\$q'"),
        ({"a": 1, "b": 2}, "unexpected value form dict"),
    ],
)
def test_each_refusal_names_what_was_wrong(message, says):
    with pytest.raises(codec.CodecError, match=f"^{says}$"):
        codec.decode(json.dumps(message).encode())


@pytest.mark.parametrize("value", [np.str_("text"), np.bytes_(b"raw"), np.datetime64("2024-01-01"), np.void(b"ab")])
def test_numpy_scalars_that_are_not_numbers_are_not_sent_as_numbers(value):
    with pytest.raises(codec.CodecError, match="^cannot send a value of type "):
        codec.encode(value)
    made = []
    codec.to_wire(value, lambda v: made.append(v) or {"$h": [1, type(v).__name__]})
    assert made == [value]  # in the worker such a value stays there, behind a handle


def test_an_invalid_message_names_the_parser_error_and_an_object_names_its_type():
    with pytest.raises(codec.CodecError, match="^not a valid message: JSONDecodeError$"):
        codec.decode(b"{")
    with pytest.raises(codec.CodecError, match="^not a valid message: UnicodeDecodeError$"):
        codec.decode(b"\xff")
    with pytest.raises(codec.CodecError, match="^cannot send a value of type set$"):
        codec.encode({1, 2})


# ---------------------------------------------------------------- framing on file descriptors


def test_a_frame_larger_than_a_pipe_is_written_and_read_whole():
    import os
    import threading

    frame = codec.encode(np.arange(300_000, dtype=np.float64))  # 3 MB: many pipe buffers, several 1 MB reads
    read_fd, write_fd = os.pipe()

    def write() -> None:
        try:
            codec.write_message(write_fd, frame)
        finally:
            os.close(write_fd)  # a writer that fails ends the reader's wait with EOF instead of hanging the test

    writer = threading.Thread(target=write)
    writer.start()
    try:
        header = codec.read_exactly(read_fd, codec.HEADER.size)
        (size,) = codec.HEADER.unpack(header)
        body = codec.read_exactly(read_fd, size)
        writer.join()
        assert header + body == frame
        assert np.array_equal(codec.decode(body), np.arange(300_000, dtype=np.float64))
        with pytest.raises(EOFError, match="^the other side closed the channel$"):
            codec.read_exactly(read_fd, 1)
    finally:
        os.close(read_fd)


def test_a_channel_closed_mid_frame_is_an_eof():
    import os

    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"12345")
    os.close(write_fd)
    try:
        with pytest.raises(EOFError):
            codec.read_exactly(read_fd, 8)
    finally:
        os.close(read_fd)
