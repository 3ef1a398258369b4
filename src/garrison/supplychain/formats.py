"""Recognise a file's format from its bytes, whatever it is called."""

from __future__ import annotations

import struct
from typing import BinaryIO

HEAD_BYTES = 4096
TAIL_BYTES = 22 + 65535  # a zip end-of-central-directory record and its longest comment

# Formats with a scanner, and formats recognised but not scanned (reported as such).
SCANNED = (
    "pickle", "zip", "tar", "gzip", "bz2", "xz", "lzma", "zlib", "npy", "safetensors",
    "gguf", "hdf5", "onnx", "savedmodel", "json", "7z",
)  # fmt: skip
UNSCANNED = {
    "tflite": "TensorFlow Lite flatbuffer",
    "executorch": "ExecuTorch program",
    "rar": "RAR archive",
    "zstd": "Zstandard-compressed data",
    "lz4": "LZ4-compressed data",
    "coreml": "Core ML model",
    "paddle": "PaddlePaddle program",
    "protobuf": "unidentified protocol buffer",
    "elf": "native executable or shared library",
    "pe": "Windows executable or DLL",
    "macho": "Mach-O executable or library",
    "tensorrt": "TensorRT engine",
    "ggml": "GGML / GGJT model (llama.cpp before GGUF)",
}
IGNORED = ("text", "empty", "image", "unknown")
# Names that promise model weights or code. Bytes under such a name that match no format are
# reported as unscanned rather than skipped: a format Garrison does not read (GGML, msgpack,
# Torch7...) or a Git LFS pointer in place of the model would otherwise pass in silence.
MODEL_SUFFIXES = frozenset(
    {
        ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".ggml", ".onnx", ".ort",
        ".h5", ".hdf5", ".keras", ".msgpack", ".pkl", ".pickle", ".joblib", ".dill", ".npz",
        ".npy", ".tflite", ".pb", ".ot", ".mlmodel", ".pte", ".ptl", ".mar", ".nemo", ".t7",
        ".rknn", ".engine", ".plan", ".pdmodel", ".pdiparams", ".params", ".caffemodel",
        ".llamafile",
    }
)  # fmt: skip
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"

_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"GGUF", "gguf"),
    (0, b"\x93NUMPY", "npy"),
    (0, b"\x89HDF\r\n\x1a\n", "hdf5"),
    (0, b"PK\x03\x04", "zip"),
    (0, b"PK\x05\x06", "zip"),
    (0, b"\x1f\x8b", "gzip"),
    (0, b"BZh", "bz2"),
    (0, b"\xfd7zXZ\x00", "xz"),
    (0, b"7z\xbc\xaf\x27\x1c", "7z"),
    (0, b"Rar!\x1a\x07", "rar"),
    (0, b"\x28\xb5\x2f\xfd", "zstd"),
    (0, b"\x04\x22\x4d\x18", "lz4"),
    (0, b"\x7fELF", "elf"),
    (0, b"MZ", "pe"),
    (0, b"\xcf\xfa\xed\xfe", "macho"),
    (0, b"\x89PNG", "image"),
    (0, b"\xff\xd8\xff", "image"),
    (0, b"GIF8", "image"),
    (0, b"lmgg", "ggml"),  # "ggml" as a little-endian uint32, and its later revisions
    (0, b"fmgg", "ggml"),
    (0, b"tjgg", "ggml"),
    (0, b"algg", "ggml"),
    (4, b"TFL3", "tflite"),
    (4, b"ET12", "executorch"),
    (257, b"ustar", "tar"),
)


def model_suffix(name: str) -> str:
    """The name's suffix when it is one model files use, else ""."""
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > max(name.rfind("/"), name.rfind("\\")) else ""
    return suffix if suffix in MODEL_SUFFIXES else ""


def detect(stream: BinaryIO, name: str = "", size: int | None = None) -> str:
    """Return the format name of the stream (position is restored to 0)."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    return detect_head(head, name)


# Magic numbers indexed by the byte at their offset: one dict lookup instead of a scan of all.
_BY_BYTE: dict[tuple[int, int], list[tuple[int, bytes, str]]] = {}
for _entry in _MAGIC:
    _BY_BYTE.setdefault((_entry[0], _entry[1][0]), []).append(_entry)
_OFFSETS = sorted({offset for offset, _, _ in _MAGIC})


def detect_head(head: bytes, name: str = "") -> str:
    if not head:
        return "empty"
    for at in _OFFSETS:
        if at >= len(head):
            break
        for offset, magic, fmt in _BY_BYTE.get((at, head[at]), ()):
            if head.startswith(magic, offset):
                return fmt
    if _is_safetensors(head):
        return "safetensors"
    if _is_lzma_alone(head):
        return "lzma"
    from garrison.supplychain.pickle_vm import looks_like_pickle

    if looks_like_pickle(head):
        return "pickle"
    if _is_zlib(head):
        return "zlib"
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"[") and _is_text(head):
        return "json"
    from garrison.supplychain.protobuf_sniff import sniff_protobuf

    proto = sniff_protobuf(head, name)
    if proto is not None:
        return proto
    if _is_text(head):
        return "text"
    return "unknown"


def has_zip_tail(stream: BinaryIO, size: int) -> bool:
    """True when the file ends in a zip directory (zip appended to another format)."""
    if size < 22:
        return False
    start = max(0, size - TAIL_BYTES)
    stream.seek(start)
    tail = stream.read(size - start)
    stream.seek(0)
    return tail.rfind(b"PK\x05\x06") != -1


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length < (1 << 40) and head[8:9] == b"{"


def _is_lzma_alone(head: bytes) -> bool:
    # .lzma "alone" header: properties byte 0x5d, then dictionary size, then -1 or a size.
    return len(head) >= 13 and head[0] == 0x5D and head[1:3] == b"\x00\x00"


def _is_zlib(head: bytes) -> bool:
    if len(head) < 2:
        return False
    cmf, flg = head[0], head[1]
    # FDICT (a preset dictionary) is never set by the libraries that write models, and text
    # such as "x = 1" passes the header checksum with it set. A stream that then fails to
    # inflate is still zlib: the scanner reports it malformed.
    return cmf == 0x78 and (cmf * 256 + flg) % 31 == 0 and not flg & 0x20


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the head boundary is still text.
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * max(len(text), 1)
