"""Read datasets in bounded chunks: CSV/TSV, Parquet, JSON lines, and image folders.

Tables are never loaded whole. Column types are fixed by the first chunk; later values
that do not convert become nulls and are counted in `TableSource.bad_values`. Rows that
cannot be parsed at all are skipped and listed in `TableSource.bad_rows` with their line.
Row numbers count the rows that were read (0-based), so they index the arrays every check
sees; a skipped row gets the number of the row that follows it.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from garrison.errors import MissingExtraError, UsageError

MAX_STORED_BAD = 10_000  # bad rows / values kept for reports; the rest are counted
# pyarrow's default null spellings, so the slow path agrees with the fast one
NULL_TEXT = frozenset(
    [
        "",
        "#N/A N/A",
        *["#N/A", "#NA", "-NaN", "-nan", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"],
    ]
)
_INT_RE = r"^[+-]?\d{1,18}$"
_FLOAT_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(?i:inf|infinity)$"
_DATE_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row (or sample) that was skipped: `row` as described above, `line` 1-based."""

    row: int
    line: int | None
    message: str


@dataclass(slots=True)
class _Tally:
    """Bad rows of the most complete pass; several passes over a source don't repeat them."""

    stored: dict[tuple[int, int | None], BadRow] = field(default_factory=dict)
    count: int = 0

    def add(self, bad: BadRow) -> None:
        key = (bad.row, bad.line)
        if key not in self.stored and len(self.stored) < MAX_STORED_BAD:
            self.stored[key] = bad


def import_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.csv
        import pyarrow.parquet
    except ImportError:
        raise MissingExtraError("pyarrow", "data") from None
    return pyarrow


class TableSource:
    """A table read chunk by chunk. Iterate `batches()` as often as needed."""

    def __init__(self, path: Path, fmt: str, chunk_rows: int) -> None:
        self.path = path
        self.format = fmt
        self.chunk_rows = chunk_rows
        self.rows_read = 0
        self.bad_values: Counter[str] = Counter()  # column -> values that did not convert
        self._bad = _Tally()
        self._types: dict[str, Any] | None = None
        self._names: list[str] = []
        first = next(self._raw_batches(), None)
        if first is None and not self._names:
            raise UsageError(f"{path}: no columns found; is the file empty?")

    @property
    def bad_rows(self) -> list[BadRow]:
        return sorted(self._bad.stored.values(), key=lambda b: (b.row, b.line or 0))

    @property
    def bad_row_count(self) -> int:
        return max(self._bad.count, len(self._bad.stored))

    @property
    def column_names(self) -> list[str]:
        return list(self._names)

    @property
    def schema(self) -> Any:
        pa = import_pyarrow()
        types = self._types or {}
        return pa.schema([(n, types.get(n, pa.string())) for n in self._names])

    def batches(self) -> Iterator[tuple[int, Any]]:
        """(row index of the first row, pyarrow.RecordBatch) for each chunk, in order."""
        start = 0
        self.bad_values = Counter()
        for batch in self._raw_batches():
            if batch.num_rows:
                yield start, batch
            start += batch.num_rows
        self.rows_read = start

    def _raw_batches(self) -> Iterator[Any]:
        reader = {"csv": _csv_batches, "tsv": _csv_batches, "parquet": _parquet_batches}
        tally = _Tally()
        yield from reader.get(self.format, _jsonl_batches)(self, tally)
        # keep the bad rows of the pass that went furthest
        if tally.count >= self._bad.count:
            self._bad = tally

    def _fix_types(self, table: Any) -> Any:
        """Cast a table of strings (or loose JSON types) to the types of the first chunk."""
        pa = import_pyarrow()
        if self._types is None:
            self._types = {n: _infer_type(table.column(n)) for n in table.column_names}
        arrays = []
        for name in self._names:
            col = table.column(name) if name in table.column_names else None
            target = self._types.get(name, pa.string())
            if col is None:
                arrays.append(pa.nulls(table.num_rows, target))
                continue
            converted, failed = convert(col, target)
            if failed:
                self.bad_values[name] += failed
            arrays.append(converted)
        return pa.RecordBatch.from_arrays(arrays, names=self._names)


