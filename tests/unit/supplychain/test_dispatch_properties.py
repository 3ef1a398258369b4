"""Whatever bytes a file holds, scanning it yields findings and never raises."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.supplychain import scan_path

PREFIXES = [
    b"", b"\x80\x04", b"PK\x03\x04", b"GGUF\x03\x00\x00\x00", b"\x93NUMPY\x01\x00",
    b"\x1f\x8b\x08\x00", b"\x89HDF\r\n\x1a\n", b"\x08\x07\x12", b"{\"class_name\": ",
    b"\x10\x00\x00\x00\x00\x00\x00\x00{", b"cos\nsystem\n(",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=2048))
def test_any_bytes_scan_without_raising(prefix: bytes, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.bin"
        path.write_bytes(prefix + body)
        report = scan_path(path)
    assert all(f.rule.startswith("GA-") for f in report.findings)
    # The scanner-error rule means a bug escaped a parser: that must never happen.
    assert not [f for f in report.findings if f.rule == "GA-SCAN-004"], report.findings
