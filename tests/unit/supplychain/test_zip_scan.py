"""The zip scanner: real archives stay quiet, tampered ones are reported, limits hold."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError, ParseError
from garrison.findings import Severity
from garrison.policy import Limits, Policy
from garrison.report.model import Report
from garrison.supplychain import scan_path
from garrison.supplychain.context import ScanContext
from garrison.supplychain.zip_scan import (
    LARGE_MEMBER,
    read_directory,
    read_local_header,
    scan_zip,
    zip_flavour,
)

from .helpers import EVIL, critical, scan_hostile, serious, worst_by_rule


def scan(path: Path, policy: Policy | None = None) -> Report:
    return scan_path(path, policy)


def torch_checkpoint(path: Path) -> Path:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    torch.save(model.state_dict(), path)
    return path


def rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    """Copy a zip, replacing the content of members whose name ends with a key."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            for suffix, new in replace.items():
                if info.filename.endswith(suffix):
                    data = new
            zout.writestr(info.filename, data)
    return dst


def set_flag_bits(path: Path, member_suffix: bytes, bits: int) -> None:
    """OR flag bits into a member's local header and central directory entry."""
    data = bytearray(path.read_bytes())
    for sig, flag_at, name_len_at, fixed in (
        (b"PK\x03\x04", 6, 26, 30),
        (b"PK\x01\x02", 8, 28, 46),
    ):
        pos = data.find(sig)
        while pos != -1:
            (name_len,) = struct.unpack_from("<H", data, pos + name_len_at)
            name = bytes(data[pos + fixed : pos + fixed + name_len])
            if name.endswith(member_suffix):
                (flags,) = struct.unpack_from("<H", data, pos + flag_at)
                struct.pack_into("<H", data, pos + flag_at, flags | bits)
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))


# --- real archives stay quiet ---------------------------------------------------------------


def test_torch_state_dict_is_clean_and_recognised(tmp_path: Path) -> None:
    report = scan(torch_checkpoint(tmp_path / "model.pt"))
    assert serious(report) == []
    formats = {item.format for item in report.items}
    assert "zip:pytorch" in formats
    assert "tensor-data" in formats


def test_whole_model_and_optimizer_state_are_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    torch.save(model, tmp_path / "whole.pt")
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    torch.save({"optimizer": optimizer.state_dict(), "epoch": 3}, tmp_path / "optim.pt")
    for name in ("whole.pt", "optim.pt"):
        report = scan(tmp_path / name)
        assert not [f for f in serious(report) if f.rule.startswith("GA-ZIP")], name


def test_npz_archives_are_clean(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    np.savez(tmp_path / "plain.npz", a=np.arange(10), b=np.ones((3, 3), dtype=np.float32))
    np.savez_compressed(tmp_path / "packed.npz", a=np.arange(1000))
    for name in ("plain.npz", "packed.npz"):
        report = scan(tmp_path / name)
        assert serious(report) == [], name
        assert {i.format for i in report.items} >= {"zip:npz", "npy"}


def test_flavours_from_member_names() -> None:
    assert zip_flavour(["a/data.pkl", "a/version", "a/data/0"]) == "pytorch"
    assert zip_flavour(["m/data.pkl", "m/constants.pkl", "m/code/__torch__.py"]) == "torchscript"
    assert zip_flavour(["config.json", "metadata.json", "model.weights.h5"]) == "keras"
    assert zip_flavour(["schema.json", "a.npy"]) == "skops"
    assert zip_flavour(["MAR-INF/MANIFEST.json", "handler.py"]) == "torchserve"
    assert zip_flavour(["x.npy", "y.npy"]) == "npz"
    assert zip_flavour(["readme.txt"]) == "generic"


# --- tampering ------------------------------------------------------------------------------


def test_malicious_data_pkl_is_critical(tmp_path: Path) -> None:
    src = torch_checkpoint(tmp_path / "src.pt")
    evil = rewrite(src, tmp_path / "evil.pt", {"/data.pkl": EVIL})
    found = critical(scan(evil))
    assert found and all(f.location.member == "src/data.pkl" for f in found)


def test_encrypted_flag_does_not_hide_the_pickle(tmp_path: Path) -> None:
    # picklescan/modelscan read members with zipfile, which refuses "encrypted" members;
    # PyTorch ignores the flag and loads the pickle.
    src = torch_checkpoint(tmp_path / "src.pt")
    evil = rewrite(src, tmp_path / "evil.pt", {"/data.pkl": EVIL})
    set_flag_bits(evil, b"/data.pkl", 0x1)
    report = scan(evil)
    assert worst_by_rule(report)["GA-ZIP-002"] == Severity.HIGH
    assert critical(report), "payload behind the encrypted flag was not scanned"


def test_encrypted_flag_outside_model_archive_is_medium(tmp_path: Path) -> None:
    path = tmp_path / "notes.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", b"hello")
    set_flag_bits(path, b"notes.txt", 0x1)
    assert worst_by_rule(scan(path))["GA-ZIP-002"] == Severity.MEDIUM


