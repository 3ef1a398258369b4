"""Dataset fingerprints: content-addressed manifests of a dataset's rows, and their record.

A row's hash is BLAKE2b-128 over its parsed values (columns in name order, each value as
UTF-8 text, fields separated by 0xFF, null as 0xFE: bytes that never occur in UTF-8), so
re-quoting or re-spacing a CSV does not change it. Row hashes are grouped into chunks of
`chunk_rows`; the Merkle root covers a schema leaf and the chunk leaves, so the root depends
on the chunk size, which the manifest records. A directory of non-table files (an image
folder) is fingerprinted with one "row" per file, keyed by its path.

Files are read here, not through `garrison.data.read`: that reader turns unconvertible
values into nulls and skips malformed rows, which would let a poisoned row escape the
fingerprint. Here every value is kept as read, and a malformed row is an error.

The manifest is JSON; the row hashes go to a binary `.rows` file beside it (16 bytes per row,
in row order) and, with a key column, the key hashes to a `.keys` file: a 1M-row dataset
gives a 16 MB sidecar, not a 100 MB JSON. The store keeps one row per recorded fingerprint
and the sidecar's path; `trace_rows` scans those sidecars oldest first.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from queue import Empty, Queue
from threading import Event, Thread
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import insert, select

from garrison.errors import MissingExtraError, UsageError
from garrison.store.audit import append_in, canonical_json, default_actor, now_iso
from garrison.store.db import Store
from garrison.store.models import DatasetFingerprint
from garrison.supplychain.provenance.manifest import GIT_PATHS, hash_file, model_files

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

KIND = "garrison.dataset-fingerprint"
CHUNK_ROWS = 10_000
HASH_BYTES = 16
FILES_KEY = "path"  # the key column of a directory of non-table files
TABLE_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_SEP, _NULL = b"\xff", b"\xfe"
_READ_ROWS = 100_000
_OUTPUT_PREFIX = "fingerprint-"

RowHashes = np.ndarray[Any, np.dtype[np.bytes_]]


@dataclass(frozen=True, slots=True)
class FileDigest:
    name: str  # POSIX path relative to the dataset; the file name for a single file
    digest: str  # hex SHA-256 of the bytes
    size: int
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "digest": self.digest, "size": self.size, "rows": self.rows}


@dataclass(frozen=True, slots=True, eq=False)
class Fingerprint:
    name: str
    path: str
    format: str  # csv, parquet, jsonl or files
    rows: int
    columns: tuple[tuple[str, str], ...]  # (name, type) in name order
    files: tuple[FileDigest, ...]
    chunk_rows: int
    chunk_leaves: tuple[str, ...]
    root: str
    created_at: str
    garrison_version: str
    key: str | None
    row_hashes: RowHashes = field(repr=False)  # dtype S16, one per row
    key_hashes: RowHashes | None = field(default=None, repr=False)
    manifest_path: Path | None = None  # set once written

    @property
    def rows_path(self) -> Path | None:
        return None if self.manifest_path is None else self.manifest_path.with_suffix(".rows")

    def to_manifest(self) -> dict[str, Any]:
        """The JSON manifest, without the row hashes (those live in the .rows sidecar)."""
        return {
            "kind": KIND,
            "name": self.name,
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "columns": [{"name": n, "type": t} for n, t in self.columns],
            "files": [f.to_dict() for f in self.files],
            "row_hash": "blake2b-128",
            "chunk_rows": self.chunk_rows,
            "chunk_leaves": list(self.chunk_leaves),
            "root": self.root,
            "key": self.key,
            "rows_sha256": _sha256(self.row_hashes),
            "keys_sha256": None if self.key_hashes is None else _sha256(self.key_hashes),
            "created_at": self.created_at,
            "garrison_version": self.garrison_version,
        }


def fingerprint_dataset(
    path: Path,
    key: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    name: str | None = None,
) -> Fingerprint:
    """Hash every row of a CSV, Parquet or JSONL file, a directory of them, or every file
    of any other directory."""
    from garrison import __version__

    if chunk_rows < 1:
        raise UsageError(f"chunk size must be at least 1 row, not {chunk_rows}")
    files = _dataset_files(path)
    fmt = _format_of(files)
    table = _hash_files(files, key) if fmt == "files" else _hash_tables(files, fmt, key)
    columns, digests, rows, keys = table
    leaves = chunk_leaves(rows, chunk_rows)
    return Fingerprint(
        name=name or path.resolve().name,
        path=str(path.resolve()),
        format=fmt,
        rows=len(rows),
        columns=columns,
        files=digests,
        chunk_rows=chunk_rows,
        chunk_leaves=tuple(leaves),
        root=merkle_root([_schema_leaf(columns), *leaves]),
        created_at=now_iso(),
        garrison_version=__version__,
        key=FILES_KEY if fmt == "files" else key,
        row_hashes=rows,
        key_hashes=keys,
    )


# --- Merkle tree -----------------------------------------------------------------------


def _leaf(data: bytes) -> str:
    # Domain separation (RFC 6962): a leaf can never be mistaken for an inner node.
    return hashlib.sha256(b"\x00" + data).hexdigest()


def chunk_leaves(row_hashes: RowHashes, chunk_rows: int) -> list[str]:
    """One leaf per `chunk_rows` rows: SHA-256 of the chunk's row hashes in order."""
    raw = row_hashes.tobytes()
    step = chunk_rows * HASH_BYTES
    return [_leaf(raw[i : i + step]) for i in range(0, len(raw), step)]


