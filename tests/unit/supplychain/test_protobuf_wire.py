"""The bounded protobuf wire reader, and protobuf format sniffing by bytes."""

from __future__ import annotations

import contextlib
import io
import os
import random
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError, LimitExceeded, ParseError
from garrison.supplychain.formats import detect_head
from garrison.supplychain.protobuf_sniff import sniff_protobuf
from garrison.supplychain.protobuf_wire import (
    I32,
    I64,
    LEN,
    MAX_DEPTH,
    VARINT,
    Source,
    encode_field,
    encode_varint,
    iter_fields,
    payload,
    submessage,
    text,
)

F = encode_field


def fields_of(data: bytes) -> list[tuple[int, int, int]]:
    return [(f.number, f.wire_type, f.value) for f in iter_fields(Source(data))]


# -- reader --------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_varints_round_trip(value: int) -> None:
    assert fields_of(F(1, value)) == [(1, VARINT, value)]


def test_every_wire_type_is_read() -> None:
    data = (
        F(1, 150)
        + encode_varint(2 << 3 | I64)
        + struct.pack("<Q", 7)
        + F(3, b"hello")
        + encode_varint(4 << 3 | I32)
        + struct.pack("<I", 9)
    )
    assert fields_of(data) == [(1, VARINT, 150), (2, I64, 7), (3, LEN, 5), (4, I32, 9)]


def test_negative_int_fields_read_back_signed() -> None:
    (field,) = iter_fields(Source(F(2, -1)))
    assert field.signed == -1


def test_groups_are_skipped() -> None:
    group = encode_varint(5 << 3 | 3) + F(1, 1) + encode_varint(5 << 3 | 4)
    assert fields_of(F(1, 1) + group + F(2, b"x")) == [(1, VARINT, 1), (2, LEN, 1)]


def test_text_and_payload_of_len_fields() -> None:
    src = Source(F(1, "naïve"))
    (field,) = iter_fields(src)
    assert text(src, field) == "naïve"
    assert payload(src, field, 100) == "naïve".encode()
    with pytest.raises(LimitExceeded):
        payload(src, field, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x08", "truncated"),  # varint value missing
        (b"\x08\x80", "truncated"),  # varint cut in the middle
        (b"\x08" + b"\xff" * 10 + b"\x01", "longer than 10"),
        (b"\x08" + b"\xff" * 9 + b"\x7f", "overflows"),
        (b"\x00\x01", "field number 0"),
        (b"\x0e\x01", "wire type 6"),
        (b"\x0f\x01", "wire type 7"),
        (b"\x0a\x05abc", "claims 5 bytes"),
        (b"\x09\x01\x02", "fixed64 truncated"),
        (encode_varint(5 << 3 | 3) + F(1, 1), "not closed"),
        (encode_varint(5 << 3 | 3) + encode_varint(6 << 3 | 4), "closed by 6"),
    ],
)
def test_malformed_messages_raise_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        fields_of(data)


def test_nested_messages_past_the_depth_limit_raise() -> None:
    data = F(1, 1)
    for _ in range(MAX_DEPTH + 5):
        data = F(1, data)

    def descend(src: Source, start: int, end: int, depth: int) -> None:
        for f in iter_fields(src, start, end, depth):
            if f.wire_type == LEN:
                descend(src, f.start, f.end, depth + 1)

    with pytest.raises(LimitExceeded, match="nesting depth"):
        descend(Source(data), 0, len(data), 0)


def test_field_count_is_bounded() -> None:
    with pytest.raises(LimitExceeded, match="protobuf fields"):
        list(iter_fields(Source(F(1, 1) * 100, max_fields=50)))


def test_submessage_must_be_length_delimited() -> None:
    src = Source(F(1, 5))
    (field,) = iter_fields(src)
    with pytest.raises(ParseError):
        list(submessage(src, field, 0))


