"""A scan spread over processes reports exactly what a serial scan reports, in order."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from garrison.supplychain import scan_path
from garrison.supplychain.scan import PARALLEL_MIN_FILES


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
