"""Exact and near duplicates, and rows shared between training and test data.

Everything is vectorised over whole columns:

- rows are hashed to uint64 column by column (strings eight bytes at a time straight from
  the Arrow buffers, numbers from their float64 bits) and combined; equal hashes are
  duplicates (a false match needs a 64-bit collision);
- text is compared with MinHash over character 5-grams of the lower-cased text with
  punctuation folded to spaces, computed in numpy for all rows at once; LSH banding
  proposes pairs, and those whose estimate comes near the threshold are measured exactly;
- images use a 64-bit DCT perceptual hash computed in numpy (the same steps as
  ``imagehash.phash``: 32x32 grey, 2-D DCT, 8x8 low frequencies against their median, with
  area-averaged resizing instead of PIL's), and pairs within ``max_distance`` bits are found
  by splitting the hash into ``max_distance + 1`` pieces: two hashes that close agree on at
  least one piece (pigeonhole).

Candidate pairs come from sorting bucket keys and pairing each row with the few rows just
before it in the same bucket, so the work stays linear in the rows even when one bucket is
huge; in such a bucket a pair far apart in the order can be missed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from garrison.assets import Asset
from garrison.data.rules import EXACT_DUPLICATE, LEAKAGE, NEAR_DUPLICATE
from garrison.errors import MissingExtraError, UsageError
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.rules import Rule

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

_NULL_HASH = np.uint64(0x9E3779B97F4A7C15)
_SHINGLE = 5
_WINDOW = 8  # rows before each row in a bucket's sorted order that become candidates
_ROWS_PER_BLOCK = 512  # MinHash block: keeps the (perm, shingle) scratch array in cache


def _mix64(x: U64) -> U64:
    """splitmix64 finalizer: a bijection on uint64 that spreads every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError as exc:
        raise MissingExtraError("pyarrow", "data") from exc
    return pa, pc


def _to_arrow(values: Any) -> Any:
    pa, _ = _pyarrow()
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, from_pandas=True)


def _string_layout(array: Any) -> tuple[I64, NDArray[np.uint8]]:
    """Offsets (n + 1) and the UTF-8 bytes of a string array, without copying the bytes."""
    pa, _ = _pyarrow()
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, np.uint8)
    )
    return offsets.astype(np.int64, copy=False), data


def _padded(data: NDArray[np.uint8]) -> NDArray[np.uint8]:
    padded = np.zeros(len(data) + 16, dtype=np.uint8)
    padded[: len(data)] = data
    return padded


def _words_at(padded: NDArray[np.uint8], positions: I64, span: int = 1 << 20) -> U64:
    """The eight bytes starting at each (ascending) position of a `_padded` buffer, as
    little-endian uint64, read through a sliding window over at most `span` bytes at a time."""
    out = np.empty(len(positions), dtype=np.uint64)
    done = 0
    while done < len(positions):
        lo = int(positions[done])
        stop = done + int(np.searchsorted(positions[done:], lo + span))
        stop = max(stop, done + 1)
        hi = int(positions[stop - 1]) + 8
        windows = np.lib.stride_tricks.sliding_window_view(padded[lo:hi], 8)
        words = np.ascontiguousarray(windows).view("<u8").ravel()
        out[done:stop] = words[positions[done:stop] - lo]
        done = stop
    return out


def _string_hashes(array: Any) -> U64:
    offsets, data = _string_layout(array)
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    nwords = (lengths + 7) // 8
    firsts = np.cumsum(nwords) - nwords
    rows = np.repeat(np.arange(n), nwords)
    index = np.arange(int(nwords.sum()), dtype=np.int64) - firsts[rows]
    words = _words_at(_padded(data), offsets[:-1][rows] + 8 * index)
    remaining = np.minimum(lengths[rows] - 8 * index, 8).astype(np.uint64)
    keep = np.where(
        remaining == 8,
        np.uint64(0xFFFFFFFFFFFFFFFF),
        (np.uint64(1) << (np.uint64(8) * remaining)) - np.uint64(1),
    )
    hashed = _mix64((words & keep) ^ _mix64(index.astype(np.uint64) + np.uint64(1)))
    sums = np.zeros(n, dtype=np.uint64)
    nonempty = nwords > 0
    if nonempty.any():
        sums[nonempty] = np.add.reduceat(hashed, firsts[nonempty])
    out = _mix64(sums ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))
    if array.null_count:
        out[~np.asarray(array.is_valid().to_numpy(zero_copy_only=False))] = _NULL_HASH
    return out