def test_unusual_flag_bits(tmp_path: Path) -> None:
    path = tmp_path / "odd.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", b"hello")
    set_flag_bits(path, b"notes.txt", 0x2000)
    assert worst_by_rule(scan(path))["GA-ZIP-003"] == Severity.HIGH


def test_local_name_differs_from_central_name(tmp_path: Path) -> None:
    src = torch_checkpoint(tmp_path / "src.pt")
    data = bytearray(src.read_bytes())
    local = data.find(b"PK\x03\x04")
    name_at = local + 30
    assert data[name_at : name_at + 12] == b"src/data.pkl"
    data[name_at : name_at + 12] = b"src/data.pkx"
    path = tmp_path / "mismatch.pt"
    path.write_bytes(bytes(data))
    report = scan(path)
    finding = next(f for f in report.findings if f.rule == "GA-ZIP-001")
    assert finding.severity == Severity.HIGH
    assert "src/data.pkx" in finding.evidence
    assert finding.location.member == "src/data.pkl"


def test_pickle_hidden_in_tensor_storage(tmp_path: Path) -> None:
    src = torch_checkpoint(tmp_path / "src.pt")
    evil = rewrite(src, tmp_path / "evil.pt", {"/data/1": EVIL})
    found = critical(scan(evil))
    assert found and found[0].location.member == "src/data/1"


