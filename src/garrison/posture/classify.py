"""What a file is, from its name and first bytes: which analyser reads it, which asset it is."""

from __future__ import annotations

import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from garrison.supplychain import formats

# Formats that are model weights or programs whatever the file is called.
MODEL_FORMATS = frozenset(
    {
        "pickle", "safetensors", "gguf", "hdf5", "onnx", "savedmodel", "tflite", "executorch",
        "coreml", "paddle", "tensorrt",
    }
)  # fmt: skip
_MODEL_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".pb", ".model", ".mlmodel", ".keras", ".h5")
_DATASET_SUFFIXES = frozenset(
    {
        ".csv",
        ".tsv",
        ".jsonl",
        ".parquet",
        ".arrow",
        ".feather",
        ".tfrecord",
        ".tfrecords",
        ".npy",
        ".npz",
    }
)
# FAISS index files start with a four-character code naming the index type.
_FAISS = re.compile(rb"^I[xwBHLNP][A-Za-z0-9]{2}")
_SQLITE = b"SQLite format 3\x00"

PYTHON, NOTEBOOK, JS, GO, JVM, SHELL, DOCKERFILE, YAML, TERRAFORM, JSON, MANIFEST, TEXT = (
    "python", "notebook", "js", "go", "jvm", "shell", "dockerfile", "yaml", "terraform", "json",
    "manifest", "text",
)  # fmt: skip
_BY_SUFFIX = {
    ".py": PYTHON, ".pyw": PYTHON, ".ipynb": NOTEBOOK,
    ".js": JS, ".mjs": JS, ".cjs": JS, ".ts": JS, ".tsx": JS, ".jsx": JS, ".mts": JS,
    ".go": GO, ".java": JVM, ".kt": JVM, ".kts": JVM, ".scala": JVM,
    ".sh": SHELL, ".bash": SHELL, ".zsh": SHELL, ".mk": SHELL,
    ".yml": YAML, ".yaml": YAML, ".tf": TERRAFORM, ".json": JSON,
    ".dockerfile": DOCKERFILE,
}  # fmt: skip
_MANIFESTS = re.compile(
    r"^(?:requirements.*\.txt|constraints.*\.txt|pyproject\.toml|package\.json|go\.mod)$"
)
# Analysers whose files are reported when too large to read (GA-POST-015).
CODE_KINDS = frozenset(
    {PYTHON, NOTEBOOK, JS, GO, JVM, SHELL, DOCKERFILE, YAML, TERRAFORM, MANIFEST}
)


@dataclass(frozen=True, slots=True)
class Kind:
    analyser: str | None  # how the text is read, None: not text we analyse
    category: str | None  # model, dataset, vector-store, or None
    format: str | None  # format name of a model, dataset or store


def analyser_for(name: str, head: bytes) -> str | None:
    if _MANIFESTS.match(name):
        return MANIFEST
    if name in ("Dockerfile", "Containerfile") or name.startswith(
        ("Dockerfile.", "Containerfile.")
    ):
        return DOCKERFILE
    if name in ("Makefile", "makefile", "GNUmakefile"):
        return SHELL  # recipes are shell command lines
    suffix = PurePath(name).suffix.lower()
    kind = _BY_SUFFIX.get(suffix)
    if kind is not None:
        return kind
    if head.startswith(b"#!") and re.match(rb"#!\S*(?:/|env\s+)(?:ba|z|da)?sh\b", head):
        return SHELL
    if head.startswith(b"#!") and re.match(rb"#!\S*(?:/|env\s+)python", head):
        return PYTHON
    return None


def classify(name: str, head: bytes, path: str) -> Kind:
    """The kind of a file from its name and up to formats.HEAD_BYTES of its first bytes."""
    fmt = formats.detect_head(head, name)
    suffix = PurePath(name).suffix.lower()
    analyser = analyser_for(name, head)
    if PurePath(path).parent.name == "requirements" and suffix in (".txt", ".in"):
        analyser = MANIFEST  # requirements/base.txt, requirements/dev.in
    if fmt in ("text", "json", "empty"):
        if suffix in _DATASET_SUFFIXES and fmt != "empty":
            return Kind(analyser, "dataset", suffix[1:])
        return Kind(analyser or TEXT if fmt != "empty" else None, None, None)
    if head.startswith(b"PAR1"):
        return Kind(None, "dataset", "parquet")
    if head.startswith(b"ARROW1"):
        return Kind(None, "dataset", "arrow")
    if head.startswith(_SQLITE):
        store = "chroma" if "chroma" in name.lower() else None
        return Kind(None, "vector-store" if store else None, store)
    if _FAISS.match(head) and suffix in (".faiss", ".index", ""):
        return Kind(None, "vector-store", "faiss")
    if fmt == "npy" or (fmt == "zip" and suffix == ".npz"):
        return Kind(None, "dataset", "numpy")
    if fmt in MODEL_FORMATS:
        if fmt == "hdf5" and suffix not in (".h5", ".hdf5", ".keras", ".weights"):
            return Kind(None, "dataset", "hdf5")
        return Kind(None, "model", fmt)
    if fmt == "zip":
        model = (
            _zip_model(path) if suffix not in (".zip", ".whl", ".jar", ".docx", ".xlsx") else None
        )
        return Kind(None, "model" if model else None, model)
    if fmt == "protobuf" and suffix in _MODEL_SUFFIXES:
        return Kind(None, "model", "protobuf")
    if suffix in (".tfrecord", ".tfrecords", ".tfrec") and is_tfrecord(head):
        return Kind(None, "dataset", "tfrecord")
    return Kind(None, None, None)


def is_tfrecord(head: bytes) -> bool:
    """A TFRecord starts with a record length and its masked CRC-32C."""
    if len(head) < 12:
        return False
    length: int = struct.unpack_from("<Q", head)[0]
    crc: int = struct.unpack_from("<I", head, 8)[0]
    return 0 < length < 1 << 40 and crc == masked_crc32c(head[:8])


def masked_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def vector_store_by_name(name: str) -> str | None:
    suffix = PurePath(name).suffix.lower()
    if suffix == ".lance":
        return "lancedb"
    if suffix == ".ann":
        return "annoy"
    return None


def _zip_model(path: str) -> str | None:
    """torch or keras when a zip's member names say so (the central directory only)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()[:10_000]
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return None
    if any(n.endswith("/data.pkl") or n == "data.pkl" for n in names):
        return "pytorch"
    if "config.json" in names and any(n.endswith(".weights.h5") for n in names):
        return "keras"
    return None
