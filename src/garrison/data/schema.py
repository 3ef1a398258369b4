"""Schema of a table: inferred from a trusted reference or declared, and checked chunk by chunk."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from garrison.assets import Asset
from garrison.data.read import (
    BadRow,
    TableSource,
    column_values,
    convert,
    import_pyarrow,
    is_numeric,
)
from garrison.data.rules import (
    MALFORMED_ROW,
    SCHEMA_COLUMNS,
    SCHEMA_NULLS,
    SCHEMA_RANGE,
    SCHEMA_TYPE,
)
from garrison.errors import UsageError
from garrison.findings import Finding, Location
from garrison.policy import ColumnSchema, Policy
from garrison.rules import Rule

MAX_CATEGORIES = 50
RANGE_MARGIN = 0.1  # inferred ranges are widened by this share of the observed range


def infer_schema(source: TableSource, max_rows: int | None = None) -> dict[str, ColumnSchema]:
    """Types, nulls, ranges and (for columns with few distinct strings) categories.

    Ranges are the observed range widened by 10% each side, so a new batch from the same
    distribution does not trip them; a column never below zero stays non-negative."""
    pa = import_pyarrow()
    stats = {name: _Observed() for name in source.column_names}
    seen = 0
    for _, batch in source.batches():
        for name in source.column_names:
            stats[name].update(batch.column(name))
        seen += batch.num_rows
        if max_rows is not None and seen >= max_rows:
            break
    types = {f.name: f.type for f in source.schema}
    return {name: stats[name].schema(_type_name(types[name], pa)) for name in source.column_names}


@dataclass(slots=True)
class _Observed:
    nulls: int = 0
    count: int = 0
    low: float = np.inf
    high: float = -np.inf
    values: set[str] | None = field(default_factory=set)

    def update(self, col: Any) -> None:
        values = column_values(col)
        self.count += len(values)
        if values.dtype == object:
            present = values[values != None]  # noqa: E711 -- elementwise comparison
            self.nulls += len(values) - len(present)
            if self.values is not None:
                self.values.update(str(v) for v in np.unique(present.astype(str)))
                if len(self.values) > MAX_CATEGORIES:
                    self.values = None
            return
        finite = values[~np.isnan(values)]
        self.nulls += len(values) - len(finite)
        if len(finite):
            self.low = min(self.low, float(finite.min()))
            self.high = max(self.high, float(finite.max()))

    def schema(self, type_name: str) -> ColumnSchema:
        nullable = self.nulls > 0
        if type_name in ("int", "float") and self.high >= self.low:
            margin = RANGE_MARGIN * (self.high - self.low)
            low = self.low - margin if self.low < 0 else max(0.0, self.low - margin)
            high = self.high + margin
            if type_name == "int":
                low, high = float(np.floor(low)), float(np.ceil(high))
            return ColumnSchema(type=type_name, nullable=nullable, min=low, max=high)
        present = self.count - self.nulls
        if type_name == "string" and self.values is not None and len(self.values) * 2 <= present:
            return ColumnSchema(
                type="string", nullable=nullable, allowed=tuple(sorted(self.values))
            )
        return ColumnSchema(type=type_name, nullable=nullable)


def _type_name(arrow_type: Any, pa: Any) -> str:
    t = pa.types
    if t.is_boolean(arrow_type):
        return "bool"
    if t.is_integer(arrow_type):
        return "int"
    if t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "float"
    if t.is_timestamp(arrow_type) or t.is_date(arrow_type):
        return "datetime"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "string"
    return "any"


def load_schema_file(path: Path) -> dict[str, ColumnSchema]:
    """A schema file: TOML or JSON, either `{columns: {name: {...}}}` or `{name: {...}}`."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read schema file {path}: {exc}") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise UsageError(f"invalid schema file {path}: {' '.join(str(exc).split())}") from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if not isinstance(data, dict):
        raise UsageError(f"invalid schema file {path}: expected a table of columns")
    schema = {}
    for name, spec in data.items():
        try:
            schema[str(name)] = ColumnSchema.model_validate(spec)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise UsageError(
                f"invalid schema file {path}: {name}.{where}: {first['msg']}"
            ) from None
    return schema


