"""The 7z scanner: real archives stay quiet, payloads inside are found, hostile archives hold."""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.findings import Severity
from garrison.policy import Limits, Policy
from garrison.supplychain import scan_path
from garrison.supplychain.sevenzip_scan import RULES, scan_7z

from .helpers import EVIL, scan_hostile, serious, worst_by_rule

py7zr = pytest.importorskip("py7zr")


def write_7z(path: Path, members: dict[str, bytes], **options: object) -> Path:
    with py7zr.SevenZipFile(path, "w", **options) as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return path


def plain_header_7z(members: dict[str, bytes]) -> bytes:
    """A 7z whose listing is not compressed, so tests can edit names in place."""
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.encoded_header_mode = False
        for name, data in members.items():
            archive.writestr(data, name)
    return buf.getvalue()


def rename(data: bytes, old: str, new: str) -> bytes:
    """Replace a member name of the same length and fix the header checksums."""
    assert len(old) == len(new)
    offset, size = struct.unpack_from("<QQ", data, 12)
    start = 32 + offset
    header = data[start : start + size].replace(old.encode("utf-16-le"), new.encode("utf-16-le"))
    tail = struct.pack("<QQI", offset, size, zlib.crc32(header))
    return data[:8] + struct.pack("<I", zlib.crc32(tail)) + tail + data[32:start] + header


# --- benign -------------------------------------------------------------------------------


def test_torch_state_dict_in_7z_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    state = tmp_path / "model.pt"
    torch.save({"w": torch.randn(32, 32), "zeros": torch.zeros(256, 256)}, state)
    path = write_7z(tmp_path / "model.7z", {"model/model.pt": state.read_bytes()})
    report = scan_path(path)
    assert serious(report) == []
    assert any(item.format == "7z" and item.status == "scanned" for item in report.items)


def test_safetensors_in_7z_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    tensors = tmp_path / "model.safetensors"
    save_file({"w": torch.ones(16, 16)}, str(tensors))
    members = {"model.safetensors": tensors.read_bytes(), "config.json": b'{"a": 1}'}
    assert serious(scan_path(write_7z(tmp_path / "model.7z", members))) == []


# --- payloads -------------------------------------------------------------------------------


@pytest.mark.parametrize("filters", [None, [{"id": py7zr.FILTER_COPY}]], ids=["lzma2", "copy"])
def test_pickle_in_7z_is_critical(tmp_path: Path, filters: object) -> None:
    members = {"readme.txt": b"hello", "archive/data.pkl": EVIL}
    path = write_7z(tmp_path / "model.7z", members, filters=filters)
    found = [f for f in scan_path(path).findings if f.severity == Severity.CRITICAL]
    assert found
    assert found[0].rule.startswith("GA-PKL-")
    assert found[0].location.member == "archive/data.pkl"
    assert "system" in found[0].evidence


def test_7z_inside_zip(tmp_path: Path) -> None:
    import zipfile

    inner = write_7z(tmp_path / "inner.7z", {"data.pkl": EVIL})
    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(inner, "weights.7z")
    found = [f for f in scan_path(path).findings if f.severity == Severity.CRITICAL]
    assert found[0].location.member == "weights.7z!data.pkl"


def test_path_traversal_is_high(tmp_path: Path) -> None:
    data = rename(plain_header_7z({"xx/evil.pkl": EVIL, "ok.pkl": EVIL}), "xx/evil", "../evil")
    path = tmp_path / "slip.7z"
    path.write_bytes(data)
    report = scan_path(path)
    traversal = next(f for f in report.findings if f.rule == "GA-SEVENZIP-001")
    assert traversal.severity == Severity.HIGH
    assert "../evil.pkl" in traversal.evidence
    # The other member is still scanned.
    pickles = [f for f in report.findings if f.rule.startswith("GA-PKL")]
    assert [f.location.member for f in pickles] == ["ok.pkl"]


