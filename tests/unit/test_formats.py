import io
import pickle
import struct

import pytest

from garrison.supplychain.formats import detect, detect_head


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"GGUF\x03\x00\x00\x00", "gguf"),
        (b"\x93NUMPY\x01\x00", "npy"),
        (b"PK\x03\x04rest", "zip"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"BZh91AY", "bz2"),
        (b"\xfd7zXZ\x00\x00", "xz"),
        (b"7z\xbc\xaf\x27\x1c\x00", "7z"),
        (b"\x00\x00\x00\x00TFL3rest", "tflite"),
        (struct.pack("<Q", 20) + b'{"a": {"dtype": "F32"}}', "safetensors"),
        (b"", "empty"),
        (b"hello world, this is a readme\n", "text"),
        (b'{"architectures": ["LlamaForCausalLM"]}', "json"),
    ],
)
def test_formats_are_recognised_by_bytes(head: bytes, fmt: str) -> None:
    assert detect_head(head, "whatever.bin") == fmt


@pytest.mark.parametrize("protocol", range(6))
def test_pickles_of_every_protocol_are_recognised(protocol: int) -> None:
    data = pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True)}, protocol=protocol)
    assert detect(io.BytesIO(data), "model.txt") == "pickle"


def test_name_does_not_decide_the_format() -> None:
    assert detect_head(b"PK\x03\x04", "model.safetensors") == "zip"
    assert detect_head(pickle.dumps([1], protocol=4), "weights.safetensors") == "pickle"


@pytest.mark.parametrize("text", [b"x = 1\n", b'x = "models-bucket"\nresource "a" "b" {}\n'])
def test_text_that_passes_the_zlib_checksum_is_not_zlib(text: bytes) -> None:
    # 0x78 0x20 is a valid zlib header with a preset dictionary: Terraform often starts so.
    assert detect_head(text) != "zlib"


def test_real_zlib_streams_are_still_zlib() -> None:
    import zlib

    for level in (1, 6, 9):
        assert detect_head(zlib.compress(pickle.dumps({"w": [1.0] * 100}), level)) == "zlib"
