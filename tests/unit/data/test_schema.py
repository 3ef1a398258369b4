from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from garrison.assets import Asset
from garrison.data.read import open_table
from garrison.data.schema import check_schema, infer_schema, load_schema_file
from garrison.errors import UsageError
from garrison.policy import ColumnSchema, Policy


def _write(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    table = pa.table(
        {
            "age": rng.integers(18, 90, n),
            "score": rng.normal(0, 1, n),
            "colour": np.array(["red", "green", "blue"])[rng.integers(0, 3, n)],
        }
    )
    pcsv.write_csv(table, path)
    return path


def test_inferred_schema_accepts_a_fresh_sample(tmp_path: Path) -> None:
    schema = infer_schema(open_table(_write(tmp_path / "ref.csv", 2000, 0)))
    assert schema["age"].type == "int" and schema["age"].min is not None
    assert schema["colour"].allowed == ("blue", "green", "red")
    assert not schema["score"].nullable
    result = check_schema(open_table(_write(tmp_path / "new.csv", 2000, 1)), schema, Policy())
    assert result.issues == () and result.missing_columns == () and result.null_columns == ()


def test_violations_are_found_at_the_right_rows(tmp_path: Path) -> None:
    schema = infer_schema(open_table(_write(tmp_path / "ref.csv", 500, 0)))
    lines = (tmp_path / "ref.csv").read_text().splitlines()
    lines[0] = lines[0].replace("colour", "color")  # a wrong column name
    lines[101] = '"-5",0.5,"red"'  # row 100: age out of range
    lines[201] = '"40",abc,"red"'  # row 200: score is not a number
    lines[301] = '"40",0.1,"red","extra"'  # row 300: malformed, skipped
    (tmp_path / "new.csv").write_text("\n".join(lines) + "\n")
    source = open_table(tmp_path / "new.csv", chunk_rows=64)
    result = check_schema(source, schema, Policy())
    assert result.missing_columns == ("colour",) and result.unexpected_columns == ("color",)
    found = {(i.rule, i.row, i.column) for i in result.issues}
    assert ("GA-DATA-003", 100, "age") in found
    assert result.counts["GA-DATA-002"]["score"] == 1
    findings = result.findings(
        Asset.from_path(tmp_path / "new.csv"), tmp_path / "new.csv", Policy()
    )
    rules = [f.rule for f in findings]
    assert rules.count("GA-DATA-001") == 2 and "GA-DATA-005" in rules
    malformed = next(f for f in findings if f.rule == "GA-DATA-005")
    assert malformed.location.line == 302


def test_declared_types_and_null_limit(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "id,flag,when\n"
        + "".join(
            f"{i},{'yes' if i == 3 else 'true'},{'' if i % 4 else '2024-01-01'}\n"
            for i in range(20)
        )
    )
    schema = {
        "id": ColumnSchema(type="int", min=0, max=10),
        "flag": ColumnSchema(type="bool"),
        "when": ColumnSchema(type="datetime"),
    }
    result = check_schema(open_table(path), schema, Policy())
    assert result.counts["GA-DATA-003"]["id"] == 9
    assert [i.row for i in result.issues if i.column == "flag"] == [3]
    assert result.null_columns == ("when",) and result.nulls["when"] == 15


def test_findings_are_capped_with_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("v\n" + "".join(f"{i}\n" for i in range(50)))
    policy = Policy.model_validate({"data": {"max_rows_per_finding_kind": 5}})
    result = check_schema(open_table(path), {"v": ColumnSchema(type="int", max=-1)}, policy)
    findings = result.findings(Asset.from_path(path), path, policy)
    assert len(findings) == 6 and "45 more rows" in findings[-1].evidence


def test_schema_files(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('[columns.age]\ntype = "int"\nmin = 0\n')
    (tmp_path / "s.json").write_text('{"age": {"type": "int", "max": 3}}')
    assert load_schema_file(tmp_path / "s.toml")["age"].min == 0
    assert load_schema_file(tmp_path / "s.json")["age"].max == 3
    (tmp_path / "bad.json").write_text('{"age": {"kind": "int"}}')
    with pytest.raises(UsageError, match=r"bad\.json"):
        load_schema_file(tmp_path / "bad.json")
