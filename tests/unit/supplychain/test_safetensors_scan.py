"""safetensors scanner: library-written files pass; layout tricks and broken headers are caught."""

from __future__ import annotations

import contextlib
import json
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError, LimitExceeded, ParseError
from garrison.findings import Finding, Severity
from garrison.policy import Policy
from garrison.supplychain import scan_path
from garrison.supplychain.safetensors_scan import DTYPE_BITS, RULES, scan_safetensors

from .helpers import scan_handler


def scan_bytes(data: bytes, policy: Policy | None = None) -> list[Finding]:
    return scan_handler(scan_safetensors, data, "model.safetensors", policy)


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def build(header: dict[str, Any] | str, data: bytes = b"") -> bytes:
    text = header if isinstance(header, str) else json.dumps(header)
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw + data


def entry(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


# -- benign ----------------------------------------------------------------------------------


def test_torch_save_file_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    tensors = {
        "f32": torch.zeros(3, 4),
        "bf16": torch.ones(5, dtype=torch.bfloat16),
        "empty": torch.zeros(0),
        "f8": torch.zeros(2, 2, dtype=torch.float8_e4m3fn),
        "f8e5": torch.zeros(3, dtype=torch.float8_e5m2),
        "bool": torch.zeros(3, dtype=torch.bool),
        "c64": torch.zeros(2, dtype=torch.complex64),
        "i64": torch.arange(7),
        "scalar": torch.tensor(1.0),
    }
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path), metadata={"format": "pt"})
    report = scan_path(path)
    assert report.findings == []
    assert [i.status for i in report.items] == ["scanned"]


def test_numpy_save_file_is_clean(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    from safetensors.numpy import save_file

    path = tmp_path / "model.safetensors"
    save_file({"x": np.zeros((2, 3), dtype=np.int64), "y": np.ones(1, np.float16)}, str(path))
    assert scan_path(path).findings == []


def test_sub_byte_dtypes_are_sized_in_bits() -> None:
    header = {"f4": entry("F4", [2, 4], 0, 4), "f6": entry("F6_E2M3", [4], 4, 7)}
    assert scan_bytes(build(header, b"\x00" * 7)) == []
    odd = {"f4": entry("F4", [3], 0, 2)}
    findings = scan_bytes(build(odd, b"\x00" * 2))
    assert rules(findings) == {"GA-SAFET-003"}
    assert "whole number of bytes" in findings[0].evidence


def test_header_padding_with_spaces_is_fine() -> None:
    assert scan_bytes(build(json.dumps({"a": entry("U8", [2], 0, 2)}) + "    ", b"ab")) == []


def test_every_dtype_of_the_reference_library_is_known() -> None:
    for dtype in ("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                  "I32", "U32", "F32", "F64", "I64", "U64", "C64", "F4", "F8_E8M0"):  # fmt: skip
        assert dtype in DTYPE_BITS


# -- layout tricks ---------------------------------------------------------------------------


def test_overlapping_tensors_are_high_and_named() -> None:
    header = {"a": entry("F32", [4], 0, 16), "b": entry("F32", [2], 8, 16)}
    findings = scan_bytes(build(header, b"\x00" * 16))
    assert rules(findings) == {"GA-SAFET-001"}
    assert findings[0].severity is Severity.HIGH
    assert "'b' [8, 16] overlaps 'a'" in findings[0].evidence
    assert findings[0].location.offset == 8


def test_identical_ranges_overlap() -> None:
    header = {"a": entry("U8", [4], 0, 4), "b": entry("U8", [4], 0, 4)}
    assert rules(scan_bytes(build(header, b"\x00" * 4))) == {"GA-SAFET-001"}


def test_empty_tensors_do_not_overlap() -> None:
    header = {"a": entry("U8", [4], 0, 4), "b": entry("U8", [0], 2, 2), "c": entry("U8", [0], 4, 4)}
    assert scan_bytes(build(header, b"\x00" * 4)) == []


def test_gaps_and_trailing_bytes_are_low() -> None:
    header = {"a": entry("U8", [4], 0, 4), "b": entry("U8", [4], 8, 12)}
    findings = scan_bytes(build(header, b"\x00" * 12 + b"PAYLOAD"))
    assert rules(findings) == {"GA-SAFET-004"}
    assert findings[0].severity is Severity.LOW
    assert findings[0].evidence == "4 bytes between tensors, 7 bytes after the last tensor"


def test_duplicate_tensor_keys_are_high() -> None:
    first, second = json.dumps(entry("U8", [2], 0, 2)), json.dumps(entry("U8", [2], 2, 4))
    text = f'{{"w": {first}, "w": {second}}}'
    findings = scan_bytes(build(text, b"\x00" * 4))
    assert "GA-SAFET-002" in rules(findings)
    dup = next(f for f in findings if f.rule == "GA-SAFET-002")
    assert dup.severity is Severity.HIGH
    assert "'w'" in dup.evidence


def test_duplicate_field_inside_an_entry_is_high() -> None:
    text = '{"w": {"dtype": "U8", "dtype": "F32", "shape": [1], "data_offsets": [0, 1]}}'
    assert "GA-SAFET-002" in rules(scan_bytes(build(text, b"\x00")))


@pytest.mark.parametrize(
    "tensor, fragment",
    [
        (entry("Q4", [2], 0, 2), "unknown dtype"),
        (entry("F32", [-1], 0, 4), "shape"),
        (entry("F32", [True], 0, 4), "shape"),
        (entry("F32", [1], 4, 0), "outside"),
        (entry("F32", [1], 0, 400), "outside"),
        (entry("F32", [2], 0, 4), "needs 8 bytes"),
        (entry("F32", [2**40, 2**40, 2**40], 0, 4), "too large"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "extra": "x"}, "fields"),
        ({"dtype": "F32", "shape": [1]}, "fields"),
        ("not-an-object", "not an object"),
    ],
)
def test_invalid_entries_are_high(tensor: Any, fragment: str) -> None:
    findings = scan_bytes(build({"t": tensor}, b"\x00" * 4))
    assert rules(findings) == {"GA-SAFET-003"}
    assert findings[0].severity is Severity.HIGH
    assert fragment in findings[0].evidence


def test_non_string_metadata_is_invalid() -> None:
    findings = scan_bytes(build({"__metadata__": {"format": 1}}))
    assert rules(findings) == {"GA-SAFET-003"}


# -- failure paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x10\x00", "shorter than"),
        (struct.pack("<Q", 100) + b"{}", "past the end"),
        (build("[1, 2]"), "does not start with"),
        (build(' {"a": 1}'), "does not start with"),
        (build("{not json"), "not valid JSON"),
        (build('{"a": NaN}'), "not valid JSON"),
        (build('{"a": 1} trailing'), "not valid JSON"),
        (struct.pack("<Q", 3) + b"{\xff}", "not UTF-8"),
        (build("{" + '"a":' * 1 + "[" * 100_000 + "]" * 100_000 + "}"), "nested too deeply"),
    ],
)
def test_malformed_headers_are_high(data: bytes, message: str) -> None:
    if len(data) < 8:
        with pytest.raises(ParseError, match=message):
            scan_bytes(data)
        return
    findings = scan_bytes(data)
    assert rules(findings) == {"GA-SAFET-005"}
    assert findings[0].severity is Severity.HIGH
    assert message in findings[0].evidence


