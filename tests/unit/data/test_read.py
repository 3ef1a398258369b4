from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from garrison.data.read import numeric_matrix, open_images, open_table, read_columns
from garrison.errors import UsageError


def _csv(path: Path, rows: int, bad: dict[int, str] | None = None) -> Path:
    lines = ["a,b,c"]
    for i in range(rows):
        lines.append((bad or {}).get(i, f"{i},x{i % 3},{i * 0.5}"))
    path.write_text("\n".join(lines) + "\n")
    return path


def _all(source) -> dict[str, list]:
    out: dict[str, list] = {}
    for _, batch in source.batches():
        for name in batch.schema.names:
            out.setdefault(name, []).extend(batch.column(name).to_pylist())
    return out


def test_malformed_lines_are_reported_with_line_and_rest_is_read(tmp_path: Path) -> None:
    path = _csv(tmp_path / "d.csv", 200, {50: "50,short", 120: '120,"open,1.0'})
    source = open_table(path, chunk_rows=1000)
    data = _all(source)
    assert len(data["a"]) == 198
    assert data["a"][:3] == [0, 1, 2] and data["a"][-1] == 199
    lines = {b.line: b for b in source.bad_rows}
    assert set(lines) == {52, 122}  # header is line 1, row i is line i + 2
    assert lines[52].row == 50 and "d.csv:52" in lines[52].message
    assert lines[122].row == 119


def test_small_chunks_give_the_same_rows_and_bad_rows(tmp_path: Path) -> None:
    path = _csv(tmp_path / "d.csv", 300, {10: "10,x", 250: "250,y,1,2"})
    one, many = open_table(path, chunk_rows=10_000), open_table(path, chunk_rows=7)
    assert _all(one) == _all(many)
    assert sum(1 for _ in many.batches()) > 10
    assert [(b.row, b.line) for b in one.bad_rows] == [(b.row, b.line) for b in many.bad_rows]


def test_values_that_do_not_convert_become_nulls_and_are_counted(tmp_path: Path) -> None:
    path = _csv(tmp_path / "d.csv", 400, {300: "300,x,oops"})
    source = open_table(path, chunk_rows=50)
    data = _all(source)
    assert source.schema.field("c").type == pa.float64()
    assert data["c"][300] is None and source.bad_values["c"] == 1


def test_invalid_utf8_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,b\n1,ok\n2,\xff\xfe\n3,fine\n")
    source = open_table(path)
    assert _all(source)["a"] == [1, 3]
    assert [b.line for b in source.bad_rows] == [3]


def test_parquet_and_jsonl(tmp_path: Path) -> None:
    table = pa.table({"x": np.arange(25, dtype=np.float64), "s": [f"v{i % 2}" for i in range(25)]})
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=10)
    source = open_table(tmp_path / "d.parquet", chunk_rows=4)
    assert _all(source)["x"] == list(map(float, range(25)))
    lines = ['{"x": 1, "s": "a"}', "{not json", '{"x": 2.5, "s": "b"}', "[1]", '{"x": "z"}']
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    source = open_table(tmp_path / "d.jsonl", chunk_rows=2)
    data = _all(source)
    assert data["x"] == [1.0, 2.5, None] and data["s"] == ["a", "b", None]
    assert [b.line for b in source.bad_rows] == [2, 4]


def test_unreadable_files_raise_one_line_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 nonsense")
    (tmp_path / "mystery").write_bytes(b"just words\n")
    for name in ("empty.csv", "bad.parquet", "mystery", "absent.csv"):
        with pytest.raises(UsageError) as info:
            open_table(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)


def test_read_columns_and_numeric_matrix(tmp_path: Path) -> None:
    path = _csv(tmp_path / "d.csv", 30)
    source = open_table(path)
    cols = read_columns(source, ["a", "b"], max_rows=10)
    assert cols["a"].dtype == np.float64 and len(cols["a"]) == 10 and cols["b"][0] == "x0"
    matrix = numeric_matrix(source, label="b")
    assert matrix.x.shape == (30, 2) and matrix.x.dtype == np.float32
    assert matrix.class_names == ("x0", "x1", "x2") and matrix.labels is not None
    assert matrix.labels[:4].tolist() == [0, 1, 2, 0]


def test_image_folder_skips_corrupt_and_non_image_files(tmp_path: Path) -> None:
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        for i in range(3):
            size = (8, 8) if i else (10, 6)
            Image.new("RGB", size, (i * 40, 0, 0)).save(tmp_path / label / f"{i}.png")
    (tmp_path / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "dog" / "notes.txt").write_text("hello")
    folder = open_images(tmp_path)
    x, y, _, bad = folder.load()
    assert folder.classes == ("cat", "dog")
    assert x.shape == (6, 8, 8, 3) and y.tolist() == [0, 0, 0, 1, 1, 1]
    assert {Path(b.message.split(":")[0]).name for b in bad} == {"broken.png", "notes.txt"}
    assert all(folder.files[b.row][0].name in b.message for b in bad)
    gray, _, _, _ = folder.load(size=(4, 4), grayscale=True, max_images=2)
    assert gray.shape == (2, 4, 4)