def test_symlink_out_of_the_archive(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to("/etc/passwd")  # py7zr stores only links whose target exists
    path = tmp_path / "links.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.write(link, "link")
    assert worst_by_rule(scan_path(path))["GA-SEVENZIP-005"] == Severity.HIGH


# --- hostile archives -----------------------------------------------------------------------


def test_bomb_by_declared_size(tmp_path: Path) -> None:
    path = write_7z(tmp_path / "bomb.7z", {"zeros.bin": b"\0" * (12 << 20)})
    policy = Policy(limits=Limits(max_compression_ratio=100, max_decompressed_bytes=32 << 20))
    report = scan_path(path, policy)
    bomb = next(f for f in report.findings if f.rule == "GA-SEVENZIP-003")
    assert bomb.severity == Severity.HIGH
    assert "12582912 bytes" in bomb.evidence


def test_zeros_below_the_floor_are_not_a_bomb(tmp_path: Path) -> None:
    path = write_7z(tmp_path / "zeros.7z", {"zeros.bin": b"\0" * (4 << 20)})
    assert serious(scan_path(path)) == []


def test_decompression_budget_stops_extraction(tmp_path: Path) -> None:
    path = write_7z(tmp_path / "big.7z", {"a.bin": os.urandom(1 << 20), "b.pkl": EVIL})
    policy = Policy(limits=Limits(max_decompressed_bytes=256 << 10))
    assert worst_by_rule(scan_path(path, policy))["GA-SCAN-001"] == Severity.MEDIUM


def test_member_limit(tmp_path: Path) -> None:
    members = {f"m{i}.txt": b"x" for i in range(20)} | {"z.pkl": EVIL}
    path = write_7z(tmp_path / "many.7z", members)
    report = scan_path(path, Policy(limits=Limits(max_archive_members=10)))
    assert worst_by_rule(report)["GA-SCAN-001"] == Severity.MEDIUM


@pytest.mark.parametrize("header_encryption", [False, True], ids=["content", "listing"])
def test_encrypted_archive_is_reported(tmp_path: Path, header_encryption: bool) -> None:
    path = write_7z(
        tmp_path / "secret.7z", {"data.pkl": EVIL},
        password="pw", header_encryption=header_encryption,
    )  # fmt: skip
    report = scan_path(path)
    assert worst_by_rule(report) == {"GA-SEVENZIP-002": Severity.MEDIUM}


@pytest.mark.parametrize("cut", [10, 40, 100, -20, -3])
def test_truncated_archive_is_a_finding(tmp_path: Path, cut: int) -> None:
    data = write_7z(tmp_path / "a.7z", {"a.pkl": b"x" * 1000, "b.txt": b"y"}).read_bytes()
    path = tmp_path / "cut.7z"
    path.write_bytes(data[:cut])
    found = worst_by_rule(scan_path(path))
    assert found.get("GA-SCAN-002") == Severity.MEDIUM or found.get("GA-SCAN-001")
    assert "GA-SCAN-004" not in found


def test_corrupt_member_data_is_a_finding(tmp_path: Path) -> None:
    data = bytearray(write_7z(tmp_path / "a.7z", {"a.bin": os.urandom(4000)}).read_bytes())
    data[100:140] = b"\xff" * 40
    path = tmp_path / "bad.7z"
    path.write_bytes(bytes(data))
    found = worst_by_rule(scan_path(path))
    assert found.get("GA-SCAN-002") == Severity.MEDIUM
    assert "GA-SCAN-004" not in found


def test_header_py7zr_rejects_still_scans_stored_data(tmp_path: Path) -> None:
    # 7-Zip reads folders without substream info; py7zr does not. Stored bytes still show.
    from tests.corpus.malicious import seven_zip_stored

    path = tmp_path / "hand.7z"
    path.write_bytes(seven_zip_stored("data.pkl", EVIL))
    found = worst_by_rule(scan_path(path))
    assert found["GA-PKL-001"] == Severity.CRITICAL
    assert found["GA-SCAN-002"] == Severity.MEDIUM


def test_missing_py7zr_is_unscanned_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_7z(tmp_path / "a.7z", {"a.pkl": EVIL})
    monkeypatch.setitem(sys.modules, "py7zr", None)
    report = scan_path(path)
    finding = next(f for f in report.findings if f.rule == "GA-SCAN-003")
    assert "py7zr" in finding.evidence and "archives" in finding.evidence
    assert "GA-SCAN-004" not in worst_by_rule(report)


def test_rules_are_in_the_catalog() -> None:
    from garrison.supplychain import rules as catalog

    ids = {rule.id for rule in catalog.RULES}
    assert {rule.id for rule in RULES} <= ids


# --- properties -----------------------------------------------------------------------------


def _seed() -> bytes:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.writestr(EVIL, "a/data.pkl")
        archive.writestr(b"hello" * 50, "b.txt")
    return buf.getvalue()


SEED = _seed()
SMALL = Policy(limits=Limits(max_decompressed_bytes=4 << 20, max_archive_members=200))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flips=st.lists(st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, len(SEED)),
)
def test_mutated_7z_raises_only_garrison_errors(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SEED)
    for pos, value in flips:
        data[pos] = value
    stream = io.BufferedReader(io.BytesIO(bytes(data[:cut])))
    findings = scan_hostile(scan_7z, stream, "fuzz.7z", SMALL)
    assert not [f for f in findings if f.rule == "GA-SCAN-004"]
