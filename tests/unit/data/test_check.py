"""The orchestrator: one pass over cached batches gives the same answer as streaming."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from garrison.data import check
from garrison.policy import DataPolicy, Policy


def _table(path: Path, rows: int = 3000) -> Path:
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": rng.integers(0, 5, rows),
            "text": [
                f"ticket {i} about order {rng.integers(1000, 9999)} shipped late"
                for i in range(rows)
            ],
            "label": rng.integers(0, 2, rows),
        }
    )
    frame.loc[2500, "text"] = "mail me at someone@example.org please"
    frame.loc[10, "text"] = "token ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    frame = pd.concat([frame, frame.iloc[[7]]], ignore_index=True)
    frame.to_csv(path, index=False)
    return path


def _summary(report: object) -> set[tuple[str, int | None, str | None]]:
    return {(f.rule, f.location.row, f.location.column) for f in report.findings}  # type: ignore[attr-defined]


def test_streaming_and_cached_passes_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _table(tmp_path / "t.csv")
    policy = Policy(data=DataPolicy(chunk_rows=1000))
    cached = check.check_dataset(path, policy, label="label")
    monkeypatch.setattr(check, "CACHE_BYTES", 0)  # as for a file larger than memory
    streamed = check.check_dataset(path, policy, label="label")
    assert _summary(cached) == _summary(streamed)
    found = _summary(cached)
    assert ("GA-DATA-040", 2500, "text") in found  # in the third chunk: offsets are right
    assert ("GA-DATA-041", 10, "text") in found
    assert ("GA-DATA-030", 3000, None) in found


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    from garrison.errors import UsageError

    with pytest.raises(UsageError, match="no such file"):
        check.check_dataset(tmp_path / "missing.csv")
