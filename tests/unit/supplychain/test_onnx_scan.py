"""ONNX scanning: external-data paths, symlinks, missing files and custom operator domains."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError, ParseError
from garrison.findings import Finding, Severity
from garrison.policy import Policy
from garrison.supplychain.context import ScanContext
from garrison.supplychain.onnx_scan import scan_onnx
from garrison.supplychain.protobuf_wire import LEN, encode_field, encode_varint

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def scan(path: Path, members: tuple[str, ...] = ()) -> list[Finding]:
    ctx = ScanContext.for_file(path, Policy())
    ctx.members = members
    with path.open("rb") as stream:
        scan_onnx(stream, ctx)
    return ctx.findings


def rules(findings: list[Finding]) -> list[tuple[str, Severity]]:
    return [(f.rule, f.severity) for f in findings]


def weight(name: str = "W", n: int = 8) -> Any:
    return numpy_helper.from_array(np.ones((n, n), dtype=np.float32), name)


def matmul_model(initializers: list[Any] | None = None, nodes: list[Any] | None = None) -> Any:
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 8])
    nodes = nodes or [helper.make_node("MatMul", ["X", "W"], ["Y"])]
    graph = helper.make_graph(nodes, "g", [x], [y], initializers or [weight()])
    return helper.make_model(graph)


def external(tensor: Any, location: str) -> Any:
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return tensor


def save(model: Any, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


# -- benign models written by the onnx library ----------------------------------------------


def test_plain_model_has_no_findings(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save_model(matmul_model(), path)
    assert scan(path) == []


def test_model_saved_with_external_data_has_no_findings(tmp_path: Path) -> None:
    model = matmul_model([weight("W", 64)])
    path = tmp_path / "model.onnx"
    onnx.save_model(
        model, path, save_as_external_data=True, location="model.onnx_data", size_threshold=0
    )
    assert (tmp_path / "model.onnx_data").exists()
    assert scan(path) == []


def test_standard_and_onnxruntime_domains_are_not_custom(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["T"]),
        helper.make_node("FusedGemm", ["T", "W"], ["U"], domain="com.microsoft"),
        helper.make_node("Normalizer", ["U"], ["Y"], domain="ai.onnx.ml"),
    ]
    assert scan(save(matmul_model(nodes=nodes), tmp_path / "m.onnx")) == []


def test_model_local_functions_are_not_custom_ops(tmp_path: Path) -> None:
    body = [helper.make_node("Relu", ["a"], ["b"])]
    function = helper.make_function(
        "pkg.onnxscript.torch_lib", "aten_relu", ["a"], ["b"], body,
        [helper.make_opsetid("", 18)],
    )  # fmt: skip
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["T"]),
        helper.make_node("aten_relu", ["T"], ["Y"], domain="pkg.onnxscript.torch_lib"),
    ]
    model = matmul_model(nodes=nodes)
    model.functions.append(function)
    assert scan(save(model, tmp_path / "m.onnx")) == []


# -- external data that leaves the directory ------------------------------------------------


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("../../etc/passwd", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:\\Windows\\win.ini", "absolute"),
        ("data\\..\\..\\secret", "'..'"),
        ("~/.ssh/id_rsa", "absolute"),
    ],
)
def test_location_escaping_the_directory_is_high(
    tmp_path: Path, location: str, problem: str
) -> None:
    model = matmul_model([external(weight(), location)])
    findings = scan(save(model, tmp_path / "m.onnx"))
    assert rules(findings) == [("GA-ONNX-001", Severity.HIGH)]
    assert location.replace("\\", "\\\\") in findings[0].evidence
    assert problem in findings[0].evidence
    assert "'W'" in findings[0].evidence


def test_symlink_to_a_file_outside_is_high(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "weights.bin").symlink_to(outside)
    findings = scan(save(matmul_model([external(weight(), "weights.bin")]), model_dir / "m.onnx"))
    assert rules(findings) == [("GA-ONNX-002", Severity.HIGH)]
    assert "secret.txt" in findings[0].evidence


def test_symlinked_directory_leading_outside_is_high(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "w.bin").write_bytes(b"\0" * 256)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "data").symlink_to(tmp_path / "elsewhere")
    model = matmul_model([external(weight(), "data/w.bin")])
    assert rules(scan(save(model, model_dir / "m.onnx"))) == [("GA-ONNX-002", Severity.HIGH)]


def test_symlink_inside_the_directory_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real.bin").write_bytes(b"\0" * 256)
    (tmp_path / "link.bin").symlink_to(tmp_path / "real.bin")
    assert scan(save(matmul_model([external(weight(), "link.bin")]), tmp_path / "m.onnx")) == []


def test_missing_external_file_is_low(tmp_path: Path) -> None:
    findings = scan(save(matmul_model([external(weight(), "gone.bin")]), tmp_path / "m.onnx"))
    assert rules(findings) == [("GA-ONNX-003", Severity.LOW)]


def test_external_tensor_without_location_is_low(tmp_path: Path) -> None:
    tensor = weight()
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    findings = scan(save(matmul_model([tensor]), tmp_path / "m.onnx"))
    assert rules(findings) == [("GA-ONNX-003", Severity.LOW)]
    assert "without a location" in findings[0].evidence


def test_disk_is_not_consulted_for_archive_members(tmp_path: Path) -> None:
    path = save(matmul_model([external(weight(), "gone.bin")]), tmp_path / "m.onnx")
    assert scan(path, members=("model.zip", "m.onnx")) == []
    bad = save(matmul_model([external(weight(), "../x")]), tmp_path / "bad.onnx")
    assert rules(scan(bad, members=("a.zip",))) == [("GA-ONNX-001", Severity.HIGH)]


def test_tensors_in_subgraphs_attributes_and_functions_are_checked(tmp_path: Path) -> None:
    then_const = helper.make_node(
        "Constant", [], ["c"], value=external(weight("then_w"), "/etc/shadow")
    )
    then_graph = helper.make_graph(
        [then_const], "then", [], [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)]
    )
    else_graph = helper.make_graph(
        [helper.make_node("Constant", [], ["c"], value=weight("else_w"))],
        "else", [], [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)],
    )  # fmt: skip
    if_node = helper.make_node(
        "If", ["cond"], ["Y"], then_branch=then_graph, else_branch=else_graph
    )
    fn_const = helper.make_node("Constant", [], ["z"], value=external(weight("fn_w"), "../fn"))
    function = helper.make_function("local", "F", [], ["z"], [fn_const], [])
    sparse = helper.make_sparse_tensor(
        external(numpy_helper.from_array(np.ones(2, np.float32), "sv"), "../../sparse"),
        numpy_helper.from_array(np.array([0, 1], np.int64), "si"),
        [4],
    )
    model = matmul_model(nodes=[if_node])
    model.graph.sparse_initializer.append(sparse)
    model.functions.append(function)
    findings = scan(save(model, tmp_path / "m.onnx"))
    evidence = " ".join(f.evidence for f in findings)
    assert {f.rule for f in findings} == {"GA-ONNX-001"}
    for name in ("then_w", "fn_w", "sv"):
        assert name in evidence


def test_many_bad_locations_are_capped(tmp_path: Path) -> None:
    tensors = [external(weight(f"w{i}"), f"/abs/{i}") for i in range(40)]
    findings = scan(save(matmul_model(tensors), tmp_path / "m.onnx"))
    assert len(findings) == 21
    assert findings[-1].rule == "GA-SCAN-001"


# -- custom operators ------------------------------------------------------------------------


def test_unknown_custom_domain_is_high_and_lists_the_ops(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["T"]),
        helper.make_node("Evil", ["T"], ["U"], domain="com.attacker"),
        helper.make_node("Worse", ["U"], ["Y"], domain="com.attacker"),
    ]
    model = matmul_model(nodes=nodes)
    model.opset_import.append(helper.make_opsetid("com.attacker", 1))
    findings = scan(save(model, tmp_path / "m.onnx"))
    assert rules(findings) == [("GA-ONNX-004", Severity.HIGH)]
    assert "'com.attacker'" in findings[0].evidence
    assert "Evil, Worse" in findings[0].evidence


def test_extension_package_domain_is_low(tmp_path: Path) -> None:
    nodes = [helper.make_node("StringRegexReplace", ["X", "W"], ["Y"], domain="ai.onnx.contrib")]
    model = matmul_model(nodes=nodes)
    model.opset_import.append(helper.make_opsetid("ai.onnx.contrib", 1))
    findings = scan(save(model, tmp_path / "m.onnx"))
    assert rules(findings) == [("GA-ONNX-005", Severity.LOW)]


# -- robustness ------------------------------------------------------------------------------


def test_huge_tensor_data_is_skipped_not_read(tmp_path: Path) -> None:
    """A 2 GB initializer (sparse file) is stepped over; only headers are read."""
    big = 2 * 1024**3
    tensor_head = encode_field(1, 1) + encode_field(2, 1) + encode_field(8, "W")
    raw_head = encode_varint(9 << 3 | LEN) + encode_varint(big)
    tensor_len = len(tensor_head) + len(raw_head) + big
    graph_head = encode_varint(5 << 3 | LEN) + encode_varint(tensor_len)
    graph_len = len(graph_head) + tensor_len
    model_head = encode_field(1, 9) + encode_varint(7 << 3 | LEN) + encode_varint(graph_len)
    path = tmp_path / "big.onnx"
    with path.open("wb") as fh:
        fh.write(model_head + graph_head + tensor_head + raw_head)
        fh.truncate(fh.tell() + big)
        fh.seek(0, os.SEEK_END)
        fh.write(encode_field(8, encode_field(1, "") + encode_field(2, 18)))
    read = 0

    class Counting(io.FileIO):
        def read(self, size: int | None = -1) -> bytes:
            nonlocal read
            data = super().read(size) or b""
            read += len(data)
            return data

    ctx = ScanContext.for_file(path, Policy())
    with Counting(str(path), "rb") as stream:
        scan_onnx(stream, ctx)
    assert ctx.findings == []
    assert read < 512 * 1024


def test_truncated_model_raises_parse_error(tmp_path: Path) -> None:
    data = matmul_model([weight("W", 32)]).SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError):
        scan(path)


VALID = matmul_model([external(weight(), "../x")]).SerializeToString()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_models_only_raise_garrison_errors(data: st.DataObject) -> None:
    blob = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 8))):
        index = data.draw(st.integers(0, len(blob) - 1))
        blob[index] = data.draw(st.integers(0, 255))
    ctx = ScanContext.for_file(Path("/nonexistent/m.onnx"), Policy())
    with contextlib.suppress(GarrisonError):
        scan_onnx(io.BytesIO(bytes(blob)), ctx)
