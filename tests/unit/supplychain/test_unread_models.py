"""Files named like models whose bytes Garrison cannot read are reported, never passed."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from garrison.findings import Severity
from garrison.policy import Policy
from garrison.supplychain import scan_path

LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32 + b"\nsize 4\n"


def _statuses(path: Path, policy: Policy | None = None) -> dict[str, tuple[str, list[str]]]:
    report = scan_path(path, policy)
    found: dict[str, list[str]] = {}
    for f in report.findings:
        found.setdefault(Path(f.asset.path or "").name, []).append(f"{f.rule}:{f.severity}")
    return {Path(i.path).name: (i.status, found.get(Path(i.path).name, [])) for i in report.items}


def test_unknown_bytes_under_a_model_name_are_unscanned_at_low(tmp_path: Path) -> None:
    noise = os.urandom(4096)
    (tmp_path / "pytorch_model.bin").write_bytes(noise)
    (tmp_path / "flax_model.msgpack").write_bytes(b"\xde\x00\x02" + noise)
    (tmp_path / "notes.dat").write_bytes(noise)  # not a model name: unknown data, skipped
    got = _statuses(tmp_path)
    assert got["pytorch_model.bin"] == ("unscanned", ["GA-SCAN-003:low"])
    assert got["flax_model.msgpack"] == ("unscanned", ["GA-SCAN-003:low"])
    assert got["notes.dat"] == ("skipped", [])


def test_a_git_lfs_pointer_says_the_model_was_never_fetched(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(LFS)
    report = scan_path(tmp_path / "model.safetensors")
    [finding] = report.findings
    assert finding.rule == "GA-SCAN-003"
    assert finding.title == "Git LFS pointer in place of a model file"
    assert "git lfs pull" in finding.evidence
    assert [i.status for i in report.items] == ["unscanned"]


def test_the_policy_sets_how_severe_an_unread_model_is(tmp_path: Path) -> None:
    (tmp_path / "model.ckpt").write_bytes(os.urandom(512))
    policy = Policy(unscanned_severity=Severity.HIGH)
    assert _statuses(tmp_path / "model.ckpt", policy)["model.ckpt"][1] == ["GA-SCAN-003:high"]


def test_ggml_files_are_recognised_by_their_magic_whatever_their_name(tmp_path: Path) -> None:
    (tmp_path / "llama-7b.q4").write_bytes(b"tjgg\x03\x00\x00\x00" + os.urandom(256))
    report = scan_path(tmp_path / "llama-7b.q4")
    assert [(i.format, i.status) for i in report.items] == [("ggml", "unscanned")]
    assert [f.rule for f in report.findings] == ["GA-SCAN-003"]


def test_an_unread_model_inside_an_archive_is_reported_with_its_member(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("release/weights.t7", os.urandom(2048))
        archive.writestr("release/README", b"plain words about the release\n")
    (tmp_path / "release.zip").write_bytes(buffer.getvalue())
    report = scan_path(tmp_path / "release.zip")
    [finding] = report.findings
    assert finding.rule == "GA-SCAN-003" and "weights.t7" in str(finding.location)
    assert finding.severity is Severity.LOW
