"""A scan spread over processes reports exactly what a serial scan reports, in order."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from garrison.supplychain import scan, scan_path
from garrison.supplychain.scan import PARALLEL_MIN_FILES, pool_pays


@pytest.fixture(autouse=True)
def always_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    # These files are quick, so a real scan would stay serial; the tests are about the pool.
    monkeypatch.setattr(scan, "SERIAL_BUDGET_S", 0.0)


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo garrison-test",))


def test_parallel_and_serial_scans_agree(tmp_path: Path) -> None:
    for i in range(PARALLEL_MIN_FILES + 50):
        obj: object = _Payload() if i % 37 == 0 else {"step": i, "w": [0.5] * (i % 7)}
        (tmp_path / f"f{i:04d}.pkl").write_bytes(pickle.dumps(obj, protocol=4))
    serial = scan_path(tmp_path, jobs=1)
    parallel = scan_path(tmp_path, jobs=2)
    assert [f.to_dict() for f in parallel.findings] == [f.to_dict() for f in serial.findings]
    assert parallel.items == serial.items
    assert len([f for f in serial.findings if f.severity.value == "critical"]) == 7


def test_progress_reaches_the_total(tmp_path: Path) -> None:
    for i in range(PARALLEL_MIN_FILES):
        (tmp_path / f"f{i}.pkl").write_bytes(pickle.dumps([i], protocol=2))
    seen: list[tuple[int, int]] = []
    scan_path(tmp_path, jobs=2, progress=lambda done, total, _: seen.append((done, total)))
    assert seen[-1] == (PARALLEL_MIN_FILES + 1, PARALLEL_MIN_FILES + 1)  # the directory too
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_the_pool_starts_only_when_the_rest_of_the_scan_is_long() -> None:
    # 1,000 files at 40 us each: 36 ms left, not worth a pool; at 2 ms each, 1.9 s left.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scan, "SERIAL_BUDGET_S", 0.3)
        assert not pool_pays(64, 936, 64 * 40e-6)
        assert pool_pays(64, 936, 64 * 2e-3)
        assert not pool_pays(64, PARALLEL_MIN_FILES - 1, 64 * 2e-3)  # too few left
