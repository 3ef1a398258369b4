"""Compressed files: joblib's compressed dumps and plain gzip/bz2/xz/lzma/zlib streams."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import pickle
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError
from garrison.findings import Severity
from garrison.policy import Limits, Policy
from garrison.supplychain import scan_path
from garrison.supplychain.compression import DecompressedStream, detect_codec, scan_compressed
from garrison.supplychain.context import ScanContext

from .helpers import EVIL, Payload, critical, scan_hostile, worst_by_rule

JOBLIB_CODECS = ["zlib", "gzip", "bz2", "xz", "lzma"]
COMPRESSORS = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lambda data: lzma.compress(data, format=lzma.FORMAT_XZ),
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
    "zlib": zlib.compress,
}


@pytest.mark.parametrize("codec", JOBLIB_CODECS)
def test_joblib_compressed_model_is_scanned_as_its_pickle(tmp_path: Path, codec: str) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    path = tmp_path / f"model.joblib.{codec}"
    joblib.dump({"coef": np.arange(20.0), "name": "m"}, path, compress=(codec, 3))
    report = scan_path(path)
    assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == []
    scanned = {(i.path.rsplit("!", 1)[-1], i.format) for i in report.items}
    assert (f"<{codec}>", "pickle") in scanned


def test_joblib_compressed_sklearn_estimator_is_clean(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    linear_model = pytest.importorskip("sklearn.linear_model")
    model = linear_model.LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    path = tmp_path / "clf.joblib"
    joblib.dump(model, path, compress=("zlib", 3))
    assert [f for f in scan_path(path).findings if f.severity >= Severity.MEDIUM] == []


@pytest.mark.parametrize("codec", JOBLIB_CODECS)
def test_joblib_compressed_payload_is_critical(tmp_path: Path, codec: str) -> None:
    joblib = pytest.importorskip("joblib")
    path = tmp_path / f"evil.{codec}"
    joblib.dump(Payload(), path, compress=(codec, 3))
    found = critical(scan_path(path))
    assert found and found[0].location.member == f"<{codec}>"


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_plain_streams_detected_and_scanned(tmp_path: Path, codec: str) -> None:
    blob = COMPRESSORS[codec](EVIL)
    assert detect_codec(blob) == codec
    path = tmp_path / "evil.bin"
    path.write_bytes(blob)
    assert critical(scan_path(path))


def test_payload_before_truncation_still_counts(tmp_path: Path) -> None:
    blob = gzip.compress(EVIL + os.urandom(200_000))
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    report = scan_path(path)
    assert critical(report), "the payload before the cut must be reported"
    assert worst_by_rule(report)["GA-SCAN-002"] == Severity.MEDIUM


def test_corrupt_stream_is_malformed(tmp_path: Path) -> None:
    blob = bytearray(zlib.compress(pickle.dumps(list(range(3000)))))
    blob[40:60] = b"\xff" * 20
    path = tmp_path / "bad.z"
    path.write_bytes(bytes(blob))
    assert worst_by_rule(scan_path(path)).get("GA-SCAN-002") == Severity.MEDIUM


def test_payload_in_second_gzip_member(tmp_path: Path) -> None:
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(b"") + gzip.compress(EVIL))
    assert critical(scan_path(path))


def test_trailing_garbage_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "tail.gz"
    path.write_bytes(gzip.compress(pickle.dumps({"a": 1})) + b"hidden bytes")
    assert worst_by_rule(scan_path(path))["GA-CMP-002"] == Severity.MEDIUM


def test_zero_padding_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "padded.gz"
    path.write_bytes(gzip.compress(pickle.dumps({"a": 1})) + b"\x00" * 512)
    assert [f for f in scan_path(path).findings if f.severity >= Severity.MEDIUM] == []


def test_decompression_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.bz2"
    path.write_bytes(bz2.compress(b"\x00" * (30 * 1024 * 1024)))
    limits = Limits(max_compression_ratio=100, max_decompressed_bytes=160 << 20)
    finding = next(
        f for f in scan_path(path, Policy(limits=limits)).findings if f.rule == "GA-CMP-001"
    )
    assert finding.severity == Severity.HIGH
    assert "ratio limit 100" in finding.evidence


def test_highly_compressible_joblib_dump_is_not_a_bomb(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    path = tmp_path / "sparse.joblib"
    joblib.dump({"mask": np.zeros(3_000_000)}, path, compress=("bz2", 3))
    report = scan_path(path, Policy(limits=Limits(max_compression_ratio=100)))
    assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == []


def test_decompression_budget(tmp_path: Path) -> None:
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(EVIL + os.urandom(2_000_000)))
    policy = Policy(limits=Limits(max_decompressed_bytes=1_000_000))
    report = scan_path(path, policy)
    assert worst_by_rule(report)["GA-SCAN-001"] == Severity.MEDIUM
    assert critical(report), "what fitted in the budget is still scanned"


def test_stream_reads_lazily_and_seeks() -> None:
    data = os.urandom(3_000_000)
    source = io.BytesIO(zlib.compress(data))
    ctx = ScanContext.for_file(Path("x.z"), Policy())
    with DecompressedStream(source, 0, None, "zlib", ctx, declared_size=len(data)) as stream:
        assert stream.read(10) == data[:10]
        assert stream.produced < len(data)
        assert stream.seek(0, io.SEEK_END) == len(data)
        assert stream.produced < len(data), "asking for the end must not inflate everything"
        stream.seek(2_000_000)
        assert stream.read(5) == data[2_000_000:2_000_005]


def test_not_compressed_is_parse_error() -> None:
    ctx = ScanContext.for_file(Path("x.gz"), Policy())
    with pytest.raises(GarrisonError):
        scan_compressed(io.BytesIO(b"plain text"), ctx)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codec=st.sampled_from(sorted(COMPRESSORS)), body=st.binary(max_size=600))
def test_random_bodies_raise_only_garrison_errors(codec: str, body: bytes) -> None:
    blob = COMPRESSORS[codec](b"seed")[:6] + body
    findings = scan_hostile(scan_compressed, blob, "fuzz.bin", Policy())
    assert not [f for f in findings if f.rule == "GA-SCAN-004"]