class CountingStream(io.FileIO):
    """A file that counts the bytes actually read from it."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size) or b""
        self.bytes_read += len(data)
        return data


def test_large_payloads_are_skipped_not_read(tmp_path: Path) -> None:
    """A 3 GB length-delimited field (sparse file) is stepped over by offset."""
    big = 3 * 1024**3
    header = F(1, "name") + encode_varint(2 << 3 | LEN) + encode_varint(big)
    path = tmp_path / "big.pb"
    with path.open("wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + big)
        fh.seek(0, os.SEEK_END)
        fh.write(F(3, "after"))
    stream = CountingStream(str(path), "rb")
    src = Source(stream)
    fields = list(iter_fields(src))
    stream.close()
    assert [f.number for f in fields] == [1, 2, 3]
    assert fields[1].value == big
    assert stream.bytes_read < 256 * 1024


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes_only_raise_garrison_errors(data: bytes) -> None:
    def walk(src: Source, start: int, end: int, depth: int) -> None:
        for f in iter_fields(src, start, end, depth):
            if f.wire_type == LEN and f.value:
                with contextlib.suppress(ParseError):  # not every LEN field is a message
                    walk(src, f.start, f.end, depth + 1)

    try:
        walk(Source(data), 0, len(data), 0)
        walk(Source(io.BytesIO(data)), 0, len(data), 0)
    except GarrisonError:
        pass


# -- sniffing ------------------------------------------------------------------------------


def onnx_model_bytes(**kwargs: object) -> bytes:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 64])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 64])
    w = numpy_helper.from_array(np.ones((64, 64), dtype=np.float32), "W")
    node = helper.make_node("MatMul", ["X", "W"], ["Y"])
    model = helper.make_model(helper.make_graph([node], "g", [x], [y], [w]), **kwargs)
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def saved_model_bytes() -> bytes:
    meta_info = F(1, "") + F(4, "serve") + F(5, "2.16.1") + F(6, "v2.16.1-0")
    node = F(1, "x") + F(2, "Placeholder")
    graph = F(1, node) + F(4, F(1, 1808))
    return F(1, 1) + F(2, F(1, meta_info) + F(2, graph))


def coreml_bytes() -> bytes:
    feature = F(1, "input") + F(3, F(5, F(1, 1)))
    description = F(1, feature) + F(10, F(1, "output") + F(3, b"\x2a\x00"))
    return F(1, 4) + F(2, description) + F(500, F(1, b"layers"))


def paddle_bytes() -> bytes:
    var = F(1, "x") + F(2, F(1, 7)) + F(3, 0)
    op = F(3, "feed") + F(1, F(1, "X") + F(2, "feed"))
    block = F(1, 0) + F(2, -1) + F(3, var) + F(4, op)
    return F(1, block) + F(4, F(1, 0))


def keras_metadata_bytes() -> bytes:
    node = F(3, "root") + F(4, "_tf_keras_sequential") + F(5, '{"class_name": "Sequential"}')
    return F(1, node)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (onnx_model_bytes(), "onnx"),
        (onnx_model_bytes(producer_name="pytorch", producer_version="2.13"), "onnx"),
        (saved_model_bytes(), "savedmodel"),
        (F(1, F(1, "input") + F(2, "Placeholder") + F(4, "/cpu:0")), "savedmodel"),
        (keras_metadata_bytes(), "savedmodel"),
        (coreml_bytes(), "coreml"),
        (paddle_bytes(), "paddle"),
        (F(1, "alpha") + F(2, 5) + F(3, F(1, "nested")) + F(4, "delta") + F(5, "e"), "protobuf"),
    ],
)
def test_protobuf_formats_are_recognised_by_bytes(data: bytes, fmt: str) -> None:
    assert sniff_protobuf(data, "model.bin") == fmt
    assert detect_head(data[:4096], "model.bin") == fmt


def test_onnx_head_cut_inside_a_large_tensor_is_still_onnx() -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(0).random((256, 256), np.float32), "W")
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 256])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 256])
    graph = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"])], "g", [x], [y], [w])
    data = helper.make_model(graph).SerializeToString()
    assert len(data) > 4096
    assert sniff_protobuf(data[:4096], "weights") == "onnx"


def test_fingerprint_is_known_by_name_only() -> None:
    data = F(1, 123) + F(2, 456) + F(3, 789) + F(4, 1) + F(5, 2) + F(6, F(1, 1))
    assert sniff_protobuf(data, "variables/../fingerprint.pb") == "savedmodel"
    assert sniff_protobuf(data, "other.pb") != "savedmodel"


@pytest.mark.parametrize(
    "data",
    [
        b"hello world, this is plain text\nwith lines\n",
        b"# README\n\nSome *markdown* text." * 50,
        b'{"a": 1}',
        b"\x00" * 4096,
        b"\xff" * 4096,
        b"\x0a\xff\xff\xff\x0f" + b"x" * 100,  # one LEN field claiming 4 GB in a small file
    ],
)
def test_text_and_noise_are_not_claimed(data: bytes) -> None:
    assert sniff_protobuf(data, "model.onnx") is None


def test_random_binary_is_never_claimed() -> None:
    rng = random.Random(1234)
    for size in (16, 100, 4096):
        for _ in range(1500):
            data = rng.randbytes(size)
            assert sniff_protobuf(data, "x.bin") is None, data[:32].hex()


def test_float_tensor_bytes_are_not_claimed() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float16, np.int64, np.int8):
        data = rng.standard_normal(2048).astype(dtype).tobytes()[:4096]
        assert sniff_protobuf(data, "variables.data-00000-of-00001") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from(["model.onnx", "saved_model.pb", "x"]))
def test_sniffing_never_raises(data: bytes, name: str) -> None:
    assert sniff_protobuf(data, name) in (
        None, "onnx", "savedmodel", "coreml", "paddle", "protobuf",
    )  # fmt: skip