def _numeric_hashes(values: NDArray[Any], decimals: int | None) -> U64:
    # Integers and floats hash alike (3 == 3.0), as a CSV column read twice may get either.
    as_float = values.astype(np.float64)
    if decimals is not None:
        as_float = np.round(as_float, decimals)
    as_float = np.where(as_float == 0, 0.0, as_float)  # -0.0 == 0.0
    bits = as_float.view(np.uint64).copy()
    bits[np.isnan(as_float)] = _NULL_HASH
    return _mix64(bits ^ np.uint64(0x632BE59BD9B4E019))


def column_hashes(values: Any, decimals: int | None = None) -> U64:
    """A uint64 per value; equal values (3 and 3.0 too) hash alike, nulls to one constant."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return _numeric_hashes(values, decimals)
    if isinstance(values, np.ndarray) and values.dtype.kind in "mM":
        return _mix64(values.view(np.int64).astype(np.uint64))
    pa, pc = _pyarrow()
    array = _to_arrow(values)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        filled = pc.fill_null(array.cast(pa.float64()), float("nan"))
        return _numeric_hashes(filled.to_numpy(zero_copy_only=False), decimals)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        array = array.cast(pa.large_string())
    return _string_hashes(array)


def row_hashes(columns: Mapping[str, Any], decimals: int | None = None) -> U64:
    """One uint64 per row combining every column in order; `decimals` rounds floats first
    (rows equal up to rounding then hash alike)."""
    if not columns:
        raise UsageError("no columns to hash")
    combined: U64 | None = None
    for values in columns.values():
        h = column_hashes(values, decimals)
        combined = h if combined is None else _mix64(combined * np.uint64(0x100000001B3) ^ h)
        if len(combined) != len(h):
            raise UsageError("columns have different lengths")
    assert combined is not None
    return combined


def exact_duplicates(keys: U64) -> tuple[I64, I64]:
    """Rows whose key equals an earlier row's: (duplicate rows, the first row of each)."""
    keys = np.asarray(keys)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    firsts = first[inverse].astype(np.int64)
    rows = np.flatnonzero(firsts != np.arange(len(keys)))
    return rows.astype(np.int64), firsts[rows]


def leakage(train_keys: U64, test_keys: U64) -> tuple[I64, I64]:
    """Test rows whose key is also a training row's: (test rows, a matching training row)."""
    train_keys = np.asarray(train_keys)
    test_keys = np.asarray(test_keys)
    order = np.argsort(train_keys, kind="stable")
    sorted_keys = train_keys[order]
    at = np.searchsorted(sorted_keys, test_keys)
    at_clipped = np.minimum(at, max(len(sorted_keys) - 1, 0))
    hit = (
        (at < len(sorted_keys)) & (sorted_keys[at_clipped] == test_keys)
        if len(order)
        else np.zeros(len(test_keys), bool)
    )
    rows = np.flatnonzero(hit).astype(np.int64)
    return rows, order[at_clipped[rows]].astype(np.int64)


# --- MinHash -------------------------------------------------------------------------


def _normalised_text(texts: Any) -> Any:
    pa, pc = _pyarrow()
    array = _to_arrow(texts)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.large_string())
    array = pc.fill_null(array, "")
    folded = pc.replace_substring_regex(pc.utf8_lower(array), r"[^\pL\pN]+", " ")
    return pc.utf8_trim_whitespace(folded)


