from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from garrison.data.diff import diff_datasets
from garrison.data.fingerprint import (
    HASH_BYTES,
    fingerprint_dataset,
    load_fingerprint,
    write_fingerprint,
)
from garrison.errors import UsageError

pa = pytest.importorskip("pyarrow")
pacsv = pytest.importorskip("pyarrow.csv")
pq = pytest.importorskip("pyarrow.parquet")


def _table(n: int, seed: int = 0) -> dict[str, list[object]]:
    rng = np.random.default_rng(seed)
    return {
        "id": list(range(n)),
        "x": np.round(rng.normal(size=n), 3).tolist(),
        "label": rng.choice(["cat", "dog"], size=n).tolist(),
    }


def _write(path: Path, columns: dict[str, list[object]]) -> Path:
    table = pa.table(columns)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    return path


def _poisoned(columns: dict[str, list[object]]) -> dict[str, list[object]]:
    """Row 3 changed, row 7 removed, two rows appended."""
    out = {k: list(v) for k, v in columns.items()}
    out["label"][3] = "dog" if out["label"][3] == "cat" else "cat"
    for values in out.values():
        del values[7]
    out["id"] += [1000, 1001]
    out["x"] += [9.5, -9.5]
    out["label"] += ["cat", "cat"]
    return out


def test_fingerprint_is_deterministic_and_content_addressed(tmp_path: Path) -> None:
    data = _write(tmp_path / "train.csv", _table(250))
    first = fingerprint_dataset(data, chunk_rows=100)
    second = fingerprint_dataset(data, chunk_rows=100)
    assert first.root == second.root
    assert first.rows == 250 and len(first.chunk_leaves) == 3
    assert first.files[0].rows == 250 and len(first.files[0].digest) == 64
    # The root covers the chunking: a different chunk size is a different (recorded) root.
    assert fingerprint_dataset(data, chunk_rows=50).root != first.root
    written = write_fingerprint(first)
    assert written.manifest_path == tmp_path / f"fingerprint-{first.root[:12]}.json"
    assert written.rows_path is not None
    assert written.rows_path.stat().st_size == 250 * HASH_BYTES
    manifest = json.loads(written.manifest_path.read_text())
    assert manifest["root"] == first.root and manifest["chunk_rows"] == 100
    assert [c["name"] for c in manifest["columns"]] == ["id", "label", "x"]
    loaded = load_fingerprint(written.manifest_path)
    assert loaded.root == first.root
    assert loaded.row_hashes.tobytes() == first.row_hashes.tobytes()


def test_a_changed_value_changes_the_root(tmp_path: Path) -> None:
    columns = _table(50)
    before = fingerprint_dataset(_write(tmp_path / "a.csv", columns))
    columns["x"][10] = 123.0
    after = fingerprint_dataset(_write(tmp_path / "b.csv", columns))
    assert before.root != after.root
    assert (before.row_hashes != after.row_hashes).sum() == 1


