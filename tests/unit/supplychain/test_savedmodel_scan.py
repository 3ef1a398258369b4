"""TensorFlow SavedModel scanning, on protobufs built with the wire writer (no tensorflow)."""

from __future__ import annotations

import base64
import contextlib
import json
import marshal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError, ParseError
from garrison.findings import Finding, Severity
from garrison.policy import Policy
from garrison.supplychain.formats import detect_head
from garrison.supplychain.protobuf_wire import encode_field as F
from garrison.supplychain.savedmodel_scan import scan_savedmodel

from .helpers import scan_handler

# -- building TensorFlow protos by field number (tensorflow/core/framework/*.proto) ----------


def attr(key: str, value: bytes) -> bytes:
    return F(5, F(1, key) + F(2, value))  # NodeDef.attr map entry -> AttrValue


def node(name: str, op: str, *inputs: str, attrs: bytes = b"") -> bytes:
    return F(1, name) + F(2, op) + b"".join(F(3, i) for i in inputs) + attrs


def const(name: str, value: str) -> bytes:
    tensor = F(1, 7) + F(8, value)  # dtype DT_STRING, string_val
    return node(name, "Const", attrs=attr("value", F(8, tensor)) + attr("dtype", F(6, 7)))


def function(name: str, *nodes: bytes) -> bytes:
    signature = F(1, name) + F(2, F(1, "file_prefix") + F(3, 7))
    return F(1, signature) + b"".join(F(3, n) for n in nodes)


def graph(*nodes: bytes, functions: tuple[bytes, ...] = ()) -> bytes:
    library = F(2, b"".join(F(1, f) for f in functions)) if functions else b""
    return b"".join(F(1, n) for n in nodes) + library + F(4, F(1, 1808))


def saved_model(
    graph_def: bytes, saver: bytes = b"", objects: bytes = b"", version: bool = True
) -> bytes:
    meta_info = F(4, "serve") + F(5, "2.16.1")
    meta = F(1, meta_info) + F(2, graph_def)
    if saver:
        meta += F(3, saver)
    if objects:
        meta += F(7, objects)
    return (F(1, 1) if version else b"") + F(2, meta)


def tf2_checkpoint_functions() -> tuple[bytes, ...]:
    """What tf.saved_model.save writes: traced save/restore functions with checkpoint ops."""
    save = function(
        "__inference__traced_save_142",
        const("Const", "_temp/part"),
        node("StringJoin", "StringJoin", "file_prefix", "Const:output:0"),
        node("ShardedFilename", "ShardedFilename", "StringJoin:output:0"),
        node("SaveV2", "SaveV2", "ShardedFilename:filename:0"),
        node("MergeV2Checkpoints", "MergeV2Checkpoints", "StringJoin:output:0"),
    )
    restore = function(
        "__inference__traced_restore_171", node("RestoreV2", "RestoreV2", "file_prefix")
    )
    serve = function(
        "__inference_serving_default_88",
        node("MatMul", "MatMul", "x", "w"),
        node("PrintV2", "PrintV2", "fmt", attrs=attr("output_stream", F(2, "stderr"))),
    )
    return save, restore, serve


def benign_tf2() -> bytes:
    main = graph(
        node("saver_filename", "Placeholder"),
        node("StatefulPartitionedCall_1", "StatefulPartitionedCall", "saver_filename"),
        functions=tf2_checkpoint_functions(),
    )
    saver = (
        F(1, "saver_filename:0")
        + F(2, "StatefulPartitionedCall_1:0")
        + F(3, "StatefulPartitionedCall_2")
    )
    keras_layer = json.dumps(
        {"class_name": "Dense", "config": {"name": "dense", "units": 4, "activation": "relu"}}
    )
    user = F(1, "_tf_keras_layer") + F(3, keras_layer)
    objects = F(1, F(4, user)) + F(1, F(4, F(1, "trackable_list_wrapper")))
    return saved_model(main, saver, objects)


