"""TensorFlow SavedModel / GraphDef protobufs: graph ops that touch files, the network or Python.

A TensorFlow model is a program: ops such as ReadFile, WriteFile, PyFunc or the tf.data
service run when a signature is called. Every node of the main graph and of every
function in the library is checked. Checkpoint ops (SaveV2, RestoreV2...) are normal in
the save/restore functions TensorFlow writes itself and are only flagged elsewhere.
Keras metadata embedded in the SavedModel (and keras_metadata.pb) goes to the Keras walker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import BinaryIO

from garrison.errors import ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain import keras_scan
from garrison.supplychain.context import ScanContext
from garrison.supplychain.onnx_scan import location_problem
from garrison.supplychain.protobuf_wire import (
    LEN,
    VARINT,
    Field,
    Source,
    iter_fields,
    parse_map_entry,
    payload,
    submessage,
    text,
)
from garrison.supplychain.rules import CODE_EXECUTION_REFS

CODE_OR_NETWORK_OP = Rule(
    "GA-TF-001",
    "TensorFlow graph runs Python code or reaches the network",
    Severity.CRITICAL,
    "The graph contains ops that call back into Python (PyFunc, EagerPyFunc) or open "
    "network connections (RPC, tf.data service, debugger URLs). They run when the model "
    "is served or called, with the caller's privileges.",
    "Do not serve this model; re-export it from reviewed source code without these ops.",
    CODE_EXECUTION_REFS,
)
FILE_OP = Rule(
    "GA-TF-002",
    "TensorFlow graph reads or writes files",
    Severity.HIGH,
    "The graph contains ops that read, list or write files (ReadFile, WriteFile, "
    "MatchingFiles, file datasets, checkpoint ops outside TensorFlow's own save/restore "
    "functions). A model can use them to leak or overwrite files on the serving host.",
    "Inspect which paths the ops use; re-export the model without file access.",
    CODE_EXECUTION_REFS,
)
TABLE_FROM_FILE = Rule(
    "GA-TF-003",
    "TensorFlow lookup table initialised from a file",
    Severity.LOW,
    "A lookup table is filled from a text file, normally a vocabulary shipped in the "
    "SavedModel's assets. It is HIGH when the path is absolute or climbs out with '..'.",
    "Check that the file is one of the model's own assets.",
    CODE_EXECUTION_REFS,
)

RULES = (CODE_OR_NETWORK_OP, FILE_OP, TABLE_FROM_FILE)

CODE_OPS = {
    "PyFunc": "calls a Python function",
    "PyFuncStateless": "calls a Python function",
    "EagerPyFunc": "calls a Python function",
}
NETWORK_OPS = frozenset(
    {
        "RpcCall", "RpcClient", "RpcServer", "RpcServerRegister", "RpcServerStart",
        "DataServiceDataset", "DataServiceDatasetV2", "DataServiceDatasetV3",
        "DataServiceDatasetV4", "RegisterDataset", "RegisterDatasetV2",
    }
)  # fmt: skip
WRITE_OPS = frozenset({"WriteFile", "DistributedSave", "SaveDataset", "SaveDatasetV2"})
READ_OPS = frozenset(
    {
        "ReadFile", "MatchingFiles", "MatchingFilesDataset", "ExperimentalMatchingFilesDataset",
        "ImmutableConst", "FixedLengthRecordDataset", "FixedLengthRecordDatasetV2",
        "CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset", "TFRecordDataset",
        "TFRecordDatasetV2", "TextLineDataset", "LMDBDataset", "ExperimentalLMDBDataset",
        "SqlDataset", "ExperimentalSqlDataset", "LoadDataset", "WholeFileReader",
        "WholeFileReaderV2", "TextLineReader", "TextLineReaderV2", "TFRecordReader",
        "TFRecordReaderV2", "FixedLengthRecordReader", "FixedLengthRecordReaderV2",
        "LMDBReader", "LoadAndRemapMatrix",
    }
)  # fmt: skip
CHECKPOINT_OPS = frozenset(
    {"Save", "SaveV2", "SaveSlices", "MergeV2Checkpoints", "Restore", "RestoreV2", "RestoreSlice"}
)
TABLE_OPS = frozenset({"InitializeTableFromTextFile", "InitializeTableFromTextFileV2"})
DEBUG_OPS = frozenset({"DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount"})

# TensorFlow's own checkpoint code: TF2 traced save/restore functions, TF1 Saver scopes.
_CHECKPOINT_FUNCTION = re.compile(r"_traced_(save|restore)(_\d+)?$")
_SAVER_SCOPE = re.compile(r"^save(_\d+)?/")
_MAX_CONSTS = 100_000
_MAX_REPORTED = 50


@dataclass(slots=True)
class _Node:
    name: str
    op: str
    inputs: list[str]
    strings: dict[str, str]  # string attributes of interest: output_stream, debug_urls...


@dataclass(slots=True)
class _Scope:
    """One graph or function: its nodes of interest and its string constants."""

    label: str
    checkpoint_function: bool
    nodes: list[_Node] = field(default_factory=list)
    consts: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Scan:
    src: Source
    ctx: ScanContext
    saver_scopes: set[str] = field(default_factory=set)
    reported: int = 0


def scan_savedmodel(stream: BinaryIO, ctx: ScanContext) -> None:
    """saved_model.pb, a frozen GraphDef, or keras_metadata.pb, told apart by structure."""
    scan = _Scan(Source(stream, max_fields=ctx.limits.max_opcodes), ctx)
    kind = _kind(scan.src)
    if kind == "savedmodel":
        for f in iter_fields(scan.src):
            if f.number == 2 and f.wire_type == LEN:
                _meta_graph(scan, f)
    elif kind == "graphdef":
        _graph_def(scan, Field(0, LEN, scan.src.size, 0, scan.src.size), 0)
    elif kind == "keras_metadata":
        _keras_metadata(scan)


def _kind(src: Source) -> str:
    first = next(iter_fields(src), None)
    if first is None:
        return "empty"
    if first.number == 2 and first.wire_type == LEN:
        return "savedmodel"  # schema version omitted: TensorFlow still loads it
    if first.wire_type == VARINT:
        # SavedModel starts with its schema version; a fingerprint.pb has only numbers.
        numbers = {f.number for f in _first_fields(src, 8)}
        return "savedmodel" if 2 in numbers else "fingerprint"
    if first.number != 1 or first.wire_type != LEN:
        raise ParseError("not a TensorFlow SavedModel, GraphDef or Keras metadata protobuf")
    inner = {f.number: f for f in _first_fields(src, 4, first)}
    if 2 in inner and inner[2].wire_type == LEN:
        return "graphdef"  # NodeDef: name = 1, op = 2
    return "keras_metadata"


def _first_fields(src: Source, n: int, parent: Field | None = None) -> list[Field]:
    fields = iter_fields(src) if parent is None else submessage(src, parent, 0)
    out: list[Field] = []
    for f in fields:
        out.append(f)
        if len(out) >= n:
            break
    return out


def _meta_graph(scan: _Scan, meta: Field) -> None:
    graphs: list[Field] = []
    for f in submessage(scan.src, meta, 1):
        if f.wire_type != LEN:
            continue
        if f.number == 3:
            _saver_def(scan, f)
        elif f.number == 2:
            graphs.append(f)  # checked after the SaverDef, which names the saver scope
        elif f.number == 7:
            _object_graph(scan, f)
    for graph in graphs:
        _graph_def(scan, graph, 2)


def _saver_def(scan: _Scan, saver: Field) -> None:
    for f in submessage(scan.src, saver, 2):
        if f.number in (1, 2, 3) and f.wire_type == LEN:
            name = text(scan.src, f, 512)
            if "/" in name:
                scan.saver_scopes.add(name.split("/", 1)[0] + "/")


def _graph_def(scan: _Scan, graph: Field, depth: int) -> None:
    main = _Scope("main graph", checkpoint_function=False)
    for f in submessage(scan.src, graph, depth):
        if f.wire_type != LEN:
            continue
        if f.number == 1:
            _node(scan, f, main, depth + 1)
        elif f.number == 2:
            for fn in submessage(scan.src, f, depth + 1):
                if fn.number == 1 and fn.wire_type == LEN:
                    _function(scan, fn, depth + 2)
    _judge(scan, main)


def _function(scan: _Scan, function: Field, depth: int) -> None:
    name = ""
    node_fields: list[Field] = []
    for f in submessage(scan.src, function, depth):
        if f.number == 1 and f.wire_type == LEN:
            for sig in submessage(scan.src, f, depth + 1):
                if sig.number == 1 and sig.wire_type == LEN:
                    name = text(scan.src, sig, 512)
        elif f.number == 3 and f.wire_type == LEN:
            node_fields.append(f)
    scope = _Scope(f"function {name!r}", bool(_CHECKPOINT_FUNCTION.search(name)))
    for f in node_fields:
        _node(scan, f, scope, depth + 1)
    _judge(scan, scope)


def _node(scan: _Scan, node: Field, scope: _Scope, depth: int) -> None:
    name = op = ""
    inputs: list[str] = []
    attrs: list[Field] = []
    for f in submessage(scan.src, node, depth):
        if f.wire_type != LEN:
            continue
        if f.number == 1:
            name = text(scan.src, f, 512)
        elif f.number == 2:
            op = text(scan.src, f, 256)
        elif f.number == 3 and len(inputs) < 4:
            inputs.append(text(scan.src, f, 512))
        elif f.number == 5:
            attrs.append(f)
    if op == "Const":
        _const(scan, name, attrs, scope, depth + 1)
    elif op in _INTERESTING:
        strings = _string_attrs(scan, attrs, depth + 1)
        scope.nodes.append(_Node(name, op, inputs, strings))


_INTERESTING = (
    set(CODE_OPS) | NETWORK_OPS | WRITE_OPS | READ_OPS | CHECKPOINT_OPS | TABLE_OPS | DEBUG_OPS
) | {"PrintV2"}


def _const(scan: _Scan, name: str, attrs: list[Field], scope: _Scope, depth: int) -> None:
    """Remember the first string of a string Const, to show the paths ops are given."""
    if len(scope.consts) >= _MAX_CONSTS:
        return
    for attr in attrs:
        key, value = parse_map_entry(scan.src, attr, depth)
        if key != "value" or value is None or value.wire_type != LEN:
            continue
        for f in submessage(scan.src, value, depth + 1):
            if f.number == 8 and f.wire_type == LEN:  # AttrValue.tensor
                string = _first_string_val(scan, f, depth + 2)
                if string is not None:
                    scope.consts[name] = string


def _first_string_val(scan: _Scan, tensor: Field, depth: int) -> str | None:
    for f in submessage(scan.src, tensor, depth):
        if f.number == 8 and f.wire_type == LEN:  # TensorProto.string_val
            return text(scan.src, f, 512)
    return None


def _string_attrs(scan: _Scan, attrs: list[Field], depth: int) -> dict[str, str]:
    """Attributes that say where an op sends data: PrintV2 output_stream, debug_urls."""
    found: dict[str, str] = {}
    for attr in attrs:
        key, value = parse_map_entry(scan.src, attr, depth)
        if key not in ("output_stream", "debug_urls") or value is None:
            continue
        strings = _attr_strings(scan, value, depth + 1)
        if strings:
            found[key] = ", ".join(strings)
    return found


def _attr_strings(scan: _Scan, value: Field, depth: int) -> list[str]:
    out: list[str] = []
    for f in submessage(scan.src, value, depth):
        if f.number == 2 and f.wire_type == LEN:  # AttrValue.s
            out.append(text(scan.src, f, 512))
        elif f.number == 1 and f.wire_type == LEN:  # AttrValue.list
            for item in submessage(scan.src, f, depth + 1):
                if item.number == 2 and item.wire_type == LEN and len(out) < 8:
                    out.append(text(scan.src, item, 512))
    return out


def _judge(scan: _Scan, scope: _Scope) -> None:
    for node in scope.nodes:
        verdict = _verdict(scan, scope, node)
        if verdict is None:
            continue
        rule, severity, what = verdict
        if scan.reported >= _MAX_REPORTED:
            return
        scan.reported += 1
        path = _path_of(scope, node)
        where = f"op {node.op} (node {node.name[:120]!r}) in {scope.label[:160]}"
        scan.ctx.add(rule, f"{where} {what}{path}", severity=severity)


Verdict = tuple[Rule, Severity | None, str]


def _verdict(scan: _Scan, scope: _Scope, node: _Node) -> Verdict | None:
    op = node.op
    if op in CODE_OPS:
        return CODE_OR_NETWORK_OP, None, CODE_OPS[op]
    if op in NETWORK_OPS:
        return CODE_OR_NETWORK_OP, None, "opens network connections"
    if op in DEBUG_OPS:
        urls = node.strings.get("debug_urls")
        return (CODE_OR_NETWORK_OP, None, f"sends tensors to {urls!r}") if urls else None
    if op == "PrintV2":
        stream = node.strings.get("output_stream", "")
        if stream.startswith("file://"):
            return FILE_OP, Severity.CRITICAL, f"writes to {stream!r}"
        return None
    if op in WRITE_OPS:
        return FILE_OP, Severity.CRITICAL, "writes files"
    if op in READ_OPS:
        return FILE_OP, None, "reads or lists files"
    if op in CHECKPOINT_OPS:
        return _checkpoint_verdict(scan, scope, node)
    if op in TABLE_OPS:
        const = _input_const(scope, node, 1)
        if const is not None and location_problem(const) not in (None, "is empty"):
            return TABLE_FROM_FILE, Severity.HIGH, "reads a file outside the model's assets"
        return TABLE_FROM_FILE, None, "reads a vocabulary file"
    return None


def _checkpoint_verdict(scan: _Scan, scope: _Scope, node: _Node) -> Verdict | None:
    standard = scope.checkpoint_function or _in_saver_scope(scan, node.name)
    prefix = _input_const(scope, node, 0)
    escapes = prefix is not None and location_problem(prefix) not in (None, "is empty")
    if standard and not escapes:
        return None
    action = "writes" if node.op.startswith(("Save", "Merge")) else "reads"
    severity = Severity.CRITICAL if action == "writes" and escapes else None
    return FILE_OP, severity, f"{action} checkpoint files outside TensorFlow's save/restore code"


def _in_saver_scope(scan: _Scan, name: str) -> bool:
    return bool(_SAVER_SCOPE.match(name)) or any(name.startswith(s) for s in scan.saver_scopes)


def _input_const(scope: _Scope, node: _Node, index: int) -> str | None:
    if index >= len(node.inputs):
        return None
    source = node.inputs[index].lstrip("^").split(":", 1)[0]
    return scope.consts.get(source)


def _path_of(scope: _Scope, node: _Node) -> str:
    index = 1 if node.op in TABLE_OPS else 0
    const = _input_const(scope, node, index)
    return f"; path constant {const[:200]!r}" if const else ""


def _object_graph(scan: _Scan, graph: Field) -> None:
    """TF2 object graph: Keras layers keep their JSON config in SavedUserObject.metadata."""
    for node in submessage(scan.src, graph, 2):
        if node.number != 1 or node.wire_type != LEN:
            continue
        for f in submessage(scan.src, node, 3):
            if f.number == 4 and f.wire_type == LEN:
                _user_object(scan, f, 4)


def _user_object(scan: _Scan, obj: Field, depth: int) -> None:
    identifier = ""
    for f in submessage(scan.src, obj, depth):
        if f.number == 1 and f.wire_type == LEN:
            identifier = text(scan.src, f, 256)
        elif f.number == 3 and f.wire_type == LEN and f.value:
            data = payload(scan.src, f, scan.ctx.limits.max_header_bytes)
            keras_scan.scan_config_bytes(data, scan.ctx, f"SavedModel object {identifier!r}")


def _keras_metadata(scan: _Scan) -> None:
    """keras_metadata.pb: one JSON config per Keras object of the SavedModel."""
    for node in iter_fields(scan.src):
        if node.number != 1 or node.wire_type != LEN:
            continue
        path = ""
        for f in submessage(scan.src, node, 0):
            if f.number == 3 and f.wire_type == LEN:
                path = text(scan.src, f, 256)
            elif f.number == 5 and f.wire_type == LEN and f.value:
                data = payload(scan.src, f, scan.ctx.limits.max_header_bytes)
                keras_scan.scan_config_bytes(data, scan.ctx, f"Keras metadata {path or 'node'}")
