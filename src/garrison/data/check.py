"""`check_dataset`: every data check on one table or image folder, as one Report.

A table is parsed once: its batches are kept in memory when they fit (`CACHE_BYTES`), so
the schema, drift, duplicate and PII passes replay them instead of parsing again; a larger
file is streamed once per pass. Model-based checks (labels, backdoors) look at the first
`policy.data.sample_rows` rows.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.findings import Finding, Location
from garrison.policy import ColumnSchema, Policy
from garrison.report.model import Report

CACHE_BYTES = 1 << 30  # decoded batches kept for replay; beyond this, passes re-read the file
BACKDOOR_ROWS = 200_000  # feature-space backdoor signals fit a model; cap the rows they see
TEXT_MIN_LENGTH = 20  # mean characters for a string column to count as free text

Stage = Callable[[str], None]
ModelLoader = Callable[[int, int], Any]


@dataclass
class CachedSource:
    """The TableSource interface over batches already decoded."""

    path: Path
    format: str
    chunk_rows: int
    column_names: list[str]
    schema: Any
    batches_: list[tuple[int, Any]]
    rows_read: int
    bad_rows: list[Any]
    bad_row_count: int
    bad_values: Counter[str] = field(default_factory=Counter)

    def batches(self) -> Iterator[tuple[int, Any]]:
        yield from self.batches_


def cache_source(source: Any, max_bytes: int = CACHE_BYTES) -> Any:
    """Decode the table once; return a replayable source, or `source` itself when too big."""
    kept: list[tuple[int, Any]] = []
    size = 0
    for start, batch in source.batches():
        size += batch.nbytes
        if size > max_bytes:
            return source
        kept.append((start, batch))
    return CachedSource(
        source.path,
        source.format,
        source.chunk_rows,
        source.column_names,
        source.schema,
        kept,
        source.rows_read,
        source.bad_rows,
        source.bad_row_count,
        Counter(source.bad_values),
    )


def check_dataset(
    path: Path,
    policy: Policy | None = None,
    label: str | None = None,
    reference: Path | None = None,
    schema_file: Path | None = None,
    test_split: Path | None = None,
    text_columns: tuple[str, ...] | None = None,
    stage: Stage | None = None,
    pred_probs: np.ndarray | None = None,
    model: ModelLoader | None = None,
) -> Report:
    """Run the data checks on a table (CSV, Parquet, JSON lines) or an image folder.

    `pred_probs` (rows x classes, classes in sorted label order) replaces Garrison's own
    out-of-fold models in the label check; `model(n_classes, n_features)` returns the user's
    PyTorch module or scikit-learn estimator whose hidden features the backdoor check uses."""
    policy = policy or Policy()
    report = Report(command="data check", targets=[str(path)], fail_on=policy.fail_on)
    started = time.perf_counter()
    note = stage or (lambda _: None)
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    extras = (pred_probs, model)
    if path.is_dir():
        _check_images(path, policy, report, note, extras)
    else:
        _check_table(
            path,
            policy,
            label,
            reference,
            schema_file,
            test_split,
            text_columns,
            report,
            note,
            extras,
        )
    report.duration_s = time.perf_counter() - started
    return report


def _timed(report: Report, name: str, note: Stage, run: Callable[[], Any]) -> Any:
    note(name)
    started = time.perf_counter()
    result = run()
    report.metrics.setdefault("seconds", {})[name] = round(time.perf_counter() - started, 3)
    return result


def _check_table(
    path: Path,
    policy: Policy,
    label: str | None,
    reference: Path | None,
    schema_file: Path | None,
    test_split: Path | None,
    text_columns: tuple[str, ...] | None,
    report: Report,
    note: Stage,
    extras: tuple[np.ndarray | None, ModelLoader | None] = (None, None),
) -> None:
    from garrison.data import drift, schema
    from garrison.data.read import open_table

    asset = Asset.from_path(path, kind="dataset")
    chunk = policy.data.chunk_rows
    source = _timed(report, "read", note, lambda: cache_source(open_table(path, chunk)))
    names = source.column_names
    if label is not None and label not in names:
        raise UsageError(f"{path}: no column named {label!r}; columns: {', '.join(names[:20])}")
    ref = cache_source(open_table(reference, chunk)) if reference is not None else None
    if ref is not None and not any(batch.num_rows for _, batch in ref.batches()):
        # A header alone would make every value "outside the reference": one mistake, not
        # a finding per cell.
        raise UsageError(f"reference {reference} has no rows to compare with")
    declared = _schema(policy, schema_file, ref)
    checked = _timed(report, "schema", note, lambda: schema.check_schema(source, declared, policy))
    _add(report, "schema", checked, asset, path, policy)
    profile = drift.column_profile(ref) if ref is not None else None
    shifted = _timed(report, "drift", note, lambda: drift.compare(profile, source, label, policy))
    _add(report, "drift", shifted, asset, path, policy)

    # Duplicate checks need whole columns in memory: bounded by sample_rows. PII streams.
    columns = _timed(
        report, "columns", note, lambda: _columns(source, names, policy.data.sample_rows)
    )
    texts = text_columns if text_columns is not None else _text_columns(source, columns, label)
    _duplicates(path, policy, report, note, asset, columns, texts, test_split)
    _pii(policy, report, note, asset, path, source, columns, label)
    del columns  # the label checks build their own numeric matrix; free the decoded strings
    if label is not None:
        _labels(path, policy, report, note, asset, source, label, extras)


def _schema(policy: Policy, schema_file: Path | None, ref: Any) -> dict[str, ColumnSchema]:
    from garrison.data.schema import infer_schema, load_schema_file

    if schema_file is not None:
        return load_schema_file(schema_file)
    if policy.data.columns:
        return dict(policy.data.columns)
    if ref is not None:
        return infer_schema(ref)
    return {}


def _columns(source: Any, names: list[str], max_rows: int) -> dict[str, np.ndarray]:
    from garrison.data.read import read_columns

    return read_columns(source, names, max_rows)


def _text_columns(
    source: Any, columns: dict[str, np.ndarray], label: str | None
) -> tuple[str, ...]:
    """String columns of free text: long on average, and mostly distinct over the whole
    column (templated or categorical text repeats and is left to the exact checks)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = []
    for name, values in columns.items():
        if name == label or values.dtype != object or not len(values):
            continue
        try:
            array = pa.array(values, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue
        lengths = pc.utf8_length(array)
        mean_length = pc.mean(lengths).as_py() or 0
        distinct = pc.count_distinct(array).as_py()
        if mean_length >= TEXT_MIN_LENGTH and distinct > 0.5 * len(values):
            out.append(name)
    return tuple(out)


def _duplicates(
    path: Path,
    policy: Policy,
    report: Report,
    note: Stage,
    asset: Asset,
    columns: dict[str, np.ndarray],
    texts: tuple[str, ...],
    test_split: Path | None,
) -> None:
    from garrison.data.duplicates import find_duplicates

    other = None
    if test_split is not None:
        from garrison.data.read import open_table, read_columns

        split = open_table(test_split, policy.data.chunk_rows)
        other = read_columns(split, split.column_names)
    found = _timed(
        report,
        "duplicates",
        note,
        lambda: find_duplicates(
            columns,
            texts,
            reference=other,
            reference_name=str(test_split) if other else None,
            policy=policy,
        ),
    )
    _add(report, "duplicates", found, asset, path, policy)


def _pii(
    policy: Policy,
    report: Report,
    note: Stage,
    asset: Asset,
    path: Path,
    source: Any,
    columns: dict[str, np.ndarray],
    label: str | None,
) -> None:
    """Every row of every string column, batch by batch, so any file size is covered."""
    from dataclasses import replace

    from garrison.data.pii_check import check_pii
    from garrison.data.read import column_values

    note("pii")
    started = time.perf_counter()
    strings = [n for n, v in columns.items() if n != label and v.dtype == object]
    merged: dict[str, Any] = {}
    for start, batch in source.batches():
        for name in strings:
            found = check_pii(name, column_values(batch.column(name)), policy)
            if not len(found.rows):
                continue
            shifted = replace(
                found,
                rows=found.rows + start,
                examples=tuple(replace(e, row=e.row + start) for e in found.examples),
            )
            merged[name] = _merge_pii(merged.get(name), shifted)
    results = {}
    for name, found in merged.items():
        results[name] = found.to_dict()
        report.findings.extend(found.findings(asset, path, policy))
    report.metrics["pii"] = results
    report.metrics.setdefault("seconds", {})["pii"] = round(time.perf_counter() - started, 3)


def _merge_pii(before: Any, found: Any) -> Any:
    from dataclasses import replace

    if before is None:
        return found
    return replace(
        before,
        n_rows=before.n_rows + found.n_rows,
        rows=np.concatenate([before.rows, found.rows]),
        kinds=np.concatenate([before.kinds, found.kinds]),
        examples=before.examples + found.examples,
    )


def _named(issues: Any, names: tuple[str, ...]) -> Any:
    """Label findings that name classes as the data does ('rose', 'dog'), not by code."""
    codes = np.asarray(issues.classes)
    if not names or codes.dtype.kind not in "iu" or (len(codes) and codes.max() >= len(names)):
        return issues
    return dataclasses.replace(issues, classes=np.asarray(names, dtype=object)[codes])


def _labels(
    path: Path,
    policy: Policy,
    report: Report,
    note: Stage,
    asset: Asset,
    source: Any,
    label: str,
    extras: tuple[np.ndarray | None, ModelLoader | None],
) -> None:
    from garrison.data.backdoor import detect_backdoor
    from garrison.data.labels import find_label_issues
    from garrison.data.read import numeric_matrix

    matrix = _timed(
        report,
        "features",
        note,
        lambda: numeric_matrix(source, label, max_rows=policy.data.sample_rows),
    )
    assert matrix.labels is not None
    labels = matrix.labels
    probs, loader = extras
    issues = _timed(
        report, "labels", note, lambda: find_label_issues(matrix.x, labels, _probs(probs, labels))
    )
    _add(report, "labels", _named(issues, matrix.class_names), asset, path, policy)
    rows = min(len(labels), BACKDOOR_ROWS)
    user_model = loader(int(labels.max()) + 1, matrix.x.shape[1]) if loader else None
    found = _timed(
        report,
        "backdoor",
        note,
        lambda: detect_backdoor(matrix.x[:rows], labels[:rows], model=user_model),
    )
    _add(report, "backdoor", found, asset, path, policy)


def _probs(probs: np.ndarray | None, labels: np.ndarray) -> np.ndarray | None:
    if probs is None:
        return None
    if probs.ndim != 2 or len(probs) != len(labels):
        raise UsageError(
            f"--pred-probs has shape {probs.shape}; expected ({len(labels)}, classes): one row "
            "per analysed row, classes in sorted label order"
        )
    return probs


def _check_images(
    path: Path,
    policy: Policy,
    report: Report,
    note: Stage,
    extras: tuple[np.ndarray | None, ModelLoader | None] = (None, None),
) -> None:
    from garrison.data.backdoor import detect_backdoor
    from garrison.data.duplicates import (
        DuplicateResult,
        RowMatches,
        exact_duplicates,
        near_duplicate_images,
    )
    from garrison.data.labels import find_label_issues
    from garrison.data.read import open_images
    from garrison.data.rules import UNREADABLE_SAMPLE

    asset = Asset.from_path(path, kind="dataset")
    folder = open_images(path)
    x, y, _paths, bad = _timed(report, "read", note, lambda: folder.load())
    for row in bad[: policy.data.max_rows_per_finding_kind]:
        report.findings.append(
            UNREADABLE_SAMPLE.finding(asset, Location(path=str(path), row=row.row), row.message)
        )
    report.metrics["images"] = {
        "samples": len(x),
        "classes": list(folder.classes),
        "unreadable": len(bad),
    }
    if len(x) == 0:
        return
    first = len(report.findings)
    flat = x.reshape(len(x), -1)

    def duplicates() -> DuplicateResult:
        keys = np.frombuffer(b"".join(_digest8(row.tobytes()) for row in flat), dtype=np.uint64)
        exact_rows, exact_first = exact_duplicates(keys)
        rows, matches, distance = near_duplicate_images(x)
        keep = ~np.isin(rows, exact_rows)
        near = RowMatches(rows[keep], matches[keep], distance[keep].astype(np.float64))
        return DuplicateResult(
            len(x), RowMatches(exact_rows, exact_first), {"image": near}, None, None
        )

    _add(report, "duplicates", _timed(report, "duplicates", note, duplicates), asset, path, policy)
    probs, loader = extras
    issues = _timed(
        report,
        "labels",
        note,
        lambda: find_label_issues(flat.astype(np.float32) / 255.0, y, _probs(probs, y)),
    )
    _add(report, "labels", _named(issues, folder.classes), asset, path, policy)
    user_model = loader(int(y.max()) + 1, flat.shape[1]) if loader else None
    found = _timed(report, "backdoor", note, lambda: detect_backdoor(x, y, model=user_model))
    _add(report, "backdoor", found, asset, path, policy)
    # A sample's row number means nothing to a person looking at a folder: name its file.
    for i in range(first, len(report.findings)):
        at = report.findings[i].location
        if at.row is not None and 0 <= at.row < len(_paths):
            where = dataclasses.replace(at, path=str(_paths[at.row]))
            report.findings[i] = dataclasses.replace(report.findings[i], location=where)


def _digest8(data: bytes) -> bytes:
    import hashlib

    return hashlib.blake2b(data, digest_size=8).digest()


def _add(report: Report, name: str, result: Any, asset: Asset, path: Path, policy: Policy) -> None:
    findings: list[Finding] = result.findings(asset, path, policy)
    report.findings.extend(findings)
    report.metrics[name] = result.to_dict()