def _permutations(num_perm: int, seed: int) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**32, num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def minhash_signatures(texts: Any, num_perm: int = 64, seed: int = 0) -> NDArray[np.uint32]:
    """(rows, num_perm) MinHash signatures of each text's set of character 5-grams.

    Each 5-gram is packed into an integer and mixed to 32 bits, then permuted by
    ``a * h + b (mod 2**32)`` with odd ``a``. Texts shorter than five characters are one
    shingle; empty texts get all-ones signatures (no shingle), which match nothing.
    """
    offsets, data = _string_layout(_normalised_text(texts))
    return _signatures(offsets, _padded(data), num_perm, seed)


def _signatures(
    offsets: I64, padded: NDArray[np.uint8], num_perm: int, seed: int
) -> NDArray[np.uint32]:
    if not 1 <= num_perm <= 1024:
        raise UsageError("num_perm must be between 1 and 1024")
    n = len(offsets) - 1
    a, b = _permutations(num_perm, seed)
    signatures = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    # One scratch buffer reused for every block: fresh large arrays cost page faults.
    scratch = np.empty((num_perm, 0), dtype=np.uint32)
    for lo in range(0, n, _ROWS_PER_BLOCK):
        hi = min(n, lo + _ROWS_PER_BLOCK)
        starts, counts, positions, lengths = _shingle_positions(offsets[lo : hi + 1])
        if not len(positions):
            continue
        words = _words_at(padded, positions)
        hashed = (_shingle_hashes(words, lengths, seed) >> np.uint64(32)).astype(np.uint32)
        if scratch.shape[1] < len(hashed):
            scratch = np.empty((num_perm, 2 * len(hashed)), dtype=np.uint32)
        permuted = scratch[:, : len(hashed)]
        np.multiply.outer(a, hashed, out=permuted)
        np.add(permuted, b[:, None], out=permuted)
        nonempty = counts > 0
        block = np.minimum.reduceat(permuted, starts[nonempty], axis=1)
        signatures[lo:hi][nonempty] = block.T
    return signatures


def _shingle_hashes(words: U64, lengths: I64, seed: int) -> U64:
    """Mixed 64-bit hashes of the shingles starting at `words` in rows of `lengths`."""
    width = np.minimum(lengths, _SHINGLE).astype(np.uint64)
    packed = words & ((np.uint64(1) << (np.uint64(8) * width)) - np.uint64(1))
    return _mix64(packed ^ (np.uint64(seed) * np.uint64(0xD6E8FEB86659FD93)))


def _shingle_positions(offsets: I64) -> tuple[I64, I64, I64, I64]:
    """For rows with these offsets: start of each row's shingles, their count, each
    shingle's byte position and the length of its row."""
    lengths = np.diff(offsets)
    counts = np.where(lengths >= _SHINGLE, lengths - _SHINGLE + 1, np.minimum(lengths, 1))
    starts = np.cumsum(counts) - counts
    rows = np.repeat(np.arange(len(lengths)), counts)
    positions = offsets[:-1][rows] + np.arange(int(counts.sum()), dtype=np.int64) - starts[rows]
    return starts, counts, positions, lengths[rows]