def scan(data: bytes, name: str = "saved_model.pb") -> list[Finding]:
    return scan_handler(scan_savedmodel, data, Path("/models/m") / name, Policy())


def rules(findings: list[Finding]) -> list[tuple[str, Severity]]:
    return [(f.rule, f.severity) for f in findings]


def lambda_code() -> str:
    return base64.b64encode(marshal.dumps(compile("lambda x: x", "<m>", "eval"))).decode()


# -- benign ---------------------------------------------------------------------------------


def test_tf2_saved_model_with_checkpoint_functions_is_clean() -> None:
    data = benign_tf2()
    assert detect_head(data[:4096], "saved_model.pb") == "savedmodel"
    assert scan(data) == []


def test_tf1_saver_scope_is_clean() -> None:
    main = graph(
        const("save/Const", "model"),
        node("save/SaveV2", "SaveV2", "save/Const", "save/SaveV2/tensor_names"),
        node("save/RestoreV2", "RestoreV2", "save/Const"),
        node("save_1/MergeV2Checkpoints", "MergeV2Checkpoints", "save_1/Const"),
    )
    saver = F(1, "save/Const:0") + F(2, "save/control_dependency:0") + F(3, "save/restore_all")
    assert scan(saved_model(main, saver)) == []


def test_vocabulary_table_from_an_asset_is_low() -> None:
    main = graph(
        const("asset_path", "vocab.txt"),
        node("init_table", "InitializeTableFromTextFileV2", "hash_table", "asset_path"),
    )
    findings = scan(saved_model(main))
    assert rules(findings) == [("GA-TF-003", Severity.LOW)]
    assert "vocab.txt" in findings[0].evidence


def test_fingerprint_is_ignored() -> None:
    data = F(1, 123) + F(2, 456) + F(3, 789) + F(4, 1) + F(5, 2) + F(6, F(1, 1))
    assert scan(data, "fingerprint.pb") == []


# -- dangerous ops ----------------------------------------------------------------------------


def test_read_file_in_a_serving_function_is_high_with_its_path() -> None:
    serve = function(
        "__inference_serving_default_9",
        const("path", "/etc/passwd"),
        node("ReadFile", "ReadFile", "path:output:0"),
    )
    findings = scan(saved_model(graph(functions=(serve,))))
    assert rules(findings) == [("GA-TF-002", Severity.HIGH)]
    evidence = findings[0].evidence
    assert "ReadFile" in evidence and "/etc/passwd" in evidence
    assert "__inference_serving_default_9" in evidence


def test_write_file_in_the_main_graph_is_critical() -> None:
    main = graph(const("p", "/home/user/.bashrc"), node("w", "WriteFile", "p", "contents"))
    findings = scan(saved_model(main))
    assert rules(findings) == [("GA-TF-002", Severity.CRITICAL)]
    assert ".bashrc" in findings[0].evidence


@pytest.mark.parametrize("op", ["PyFunc", "PyFuncStateless", "EagerPyFunc", "RpcCall"])
def test_python_and_network_ops_are_critical(op: str) -> None:
    serve = function("__inference_call_5", node("n", op, "x"))
    helper = function("__inference_helper_6", node("ok", "Relu", "x"))
    findings = scan(saved_model(graph(functions=(helper, serve))))
    assert rules(findings) == [("GA-TF-001", Severity.CRITICAL)]
    assert op in findings[0].evidence


def test_checkpoint_ops_outside_checkpoint_code_are_high() -> None:
    serve = function(
        "__inference_serving_default_3", const("p", "loot"), node("s", "SaveV2", "p:output:0")
    )
    findings = scan(saved_model(graph(functions=(serve,))))
    assert rules(findings) == [("GA-TF-002", Severity.HIGH)]