@dataclass(frozen=True, slots=True)
class RowIssue:
    rule: str
    row: int
    column: str
    value: str


@dataclass(frozen=True, slots=True)
class SchemaResult:
    rows: int
    missing_columns: tuple[str, ...]
    unexpected_columns: tuple[str, ...]
    counts: dict[str, dict[str, int]]  # rule id -> column -> rows
    nulls: dict[str, int]
    issues: tuple[RowIssue, ...]  # the first rows of each rule, up to the policy's cap
    null_columns: tuple[str, ...]  # columns whose nulls break the schema or the policy
    bad_rows: int
    malformed: tuple[BadRow, ...]  # the first malformed rows the reader skipped

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "missing_columns": list(self.missing_columns),
            "unexpected_columns": list(self.unexpected_columns),
            "counts": self.counts,
            "nulls": self.nulls,
            "null_columns": list(self.null_columns),
            "malformed_rows": self.bad_rows,
            "issues": [
                {"rule": i.rule, "row": i.row, "column": i.column, "value": i.value}
                for i in self.issues[:100]
            ],
        }

    def findings(self, asset: Asset, path: Path, policy: Policy) -> list[Finding]:
        where = str(path)
        out = [
            SCHEMA_COLUMNS.finding(
                asset, Location(path=where, column=c), f"column {c!r} is missing"
            )
            for c in self.missing_columns
        ]
        out += [
            SCHEMA_COLUMNS.finding(
                asset, Location(path=where, column=c), f"column {c!r} is not in the schema"
            )
            for c in self.unexpected_columns
        ]
        for column in self.null_columns:
            share = self.nulls[column] / max(self.rows, 1)
            evidence = f"{self.nulls[column]} of {self.rows} values are null ({share:.1%})"
            out.append(SCHEMA_NULLS.finding(asset, Location(path=where, column=column), evidence))
        for rule in (SCHEMA_TYPE, SCHEMA_RANGE):
            total = sum(self.counts.get(rule.id, {}).values())
            listed = [i for i in self.issues if i.rule == rule.id]
            out += [
                rule.finding(asset, Location(path=where, row=i.row, column=i.column), i.value)
                for i in listed
            ]
            out += summary(rule, asset, where, total - len(listed))
        return out + malformed_findings(self.bad_rows, asset, path, policy, self.malformed)


def summary(rule: Rule, asset: Asset, where: str, rest: int) -> list[Finding]:
    """One finding that counts the rows left out of the listing."""
    if rest <= 0:
        return []
    return [rule.finding(asset, Location(path=where), f"{rest} more rows not listed")]


def malformed_findings(
    count: int, asset: Asset, path: Path, policy: Policy, bad: tuple[BadRow, ...]
) -> list[Finding]:
    cap = policy.data.max_rows_per_finding_kind
    out = [
        MALFORMED_ROW.finding(asset, Location(path=str(path), line=b.line, row=b.row), b.message)
        for b in bad[:cap]
    ]
    return out + summary(MALFORMED_ROW, asset, str(path), count - len(out))


def check_schema(
    source: TableSource, schema: dict[str, ColumnSchema], policy: Policy
) -> SchemaResult:
    """Check every chunk against `schema`; every column's null share against the policy."""
    names = source.column_names
    declared = [c for c in schema if c in names]
    missing = tuple(c for c in schema if c not in names)
    extra = (
        ()
        if policy.data.allow_extra_columns or not schema
        else tuple(c for c in names if c not in schema)
    )
    tally = _Tally(policy.data.max_rows_per_finding_kind)
    nulls: Counter[str] = Counter()
    for start, batch in source.batches():
        for name in names:
            nulls[name] += _null_count(batch.column(name))
        for name in declared:
            _check_column(batch.column(name), start, name, schema[name], tally)
    rows = source.rows_read
    for name, failed in source.bad_values.items():
        tally.counts[SCHEMA_TYPE.id][name] += failed  # nulled by the reader: no row listed
    limit = policy.data.max_null_fraction
    null_columns = tuple(
        c
        for c in names
        if nulls[c]
        and (nulls[c] > limit * max(rows, 1) or (c in schema and not schema[c].nullable))
    )
    return SchemaResult(
        rows=rows,
        missing_columns=missing,
        unexpected_columns=extra,
        counts={rule: dict(cols) for rule, cols in tally.counts.items() if cols},
        nulls=dict(nulls),
        issues=tuple(tally.issues),
        null_columns=null_columns,
        bad_rows=source.bad_row_count,
        malformed=tuple(source.bad_rows),
    )


