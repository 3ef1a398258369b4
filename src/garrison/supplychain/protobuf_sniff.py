"""Recognise protobuf model files (ONNX, TensorFlow, Core ML, Paddle) from their first bytes.

Protobuf has no magic number, so the head is parsed as wire format and matched against
the field numbers and wire types each format's top-level messages use. A field cut by
the end of the head is accepted; anything else malformed is not protobuf. The name only
breaks ties between formats whose heads look alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from garrison.errors import GarrisonError
from garrison.supplychain.protobuf_wire import I32, I64, LEN, VARINT, Field, Source, iter_fields

_HEAD_BYTES = 4096  # formats.HEAD_BYTES: a shorter head is the whole file
_MAX_FIELDS = 64  # fields examined per message: enough to decide, cheap on any head
_MAX_DEPTH = 4

# TensorFlow files recognised by name when their bytes alone are ambiguous.
_TF_NAMES = {
    "saved_model.pb": "tf.SavedModel",
    "keras_metadata.pb": "keras.SavedMetadata",
    "fingerprint.pb": "tf.Fingerprint",
}

_V, _L = frozenset({VARINT}), frozenset({LEN})
_VL = frozenset({VARINT, LEN})  # repeated scalars: packed or not


@dataclass(frozen=True, slots=True)
class _Spec:
    """What a field may hold: allowed wire types and, for LEN, what the payload is."""

    wire: frozenset[int]
    kind: str = ""  # "" (any bytes), "text", or the name of a message schema


_TEXT = _Spec(_L, "text")
_BYTES = _Spec(_L)
_INT = _Spec(_V)

Schema = dict[int, _Spec]

_SCHEMAS: dict[str, Schema] = {
    # ONNX (onnx/onnx.proto)
    "onnx.Model": {
        1: _INT, 2: _TEXT, 3: _TEXT, 4: _TEXT, 5: _INT, 6: _TEXT,
        7: _Spec(_L, "onnx.Graph"), 8: _Spec(_L, "onnx.OpsetId"),
        14: _BYTES, 20: _BYTES, 25: _BYTES, 26: _BYTES,
    },
    "onnx.Graph": {
        1: _Spec(_L, "onnx.Node"), 2: _TEXT, 5: _Spec(_L, "onnx.Tensor"), 10: _TEXT,
        11: _BYTES, 12: _BYTES, 13: _BYTES, 14: _BYTES, 15: _BYTES, 16: _BYTES,
    },
    "onnx.Node": {
        1: _TEXT, 2: _TEXT, 3: _TEXT, 4: _TEXT, 5: _BYTES, 6: _TEXT, 7: _TEXT,
        8: _TEXT, 9: _BYTES, 10: _BYTES,
    },
    "onnx.Tensor": {
        1: _Spec(_VL), 2: _INT, 3: _BYTES, 4: _Spec(frozenset({LEN, I32})), 5: _Spec(_VL),
        6: _BYTES, 7: _Spec(_VL), 8: _TEXT, 9: _BYTES, 10: _Spec(frozenset({LEN, I64})),
        11: _Spec(_VL), 12: _TEXT, 13: _BYTES, 14: _INT, 16: _BYTES,
    },
    "onnx.OpsetId": {1: _TEXT, 2: _INT},
    # TensorFlow (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto, graph.proto)
    "tf.SavedModel": {1: _INT, 2: _Spec(_L, "tf.MetaGraph")},
    "tf.MetaGraph": {
        1: _Spec(_L, "tf.MetaInfo"), 2: _Spec(_L, "tf.Graph"), 3: _BYTES, 4: _BYTES,
        5: _BYTES, 6: _BYTES, 7: _BYTES,
    },
    "tf.MetaInfo": {
        1: _TEXT, 2: _BYTES, 3: _BYTES, 4: _TEXT, 5: _TEXT, 6: _TEXT, 7: _INT, 8: _BYTES,
    },
    "tf.Graph": {1: _Spec(_L, "tf.Node"), 2: _BYTES, 3: _INT, 4: _BYTES, 5: _BYTES},
    "tf.Node": {1: _TEXT, 2: _TEXT, 3: _TEXT, 4: _TEXT, 5: _BYTES, 6: _BYTES, 7: _BYTES},
    # tf_keras/protobuf/saved_metadata.proto (keras_metadata.pb)
    "keras.SavedMetadata": {1: _Spec(_L, "keras.SavedObject")},
    "keras.SavedObject": {2: _INT, 3: _TEXT, 4: _TEXT, 5: _TEXT, 6: _BYTES},
    # tensorflow/core/protobuf/fingerprint.proto
    "tf.Fingerprint": {1: _INT, 2: _INT, 3: _INT, 4: _INT, 5: _INT, 6: _BYTES, 7: _TEXT},
    # Core ML (coremltools/mlmodel/format/Model.proto); model types are fields >= 200
    "coreml.Model": {1: _INT, 2: _Spec(_L, "coreml.Description"), 10: _INT},
    "coreml.Description": {
        1: _Spec(_L, "coreml.Feature"), 10: _Spec(_L, "coreml.Feature"), 11: _TEXT,
        12: _TEXT, 13: _Spec(_L, "coreml.Feature"), 100: _BYTES,
    },
    "coreml.Feature": {1: _TEXT, 2: _TEXT, 3: _BYTES},
    # PaddlePaddle (paddle/fluid/framework/framework.proto): ProgramDesc, BlockDesc
    "paddle.Program": {1: _Spec(_L, "paddle.Block"), 4: _BYTES, 5: _BYTES},
    "paddle.Block": {1: _INT, 2: _INT, 3: _BYTES, 4: _BYTES, 5: _INT},
}  # fmt: skip


@dataclass(slots=True)
class _Message:
    """The fields of one message as far as the head shows them."""

    fields: list[Field]
    complete: bool  # False when the message runs past the end of the head

    def first(self, number: int) -> Field | None:
        return next((f for f in self.fields if f.number == number), None)

    def numbers(self) -> list[int]:
        return [f.number for f in self.fields]


def sniff_protobuf(head: bytes, name: str = "") -> str | None:
    """The protobuf model format `head` starts, "protobuf" if unidentified, else None."""
    if len(head) < 2 or _looks_like_text(head):
        return None
    src = Source(head)
    may_continue = len(head) >= _HEAD_BYTES
    top = _read(src, 0, len(head), may_continue)
    if top is None or not top.fields:
        return None
    lower = name.lower().replace("\\", "/").rsplit("/", 1)[-1]
    for check in (_coreml, _onnx, _savedmodel, _graphdef, _keras_metadata, _paddle):
        fmt = check(src, top, lower)
        if fmt is not None:
            return fmt
    if lower in _TF_NAMES and _valid(src, top, _TF_NAMES[lower], 0):
        return "savedmodel"
    return "protobuf" if _plausible(src, top) else None


def _onnx(src: Source, top: _Message, name: str) -> str | None:
    if not _valid(src, top, "onnx.Model", 0):
        return None
    ir = top.first(1)
    has_body = any(n in (7, 8) for n in top.numbers())
    if ir is not None and 1 <= ir.value <= 100 and (has_body or top.first(2) is not None):
        return "onnx"
    return "onnx" if name.endswith(".onnx") and has_body else None


def _savedmodel(src: Source, top: _Message, name: str) -> str | None:
    version, meta = top.first(1), top.first(2)
    if version is None or meta is None or version.value > 10 or top.numbers()[0] != 1:
        return None
    if not _valid(src, top, "tf.SavedModel", 0):
        return None
    inner = _read(src, meta.start, meta.end)
    if inner is None or not inner.fields or inner.fields[0].number not in (1, 2):
        return None
    return "savedmodel"


def _graphdef(src: Source, top: _Message, name: str) -> str | None:
    """A bare GraphDef (frozen graph .pb): the same ops as a SavedModel, no wrapper."""
    node = top.fields[0]
    if node.number != 1 or node.wire_type != LEN or not _valid(src, top, "tf.Graph", 0):
        return None
    inner = _read(src, node.start, node.end)
    if inner is None or inner.numbers()[:2] != [1, 2]:
        return None
    return "savedmodel"


def _keras_metadata(src: Source, top: _Message, name: str) -> str | None:
    node = top.fields[0]
    if node.number != 1 or not _valid(src, top, "keras.SavedMetadata", 0):
        return None
    inner = _read(src, node.start, node.end)
    ident = inner.first(4) if inner is not None else None
    if ident is None or not _payload(src, ident).startswith(b"_tf_keras"):
        return None
    return "savedmodel"


def _coreml(src: Source, top: _Message, name: str) -> str | None:
    version, description = top.first(1), top.first(2)
    if version is None or description is None or not 1 <= version.value <= 100:
        return None
    known = _SCHEMAS["coreml.Model"]
    for field in top.fields:
        if field.number not in known and not (field.number >= 200 and field.wire_type == LEN):
            return None
    if description.wire_type != LEN:
        return None
    inner = _read(src, description.start, description.end)
    if inner is None or not inner.fields or not _valid(src, inner, "coreml.Description", 1):
        return None
    return "coreml"


def _paddle(src: Source, top: _Message, name: str) -> str | None:
    block = top.fields[0]
    if block.number != 1 or not _valid(src, top, "paddle.Program", 0):
        return None
    inner = _read(src, block.start, block.end)
    if inner is None or inner.numbers()[:2] != [1, 2]:
        return None
    return "paddle"


def _plausible(src: Source, top: _Message) -> bool:
    """Unidentified protobuf: several sane fields and structured payloads, not noise."""
    if len(top.fields) < 4 or any(f.number > 100 for f in top.fields):
        return False
    payloads = [f for f in top.fields if f.wire_type == LEN and f.value > 0][:_MAX_FIELDS]
    if not payloads:
        return False
    good = 0
    for field in payloads:
        data = _payload(src, field)
        inner = _read(src, field.start, field.end)
        good += _printable(data) or (inner is not None and len(inner.fields) >= 1)
    return good * 2 >= len(payloads) and good >= 2


def _read(src: Source, start: int, end: int, may_continue: bool = False) -> _Message | None:
    """The fields in [start, end); a last field cut by the head end is kept when the
    message may go on past the head (it is longer than the head, or the head is cut)."""
    cut_allowed = end > src.size or (may_continue and end >= src.size)
    fields: list[Field] = []
    try:
        for field in iter_fields(src, start, min(end, src.size)):
            fields.append(field)
            if len(fields) >= _MAX_FIELDS:
                return _Message(fields, False)
    except GarrisonError:
        resume = fields[-1].after if fields else start
        cut = _cut_field(src, resume)
        if not cut_allowed or (not cut and src.size - resume >= 11):
            return None
        return _Message(fields + cut, False)
    return _Message(fields, end <= src.size)


def _cut_field(src: Source, pos: int) -> list[Field]:
    """The LEN field at `pos` whose header is complete but whose payload the head cuts."""
    try:
        key, pos = src.varint(pos, src.size)
        number, wire = key >> 3, key & 7
        if number == 0 or wire != LEN:
            return []
        length, payload = src.varint(pos, src.size)
    except GarrisonError:
        return []
    if payload + length <= src.size:
        return []
    return [Field(number, LEN, length, payload, payload + length)]


def _valid(src: Source, msg: _Message, schema_name: str, depth: int) -> bool:
    """Every field of `msg` is allowed by the schema, recursively for known messages."""
    schema = _SCHEMAS[schema_name]
    for field in msg.fields:
        spec = schema.get(field.number)
        if spec is None or field.wire_type not in spec.wire:
            return False
        if field.wire_type == LEN and not _valid_payload(src, field, spec, depth):
            return False
    return True


def _valid_payload(src: Source, field: Field, spec: _Spec, depth: int) -> bool:
    if spec.kind == "":
        return True
    if spec.kind == "text":
        data = _payload(src, field)
        return not data or _printable(data)
    if depth >= _MAX_DEPTH:
        return True
    inner = _read(src, field.start, field.end)
    return inner is not None and _valid(src, inner, spec.kind, depth + 1)


def _payload(src: Source, field: Field, limit: int = 512) -> bytes:
    end = min(field.end, src.size, field.start + limit)
    return src.read(field.start, max(0, end - field.start))


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3  # a character cut by the head end
    return True


def _printable(data: bytes) -> bool:
    if not data or not _utf8(data):
        return False
    text = data.decode("utf-8", "ignore")
    return sum(ch.isprintable() or ch in "\t\n\r" for ch in text) >= 0.9 * len(text)


def _looks_like_text(head: bytes) -> bool:
    """Protobuf tags and lengths put control bytes near the start; text has none."""
    sample = head[:512]
    controls = sum(b < 0x20 and b not in (0x09, 0x0A, 0x0D) for b in sample)
    return controls == 0