def _bands(num_perm: int, threshold: float) -> tuple[int, int]:
    """(bands, rows per band): the most selective banding that still proposes a pair right
    at the threshold at least 98% of the time (pairs above it more often still)."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= 0.98:
            return bands, rows
    return num_perm, 1


def _bucket_pairs(keys: U64, tiebreak: U64 | None = None, window: int = _WINDOW) -> tuple[I64, I64]:
    """Pairs (later row, earlier row) sharing a key, each row paired with up to `window`
    rows just before it in (key, tiebreak) order (key, row order without a tiebreak)."""
    order = np.argsort(keys, kind="stable") if tiebreak is None else np.lexsort((tiebreak, keys))
    sorted_keys = keys[order]
    later: list[I64] = []
    earlier: list[I64] = []
    for w in range(1, min(window, len(keys) - 1) + 1):
        same = np.flatnonzero(sorted_keys[w:] == sorted_keys[:-w])
        if not len(same):
            break
        x, y = order[same + w], order[same]
        later.append(np.maximum(x, y))
        earlier.append(np.minimum(x, y))
    if not later:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(later).astype(np.int64), np.concatenate(earlier).astype(np.int64)


def _earliest_match(later: I64, earlier: I64, score: F64) -> tuple[I64, I64, F64]:
    """For each row with a pair, the earliest matching row (ties: highest score)."""
    if not len(later):
        return later, earlier, score
    order = np.lexsort((-score, earlier, later))
    later, earlier, score = later[order], earlier[order], score[order]
    first = np.ones(len(later), dtype=bool)
    first[1:] = later[1:] != later[:-1]
    return later[first], earlier[first], score[first]


def near_duplicate_texts(
    texts: Any, threshold: float = 0.9, num_perm: int = 64, seed: int = 0
) -> tuple[I64, I64, F64]:
    """Rows whose text is near an earlier row's: (rows, matched earlier rows, Jaccard
    similarity of their character 5-gram sets). Identical texts match at 1.0.

    MinHash and LSH propose the pairs; pairs whose estimate is within 0.15 of the
    threshold or above are then measured exactly, so the estimate's noise (about 0.03 at
    64 permutations) neither drops true pairs nor admits false ones.
    """
    if not 0 < threshold <= 1:
        raise UsageError("the near-duplicate threshold must be in (0, 1]")
    # Identical texts are matched by dictionary encoding first, so templated columns with few
    # distinct values cost one pass, not one huge LSH bucket per repeated value.
    encoded = _normalised_text(texts).dictionary_encode()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    unique = encoded.dictionary  # in order of first appearance
    first_row = np.full(len(unique), len(codes), dtype=np.int64)
    np.minimum.at(first_row, codes, np.arange(len(codes), dtype=np.int64))
    offsets, data = _string_layout(unique)
    padded = _padded(data)
    signatures = _signatures(offsets, padded, num_perm, seed)
    later, earlier, estimate = _candidates(signatures, threshold)
    close = estimate >= threshold - 0.15
    later, earlier = later[close], earlier[close]
    similarity = _exact_jaccard(offsets, padded, later, earlier, seed)
    keep = similarity >= threshold
    u_later, u_earlier, u_sim = _earliest_match(later[keep], earlier[keep], similarity[keep])
    rows = np.arange(len(codes), dtype=np.int64)
    repeats = rows != first_row[codes]
    empty = np.asarray(_utf8_lengths(unique), dtype=np.int64)[codes] == 0
    repeats &= ~empty  # empty texts match nothing
    all_later = np.concatenate([rows[repeats], first_row[u_later]])
    all_earlier = np.concatenate([first_row[codes[repeats]], first_row[u_earlier]])
    all_sim = np.concatenate([np.ones(int(repeats.sum())), u_sim])
    return _earliest_match(all_later, all_earlier, all_sim)


def _utf8_lengths(array: Any) -> Any:
    _, pc = _pyarrow()
    return pc.utf8_length(array).to_numpy(zero_copy_only=False)


def near_duplicate_signatures(
    signatures: NDArray[np.uint32], threshold: float
) -> tuple[I64, I64, F64]:
    """Near duplicates from precomputed MinHash signatures alone (estimated similarity)."""
    later, earlier, estimate = _candidates(signatures, threshold)
    keep = estimate >= threshold
    return _earliest_match(later[keep], earlier[keep], estimate[keep])


def _candidates(signatures: NDArray[np.uint32], threshold: float) -> tuple[I64, I64, F64]:
    """Pairs (later, earlier) that share an LSH band, with their estimated similarity."""
    n, num_perm = signatures.shape
    has_text = signatures[:, 0] != np.iinfo(np.uint32).max
    bands, per_band = _bands(num_perm, threshold)
    band_keys = np.zeros((bands, n), dtype=np.uint64)
    for band in range(bands):
        key = np.zeros(n, dtype=np.uint64)
        for col in signatures[:, band * per_band : (band + 1) * per_band].T:
            key = _mix64(key ^ col.astype(np.uint64))
        band_keys[band] = np.where(has_text, key, np.arange(n, dtype=np.uint64))
    later_parts, earlier_parts = [], []
    for band in range(bands):
        later, earlier = _bucket_pairs(band_keys[band])
        later_parts.append(later)
        earlier_parts.append(earlier)
    pairs = np.unique(np.concatenate(later_parts) * np.int64(n) + np.concatenate(earlier_parts))
    later, earlier = pairs // n, pairs % n
    estimate = np.zeros(len(later), dtype=np.float64)
    for lo in range(0, len(later), 65536):
        chunk = slice(lo, lo + 65536)
        estimate[chunk] = (signatures[later[chunk]] == signatures[earlier[chunk]]).mean(axis=1)
    return later, earlier, estimate


def _exact_jaccard(
    offsets: I64, padded: NDArray[np.uint8], later: I64, earlier: I64, seed: int
) -> F64:
    """Exact Jaccard similarity of the 5-gram sets of each pair of rows."""
    out = np.zeros(len(later), dtype=np.float64)
    for lo in range(0, len(later), 4096):
        a, b = later[lo : lo + 4096], earlier[lo : lo + 4096]
        sets_a, sizes_a = _row_sets(offsets, padded, a, seed)
        sets_b, sizes_b = _row_sets(offsets, padded, b, seed)
        pair = np.concatenate(
            [np.repeat(np.arange(len(a)), sizes_a), np.repeat(np.arange(len(b)), sizes_b)]
        )
        values = np.concatenate([sets_a, sets_b])
        order = np.lexsort((values, pair))
        pair, values = pair[order], values[order]
        twice = (pair[1:] == pair[:-1]) & (values[1:] == values[:-1])
        shared = np.bincount(pair[1:][twice], minlength=len(a))
        union = sizes_a + sizes_b - shared
        out[lo : lo + len(a)] = np.where(union > 0, shared / np.maximum(union, 1), 0.0)
    return out


def _row_sets(offsets: I64, padded: NDArray[np.uint8], rows: I64, seed: int) -> tuple[U64, I64]:
    """The distinct shingle hashes of each row, concatenated, and how many each row has."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    counts = np.where(lengths >= _SHINGLE, lengths - _SHINGLE + 1, np.minimum(lengths, 1))
    owner = np.repeat(np.arange(len(rows)), counts)
    firsts = np.cumsum(counts) - counts
    positions = starts[owner] + np.arange(int(counts.sum()), dtype=np.int64) - firsts[owner]
    order = np.argsort(positions, kind="stable")
    words = np.empty(len(positions), dtype=np.uint64)
    words[order] = _words_at(padded, positions[order])
    hashes = _shingle_hashes(words, lengths[owner], seed)
    keyed = np.lexsort((hashes, owner))
    owner, hashes = owner[keyed], hashes[keyed]
    distinct = np.ones(len(hashes), dtype=bool)
    distinct[1:] = (owner[1:] != owner[:-1]) | (hashes[1:] != hashes[:-1])
    return hashes[distinct], np.bincount(owner[distinct], minlength=len(rows))


