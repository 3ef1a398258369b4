"""Legacy (non-zip) torch.save files: every pickle is scanned, raw storages are skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.findings import Finding, Severity
from garrison.supplychain import scan_path
from garrison.supplychain.torch_legacy import is_legacy_torch

from .helpers import Payload

torch = pytest.importorskip("torch")


def save_legacy(path: Path, obj: object) -> Path:
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    return path


def findings(path: Path) -> list[Finding]:
    return scan_path(path).findings


def test_benign_state_dicts_scan_clean(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    state = {"model": model.state_dict(), "step": 7, "half": torch.ones(5, dtype=torch.half)}
    path = save_legacy(tmp_path / "ckpt.pt", state)
    with path.open("rb") as stream:
        assert is_legacy_torch(stream)
    assert findings(path) == []


def test_optimizer_state_is_benign(tmp_path: Path) -> None:
    model = torch.nn.Linear(3, 2)
    optim = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optim.step()
    path = save_legacy(tmp_path / "o.pt", {"opt": optim.state_dict(), "m": model.state_dict()})
    assert all(f.severity < Severity.MEDIUM for f in findings(path))


def test_payload_in_the_main_pickle_is_critical(tmp_path: Path) -> None:
    path = save_legacy(tmp_path / "evil.pt", {"sd": torch.nn.Linear(2, 2).state_dict(),
                                              "x": Payload()})  # fmt: skip
    found = findings(path)
    assert [f.severity for f in found] == [Severity.CRITICAL]
    assert "system('echo garrison-test')" in found[0].evidence


def test_storage_bytes_are_not_parsed_as_pickle(tmp_path: Path) -> None:
    # Storage data that happens to contain pickle opcodes must not produce findings.
    fake = torch.frombuffer(bytearray(b"cos\nsystem\n(S'x'\ntR." * 4), dtype=torch.uint8)
    path = save_legacy(tmp_path / "s.pt", {"t": fake.clone()})
    assert findings(path) == []


def test_truncated_storage_is_malformed(tmp_path: Path) -> None:
    path = save_legacy(tmp_path / "t.pt", {"w": torch.ones(100)})
    path.write_bytes(path.read_bytes()[:-50])
    assert "GA-SCAN-002" in {f.rule for f in findings(path)}


def test_trailing_payload_after_storages(tmp_path: Path) -> None:
    import pickle

    path = save_legacy(tmp_path / "tail.pt", {"w": torch.ones(3)})
    path.write_bytes(path.read_bytes() + pickle.dumps(Payload(), protocol=2))
    rules = {(f.rule, f.severity) for f in findings(path)}
    assert ("GA-TORCH-102", Severity.MEDIUM) in rules
    assert ("GA-PKL-001", Severity.CRITICAL) in rules


def test_plain_pickles_are_not_legacy_torch(tmp_path: Path) -> None:
    import io
    import pickle

    assert not is_legacy_torch(io.BytesIO(pickle.dumps([1, 2])))
    assert not is_legacy_torch(io.BytesIO(b""))
