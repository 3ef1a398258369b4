from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from garrison.assets import Asset
from garrison.data.drift import column_profile, compare
from garrison.data.read import open_table
from garrison.policy import Policy


def _write(path: Path, n: int, seed: int, shift: float = 0.0, **override: object) -> Path:
    rng = np.random.default_rng(seed)
    cols = {
        "x": rng.normal(shift, 1, n),
        "y": rng.exponential(2, n),
        "kind": np.array(["a", "b", "c"])[rng.integers(0, 3, n)],
        "label": rng.integers(0, 2, n),
    }
    cols.update(override)
    pcsv.write_csv(pa.table(cols), path)
    return path


def _drifted(result) -> set[str]:
    return {c.column for c in result.columns if c.drifted}


def test_no_drift_between_samples_of_one_distribution(tmp_path: Path) -> None:
    ref = open_table(_write(tmp_path / "r.csv", 20_000, 0))
    for seed in (1, 2, 3):
        cur = open_table(_write(tmp_path / f"c{seed}.csv", 20_000, seed))
        result = compare(ref, cur, "label", Policy())
        assert _drifted(result) == set()
        assert result.label_distance is not None and result.label_distance < 0.05
        labels = [f.rule for f in result.findings(Asset.from_path(tmp_path), tmp_path, Policy())]
        assert "GA-DATA-010" not in labels and "GA-DATA-011" not in labels


def test_mean_shift_new_category_and_label_flip_are_found(tmp_path: Path) -> None:
    n = 5000
    ref = column_profile(open_table(_write(tmp_path / "r.csv", n, 0)))
    kinds = np.array(["a", "b", "c", "zz"])[np.random.default_rng(5).integers(0, 4, n)]
    path = _write(tmp_path / "c.csv", n, 1, shift=0.5, kind=kinds, label=np.ones(n, dtype=int))
    result = compare(ref, open_table(path), "label", Policy())
    assert _drifted(result) == {"x", "kind"}
    kind = next(c for c in result.columns if c.column == "kind")
    assert "zz" in kind.note
    assert result.label_distance is not None and result.label_distance > 0.4
    rules = {f.rule for f in result.findings(Asset.from_path(path), path, Policy())}
    assert {"GA-DATA-010", "GA-DATA-011"} <= rules
    assert result.to_dict()["drifted"] == ["x", "kind"]


def test_planted_outliers_are_ranked_first(tmp_path: Path) -> None:
    n = 3000
    ref = open_table(_write(tmp_path / "r.csv", n, 0))
    x = np.random.default_rng(1).normal(0, 1, n)
    planted = [17, 1234, 2999]
    x[planted] = [25.0, -30.0, 40.0]
    cur = open_table(_write(tmp_path / "c.csv", n, 1, x=x), chunk_rows=500)
    result = compare(ref, cur, None, Policy())
    assert set(result.outlier_rows[:3].tolist()) == set(planted)
    assert result.outlier_count < 0.05 * n
    alone = compare(None, cur, None, Policy())  # fitted on the data itself
    assert alone.columns == () and set(alone.outlier_rows[:3].tolist()) == set(planted)
    findings = alone.findings(Asset.from_path(tmp_path), tmp_path / "c.csv", Policy())
    assert findings[0].rule == "GA-DATA-012" and findings[0].location.row in planted


def test_profiles_merge(tmp_path: Path) -> None:
    a = column_profile(open_table(_write(tmp_path / "a.csv", 1000, 0)), sample_size=500)
    b = column_profile(
        open_table(_write(tmp_path / "b.csv", 1000, 1)), edges=a.edges, sample_size=500
    )
    both = a.merge(b)
    assert both.rows == 2000 and len(both.keys) == 500
    assert both.categories["kind"] is not None and sum(both.categories["kind"].values()) == 2000