def test_duplicate_names(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model.pkl", pickle.dumps({"a": 1}))
        zf.writestr("model.pkl", EVIL)
    report = scan(path)
    assert worst_by_rule(report)["GA-ZIP-004"] == Severity.HIGH
    assert critical(report), "both copies must be scanned"


@pytest.mark.parametrize("name", ["../../.bashrc", "/etc/cron.d/x", "a/../../b", "C:\\x.dll"])
def test_path_traversal(tmp_path: Path, name: str) -> None:
    path = tmp_path / "slip.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo(name), b"echo")
    assert worst_by_rule(scan(path))["GA-ZIP-006"] == Severity.HIGH


def test_unsupported_compression_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "zstd.zip"
    path.write_bytes(_single_member_zip(b"model.pkl", b"\x28\xb5\x2f\xfd" + EVIL, None, 93))
    finding = next(f for f in scan(path).findings if f.rule == "GA-ZIP-005")
    assert finding.severity == Severity.MEDIUM
    assert "method 93" in finding.evidence
    assert finding.location.member == "model.pkl"


_STRONG_METHODS = [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


@pytest.mark.parametrize("method", _STRONG_METHODS, ids=["bzip2", "lzma"])
def test_bzip2_and_lzma_members_are_scanned(tmp_path: Path, method: int) -> None:
    path = tmp_path / "packed.zip"
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        zf.writestr("notes.txt", b"hello " * 1000)
        zf.writestr("archive/data.pkl", EVIL)
    report = scan(path)
    found = critical(report)
    assert found, report.findings
    assert found[0].location.member == "archive/data.pkl"
    assert "GA-ZIP-005" not in worst_by_rule(report)


@pytest.mark.parametrize("method", _STRONG_METHODS, ids=["bzip2", "lzma"])
def test_benign_bzip2_and_lzma_archives_are_quiet(tmp_path: Path, method: int) -> None:
    torch = pytest.importorskip("torch")
    state = tmp_path / "state.pt"
    torch.save({"w": torch.zeros(64, 64), "b": torch.arange(10)}, state)
    path = tmp_path / "packed.zip"
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        zf.write(state, "state.pt")
        zf.writestr("zeros.bin", b"\x00" * (4 << 20))  # huge ratio but small: not a bomb
    assert serious(scan(path)) == []


@pytest.mark.parametrize("method", _STRONG_METHODS, ids=["bzip2", "lzma"])
def test_bzip2_and_lzma_bomb(tmp_path: Path, method: int) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=method) as zf, zf.open("w.bin", "w") as out:
        for _ in range(12):
            out.write(b"\x00" * (1 << 20))
    finding = next(f for f in scan(path).findings if f.rule == "GA-ZIP-007")
    assert finding.severity == Severity.HIGH
    assert "declares 12582912 bytes" in finding.evidence


@pytest.mark.parametrize("method", _STRONG_METHODS, ids=["bzip2", "lzma"])
def test_bzip2_and_lzma_bomb_found_while_inflating(tmp_path: Path, method: int) -> None:
    # The compressed size is padded with junk the stream never reaches, so the directory
    # declares a modest ratio; only inflating shows the real one.
    usize = 12 << 20
    real = tmp_path / "real.zip"
    with zipfile.ZipFile(real, "w", compression=method) as zf:
        zf.writestr("w.bin", b"\x00" * usize)
    info = zipfile.ZipFile(real).infolist()[0]
    data = real.read_bytes()[info.header_offset + 30 + len("w.bin") :][: info.compress_size]
    path = tmp_path / "liar.zip"
    padded = data + b"\x00" * (usize // 50 - len(data))
    path.write_bytes(_single_member_zip(b"w.bin", padded, usize, method))
    policy = Policy(limits=Limits(max_compression_ratio=100))
    finding = next(f for f in scan(path, policy).findings if f.rule == "GA-ZIP-007")
    assert "inflated" in finding.evidence


@pytest.mark.parametrize("method", _STRONG_METHODS, ids=["bzip2", "lzma"])
def test_corrupt_bzip2_and_lzma_members(tmp_path: Path, method: int) -> None:
    path = tmp_path / "bad.zip"
    path.write_bytes(_single_member_zip(b"a.pkl", b"\x00\x01\x05\x00" + b"\xff" * 40, 500, method))
    assert worst_by_rule(scan(path))["GA-SCAN-002"] == Severity.MEDIUM


def _skops(path: Path, schema: dict[str, object]) -> Path:
    import json

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("schema.json", json.dumps(schema))
    return path


def test_skops_schema_with_dangerous_function(tmp_path: Path) -> None:
    schema = {
        "__class__": "FunctionTransformer",
        "__module__": "sklearn.preprocessing._function_transformer",
        "__loader__": "ObjectNode",
        "content": {
            "func": {
                "__class__": "builtin_function_or_method",
                "__module__": "posix",
                "__loader__": "FunctionNode",
                "content": {"module_path": "posix", "function": "system"},
            }
        },
        "protocol": 2,
    }
    report = scan(_skops(tmp_path / "evil.skops", schema))
    finding = next(f for f in report.findings if f.rule == "GA-ZIP-010")
    assert finding.severity == Severity.CRITICAL
    assert "posix.system" in finding.evidence
    assert "zip:skops" in {i.format for i in report.items}


def test_skops_schema_with_sklearn_types_is_quiet(tmp_path: Path) -> None:
    schema = {
        "__class__": "LogisticRegression",
        "__module__": "sklearn.linear_model._logistic",
        "__loader__": "ObjectNode",
        "content": {"C": {"__class__": "float", "__module__": "builtins", "content": 1.0}},
        "protocol": 2,
    }
    report = scan(_skops(tmp_path / "ok.skops", schema))
    assert not [f for f in report.findings if f.rule.startswith("GA-ZIP")]


# --- polyglots and layout -------------------------------------------------------------------


def test_pickle_with_zip_appended_is_polyglot(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("archive/data.pkl", EVIL)
    path = tmp_path / "poly.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2]}, protocol=2) + buffer.getvalue())
    report = scan(path)
    assert worst_by_rule(report)["GA-ZIP-008"] == Severity.HIGH
    assert critical(report), "the appended zip's members must be scanned"


def test_executable_with_zip_is_info(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("weights.txt", b"not a model")
    path = tmp_path / "model.llamafile"
    path.write_bytes(b"\x7fELF" + b"\x00" * 600 + buffer.getvalue())
    report = scan(path)
    assert worst_by_rule(report)["GA-ZIP-008"] == Severity.INFO


def test_two_concatenated_zips(tmp_path: Path) -> None:
    parts = []
    for content in (b"first", b"second"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("x.txt", content)
        parts.append(buffer.getvalue())
    path = tmp_path / "double.zip"
    path.write_bytes(b"".join(parts))
    assert worst_by_rule(scan(path))["GA-ZIP-009"] == Severity.HIGH


def test_overlapping_members_are_a_bomb(tmp_path: Path) -> None:
    # Two directory entries for the same local header: the overlap layout of
    # non-recursive zip bombs.
    blob = bytearray(_single_member_zip(b"a.bin", b"x" * 100, None, method=0))
    cd_at = blob.find(b"PK\x01\x02")
    entry = bytes(blob[cd_at : cd_at + 46 + 5])
    end = bytearray(blob[cd_at + len(entry) :])
    struct.pack_into("<HHI", end, 8, 2, 2, 2 * len(entry))
    path = tmp_path / "overlap.zip"
    path.write_bytes(bytes(blob[:cd_at]) + entry + entry + bytes(end))
    finding = next(f for f in scan(path).findings if f.rule == "GA-ZIP-007")
    assert "overlap" in finding.evidence


def test_zip64_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    path = tmp_path / "z64.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", b"a")
        zf.writestr("payload.pkl", EVIL)
    with path.open("rb") as stream:
        directory = read_directory(stream, path.stat().st_size, 100, 1 << 20)
    assert directory.zip64
    assert [e.name for e in directory.entries] == ["a.txt", "payload.pkl"]
    assert critical(scan(path))


def test_truncated_zip_is_malformed(tmp_path: Path) -> None:
    src = torch_checkpoint(tmp_path / "src.pt")
    path = tmp_path / "cut.pt"
    path.write_bytes(src.read_bytes()[:-200])
    assert worst_by_rule(scan(path))["GA-SCAN-002"] == Severity.MEDIUM


def test_corrupt_deflate_member(tmp_path: Path) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.pkl", pickle.dumps(list(range(5000))))
    data = bytearray(path.read_bytes())
    data[60:90] = b"\xff" * 30
    path.write_bytes(bytes(data))
    report = scan(path)
    assert any(f.location.member == "model.pkl" for f in serious(report))


# --- limits -------------------------------------------------------------------------------


def test_zip_bomb_by_declared_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\x00" * (11 * 1024 * 1024))
    # The bomb floor is an eighth of the decompression budget: 10 MB here.
    policy = Policy(limits=Limits(max_compression_ratio=10, max_decompressed_bytes=80 << 20))
    finding = next(f for f in scan(path, policy).findings if f.rule == "GA-ZIP-007")
    assert finding.severity == Severity.HIGH
    assert finding.location.member == "zeros.bin"


def test_zip_bomb_found_while_inflating(tmp_path: Path) -> None:
    # The directory declares a modest ratio (the compressed size is padded with junk the
    # deflate stream never reaches); only inflating shows the real ratio.
    import zlib

    usize = 12 * 1024 * 1024
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = packer.compress(b"\x00" * usize) + packer.flush()
    padded = stream + b"\x00" * (usize // 5 - len(stream))
    path = tmp_path / "bomb.zip"
    path.write_bytes(_single_member_zip(b"zeros.bin", padded, usize, method=8))
    policy = Policy(limits=Limits(max_compression_ratio=50, max_decompressed_bytes=80 << 20))
    assert worst_by_rule(scan(path, policy))["GA-ZIP-007"] == Severity.HIGH


def test_zero_filled_array_is_not_a_bomb(tmp_path: Path) -> None:
    # np.savez_compressed of zeros deflates ~1000:1, past the default ratio limit.
    np = pytest.importorskip("numpy")
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, z=np.zeros(2_000_000))
    policy = Policy(limits=Limits(max_compression_ratio=100))
    assert serious(scan(path, policy)) == []


def test_impossible_declared_size(tmp_path: Path) -> None:
    path = tmp_path / "liar.zip"
    path.write_bytes(_single_member_zip(b"a.pkl", EVIL, 10 * len(EVIL), method=0))
    assert worst_by_rule(scan(path))["GA-ZIP-009"] == Severity.HIGH


def test_decompression_budget(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.bin", os.urandom(300_000))
        zf.writestr("b.bin", os.urandom(300_000))
    policy = Policy(limits=Limits(max_decompressed_bytes=400_000))
    assert worst_by_rule(scan(path, policy))["GA-SCAN-001"] == Severity.MEDIUM


def test_member_count_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(20):
            zf.writestr(f"{i}.txt", b"x")
    policy = Policy(limits=Limits(max_archive_members=10))
    assert worst_by_rule(scan(path, policy))["GA-SCAN-001"] == Severity.MEDIUM


def test_members_before_the_limit_are_still_scanned(tmp_path: Path) -> None:
    path = tmp_path / "padded.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("payload.pkl", EVIL)
        for i in range(20):
            zf.writestr(f"pad/{i}.txt", b"x")
    report = scan(path, Policy(limits=Limits(max_archive_members=10)))
    assert critical(report)
    assert worst_by_rule(report)["GA-SCAN-001"] == Severity.MEDIUM


def test_large_storage_is_not_read(tmp_path: Path) -> None:
    # A 200 MB tensor storage: only its head may be read.
    size = LARGE_MEMBER * 3
    path = tmp_path / "big.pt"
    names = [(b"big/data.pkl", pickle.dumps({}, protocol=2)), (b"big/version", b"3\n")]
    _write_sparse_zip(path, names, (b"big/data/0", size))
    raw = _CountingRaw(path)
    ctx = ScanContext.for_file(path, Policy())
    with io.BufferedReader(raw) as stream:
        scan_zip(stream, ctx)
    assert raw.bytes_read < 2 * 1024 * 1024
    assert [f for f in ctx.findings if f.severity >= Severity.MEDIUM] == []


def test_nested_zip_in_zip_in_tar_gz(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("payload.pkl", EVIL)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner.zip", inner.getvalue())
    path = tmp_path / "bundle.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("models/outer.zip")
        info.size = len(outer.getvalue())
        tar.addfile(info, io.BytesIO(outer.getvalue()))
    found = critical(scan(path))
    assert found
    assert found[0].location.member == "<gzip>!models/outer.zip!inner.zip!payload.pkl"


# --- properties -----------------------------------------------------------------------------


def _seed_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/data.pkl", pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
        zf.writestr("a/version", b"3\n")
        zf.writestr("a/data/0", b"\x00" * 64)
    return buffer.getvalue()


SEED = _seed_zip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flips=st.lists(st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, len(SEED)),
)
def test_mutated_zip_raises_only_garrison_errors(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SEED)
    for pos, value in flips:
        data[pos] = value
    blob = bytes(data[: max(cut, len(SEED) - 40)])
    findings = scan_hostile(scan_zip, blob, "mutated.zip", Policy())
    assert not [f for f in findings if f.rule == "GA-SCAN-004"]


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=512))
def test_directory_reader_on_random_tails(body: bytes) -> None:
    blob = body + b"PK\x05\x06" + body[:18]
    stream = io.BytesIO(blob)
    try:
        directory = read_directory(stream, len(blob), 1000, 1 << 20)
    except GarrisonError:
        return
    for entry in directory.entries:
        with contextlib.suppress(ParseError):
            read_local_header(stream, entry, directory.cd_start)


# --- helpers --------------------------------------------------------------------------------


class _CountingRaw(io.FileIO):
    """A file that counts the bytes read from disk."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "rb")
        self.bytes_read = 0

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = super().readinto(buffer) or 0
        self.bytes_read += n
        return n


def _single_member_zip(name: bytes, data: bytes, usize: int | None, method: int) -> bytes:
    usize = len(data) if usize is None else usize
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0, 0, len(data), usize, len(name), 0
    )
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0, 0, len(data), usize,
        len(name), 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    body = local + name + data
    directory = central + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


def _write_sparse_zip(path: Path, small: list[tuple[bytes, bytes]], big: tuple[bytes, int]) -> None:
    """A stored-only zip whose `big` member is a hole in a sparse file."""
    entries: list[tuple[bytes, int, int]] = []
    with path.open("wb") as f:
        for name, data in small:
            entries.append((name, f.tell(), len(data)))
            f.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, 0,
                                len(data), len(data), len(name), 0) + name + data)  # fmt: skip
        name, size = big
        entries.append((name, f.tell(), size))
        f.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 0, 0, 0, 0,
                            size, size, len(name), 0) + name)  # fmt: skip
        f.seek(size, os.SEEK_CUR)
        cd_start = f.tell()
        for name, offset, length in entries:
            header = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0,
                                 length, length, len(name), 0, 0, 0, 0, 0, offset)  # fmt: skip
            f.write(header + name)
        cd_size = f.tell() - cd_start
        f.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                            cd_size, cd_start, 0))  # fmt: skip