# --- images --------------------------------------------------------------------------


def _resize_matrix(size: int, out: int) -> NDArray[np.float64]:
    """(out, size) weights averaging each output cell's share of the input pixels."""
    edges = np.linspace(0, size, out + 1)
    left = np.arange(size)[None, :]
    overlap = np.clip(
        np.minimum(left + 1, edges[1:, None]) - np.maximum(left, edges[:-1, None]), 0, None
    )
    weights: NDArray[np.float64] = overlap / overlap.sum(axis=1, keepdims=True)
    return weights


def _dct_matrix(n: int, keep: int) -> NDArray[np.float64]:
    k = np.arange(keep)[:, None]
    i = np.arange(n)[None, :]
    matrix: NDArray[np.float64] = 2 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))
    return matrix


def image_phashes(images: NDArray[np.uint8], batch: int = 1024) -> U64:
    """64-bit DCT perceptual hash of each image of (N, H, W) or (N, H, W, C) uint8."""
    if images.ndim not in (3, 4) or images.shape[1] < 1 or images.shape[2] < 1:
        raise UsageError("images must be shaped (N, H, W) or (N, H, W, C)")
    h, w = images.shape[1], images.shape[2]
    rows = _resize_matrix(h, 32)
    cols = _resize_matrix(w, 32)
    dct = _dct_matrix(32, 8)
    bits = np.uint64(1) << np.arange(64, dtype=np.uint64)[::-1]
    out = np.zeros(len(images), dtype=np.uint64)
    for lo in range(0, len(images), batch):
        chunk = images[lo : lo + batch].astype(np.float64)
        if chunk.ndim == 4:
            channels = chunk.shape[3]
            luma = np.array([0.299, 0.587, 0.114])[:channels] if channels >= 3 else None
            chunk = chunk[..., :3] @ luma if luma is not None else chunk.mean(axis=3)
        small = rows @ chunk @ cols.T
        low = (dct @ small @ dct.T).reshape(len(chunk), 64)
        above = low > np.median(low, axis=1, keepdims=True)
        out[lo : lo + batch] = (above.astype(np.uint64) * bits).sum(axis=1, dtype=np.uint64)
    return out