def open_table(path: Path, chunk_rows: int = 100_000) -> TableSource:
    """Open a table by suffix (.csv .tsv .parquet .jsonl .ndjson) or, if unknown, by sniffing."""
    if not path.is_file():
        raise UsageError(f"{path}: not a readable file")
    fmt = _SUFFIXES.get(path.suffix.lower()) or _sniff(path)
    return TableSource(path, fmt, max(1, chunk_rows))


def _sniff(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    if not head.strip():
        raise UsageError(f"{path}: empty file")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip()[:1] == b"{":
        return "jsonl"
    first = head.split(b"\n", 1)[0]
    if b"\t" in first:
        return "tsv"
    if b"," in first:
        return "csv"
    raise UsageError(f"{path}: unknown table format; use .csv, .tsv, .parquet or .jsonl")


def _infer_type(col: Any) -> Any:
    pa = import_pyarrow()
    pc = pa.compute
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return pa.float64() if pa.types.is_null(col.type) else col.type
    text = pc.utf8_trim_whitespace(col)
    if text.null_count == len(text):
        return pa.string()
    for target, pattern in ((pa.int64(), _INT_RE), (pa.float64(), _FLOAT_RE)):
        if pc.all(pc.match_substring_regex(text, pattern)).as_py():
            return target
    lowered = pc.utf8_lower(text)
    if pc.all(pc.is_in(lowered, value_set=pa.array(["true", "false"]))).as_py():
        return pa.bool_()
    if pc.all(pc.match_substring_regex(text, _DATE_RE)).as_py():
        return pa.timestamp("us")
    return pa.string()


def convert(col: Any, target: Any) -> tuple[Any, int]:
    """Cast `col` to `target`; values that do not convert become null. Returns (array, failed)."""
    pa = import_pyarrow()
    pc = pa.compute
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if col.type == target:
        return col, 0
    if pa.types.is_string(target):
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            return col.cast(target), 0
        return _to_text(col), 0
    source = col
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        source = pc.utf8_trim_whitespace(col)
        if pa.types.is_boolean(target):
            source = pc.utf8_lower(source)
    try:
        return pc.cast(source, target), 0
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    ok = _convertible(source, target)
    kept = pc.if_else(ok, source, pa.scalar(None, source.type))
    try:
        converted = pc.cast(kept, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        converted = pa.array([_cast_one(v, target) for v in kept.to_pylist()], type=target)
    return converted, int(converted.null_count - col.null_count)


def _convertible(source: Any, target: Any) -> Any:
    pa = import_pyarrow()
    pc = pa.compute
    if not (pa.types.is_string(source.type) or pa.types.is_large_string(source.type)):
        return pc.is_valid(source)
    if pa.types.is_integer(target):
        return pc.match_substring_regex(source, _INT_RE)
    if pa.types.is_floating(target):
        return pc.match_substring_regex(source, _FLOAT_RE)
    if pa.types.is_boolean(target):
        return pc.is_in(source, value_set=pa.array(["true", "false", "1", "0"]))
    if pa.types.is_timestamp(target):
        return pc.match_substring_regex(source, _DATE_RE)
    return pc.is_valid(source)


def _cast_one(value: Any, target: Any) -> Any:
    pa = import_pyarrow()
    try:
        return pa.array([value]).cast(target)[0].as_py()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def _to_text(col: Any) -> Any:
    pa = import_pyarrow()
    try:
        return col.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array(
            [None if v is None else json.dumps(v, default=str) for v in col.to_pylist()]
        )


# ---- CSV -------------------------------------------------------------------------------------


def _csv_batches(source: TableSource, tally: _Tally) -> Iterator[Any]:
    delimiter = "\t" if source.format == "tsv" else ","
    try:
        handle = source.path.open("rb")
    except OSError as exc:
        raise UsageError(f"{source.path}: cannot read: {exc.strerror}") from None
    with handle:
        header = handle.readline()
        if not header.strip():
            raise UsageError(f"{source.path}: empty file or empty header line")
        source._names = _header_names(source.path, header, delimiter)
        block = _block_bytes(handle, len(source._names), source.chunk_rows)
        line = 2  # first data line, 1-based
        rows = 0
        rest = b""
        while True:
            data = handle.read(block)
            chunk = rest + data
            if not data:
                rest = b""
            else:
                cut = chunk.rfind(b"\n") + 1
                if cut == 0 and len(chunk) < 64 * block:
                    rest = chunk  # one huge line: read more before parsing
                    continue
                chunk, rest = (chunk[:cut], chunk[cut:]) if cut else (chunk, b"")
            if chunk.strip():
                table = _parse_chunk(source, chunk, delimiter, line, rows, tally)
                rows += table.num_rows
                yield source._fix_types(table)
            line += chunk.count(b"\n")
            if not data:
                return


def _header_names(path: Path, header: bytes, delimiter: str) -> list[str]:
    try:
        fields = next(csv.reader([header.decode("utf-8-sig").rstrip("\r\n")], delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        raise UsageError(f"{path}: line 1: cannot read the header line") from None
    names: list[str] = []
    for i, name in enumerate(fields):
        base = name.strip() or f"column_{i}"
        unique, n = base, 1
        while unique in names:
            unique, n = f"{base}.{n}", n + 1
        names.append(unique)
    return names


def _block_bytes(handle: Any, n_columns: int, chunk_rows: int) -> int:
    """Bytes per chunk so that a chunk holds about `chunk_rows` rows."""
    at = handle.tell()
    sample = handle.read(1 << 16)
    handle.seek(at)
    lines = sample.count(b"\n")
    per_row = len(sample) / lines if lines else max(len(sample), 4 * n_columns)
    return int(min(max(per_row * chunk_rows, 64), 256 << 20))


def _parse_chunk(
    source: TableSource, chunk: bytes, delimiter: str, line: int, rows: int, tally: _Tally
) -> Any:
    """Parse with pyarrow; fall back to a line-by-line parse when pyarrow cannot resync."""
    pa = import_pyarrow()
    names = source._names
    found: list[tuple[int, str]] = []

    def skip(row: Any) -> str:
        found.append(
            (row.number or 0, f"expected {row.expected_columns} fields, got {row.actual_columns}")
        )
        return "skip" if "\n" not in (row.text or "") else "error"

    try:
        with _quiet_undecodable_rows():
            table = pa.csv.read_csv(
                io.BytesIO(chunk),
                read_options=pa.csv.ReadOptions(column_names=names, use_threads=False),
                parse_options=pa.csv.ParseOptions(delimiter=delimiter, invalid_row_handler=skip),
                convert_options=pa.csv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
                ),
            )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        table, found = _parse_lines(chunk, delimiter, names)
    tally.count += len(found)
    for done, (number, message) in enumerate(found):
        at = line + max(number, 1) - 1
        row = min(max(rows + max(number, 1) - 1 - done, rows), rows + table.num_rows)
        tally.add(BadRow(row, at, f"{source.path}:{at}: {message}"))
    return table


@contextmanager
def _quiet_undecodable_rows() -> Iterator[None]:
    """Silence pyarrow's "Exception ignored" print for a bad row that is not UTF-8.

    pyarrow decodes such a row before our handler sees it and the UnicodeDecodeError escapes
    as an unraisable exception; the row is still reported, by the line-by-line parse.
    """
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, UnicodeDecodeError):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _parse_lines(
    chunk: bytes, delimiter: str, names: list[str]
) -> tuple[Any, list[tuple[int, str]]]:
    """Slow path for a chunk pyarrow rejected: each line is one record; a bad line is skipped."""
    pa = import_pyarrow()
    columns: list[list[str | None]] = [[] for _ in names]
    found: list[tuple[int, str]] = []
    for number, raw in enumerate(chunk.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            fields = next(csv.reader([raw.decode("utf-8")], delimiter=delimiter, strict=True))
        except UnicodeDecodeError as exc:
            found.append((number, f"invalid UTF-8 at byte {exc.start}"))
            continue
        except csv.Error as exc:
            found.append((number, f"bad quoting: {exc}"))
            continue
        if len(fields) != len(names):
            found.append((number, f"expected {len(names)} fields, got {len(fields)}"))
            continue
        for values, value in zip(columns, fields, strict=True):
            values.append(None if value in NULL_TEXT else value)
    arrays = [pa.array(values, type=pa.string()) for values in columns]
    return pa.table(arrays, names=names), found


# ---- Parquet ---------------------------------------------------------------------------------


def _parquet_batches(source: TableSource, tally: _Tally) -> Iterator[Any]:
    pa = import_pyarrow()
    try:
        reader = pa.parquet.ParquetFile(source.path)
    except (pa.ArrowException, OSError) as exc:
        raise UsageError(f"{source.path}: not a readable Parquet file: {_one_line(exc)}") from None
    source._names = list(reader.schema_arrow.names)
    source._types = {f.name: f.type for f in reader.schema_arrow}
    rows = 0
    for group in range(reader.num_row_groups):
        size = reader.metadata.row_group(group).num_rows
        try:
            yield from reader.iter_batches(batch_size=source.chunk_rows, row_groups=[group])
        except (pa.ArrowException, OSError) as exc:
            tally.count += 1
            tally.add(BadRow(rows, None, f"{source.path}: row group {group}: {_one_line(exc)}"))
            yield pa.RecordBatch.from_pylist([], schema=reader.schema_arrow)
        rows += size


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


# ---- JSON lines ------------------------------------------------------------------------------


def _jsonl_batches(source: TableSource, tally: _Tally) -> Iterator[Any]:
    pa = import_pyarrow()
    try:
        handle = source.path.open("rb")
    except OSError as exc:
        raise UsageError(f"{source.path}: cannot read: {exc.strerror}") from None
    with handle:
        records: list[dict[str, Any]] = []
        rows = 0
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (UnicodeDecodeError, ValueError) as exc:
                message = f"invalid JSON: {_one_line(exc)}"
                tally.count += 1
                tally.add(BadRow(rows + len(records), number, f"{source.path}:{number}: {message}"))
                continue
            if not isinstance(record, dict):
                tally.count += 1
                message = f"{source.path}:{number}: expected a JSON object"
                tally.add(BadRow(rows + len(records), number, message))
                continue
            records.append(record)
            if len(records) >= source.chunk_rows:
                yield _json_chunk(source, records, pa)
                rows += len(records)
                records = []
        if records or not source._names:
            yield _json_chunk(source, records, pa)


def _json_chunk(source: TableSource, records: list[dict[str, Any]], pa: Any) -> Any:
    if not source._names:
        source._names = list(dict.fromkeys(k for r in records for k in r))
    columns = {}
    for name in source._names:
        values = [_json_scalar(r.get(name)) for r in records]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            columns[name] = pa.array([None if v is None else str(v) for v in values])
    return source._fix_types(pa.table(columns) if columns else pa.table({}))


def _json_scalar(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


# ---- In-memory views -------------------------------------------------------------------------


def column_values(col: Any) -> np.ndarray:
    """A pyarrow column as numpy: numbers, bools and times as float64 with NaN, else objects."""
    pa = import_pyarrow()
    if is_numeric(col.type):
        if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
            col = col.cast(pa.int64()) if pa.types.is_timestamp(col.type) else col.cast(pa.int32())
        return np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(_to_text(col).to_numpy(zero_copy_only=False), dtype=object)


def is_numeric(arrow_type: Any) -> bool:
    pa = import_pyarrow()
    t = pa.types
    return bool(
        t.is_integer(arrow_type)
        or t.is_floating(arrow_type)
        or t.is_boolean(arrow_type)
        or t.is_decimal(arrow_type)
        or t.is_timestamp(arrow_type)
        or t.is_date(arrow_type)
    )


def read_columns(
    source: TableSource, columns: list[str], max_rows: int | None = None
) -> dict[str, np.ndarray]:
    """The first `max_rows` rows of `columns` (all rows if None), so row i is file row i."""
    missing = [c for c in columns if c not in source.column_names]
    if missing:
        raise UsageError(f"{source.path}: no column named {missing[0]!r}")
    parts: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    taken = 0
    for _, batch in source.batches():
        keep = batch.num_rows if max_rows is None else min(batch.num_rows, max_rows - taken)
        for name in columns:
            parts[name].append(column_values(batch.column(name).slice(0, keep)))
        taken += keep
        if max_rows is not None and taken >= max_rows:
            break
    out: dict[str, np.ndarray] = {}
    for name in columns:
        numeric = is_numeric(source.schema.field(name).type)
        empty = np.empty(0, dtype=np.float64 if numeric else object)
        out[name] = np.concatenate(parts[name]) if parts[name] else empty
    return out


@dataclass(frozen=True, slots=True)
class NumericMatrix:
    """Features for model-based checks: float32, no NaN (medians fill gaps)."""

    x: np.ndarray
    feature_names: tuple[str, ...]
    labels: np.ndarray | None
    class_names: tuple[str, ...]


def numeric_matrix(
    source: TableSource,
    label: str | None = None,
    columns: list[str] | None = None,
    max_rows: int | None = None,
    max_categories: int = 20,
) -> NumericMatrix:
    """Encode a table: numbers as is, categories one-hot up to `max_categories` values,
    more distinct values as the value's frequency (rare values stand out), nulls as medians."""
    names = [c for c in (columns or source.column_names) if c != label]
    wanted = [*names, label] if label else names
    values = read_columns(source, wanted, max_rows)
    blocks: list[np.ndarray] = []
    features: list[str] = []
    for name in names:
        block, labels = _encode(values[name], max_categories)
        blocks.append(block)
        features.extend(f"{name}={v}" if v else name for v in labels)
    rows = len(values[wanted[0]]) if wanted else 0
    x = np.hstack(blocks).astype(np.float32) if blocks else np.zeros((rows, 0), np.float32)
    if label is None:
        return NumericMatrix(x, tuple(features), None, ())
    raw = values[label]
    text = np.array(["" if _missing(v) else _label_text(v) for v in raw], dtype=object)
    classes, y = np.unique(text.astype(str), return_inverse=True)
    return NumericMatrix(x, tuple(features), y.astype(np.int64), tuple(str(c) for c in classes))


def _label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _encode(values: np.ndarray, max_categories: int) -> tuple[np.ndarray, list[str]]:
    if values.dtype != object:
        filled = values.copy()
        gaps = np.isnan(filled)
        if gaps.any():
            filled[gaps] = np.nanmedian(filled) if not gaps.all() else 0.0
        return filled.reshape(-1, 1), [""]
    text = np.array(["" if v is None else str(v) for v in values], dtype=object).astype(str)
    cats, inverse, counts = np.unique(text, return_inverse=True, return_counts=True)
    if len(cats) <= max_categories:
        return np.eye(len(cats), dtype=np.float32)[inverse], [str(c) for c in cats]
    return (counts[inverse] / max(len(text), 1)).reshape(-1, 1), ["#frequency"]


# ---- Image folders ---------------------------------------------------------------------------

MAX_IMAGE_BYTES = 64 << 20
MAX_IMAGE_PIXELS = 40_000_000  # larger images are reported, not decoded (decompression bombs)


@dataclass(frozen=True, slots=True)
class ImageFolder:
    """`root/<class>/<file>`; classes sorted by name; samples numbered in sorted order."""

    root: Path
    classes: tuple[str, ...]
    files: tuple[tuple[Path, int], ...]

    def load(
        self,
        size: tuple[int, int] | None = None,
        grayscale: bool | None = None,
        max_images: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, list[Path], list[BadRow]]:
        """Decode images to uint8 (N,H,W) or (N,H,W,3). Images whose size differs from `size`
        (default: the most common size) are resized bilinearly; `grayscale` defaults to True
        when most images are single-channel. Unreadable files are skipped and returned as
        BadRow(row=index in `files`)."""
        try:
            from PIL import Image
        except ImportError:
            raise MissingExtraError("pillow", "data") from None
        files = self.files[:max_images] if max_images is not None else self.files
        headers, bad = _image_headers(files, Image)
        if size is None:
            size = (
                Counter(h[1] for h in headers.values()).most_common(1)[0][0] if headers else (1, 1)
            )
        if grayscale is None:
            modes = Counter(h[2] in ("L", "1", "I", "I;16", "F") for h in headers.values())
            grayscale = modes.most_common(1)[0][0] if modes else False
        arrays, labels, paths = [], [], []
        for index, (path, label) in enumerate(files):
            if index not in headers:
                continue
            try:
                with Image.open(path) as opened:
                    image = opened.convert("L" if grayscale else "RGB")
                if image.size != size:
                    image = image.resize(size, Image.Resampling.BILINEAR)
                arrays.append(np.asarray(image, dtype=np.uint8))
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                bad.append(BadRow(index, None, f"{path}: cannot decode image: {_one_line(exc)}"))
                continue
            labels.append(label)
            paths.append(path)
        shape = (size[1], size[0]) if grayscale else (size[1], size[0], 3)
        x = np.stack(arrays) if arrays else np.zeros((0, *shape), np.uint8)
        return x, np.asarray(labels, dtype=np.int64), paths, sorted(bad, key=lambda b: b.row)


def _image_headers(
    files: tuple[tuple[Path, int], ...], image_module: Any
) -> tuple[dict[int, tuple[Path, tuple[int, int], str]], list[BadRow]]:
    """Size and mode from each header, without decoding pixels; bad files become BadRows."""
    headers: dict[int, tuple[Path, tuple[int, int], str]] = {}
    bad: list[BadRow] = []
    for index, (path, _) in enumerate(files):
        try:
            nbytes = path.stat().st_size
            if nbytes > MAX_IMAGE_BYTES:
                raise ValueError(f"file of {nbytes} bytes is over the {MAX_IMAGE_BYTES} limit")
            with image_module.open(path) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ValueError(
                        f"{width}x{height} pixels is over the {MAX_IMAGE_PIXELS} limit"
                    )
                headers[index] = (path, (width, height), image.mode)
        except (OSError, ValueError, image_module.DecompressionBombError) as exc:
            bad.append(BadRow(index, None, f"{path}: unreadable image: {_one_line(exc)}"))
    return headers, bad


def open_images(path: Path) -> ImageFolder:
    """An image folder with one sub-folder per class; hidden files are ignored."""
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory of class folders")
    classes = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise UsageError(f"{path}: no class sub-folders found (expected {path}/<class>/<image>)")
    files = tuple(
        (item, label)
        for label, name in enumerate(classes)
        for item in sorted((path / name).iterdir())
        if item.is_file() and not item.is_symlink() and not item.name.startswith(".")
    )
    if not files:
        raise UsageError(f"{path}: the class folders hold no files")
    return ImageFolder(path, tuple(classes), files)