def merkle_root(leaves: list[str]) -> str:
    """Binary Merkle tree over hex leaves; an odd node is carried up unchanged."""
    level = [bytes.fromhex(leaf) for leaf in leaves] or [hashlib.sha256(b"").digest()]
    while len(level) > 1:
        pairs = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0].hex()


def _schema_leaf(columns: tuple[tuple[str, str], ...]) -> str:
    # Names only: the types of a CSV are all text, and a type inferred differently
    # is not a change of content.
    return _leaf(canonical_json([n for n, _ in columns]).encode("utf-8"))


def _sha256(hashes: RowHashes) -> str:
    return hashlib.sha256(hashes.tobytes()).hexdigest()


# --- reading ---------------------------------------------------------------------------


def _dataset_files(path: Path) -> list[tuple[str, Path]]:
    ignores = (*GIT_PATHS,)
    files = [
        (rel, p)
        for rel, p in model_files(path, ignores)
        if not _is_hidden(rel) and not Path(rel).name.startswith(_OUTPUT_PREFIX)
    ]
    if not files:
        raise UsageError(f"{path} holds no files to fingerprint")
    return files


def _is_hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def _format_of(files: list[tuple[str, Path]]) -> str:
    formats = {TABLE_FORMATS.get(p.suffix.lower(), "files") for _, p in files}
    # A mix of tables and other files is fingerprinted file by file.
    return formats.pop() if len(formats) == 1 else "files"


def _import_pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise MissingExtraError("pyarrow", "data") from None
    return pyarrow


def _batches(path: Path, fmt: str) -> Iterator[pa.RecordBatch]:
    """Record batches of one table file; CSV values are read as text (see module doc)."""
    pa = _import_pyarrow()
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            yield from pq.ParquetFile(path).iter_batches(batch_size=_READ_ROWS)
        elif fmt == "jsonl":
            import pyarrow.json as pj

            yield from pj.open_json(path)
        else:
            yield from _csv_batches(path, "\t" if fmt == "tsv" else ",")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        line = _bad_csv_line(path, "\t" if fmt == "tsv" else ",") if fmt in ("csv", "tsv") else None
        where = f"{path}:{line}" if line else str(path)
        raise UsageError(f"cannot read {where}: {reason}") from None


def _bad_csv_line(path: Path, delimiter: str) -> int | None:
    """The first physical line whose record does not parse or has the wrong field count.
    Only runs after pyarrow has refused the file, to name the line in the error."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8", errors="strict") as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            try:
                header = next(reader, None)
                for row in reader:
                    if header is not None and len(row) != len(header):
                        return reader.line_num
            except csv.Error:
                return reader.line_num + 1
    except (UnicodeDecodeError, OSError):
        return None
    return None


def _csv_batches(path: Path, delimiter: str) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # All columns as text: per-block type inference can disagree between blocks and files.
    # A malformed row is an error, never skipped: provenance must cover every row.
    parse = pacsv.ParseOptions(delimiter=delimiter)
    with pacsv.open_csv(path, parse_options=parse) as probe:
        names = probe.schema.names
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names})
    with pacsv.open_csv(path, parse_options=parse, convert_options=convert) as reader:
        yield from reader


# --- hashing ---------------------------------------------------------------------------


def _canonical(column: pa.Array, trim: bool) -> pa.Array:
    """The column as large_binary UTF-8 text, nulls kept."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if trim:  # CSV: the reader has checked the UTF-8 already
            column = pc.utf8_trim_whitespace(column)
        else:
            column.validate(full=True)  # invalid UTF-8 could forge a separator byte
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        column = pa.array([None if v is None else v.hex() for v in column.to_pylist()])
    elif pa.types.is_nested(kind):
        values = column.to_pylist()
        column = pa.array(
            [None if v is None else json.dumps(v, sort_keys=True, default=str) for v in values]
        )
    else:
        column = pc.cast(column, pa.string())
    return pc.cast(column, pa.large_binary())