def near_duplicate_images(
    images: NDArray[np.uint8] | U64, max_distance: int = 6
) -> tuple[I64, I64, I64]:
    """Images within `max_distance` bits (of 64) of an earlier image's perceptual hash:
    (rows, matched earlier rows, Hamming distances). Accepts images or their hashes."""
    if not 0 <= max_distance < 32:
        raise UsageError("max_distance must be between 0 and 31 bits")
    hashes = images if images.dtype == np.uint64 else image_phashes(np.asarray(images, np.uint8))
    hashes = np.asarray(hashes, dtype=np.uint64)
    pieces = max_distance + 1
    bounds = np.linspace(0, 64, pieces + 1).astype(int)
    later_parts, earlier_parts = [], []
    for lo, hi in itertools.pairwise(bounds.tolist()):
        mask = np.uint64(((1 << (hi - lo)) - 1) << (64 - hi))
        rotated = (hashes << np.uint64(lo)) | (hashes >> np.uint64(64 - lo)) if lo else hashes
        later, earlier = _bucket_pairs(hashes & mask, rotated, window=_WINDOW)
        later_parts.append(later)
        earlier_parts.append(earlier)
    later = np.concatenate(later_parts)
    earlier = np.concatenate(earlier_parts)
    distance = np.bitwise_count(hashes[later] ^ hashes[earlier]).astype(np.int64)
    keep = distance <= max_distance
    rows, matches, score = _earliest_match(
        later[keep], earlier[keep], -distance[keep].astype(np.float64)
    )
    return rows, matches, (-score).astype(np.int64)


# --- result --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class RowMatches:
    """Rows and, for each, the row it matches (and a similarity where one is estimated)."""

    rows: I64
    matches: I64
    similarity: F64 | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def examples(self, limit: int = 20) -> list[dict[str, Any]]:
        out = []
        for i in range(min(limit, len(self.rows))):
            item: dict[str, Any] = {"row": int(self.rows[i]), "match": int(self.matches[i])}
            if self.similarity is not None:
                item["similarity"] = round(float(self.similarity[i]), 3)
            out.append(item)
        return out


def _empty() -> RowMatches:
    return RowMatches(np.zeros(0, np.int64), np.zeros(0, np.int64))