def test_checkpoint_function_writing_to_an_absolute_path_is_critical() -> None:
    save = function(
        "__inference__traced_save_1", const("p", "/etc/cron.d/job"), node("s", "SaveV2", "p")
    )
    findings = scan(saved_model(graph(functions=(save,))))
    assert rules(findings) == [("GA-TF-002", Severity.CRITICAL)]
    assert "/etc/cron.d/job" in findings[0].evidence


def test_print_to_a_file_and_debug_urls_are_flagged() -> None:
    main = graph(
        node("p", "PrintV2", "x", attrs=attr("output_stream", F(2, "file:///tmp/leak"))),
        node("d", "DebugIdentityV2", "x", attrs=attr("debug_urls", F(1, F(2, "grpc://evil:1")))),
        node("quiet", "DebugIdentity", "x"),
    )
    findings = scan(saved_model(main))
    assert rules(findings) == [
        ("GA-TF-002", Severity.CRITICAL),
        ("GA-TF-001", Severity.CRITICAL),
    ]
    assert "file:///tmp/leak" in findings[0].evidence
    assert "grpc://evil:1" in findings[1].evidence


def test_table_from_an_absolute_path_is_high() -> None:
    main = graph(const("p", "/etc/shadow"), node("t", "InitializeTableFromTextFileV2", "h", "p"))
    assert rules(scan(saved_model(main))) == [("GA-TF-003", Severity.HIGH)]


def test_saved_model_without_schema_version_is_still_scanned() -> None:
    main = graph(node("r", "ReadFile", "p"))
    assert rules(scan(saved_model(main, version=False))) == [("GA-TF-002", Severity.HIGH)]


def test_frozen_graph_def_is_scanned() -> None:
    data = graph(node("input", "Placeholder"), node("r", "ReadFile", "input"))
    assert detect_head(data, "frozen.pb") == "savedmodel"
    assert rules(scan(data, "frozen.pb")) == [("GA-TF-002", Severity.HIGH)]


# -- Keras configs inside SavedModels ---------------------------------------------------------


def test_keras_lambda_in_object_graph_metadata_is_critical() -> None:
    layer = {
        "class_name": "Lambda",
        "config": {"name": "sneaky", "function": [lambda_code(), None, None],
                   "function_type": "lambda", "module": "__main__"},
    }  # fmt: skip
    objects = F(1, F(4, F(1, "_tf_keras_layer") + F(3, json.dumps(layer))))
    findings = scan(saved_model(graph(), objects=objects))
    assert rules(findings) == [("GA-KERAS-001", Severity.CRITICAL)]
    assert "'sneaky'" in findings[0].evidence


def test_keras_metadata_pb_with_lambda_is_critical() -> None:
    layer = {
        "class_name": "Lambda",
        "config": {"name": "lam", "function": {"class_name": "__tuple__",
                                               "items": [lambda_code(), None, None]},
                   "function_type": "lambda", "module": "__main__"},
    }  # fmt: skip
    root = F(3, "root") + F(4, "_tf_keras_sequential") + F(5, '{"class_name": "Sequential"}')
    child = F(2, 1) + F(3, "root.layer-0") + F(4, "_tf_keras_layer") + F(5, json.dumps(layer))
    data = F(1, root) + F(1, child)
    assert detect_head(data, "keras_metadata.pb") == "savedmodel"
    findings = scan(data, "keras_metadata.pb")
    assert rules(findings) == [("GA-KERAS-001", Severity.CRITICAL)]
    assert "root.layer-0" in findings[0].evidence


# -- robustness -------------------------------------------------------------------------------


def test_truncated_saved_model_raises_parse_error() -> None:
    data = benign_tf2()
    with pytest.raises(ParseError):
        scan(data[: len(data) - 7])


VALID = saved_model(graph(const("p", "/x"), node("r", "ReadFile", "p")))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_saved_models_only_raise_garrison_errors(data: st.DataObject) -> None:
    blob = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 6))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(GarrisonError):
        scan(bytes(blob))