def hash_rows(batch: pa.RecordBatch, columns: list[str], trim: bool = False) -> bytes:
    """16 bytes per row of `batch` over the given columns, concatenated in row order."""
    return _digest(_joined(batch, columns, trim))


_Joined = tuple[list[int], memoryview]


def _joined(batch: pa.RecordBatch, columns: list[str], trim: bool) -> _Joined:
    """Each row's canonical bytes in one buffer, with row bounds; runs without the GIL."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if batch.num_rows == 0:
        return [0], memoryview(b"")
    fields = [_canonical(batch.column(name), trim) for name in columns]
    options = pc.JoinOptions(null_handling="replace", null_replacement=_NULL)
    joined = pc.binary_join_element_wise(
        *fields, pa.scalar(_SEP, pa.large_binary()), options=options
    )
    offsets_buffer, data_buffer = joined.buffers()[1:3]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[joined.offset :]
    data = memoryview(data_buffer) if data_buffer is not None else memoryview(b"")
    return offsets[: batch.num_rows + 1].tolist(), data


def _digest(joined: _Joined) -> bytes:
    bounds, data = joined
    blake = hashlib.blake2b
    # No vectorised cryptographic hash exists in numpy/pyarrow; this loop is the hot path.
    return b"".join(
        [blake(data[a:b], digest_size=HASH_BYTES).digest() for a, b in pairwise(bounds)]
    )


_Prepared = tuple[tuple[tuple[str, str], ...], int, _Joined, _Joined | None]


def _prepared(path: Path, fmt: str, key: str | None) -> Iterator[_Prepared]:
    trim = fmt in ("csv", "tsv")
    for batch in _batches(path, fmt):
        columns = tuple(sorted((f.name, str(f.type)) for f in batch.schema))
        names = [n for n, _ in columns]
        _check_key(key, columns, path)
        keys = _joined(batch, [key], trim) if key is not None else None
        yield columns, batch.num_rows, _joined(batch, names, trim), keys


def _ahead(items: Iterator[_Prepared], depth: int = 2) -> Iterator[_Prepared]:
    """Run `items` on a thread, `depth` ahead: reading and joining (pyarrow, GIL released)
    overlap with hashing on the caller's thread."""
    done = object()
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put(item)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            queue.put(exc)
        queue.put(done)

    worker = Thread(target=produce, daemon=True)
    worker.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                worker.join(0.01)


_Table = tuple[tuple[tuple[str, str], ...], tuple[FileDigest, ...], RowHashes, RowHashes | None]


def _hash_tables(files: list[tuple[str, Path]], fmt: str, key: str | None) -> _Table:
    columns: tuple[tuple[str, str], ...] | None = None
    digests: list[FileDigest] = []
    row_parts: list[bytes] = []
    key_parts: list[bytes] = []
    for rel, path in files:
        digest, size = hash_file(path)
        count = 0
        for seen, rows, joined, key_rows in _ahead(_prepared(path, fmt, key)):
            if columns is None:
                columns = seen
            elif [n for n, _ in seen] != [n for n, _ in columns]:
                raise UsageError(
                    f"{path} has columns {[n for n, _ in seen]}, "
                    f"the dataset has {[n for n, _ in columns]}"
                )
            row_parts.append(_digest(joined))
            if key_rows is not None:
                key_parts.append(_digest(key_rows))
            count += rows
        digests.append(FileDigest(rel, digest, size, count))
    if columns is None:
        raise UsageError(f"{files[0][1]} has no rows to fingerprint")
    keys = _as_hashes(b"".join(key_parts)) if key is not None else None
    return columns, tuple(digests), _as_hashes(b"".join(row_parts)), keys


def _check_key(key: str | None, columns: tuple[tuple[str, str], ...], path: Path) -> None:
    names = [n for n, _ in columns]
    if key is not None and key not in names:
        raise UsageError(f"key column {key!r} is not in {path} (columns: {', '.join(names)})")


def _hash_files(files: list[tuple[str, Path]], key: str | None) -> _Table:
    if key not in (None, FILES_KEY):
        raise UsageError(f"a directory of files is keyed by {FILES_KEY!r}, not {key!r}")
    digests, rows, keys = [], [], []
    for rel, path in files:
        digest, size = hash_file(path)
        digests.append(FileDigest(rel, digest, size, 1))
        name = rel.encode("utf-8")
        rows.append(hashlib.blake2b(name + _SEP + bytes.fromhex(digest), digest_size=16).digest())
        keys.append(hashlib.blake2b(name, digest_size=HASH_BYTES).digest())
    columns = ((FILES_KEY, "string"), ("sha256", "string"))
    return columns, tuple(digests), _as_hashes(b"".join(rows)), _as_hashes(b"".join(keys))