def test_csv_reformatting_is_not_a_change(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("id,name,score\n1,ann,0.5\n2,bob,1.25\n3,,7\n")
    styled = tmp_path / "styled.csv"
    styled.write_bytes(b'"id","name","score"\r\n"1", ann ,"0.5"\r\n2,"bob",  1.25\r\n 3 ,"",7')
    old, new = fingerprint_dataset(plain), fingerprint_dataset(styled)
    assert old.files[0].digest != new.files[0].digest
    assert old.root == new.root
    assert not diff_datasets(old, new)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_diff_finds_the_planted_rows(tmp_path: Path, suffix: str) -> None:
    columns = _table(40)
    old = _write(tmp_path / f"old{suffix}", columns)
    new = _write(tmp_path / f"new{suffix}", _poisoned(columns))

    keyed = diff_datasets(old, new, key="id")
    assert keyed.added.tolist() == [39, 40]
    assert keyed.removed.tolist() == [7]
    assert keyed.changed.tolist() == [[3, 3]]
    assert keyed.unchanged == 41 - 3

    plain = diff_datasets(old, new)
    assert plain.added.tolist() == [3, 39, 40]
    assert plain.removed.tolist() == [3, 7]
    assert len(plain.changed) == 0
    report = plain.to_dict()
    assert report["counts"] == {"added": 3, "removed": 2, "changed": 0, "unchanged": 38}


def test_csv_and_parquet_of_the_same_rows_agree(tmp_path: Path) -> None:
    columns = _table(30)
    csv = fingerprint_dataset(_write(tmp_path / "d.csv", columns))
    parquet = fingerprint_dataset(_write(tmp_path / "d.parquet", columns))
    assert csv.root == parquet.root


def test_a_duplicated_row_counts_as_added(tmp_path: Path) -> None:
    old = tmp_path / "old.csv"
    old.write_text("a,b\n1,x\n2,y\n")
    new = tmp_path / "new.csv"
    new.write_text("a,b\n1,x\n2,y\n1,x\n1,x\n")
    diff = diff_datasets(old, new)
    assert diff.added.tolist() == [2, 3] and diff.removed.tolist() == []


def test_diff_against_a_written_manifest(tmp_path: Path) -> None:
    columns = _table(20)
    written = write_fingerprint(fingerprint_dataset(_write(tmp_path / "v1.csv", columns), key="id"))
    assert written.manifest_path is not None
    new = _write(tmp_path / "v2.csv", _poisoned(columns))
    diff = diff_datasets(written.manifest_path, new, key="id")
    assert diff.changed.tolist() == [[3, 3]] and diff.removed.tolist() == [7]
    with pytest.raises(UsageError, match="without a key"):
        diff_datasets(write_fingerprint(fingerprint_dataset(new)), new, key="id")


def test_a_tampered_rows_file_is_refused(tmp_path: Path) -> None:
    written = write_fingerprint(fingerprint_dataset(_write(tmp_path / "d.csv", _table(10))))
    assert written.rows_path is not None and written.manifest_path is not None
    raw = bytearray(written.rows_path.read_bytes())
    raw[0] ^= 1
    written.rows_path.write_bytes(bytes(raw))
    with pytest.raises(UsageError, match="does not match"):
        load_fingerprint(written.manifest_path)


def test_image_folder_is_fingerprinted_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    (folder / "cat").mkdir(parents=True)
    (folder / "cat" / "1.png").write_bytes(b"\x89PNG one")
    (folder / "cat" / "2.png").write_bytes(b"\x89PNG two")
    old = fingerprint_dataset(folder)
    assert old.format == "files" and old.rows == 2 and old.key == "path"
    (folder / "cat" / "2.png").write_bytes(b"\x89PNG trigger")
    (folder / "cat" / "3.png").write_bytes(b"\x89PNG three")
    diff = diff_datasets(old, fingerprint_dataset(folder))
    assert diff.changed.tolist() == [[1, 1]] and diff.added.tolist() == [2]


def test_user_errors(tmp_path: Path) -> None:
    data = _write(tmp_path / "d.csv", _table(5))
    with pytest.raises(UsageError, match="key column 'nope'"):
        fingerprint_dataset(data, key="nope")
    with pytest.raises(UsageError, match="no such file"):
        fingerprint_dataset(tmp_path / "missing.csv")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(UsageError, match="cannot read"):
        fingerprint_dataset(bad)
    # A row that does not parse is refused, never skipped: it could be the poisoned one.
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(UsageError, match="cannot read"):
        fingerprint_dataset(ragged)


def test_tsv_is_read_with_tabs(tmp_path: Path) -> None:
    tsv = tmp_path / "d.tsv"
    tsv.write_text("a\tb\n1\tx, y\n")
    csv = tmp_path / "d.csv"
    csv.write_text('a,b\n1,"x, y"\n')
    assert fingerprint_dataset(tsv).root == fingerprint_dataset(csv).root


def test_a_200k_row_diff_is_fast(tmp_path: Path) -> None:
    n = 200_000
    columns = {"id": np.arange(n), "x": np.arange(n) * 0.5}
    old = _write(tmp_path / "old.parquet", columns)
    columns["x"] = columns["x"].copy()
    columns["x"][[5, 150_000]] = -1.0
    new = _write(tmp_path / "new.parquet", columns)
    diff = diff_datasets(old, new, key="id")
    assert diff.changed.tolist() == [[5, 5], [150_000, 150_000]]
    assert diff.unchanged == n - 2


def test_jsonl_with_nested_values(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    old.write_text(
        '{"id": 1, "tags": ["a", "b"], "meta": {"x": 1}}\n{"id": 2, "tags": [], "meta": null}\n'
    )
    new = tmp_path / "new.jsonl"
    new.write_text(
        '{"id": 1, "tags": ["a", "c"], "meta": {"x": 1}}\n{"id": 2, "tags": [], "meta": null}\n'
    )
    diff = diff_datasets(old, new, key="id")
    assert fingerprint_dataset(old).format == "jsonl"
    assert diff.changed.tolist() == [[0, 0]] and diff.unchanged == 1


def test_a_malformed_csv_is_refused_naming_its_line(tmp_path: Path) -> None:
    from garrison.data.fingerprint import fingerprint_dataset
    from garrison.errors import UsageError

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4\n5\n6,7\n")
    with pytest.raises(UsageError, match=r"bad\.csv:4: "):
        fingerprint_dataset(bad)