def test_header_over_the_limit_raises_limit_exceeded() -> None:
    policy = Policy.model_validate({"limits": {"max_header_bytes": 64}})
    with pytest.raises(LimitExceeded):
        scan_bytes(build({"a" * 100: entry("U8", [1], 0, 1)}, b"\x00"), policy)


def test_truncated_header_is_a_finding_through_dispatch(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(build({"a": entry("F32", [1024], 0, 4096)}, b"\x00" * 4096)[:40])
    findings = scan_path(path).findings
    assert rules(findings) == {"GA-SAFET-005"}


def test_truncated_data_is_an_invalid_entry(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(build({"a": entry("F32", [1024], 0, 4096)}, b"\x00" * 4096)[:500])
    findings = scan_path(path).findings
    assert rules(findings) == {"GA-SAFET-003"}
    assert "outside" in findings[0].evidence


def test_large_header_scans_quickly() -> None:
    header = {f"layer.{i}.weight": entry("F16", [4, 4], 32 * i, 32 * i + 32) for i in range(20_000)}
    data = build(header)
    # A sparse tail stands in for the tensor bytes; they are never read.
    stream_data = data + b"\x00" * (32 * 20_000)
    start = time.perf_counter()
    assert scan_bytes(stream_data) == []
    assert time.perf_counter() - start < 30  # a hang guard; speed is measured in benchmarks/


def test_rules_are_exported() -> None:
    assert {r.id for r in RULES} == {
        "GA-SAFET-001",
        "GA-SAFET-002",
        "GA-SAFET-003",
        "GA-SAFET-004",
        "GA-SAFET-005",
    }


# -- properties ------------------------------------------------------------------------------


_SEED = build({"__metadata__": {"format": "pt"}, "a": entry("F32", [2], 0, 8),
               "b": entry("U8", [4], 8, 12)}, b"\x00" * 12)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flips=st.lists(st.tuples(st.integers(0, len(_SEED) - 1), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, len(_SEED)),
)
def test_mutated_files_never_raise_anything_but_garrison_errors(
    flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(_SEED)
    for index, value in flips:
        data[index] = value
    with contextlib.suppress(GarrisonError):
        scan_bytes(bytes(data[:cut]))


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_json_header_never_raises_anything_but_garrison_errors(document: Any) -> None:
    with contextlib.suppress(GarrisonError):
        scan_bytes(build(json.dumps(document), b"\x00" * 16))