@dataclass(frozen=True, slots=True, eq=False)
class DuplicateResult:
    """Duplicates within one dataset, and its rows leaked from a reference (training) set.

    `near` maps a text column (or "image") to its near duplicates; exact duplicate rows
    are left out of `near`. `leaked` rows are rows of this dataset whose `matches` index
    the reference.
    """

    n_rows: int
    exact: RowMatches = field(default_factory=_empty)
    near: Mapping[str, RowMatches] = field(default_factory=dict)
    leaked: RowMatches | None = None
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.n_rows,
            "exact_duplicates": len(self.exact),
            "exact_examples": self.exact.examples(),
            "near_duplicates": {
                column: {"count": len(found), "examples": found.examples()}
                for column, found in self.near.items()
            },
        }
        if self.leaked is not None:
            out["leakage"] = {
                "reference": self.reference,
                "count": len(self.leaked),
                "examples": self.leaked.examples(),
            }
        return out

    def findings(self, asset: Asset, path: Path | str, policy: Policy) -> list[Finding]:
        cap = policy.data.max_rows_per_finding_kind
        where = str(path)
        out = _row_findings(
            EXACT_DUPLICATE, asset, where, None, self.exact, cap, lambda m, _s: f"same as row {m}"
        )
        for column, found in self.near.items():
            out += _row_findings(
                NEAR_DUPLICATE,
                asset,
                where,
                None if column == "image" else column,
                found,
                cap,
                lambda m, s, c=column: f"{c} similar to row {m} (similarity {s:.2f})",
            )
        if self.leaked is not None:
            ref = self.reference or "the reference"
            out += _row_findings(
                LEAKAGE,
                asset,
                where,
                None,
                self.leaked,
                cap,
                lambda m, _s: f"also row {m} of {ref}",
            )
        return out


def _row_findings(
    rule: Rule,
    asset: Asset,
    path: str,
    column: str | None,
    found: RowMatches,
    cap: int,
    describe: Any,
) -> list[Finding]:
    out = []
    for i in range(min(cap, len(found))):
        score = float(found.similarity[i]) if found.similarity is not None else 1.0
        location = Location(path=path, row=int(found.rows[i]), column=column)
        out.append(rule.finding(asset, location, describe(int(found.matches[i]), score)))
    if len(found) > cap:
        rest = len(found) - cap
        evidence = f"{rest} more rows not listed (max_rows_per_finding_kind = {cap})"
        out.append(rule.finding(asset, Location(path=path, column=column), evidence))
    return out


def find_duplicates(
    columns: Mapping[str, Any],
    text_columns: tuple[str, ...] | list[str] = (),
    reference: Mapping[str, Any] | None = None,
    reference_name: str | None = None,
    policy: Policy | None = None,
    decimals: int | None = None,
    num_perm: int = 64,
) -> DuplicateResult:
    """Exact duplicate rows, near-duplicate texts in `text_columns`, and rows also in
    `reference` (compared on the columns both share)."""
    policy = policy or Policy()
    keys = row_hashes(columns, decimals)
    dup_rows, dup_firsts = exact_duplicates(keys)
    near: dict[str, RowMatches] = {}
    exact_set = np.zeros(len(keys), dtype=bool)
    exact_set[dup_rows] = True
    for column in text_columns:
        if column not in columns:
            raise UsageError(f"no column named {column!r}")
        rows, matches, sim = near_duplicate_texts(
            columns[column], policy.data.near_duplicate_similarity, num_perm
        )
        keep = ~exact_set[rows]
        near[column] = RowMatches(rows[keep], matches[keep], sim[keep])
    leaked = None
    if reference is not None:
        shared = [c for c in columns if c in reference]
        if not shared:
            raise UsageError("the reference data shares no column with the data")
        test_keys = row_hashes({c: columns[c] for c in shared}, decimals)
        train_keys = row_hashes({c: reference[c] for c in shared}, decimals)
        leaked = RowMatches(*leakage(train_keys, test_keys))
    return DuplicateResult(
        n_rows=len(keys),
        exact=RowMatches(dup_rows, dup_firsts),
        near=near,
        leaked=leaked,
        reference=reference_name,
    )
