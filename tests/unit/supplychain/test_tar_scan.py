"""Tar archives: members scanned in place, escaping names and links reported."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.findings import Severity
from garrison.policy import Limits, Policy
from garrison.supplychain import scan_path
from garrison.supplychain.tar_scan import scan_tar

from .helpers import EVIL, scan_hostile, serious, worst_by_rule


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def add_special(tar: tarfile.TarFile, name: str, kind: bytes, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    tar.addfile(info)


def test_model_directory_tarball_is_clean(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    np.save(model_dir / "mean.npy", np.arange(10.0))
    torch.save({"w": torch.ones(3)}, model_dir / "weights.pt")  # last member: a zip
    (model_dir / "config.json").write_text('{"hidden": 4}')
    path = tmp_path / "model.tar"
    with tarfile.open(path, "w") as tar:
        for name in ("config.json", "mean.npy", "weights.pt"):
            tar.add(model_dir / name, arcname=f"model/{name}")
    report = scan_path(path)
    assert serious(report) == []
    assert "GA-ZIP-008" not in worst_by_rule(report), "a zip member is not a polyglot"
    scanned = {i.path.split("!")[-1] for i in report.items if i.status == "scanned"}
    assert {"model/mean.npy", "model/weights.pt"} <= scanned


def test_tar_gz_payload_is_critical(tmp_path: Path) -> None:
    path = tmp_path / "bundle.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        add_bytes(tar, "model/model.pkl", EVIL)
    found = [f for f in scan_path(path).findings if f.severity == Severity.CRITICAL]
    assert found and found[0].location.member == "<gzip>!model/model.pkl"


@pytest.mark.parametrize("name", ["../../home/user/.bashrc", "/etc/cron.d/job", "a/../../b"])
def test_member_path_traversal(tmp_path: Path, name: str) -> None:
    path = tmp_path / "slip.tar"
    with tarfile.open(path, "w") as tar:
        add_bytes(tar, name, b"echo hi")
    finding = next(f for f in scan_path(path).findings if f.rule == "GA-TAR-001")
    assert finding.severity == Severity.HIGH
    assert name in finding.evidence


@pytest.mark.parametrize(
    ("name", "kind", "target", "escapes"),
    [
        ("model/link", tarfile.SYMTYPE, "/etc/passwd", True),
        ("model/link", tarfile.SYMTYPE, "../../etc/passwd", True),
        ("model/link", tarfile.SYMTYPE, "../weights.bin", False),
        ("model/link", tarfile.SYMTYPE, "sub/weights.bin", False),
        ("model/hard", tarfile.LNKTYPE, "../outside", True),
        ("model/hard", tarfile.LNKTYPE, "model/weights.bin", False),
    ],
)
def test_links(tmp_path: Path, name: str, kind: bytes, target: str, escapes: bool) -> None:
    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as tar:
        add_bytes(tar, "model/weights.bin", b"\x00" * 16)
        add_special(tar, name, kind, target)
    found = worst_by_rule(scan_path(path))
    assert (found.get("GA-TAR-002") == Severity.HIGH) is escapes


def test_device_fifo_and_setuid_members(tmp_path: Path) -> None:
    path = tmp_path / "special.tar"
    with tarfile.open(path, "w") as tar:
        add_special(tar, "dev/sda", tarfile.BLKTYPE)
        add_special(tar, "pipe", tarfile.FIFOTYPE)
        add_bytes(tar, "bin/tool", b"#!/bin/sh\n", mode=0o4755)
    specials = [f for f in scan_path(path).findings if f.rule == "GA-TAR-003"]
    assert len(specials) == 3
    assert {f.severity for f in specials} == {Severity.MEDIUM}


def test_member_count_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.tar"
    with tarfile.open(path, "w") as tar:
        for i in range(20):
            add_bytes(tar, f"{i}.txt", b"x")
    policy = Policy(limits=Limits(max_archive_members=10))
    assert worst_by_rule(scan_path(path, policy))["GA-SCAN-001"] == Severity.MEDIUM


def test_members_before_the_limit_are_still_scanned(tmp_path: Path) -> None:
    path = tmp_path / "padded.tar"
    with tarfile.open(path, "w") as tar:
        add_bytes(tar, "payload.pkl", EVIL)
        for i in range(20):
            add_bytes(tar, f"pad/{i}.txt", b"x")
    report = scan_path(path, Policy(limits=Limits(max_archive_members=10)))
    assert any(f.severity == Severity.CRITICAL for f in report.findings)
    assert worst_by_rule(report)["GA-SCAN-001"] == Severity.MEDIUM


def test_truncated_tar_reports_and_scans_what_it_can(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        add_bytes(tar, "a.pkl", EVIL)
        add_bytes(tar, "b.bin", os.urandom(5000))
    path = tmp_path / "cut.tar"
    path.write_bytes(buffer.getvalue()[: 1024 + 700])
    report = scan_path(path)
    assert any(f.severity == Severity.CRITICAL for f in report.findings)


def test_zip_at_end_of_tar_is_not_scanned_twice(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("payload.pkl", EVIL)
    path = tmp_path / "z.tar"
    with tarfile.open(path, "w") as tar:
        add_bytes(tar, "archive.zip", inner.getvalue())
    critical = [f for f in scan_path(path).findings if f.severity == Severity.CRITICAL]
    assert {f.location.member for f in critical} == {"archive.zip!payload.pkl"}


def _seed_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add_bytes(tar, "model/a.pkl", pickle.dumps({"a": 1}, protocol=2))
        add_special(tar, "model/link", tarfile.SYMTYPE, "a.pkl")
    return buffer.getvalue()[:3072]


SEED = _seed_tar()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255)), max_size=10))
def test_mutated_tar_raises_only_garrison_errors(flips: list[tuple[int, int]]) -> None:
    data = bytearray(SEED)
    for pos, value in flips:
        data[pos] = value
    findings = scan_hostile(scan_tar, bytes(data), "fuzz.tar", Policy())
    assert not [f for f in findings if f.rule == "GA-SCAN-004"]