@dataclass(slots=True)
class _Tally:
    cap: int
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {SCHEMA_TYPE.id: Counter(), SCHEMA_RANGE.id: Counter()}
    )
    issues: list[RowIssue] = field(default_factory=list)
    listed: Counter[str] = field(default_factory=Counter)

    def add(self, rule: str, column: str, start: int, mask: np.ndarray, values: Any) -> None:
        hits = np.flatnonzero(mask)
        if not len(hits):
            return
        self.counts[rule][column] += len(hits)
        room = self.cap - self.listed[rule]
        for i in hits[: max(room, 0)]:
            value = values[int(i)]
            self.issues.append(RowIssue(rule, start + int(i), column, _describe(column, value)))
        self.listed[rule] += min(len(hits), max(room, 0))


def _describe(column: str, value: Any) -> str:
    text = value.as_py() if hasattr(value, "as_py") else value
    return f"{column}={str(text)[:80]!r}"


def _null_count(col: Any) -> int:
    pa = import_pyarrow()
    count = int(col.null_count)
    if pa.types.is_floating(col.type):
        count += int(pa.compute.sum(pa.compute.is_nan(col)).as_py() or 0)
    return count


def _check_column(col: Any, start: int, name: str, spec: ColumnSchema, tally: _Tally) -> None:
    pa = import_pyarrow()
    pc = pa.compute
    wrong, typed = _type_errors(col, spec.type, pa)
    if wrong is not None:
        tally.add(SCHEMA_TYPE.id, name, start, wrong, col)
    if (spec.min is not None or spec.max is not None) and is_numeric(typed.type):
        values = column_values(typed)
        with np.errstate(invalid="ignore"):
            out = np.zeros(len(values), dtype=bool)
            if spec.min is not None:
                out |= values < spec.min
            if spec.max is not None:
                out |= values > spec.max
        tally.add(SCHEMA_RANGE.id, name, start, out, col)
    if spec.allowed is not None:
        text = convert(col, pa.string())[0]
        allowed = pc.is_in(text, value_set=pa.array(list(spec.allowed), pa.string()))
        bad = pc.and_(pc.is_valid(text), pc.invert(allowed))
        tally.add(SCHEMA_RANGE.id, name, start, np.asarray(bad.to_numpy(zero_copy_only=False)), col)


def _type_errors(col: Any, declared: str, pa: Any) -> tuple[np.ndarray | None, Any]:
    """Rows whose value is not of the declared type, and the column as that type."""
    target = _TARGETS.get(declared)
    if target is None:
        return None, col
    if is_numeric(col.type) and declared in ("int", "float", "bool"):
        values = column_values(col)
        with np.errstate(invalid="ignore"):
            if declared == "int":
                return np.isfinite(values) & (np.floor(values) != values), col
            if declared == "bool":
                return ~np.isnan(values) & (values != 0) & (values != 1), col
        return None, col
    if declared == "datetime" and (pa.types.is_timestamp(col.type) or pa.types.is_date(col.type)):
        return None, col
    typed, _ = convert(col, target(pa))
    wrong = pa.compute.and_(pa.compute.is_valid(col), pa.compute.is_null(typed))
    return np.asarray(wrong.to_numpy(zero_copy_only=False), dtype=bool), typed


def _nan_mask(col: Any) -> np.ndarray:
    pa = import_pyarrow()
    if pa.types.is_floating(col.type):
        nan = pa.compute.fill_null(pa.compute.is_nan(col), False)
        return np.asarray(nan.to_numpy(zero_copy_only=False), dtype=bool)
    return np.zeros(len(col), dtype=bool)


_TARGETS: dict[str, Any] = {
    "int": lambda pa: pa.int64(),
    "float": lambda pa: pa.float64(),
    "bool": lambda pa: pa.bool_(),
    "datetime": lambda pa: pa.timestamp("us"),
}