def _as_hashes(raw: bytes) -> RowHashes:
    # S16 compares and sorts as 16 raw bytes; never .tolist() it (that strips trailing NULs).
    return np.frombuffer(raw, dtype=f"S{HASH_BYTES}")


# --- manifest files --------------------------------------------------------------------


def write_fingerprint(fp: Fingerprint, output: Path | None = None) -> Fingerprint:
    """Write the manifest (default: fingerprint-<root12>.json beside the dataset) and its
    .rows/.keys sidecars; returns the fingerprint with `manifest_path` set."""
    if output is None:
        output = Path(fp.path).resolve().parent / f"{_OUTPUT_PREFIX}{fp.root[:12]}.json"
    if not output.parent.is_dir():
        raise UsageError(f"directory does not exist: {output.parent}")
    written = replace(fp, manifest_path=output)
    try:
        output.with_suffix(".rows").write_bytes(fp.row_hashes.tobytes())
        if fp.key_hashes is not None:
            output.with_suffix(".keys").write_bytes(fp.key_hashes.tobytes())
        output.write_text(json.dumps(fp.to_manifest(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    return written


def is_manifest(path: Path) -> bool:
    if path.suffix != ".json" or not path.is_file():
        return False
    with path.open("rb") as stream:
        return KIND.encode() in stream.read(4096)


def load_fingerprint(manifest_path: Path) -> Fingerprint:
    """Read a manifest and its sidecars, checking that they still match its root."""
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
        rows = _as_hashes(manifest_path.with_suffix(".rows").read_bytes())
        keys = None
        if data.get("keys_sha256"):
            keys = _as_hashes(manifest_path.with_suffix(".keys").read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read fingerprint {manifest_path}: {exc.strerror}") from None
    except ValueError:
        raise UsageError(f"{manifest_path} is not a fingerprint manifest") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise UsageError(f"{manifest_path} is not a fingerprint manifest")
    fp = _from_manifest(data, rows, keys, manifest_path)
    _check_integrity(fp, data, manifest_path)
    return fp


def _from_manifest(
    data: dict[str, Any], rows: RowHashes, keys: RowHashes | None, where: Path
) -> Fingerprint:
    try:
        return Fingerprint(
            name=data["name"],
            path=data["path"],
            format=data["format"],
            rows=int(data["rows"]),
            columns=tuple((c["name"], c["type"]) for c in data["columns"]),
            files=tuple(FileDigest(**f) for f in data["files"]),
            chunk_rows=int(data["chunk_rows"]),
            chunk_leaves=tuple(data["chunk_leaves"]),
            root=data["root"],
            created_at=data["created_at"],
            garrison_version=data["garrison_version"],
            key=data.get("key"),
            row_hashes=rows,
            key_hashes=keys,
            manifest_path=where,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{where} is not a valid fingerprint manifest: {exc}") from None


def _check_integrity(fp: Fingerprint, data: dict[str, Any], where: Path) -> None:
    if len(fp.row_hashes) != fp.rows or _sha256(fp.row_hashes) != data.get("rows_sha256"):
        raise UsageError(f"{where.with_suffix('.rows')} does not match its manifest")
    if fp.key_hashes is not None and _sha256(fp.key_hashes) != data.get("keys_sha256"):
        raise UsageError(f"{where.with_suffix('.keys')} does not match its manifest")
    leaves = chunk_leaves(fp.row_hashes, fp.chunk_rows)
    root = merkle_root([_schema_leaf(fp.columns), *leaves])
    if tuple(leaves) != fp.chunk_leaves or root != fp.root:
        raise UsageError(f"{where}: the chunk leaves or root do not match the row hashes")


# --- the store -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredFingerprint:
    id: int
    root: str
    name: str
    path: str
    rows: int
    created_at: str
    rows_file: str
    manifest: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if name != "manifest"}


@dataclass(frozen=True, slots=True)
class RowTrace:
    """For each traced row hash (hex), the earliest recorded fingerprint holding it."""

    first_seen: dict[str, StoredFingerprint]
    unreadable: tuple[int, ...] = ()  # fingerprint ids whose .rows file is gone or altered

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_seen": {h: fp.id for h, fp in self.first_seen.items()},
            "unreadable": list(self.unreadable),
        }


def record_fingerprint(store: Store, fp: Fingerprint, actor: str | None = None) -> int:
    """Insert a written fingerprint and its `data.fingerprint` audit record together."""
    if fp.manifest_path is None or fp.rows_path is None:
        raise UsageError("write the fingerprint (write_fingerprint) before recording it")
    manifest = fp.to_manifest()
    row = {
        "root": fp.root,
        "name": fp.name,
        "path": fp.path,
        "rows": fp.rows,
        "created_at": fp.created_at,
        "manifest": canonical_json(manifest),
        "rows_file": str(fp.rows_path.resolve()),
    }
    with store.locked_transaction() as conn:
        new_id = conn.execute(insert(DatasetFingerprint).values(**row)).inserted_primary_key
        fingerprint_id = int(new_id[0]) if new_id else 0
        details = {
            "id": fingerprint_id,
            "root": fp.root,
            "path": fp.path,
            "format": fp.format,
            "rows": fp.rows,
            "files": [f.to_dict() for f in fp.files[:100]],
            "chunk_rows": fp.chunk_rows,
            "key": fp.key,
            "rows_sha256": manifest["rows_sha256"],
        }
        append_in(conn, "data.fingerprint", fp.name, details, actor or default_actor())
    return fingerprint_id


def find_fingerprints(
    store: Store, root: str | None = None, name: str | None = None
) -> list[StoredFingerprint]:
    """Recorded fingerprints, oldest first; `root` may be a prefix of 12+ hex characters."""
    query = select(*DatasetFingerprint.__table__.columns).order_by(DatasetFingerprint.id)
    if root is not None:
        text = root.strip().lower()
        if len(text) < 12:
            raise UsageError(f"give at least 12 hex characters of the root, not {root!r}")
        query = query.where(DatasetFingerprint.root.startswith(text))
    if name is not None:
        query = query.where(DatasetFingerprint.name == name)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [_stored(row._mapping) for row in rows]


def _stored(row: Any) -> StoredFingerprint:
    return StoredFingerprint(
        id=row["id"],
        root=row["root"],
        name=row["name"],
        path=row["path"],
        rows=row["rows"],
        created_at=row["created_at"],
        rows_file=row["rows_file"],
        manifest=json.loads(row["manifest"]),
    )


def trace_rows(store: Store, row_hashes: Iterable[bytes] | RowHashes) -> RowTrace:
    """Find, for each row hash, the earliest recorded fingerprint that contains it.

    Scans the recorded fingerprints' .rows files oldest first and stops once every hash is
    placed: O(total rows x log(queries)), no per-row table in the database.
    """
    values = row_hashes if isinstance(row_hashes, np.ndarray) else list(row_hashes)
    wanted = np.unique(np.asarray(values, dtype=f"S{HASH_BYTES}"))
    first: dict[str, StoredFingerprint] = {}
    unreadable: list[int] = []
    for stored in find_fingerprints(store):
        if len(wanted) == 0:
            break
        rows = _read_rows(stored)
        if rows is None:
            unreadable.append(stored.id)
            continue
        hit = _members(wanted, rows)
        for value in wanted[hit]:
            first[_hex(value)] = stored
        wanted = wanted[~hit]
    return RowTrace(first, tuple(unreadable))


def _members(wanted: RowHashes, rows: RowHashes) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which of `wanted` occur in `rows`: a fast pass on the first 8 bytes as integers,
    then an exact check of the few candidates."""
    present = np.zeros(len(wanted), dtype=bool)
    if len(rows) == 0:
        return present
    wanted_words = np.ascontiguousarray(wanted).view(np.uint64)[::2]
    row_words = np.ascontiguousarray(rows).view(np.uint64)[::2]
    candidates = rows[np.isin(row_words, wanted_words)]
    exact = {bytes(c).ljust(HASH_BYTES, b"\x00") for c in candidates}
    for i, value in enumerate(wanted):
        present[i] = bytes(value).ljust(HASH_BYTES, b"\x00") in exact
    return present


def _read_rows(stored: StoredFingerprint) -> RowHashes | None:
    try:
        raw = Path(stored.rows_file).read_bytes()
    except OSError:
        log.warning("fingerprint %s: cannot read %s", stored.id, stored.rows_file)
        return None
    if hashlib.sha256(raw).hexdigest() != stored.manifest.get("rows_sha256"):
        log.warning("fingerprint %s: %s was altered", stored.id, stored.rows_file)
        return None
    return _as_hashes(raw)


def _hex(value: bytes) -> str:
    # numpy strips trailing NULs from S16 scalars; pad them back.
    return value.ljust(HASH_BYTES, b"\x00").hex()
