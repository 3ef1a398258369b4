"""Keras configs: Lambda layers, `__lambda__` objects anywhere, foreign modules, bytecode.

Benign models are written by keras 3 itself; malicious configs carry harmless lambdas
and are never loaded back.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import importlib.util
import io
import json
import marshal
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError, LimitExceeded, ParseError
from garrison.findings import Finding, Severity
from garrison.policy import Limits, Policy
from garrison.supplychain.context import ScanContext
from garrison.supplychain.keras_scan import marshal_strings, scan_hdf5, scan_json

os.environ.setdefault("KERAS_BACKEND", "torch")
h5py = pytest.importorskip("h5py")


def ctx_for(path: Path, policy: Policy | None = None) -> ScanContext:
    return ScanContext.for_file(path, policy or Policy())


def scan_config(config: Any, policy: Policy | None = None) -> list[Finding]:
    ctx = ctx_for(Path("/models/model.keras"), policy)
    scan_json(io.BytesIO(json.dumps(config).encode()), ctx)
    return ctx.findings


def rules(findings: list[Finding]) -> list[tuple[str, Severity]]:
    return [(f.rule, f.severity) for f in findings]


def harmless_code() -> str:
    code = compile('lambda x: __import__("os").system("echo garrison-test")', "<t>", "eval")
    return base64.b64encode(marshal.dumps(code.co_consts[0])).decode()


def keras_lambda_object() -> dict[str, Any]:
    """What keras.saving.serialize_keras_object writes for a Python lambda."""
    return {"class_name": "__lambda__", "config": {"value": [harmless_code(), None, None]}}


# -- benign models written by keras ----------------------------------------------------------


@pytest.fixture(scope="module")
def keras_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    keras = pytest.importorskip("keras")
    out = tmp_path_factory.mktemp("keras")
    seq = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Normalization(mean=[0, 0, 0, 0], variance=[1, 1, 1, 1]),
            keras.layers.Dense(3, activation="relu", kernel_regularizer=keras.regularizers.L2()),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    seq.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    inputs = keras.Input((8,), name="x")
    a = keras.layers.Dense(4)(inputs)
    b = keras.layers.Dense(4, activation=keras.activations.gelu)(inputs)
    merged = keras.layers.LayerNormalization()(keras.layers.Concatenate()([a, b]))
    func = keras.Model(inputs, merged)
    func.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.MeanSquaredError())
    lam = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    paths = {}
    for name, model in (("seq", seq), ("func", func), ("lambda", lam)):
        for ext in ("keras", "h5"):
            paths[f"{name}.{ext}"] = out / f"{name}.{ext}"
            model.save(paths[f"{name}.{ext}"])
    return paths


def scan_keras_zip(path: Path) -> list[Finding]:
    """What the zip scanner does with a .keras file: config.json and the weights file."""
    ctx = ctx_for(path)
    with zipfile.ZipFile(path) as archive:
        scan_json(io.BytesIO(archive.read("config.json")), ctx)
        scan_hdf5(io.BytesIO(archive.read("model.weights.h5")), ctx)
    return ctx.findings


def scan_h5(path: Path) -> list[Finding]:
    ctx = ctx_for(path)
    with path.open("rb") as stream:
        scan_hdf5(stream, ctx)
    return ctx.findings


@pytest.mark.parametrize("name", ["seq", "func"])
def test_models_written_by_keras_have_no_findings(keras_models: dict[str, Path], name: str) -> None:
    assert scan_keras_zip(keras_models[f"{name}.keras"]) == []
    assert scan_h5(keras_models[f"{name}.h5"]) == []


def test_keras_lambda_layer_is_critical_in_both_formats(keras_models: dict[str, Path]) -> None:
    for findings in (
        scan_keras_zip(keras_models["lambda.keras"]),
        scan_h5(keras_models["lambda.h5"]),
    ):
        assert rules(findings) == [("GA-KERAS-001", Severity.CRITICAL)]
        evidence = findings[0].evidence
        assert "'lambda' (Lambda)" in evidence
        assert "layers[1]" in evidence and "bytes, sha256" in evidence


def text_vectorization(standardize: Any) -> dict[str, Any]:
    """A Keras 3 TextVectorization layer entry, as get_config() lays it out."""
    return {
        "module": "keras.layers",
        "class_name": "TextVectorization",
        "config": {
            "name": "text_vectorization",
            "trainable": True,
            "dtype": {"module": "keras", "class_name": "DTypePolicy",
                      "config": {"name": "float32"}, "registered_name": None},
            "max_tokens": 20, "standardize": standardize, "split": "whitespace",
            "ngrams": None, "output_mode": "int", "output_sequence_length": 4,
            "pad_to_max_tokens": False, "sparse": False, "ragged": False,
            "vocabulary": ["", "[UNK]", "hello", "world"], "idf_weights": None,
            "encoding": "utf-8", "vocabulary_size": 4,
        },
        "registered_name": None,
    }  # fmt: skip


def sequential(*layers: dict[str, Any]) -> dict[str, Any]:
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": True, "layers": list(layers)},
        "registered_name": None,
    }


def test_text_vectorization_without_lambda_is_clean() -> None:
    assert scan_config(sequential(text_vectorization("lower_and_strip_punctuation"))) == []


def test_lambda_inside_text_vectorization_standardize_is_critical() -> None:
    findings = scan_config(sequential(text_vectorization(keras_lambda_object())))
    assert rules(findings) == [("GA-KERAS-002", Severity.CRITICAL)]
    evidence = findings[0].evidence
    assert "'text_vectorization' (TextVectorization)" in evidence
    assert "config.layers[0].config.standardize" in evidence
    assert "'echo garrison-test'" in evidence and "'system'" in evidence


def test_lambda_in_a_custom_activation_of_a_nested_model_is_found() -> None:
    dense = {
        "module": "keras.layers", "class_name": "Dense",
        "config": {"name": "inner_dense", "units": 2, "activation": keras_lambda_object()},
    }  # fmt: skip
    inner = sequential(dense)
    inner["config"]["name"] = "inner_model"
    findings = scan_config({"format": "layers-model", "modelTopology": sequential(inner)})
    assert rules(findings) == [("GA-KERAS-002", Severity.CRITICAL)]
    assert "'inner_dense' (Dense)" in findings[0].evidence


def test_keys_escaped_in_json_are_still_seen() -> None:
    raw = json.dumps(sequential(text_vectorization(keras_lambda_object())))
    raw = raw.replace('"class_name"', '"class\\u005fname"')
    ctx = ctx_for(Path("/m/config.json"))
    scan_json(io.BytesIO(raw.encode()), ctx)
    assert [f.rule for f in ctx.findings] == ["GA-KERAS-002"]


def legacy_lambda_config(function: Any) -> dict[str, Any]:
    """tf.keras 2 model_config with a Lambda layer (function_type 'lambda')."""
    lam = {
        "class_name": "Lambda",
        "config": {"name": "legacy_lambda", "function": function, "function_type": "lambda",
                   "module": "__main__", "output_shape": None, "output_shape_type": "raw",
                   "arguments": {}},
    }  # fmt: skip
    return {"class_name": "Sequential", "config": {"name": "seq", "layers": [lam]}}


def write_legacy_h5(path: Path, config: dict[str, Any]) -> Path:
    with h5py.File(path, "w") as h5:
        h5.attrs["keras_version"] = "2.15.0"
        h5.attrs["backend"] = "tensorflow"
        h5.attrs["model_config"] = json.dumps(config).encode()
        h5.create_group("model_weights")
    return path


def test_legacy_h5_with_lambda_written_by_h5py_is_critical(tmp_path: Path) -> None:
    path = write_legacy_h5(tmp_path / "m.h5", legacy_lambda_config([harmless_code(), None, None]))
    findings = scan_h5(path)
    assert rules(findings) == [("GA-KERAS-001", Severity.CRITICAL)]
    assert "'legacy_lambda' (Lambda)" in findings[0].evidence
    assert "HDF5 attribute model_config" in findings[0].evidence


def test_legacy_lambda_wrapped_in_a_tuple_object_is_found() -> None:
    wrapped = {"class_name": "__tuple__", "items": [harmless_code(), None, None]}
    assert rules(scan_config(legacy_lambda_config(wrapped))) == [
        ("GA-KERAS-001", Severity.CRITICAL)
    ]


@pytest.mark.parametrize(
    ("module", "class_name", "config", "severity"),
    [
        ("os", "system", {}, Severity.CRITICAL),
        ("subprocess", "Popen", {}, Severity.CRITICAL),
        ("builtins", "function", "eval", Severity.CRITICAL),
        ("builtins", "function", "print", Severity.HIGH),
        ("my_company.layers", "FancyLayer", {"name": "fancy"}, Severity.HIGH),
        ("__main__", "function", "my_activation", Severity.HIGH),
    ],
)
def test_objects_from_modules_outside_keras_are_flagged(
    module: str, class_name: str, config: Any, severity: Severity
) -> None:
    layer = {"module": module, "class_name": class_name, "config": config,
             "registered_name": None}  # fmt: skip
    findings = scan_config(sequential(layer))
    assert rules(findings) == [("GA-KERAS-003", severity)]
    assert repr(module) in findings[0].evidence


def test_keras_builtin_functions_named_under_builtins_are_fine() -> None:
    activation = {"module": "builtins", "class_name": "function", "config": "relu",
                  "registered_name": None}  # fmt: skip
    dense = {"module": "keras.layers", "class_name": "Dense",
             "config": {"name": "d", "activation": activation}}  # fmt: skip
    assert scan_config(sequential(dense)) == []


def test_lambda_layer_naming_a_function_in_os_is_critical() -> None:
    lam = {
        "class_name": "Lambda",
        "config": {"name": "l", "function": "system", "function_type": "function", "module": "os"},
    }
    findings = scan_config(sequential(lam))
    assert rules(findings) == [("GA-KERAS-003", Severity.CRITICAL)]
    assert "'system'" in findings[0].evidence


def test_bytecode_hidden_in_any_string_is_high() -> None:
    layer = {"module": "keras.layers", "class_name": "Dense",
             "config": {"name": "d", "units": 1, "notes": harmless_code()}}  # fmt: skip
    findings = scan_config(sequential(layer))
    assert rules(findings) == [("GA-KERAS-004", Severity.HIGH)]
    assert "config.layers[0].config.notes" in findings[0].evidence


def test_marshal_strings_reads_names_without_unmarshalling() -> None:
    strings = marshal_strings(base64.b64decode(harmless_code()))
    assert "system" in strings and "echo garrison-test" in strings and "__import__" in strings


# -- JSON that is not a Keras config, and failure paths --------------------------------------


def test_non_keras_json_gets_no_findings() -> None:
    hf = {"architectures": ["X"], "auto_map": {"AutoModel": "modeling_x.XModel"}}
    assert scan_config(hf) == []
    ctx = ctx_for(Path("/m/broken.json"))
    scan_json(io.BytesIO(b'{"not": "closed"'), ctx)
    assert ctx.findings == []


def test_json_lines_are_walked_line_by_line() -> None:
    lines = "\n".join(json.dumps(x) for x in (5, "s", {"a": 1}, sequential(text_vectorization(
        keras_lambda_object()))))  # fmt: skip
    ctx = ctx_for(Path("/m/data.jsonl"))
    scan_json(io.BytesIO(lines.encode()), ctx)
    assert [f.rule for f in ctx.findings] == ["GA-KERAS-002"]


def test_malformed_keras_config_raises_parse_error() -> None:
    with pytest.raises(ParseError):
        scan_json(io.BytesIO(b'{"class_name": "Sequential", '), ctx_for(Path("/m/c.json")))
    with pytest.raises(ParseError):
        scan_json(io.BytesIO(b'{"class_name": "\xff"}'), ctx_for(Path("/m/c.json")))


def test_deep_nesting_is_reported_once_and_the_rest_still_scanned() -> None:
    deep: Any = "leaf"
    for _ in range(50):
        deep = {"class_name": "Wrapper", "config": {"inner": deep}}
    policy = Policy(limits=Limits(max_json_depth=30))
    findings = scan_config(sequential(text_vectorization(keras_lambda_object()), deep), policy)
    assert sorted(f.rule for f in findings) == ["GA-KERAS-002", "GA-SCAN-001"]


def test_json_too_deep_for_the_parser_is_a_limit() -> None:
    raw = b'{"class_name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(LimitExceeded):
        scan_json(io.BytesIO(raw), ctx_for(Path("/m/c.json")))


def test_oversized_config_is_a_limit_only_when_it_could_be_keras() -> None:
    policy = Policy.model_validate({"limits": {"max_header_bytes": 1000}})
    big_keras = json.dumps(sequential(text_vectorization("x"))) + " " * 2000
    with pytest.raises(LimitExceeded):
        scan_json(io.BytesIO(big_keras.encode()), ctx_for(Path("/m/c.json"), policy))
    ctx = ctx_for(Path("/m/tokenizer.json"), policy)
    scan_json(io.BytesIO(json.dumps({"vocab": ["a"] * 1000}).encode()), ctx)
    assert ctx.findings == []


def test_weights_only_h5_has_no_findings(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "model.weights.h5", "w") as h5:
        h5.create_dataset("layers/dense/vars/0", data=[[1.0, 2.0]])
    assert scan_h5(tmp_path / "model.weights.h5") == []


def test_corrupt_h5_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(ParseError):
        scan_h5(path)


def test_h5_config_that_is_not_a_string_raises_parse_error(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "odd.h5", "w") as h5:
        h5.attrs["model_config"] = [1, 2, 3]
    with pytest.raises(ParseError):
        scan_h5(tmp_path / "odd.h5")


@pytest.mark.skipif(
    importlib.util.find_spec("garrison.supplychain.zip_scan") is None,
    reason="the zip scanner is not in this tree yet",
)
def test_keras_file_end_to_end(tmp_path: Path, keras_models: dict[str, Path]) -> None:
    from garrison.supplychain import scan_path

    source = keras_models["seq.keras"]
    path = tmp_path / "evil.keras"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"]["layers"].append(text_vectorization(keras_lambda_object()))
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    report = scan_path(path)
    assert ("GA-KERAS-002", Severity.CRITICAL) in rules(report.findings)
    assert not [f for f in scan_path(source).findings if f.severity >= Severity.MEDIUM]


BASE = sequential(text_vectorization(keras_lambda_object()))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_configs_only_raise_garrison_errors(data: st.DataObject) -> None:
    raw = bytearray(json.dumps(copy.deepcopy(BASE)).encode())
    for _ in range(data.draw(st.integers(1, 5))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(GarrisonError):
        scan_json(io.BytesIO(bytes(raw)), ctx_for(Path("/m/c.json")))


@pytest.mark.parametrize(
    ("module", "function"),
    [("keras.utils", "get_file"), ("keras.config", "enable_unsafe_deserialization")],
)
def test_keras_functions_that_bypass_safe_mode_are_high(module: str, function: str) -> None:
    """CVE-2025-8747 / CVE-2025-1550: a config naming Keras' own file or switch functions."""
    initializer = {"module": module, "class_name": "function", "config": function,
                   "registered_name": function}  # fmt: skip
    dense = {"class_name": "Dense", "config": {"units": 2, "kernel_initializer": initializer}}
    findings = scan_config(sequential(dense))
    assert rules(findings) == [("GA-KERAS-003", Severity.HIGH)]
    assert function in findings[0].evidence


def test_keras_own_activation_functions_are_not_gadgets() -> None:
    activation = {"module": "keras.activations", "class_name": "function", "config": "relu",
                  "registered_name": "relu"}  # fmt: skip
    dense = {"class_name": "Dense", "config": {"units": 2, "activation": activation}}
    assert scan_config(sequential(dense)) == []
