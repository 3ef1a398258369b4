"""NumPy .npy/.npz: numeric arrays stay quiet, object arrays are unpickled by the analyser."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import LimitExceeded, ParseError
from garrison.findings import Severity
from garrison.policy import Policy
from garrison.supplychain import scan_path
from garrison.supplychain.numpy_scan import has_objects, itemsize, read_header, scan_npy

from .helpers import Payload, scan_hostile, worst_by_rule

np = pytest.importorskip("numpy")


def save(path: Path, array: Any, version: tuple[int, int] | None = None) -> Path:
    with path.open("wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=True)
    return path


ARRAYS = {
    "float32": np.arange(12, dtype=np.float32).reshape(3, 4),
    "int64": np.arange(5),
    "bool": np.array([True, False]),
    "complex": np.array([1 + 2j]),
    "unicode": np.array(["abc", "de"]),
    "bytes": np.array([b"xy", b"z"]),
    "datetime": np.array(["2024-01-01"], dtype="datetime64[ns]"),
    "fortran": np.asfortranarray(np.ones((3, 2))),
    "structured": np.zeros(4, dtype=[("x", "<f4"), ("y", "<i2", (3,)), ("name", "S5")]),
    "aligned": np.zeros(2, dtype=np.dtype([("a", "u1"), ("b", "<f8")], align=True)),
    "empty": np.zeros((0, 7)),
    "scalar": np.array(3.5),
}


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_numeric_arrays_are_clean(tmp_path: Path, name: str) -> None:
    report = scan_path(save(tmp_path / f"{name}.npy", ARRAYS[name]))
    assert report.findings == []
    assert [i.format for i in report.items] == ["npy"]


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_header_versions(tmp_path: Path, version: tuple[int, int]) -> None:
    path = save(tmp_path / "v.npy", np.arange(6.0).reshape(2, 3), version=version)
    with path.open("rb") as f:
        header = read_header(f)
    assert header.version == version
    assert header.shape == (2, 3)
    assert scan_path(path).findings == []


def test_object_array_of_plain_values_is_low(tmp_path: Path) -> None:
    path = tmp_path / "obj.npy"
    np.save(path, np.array(["a", 1, None, {"k": [1.5]}], dtype=object), allow_pickle=True)
    report = scan_path(path)
    assert worst_by_rule(report) == {"GA-NPY-001": Severity.LOW}


def test_object_array_with_payload_is_critical(tmp_path: Path) -> None:
    path = tmp_path / "evil.npy"
    np.save(path, np.array([Payload(), 1], dtype=object), allow_pickle=True)
    report = scan_path(path)
    assert worst_by_rule(report)["GA-NPY-001"] == Severity.LOW
    assert any(f.severity == Severity.CRITICAL for f in report.findings)


def test_structured_dtype_with_object_field(tmp_path: Path) -> None:
    array = np.zeros(2, dtype=[("x", "<f4"), ("obj", "O")])
    array["obj"][0] = Payload()
    path = save(tmp_path / "s.npy", array)
    report = scan_path(path)
    assert "GA-NPY-001" in worst_by_rule(report)
    assert any(f.severity == Severity.CRITICAL for f in report.findings)


def test_npz_with_object_payload(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, ok=np.arange(3), bad=np.array([Payload()], dtype=object))
    found = [f for f in scan_path(path).findings if f.severity == Severity.CRITICAL]
    assert found and found[0].location.member == "bad.npy"


def test_truncated_data(tmp_path: Path) -> None:
    path = save(tmp_path / "t.npy", np.arange(100, dtype=np.int64))
    path.write_bytes(path.read_bytes()[:-40])
    finding = next(f for f in scan_path(path).findings if f.rule == "GA-NPY-002")
    assert finding.severity == Severity.MEDIUM
    assert "needs 800 bytes" in finding.evidence and "has 760" in finding.evidence


def test_trailing_data(tmp_path: Path) -> None:
    path = save(tmp_path / "t.npy", np.arange(4, dtype=np.int64))
    path.write_bytes(path.read_bytes() + b"\x80\x02hidden")
    assert worst_by_rule(scan_path(path))["GA-NPY-002"] == Severity.MEDIUM


def _npy(header: bytes, version: tuple[int, int] = (1, 0), body: bytes = b"") -> bytes:
    length = struct.pack("<H" if version == (1, 0) else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header + body


@pytest.mark.parametrize(
    "blob",
    [
        _npy(b"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", (9, 0)),
        _npy(b"['descr', 'fortran_order', 'shape']"),
        _npy(b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"),
        _npy(b"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }"),
        _npy(b"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}"),
        _npy(b"{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,)}"),
        _npy(b"{'descr': 5, 'fortran_order': False, 'shape': (1,)}"),
        _npy(b"{'descr': '<f8'")[:-4],
    ],
)
def test_malformed_headers(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "bad.npy"
    path.write_bytes(blob)
    assert worst_by_rule(scan_path(path)) == {"GA-SCAN-002": Severity.MEDIUM}


def test_header_length_is_bounded() -> None:
    blob = b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b"{"
    with pytest.raises(LimitExceeded):
        read_header(io.BytesIO(blob))


def test_descr_analysis() -> None:
    assert has_objects("|O")
    assert has_objects("i4, O")
    assert has_objects([("a", "<f4"), ("b", [("c", "|O", (2,))])])
    assert not has_objects([("a", "<f4"), ("b", "|S3")])
    assert itemsize("<U10") == 40
    assert itemsize([("a", "<f4"), ("b", "<i2", (3,))]) == 10
    assert itemsize("<M8[ns]") == 8
    with pytest.raises(ParseError):
        has_objects({"names": ["a"]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from([(1, 0), (2, 0), (3, 0), (4, 0)]),
    header=st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda descr, shape: repr(
                {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
            ).encode(),
            st.sampled_from(["<f4", "|O", "<U3", "V8", "i4,O", "zz", "<M8[s]"]),
            st.lists(st.integers(0, 50), max_size=4),
        ),
    ),
    body=st.binary(max_size=300),
)
def test_random_headers_raise_only_garrison_errors(
    version: tuple[int, int], header: bytes, body: bytes
) -> None:
    scan_hostile(scan_npy, _npy(header, version, body), "fuzz.npy", Policy())
