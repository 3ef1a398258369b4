"""Exact and near duplicates, leakage between splits, and PII findings for a dataset."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from datasketch import MinHash

from garrison.assets import Asset
from garrison.data.duplicates import (
    DuplicateResult,
    RowMatches,
    exact_duplicates,
    find_duplicates,
    image_phashes,
    leakage,
    minhash_signatures,
    near_duplicate_images,
    near_duplicate_texts,
    row_hashes,
)
from garrison.data.pii_check import check_pii
from garrison.data.rules import EXACT_DUPLICATE, LEAKAGE, NEAR_DUPLICATE, PII, SECRET
from garrison.errors import UsageError
from garrison.policy import DataPolicy, Policy

WORDS = [f"w{i}x" for i in range(500)] + ["the", "good", "bad", "product", "screen"]


def sentences(n: int, seed: int = 0, words: int = 40) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=words)) for _ in range(n)]


def shingles(text: str) -> set[bytes]:
    norm = " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split()).encode()
    return {norm[i : i + 5] for i in range(max(len(norm) - 4, 1))}


def test_row_hashes_equal_rows_and_types() -> None:
    columns = {
        "text": np.array(["a", "b", "a", None, None, ""], dtype=object),
        "n": np.array([1, 2, 1, 3, 3, 0]),
        "f": np.array([1.0, 2.0, 1.0, np.nan, np.nan, -0.0]),
    }
    h = row_hashes(columns)
    assert h.dtype == np.uint64
    assert h[0] == h[2] and h[3] == h[4] and len(set(h.tolist())) == 4
    # The same values read as other types (int vs float, Arrow vs numpy) hash alike.
    again = row_hashes(
        {"text": pa.array(["a", "b"]), "n": np.array([1.0, 2.0]), "f": pa.array([1, 2])}
    )
    assert again.tolist() == h[:2].tolist()
    # Column order and string boundaries matter.
    assert (
        row_hashes({"a": np.array(["ab"]), "b": np.array(["c"])})[0]
        != row_hashes({"a": np.array(["a"]), "b": np.array(["bc"])})[0]
    )


def test_long_strings_differing_late_hash_apart() -> None:
    base = "x" * 1000
    values = np.array([base, base[:-1] + "y", base + "x", base], dtype=object)
    h = row_hashes({"t": values})
    assert h[0] == h[3] and len(set(h.tolist())) == 3


def test_rounded_rows_hash_alike() -> None:
    columns = {"x": np.array([0.1 + 0.2, 0.3, 0.31])}
    assert row_hashes(columns)[0] != row_hashes(columns)[1]
    rounded = row_hashes(columns, decimals=6)
    assert rounded[0] == rounded[1] != rounded[2]


def test_exact_duplicates_point_at_the_first_row() -> None:
    keys = np.array([5, 7, 5, 9, 7, 5], dtype=np.uint64)
    rows, firsts = exact_duplicates(keys)
    assert rows.tolist() == [2, 4, 5] and firsts.tolist() == [0, 1, 0]


def test_leakage_finds_test_rows_in_train() -> None:
    train = row_hashes({"t": np.array(["a", "b", "c"], dtype=object)})
    test = row_hashes({"t": np.array(["z", "c", "a", "q"], dtype=object)})
    rows, matches = leakage(train, test)
    assert rows.tolist() == [1, 2] and matches.tolist() == [2, 0]
    assert leakage(train[:0], test)[0].tolist() == []


def test_minhash_estimates_agree_with_datasketch() -> None:
    base = sentences(30, seed=1, words=30)
    rng = random.Random(2)
    pairs = []
    for text in base:
        words = text.split()
        for _ in range(rng.randrange(1, 12)):
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        pairs.append((text, " ".join(words)))
    texts = [t for pair in pairs for t in pair]
    sig = minhash_signatures(np.array(texts, dtype=object), num_perm=128)
    ours = (sig[0::2] == sig[1::2]).mean(axis=1)
    theirs, exact = [], []
    for a, b in pairs:
        ma, mb = MinHash(num_perm=128, seed=3), MinHash(num_perm=128, seed=3)
        sa, sb = shingles(a), shingles(b)
        ma.update_batch(list(sa))
        mb.update_batch(list(sb))
        theirs.append(ma.jaccard(mb))
        exact.append(len(sa & sb) / len(sa | sb))
    assert np.abs(ours - np.array(exact)).mean() < 0.05
    assert np.abs(ours - np.array(theirs)).mean() < 0.06
    assert abs(ours.mean() - np.mean(exact)) < 0.03  # no bias


def test_near_duplicate_texts_with_small_edits() -> None:
    texts = sentences(2000, seed=3)
    edited = {}
    rng = random.Random(4)
    for row in rng.sample(range(1000), 20):
        words = texts[row].split()
        words[5] = words[5].upper() + "!"
        words[rng.randrange(len(words))] = "changed"
        texts.append(" ".join(words))
        edited[len(texts) - 1] = row
    rows, matches, sim = near_duplicate_texts(pa.array(texts), threshold=0.8)
    found = dict(zip(rows.tolist(), matches.tolist(), strict=True))
    assert found == edited
    assert (sim >= 0.8).all() and (sim <= 1).all()


def test_near_duplicates_ignore_empty_texts_and_reject_bad_thresholds() -> None:
    rows, _, _ = near_duplicate_texts(np.array(["", None, "", "hello world"], dtype=object))
    assert rows.tolist() == []
    with pytest.raises(UsageError):
        near_duplicate_texts(np.array(["a"], dtype=object), threshold=0)


def test_near_duplicate_images_find_a_modified_copy() -> None:
    rng = np.random.default_rng(0)
    smooth = rng.random((40, 8, 8, 3))
    images = np.stack([np.kron(img, np.ones((4, 4, 1))) for img in smooth]) * 255
    images = images.astype(np.uint8)  # (40, 32, 32, 3), distinct blocky images
    copy = np.clip(images[7].astype(int) + rng.integers(-6, 7, images[7].shape) + 10, 0, 255)
    data = np.concatenate([images, copy[None].astype(np.uint8)])
    rows, matches, distance = near_duplicate_images(data, max_distance=6)
    assert rows.tolist() == [40] and matches.tolist() == [7] and distance[0] <= 6


def test_numpy_phash_is_close_to_imagehash() -> None:
    import imagehash
    from PIL import Image

    rng = np.random.default_rng(1)
    images = (np.kron(rng.random((5, 8, 8)), np.ones((8, 8))) * 255).astype(np.uint8)
    ours = image_phashes(images)
    for image, h in zip(images, ours.tolist(), strict=True):
        theirs = int(str(imagehash.phash(Image.fromarray(image))), 16)
        assert bin(theirs ^ h).count("1") <= 8


def test_findings_are_capped_with_a_summary() -> None:
    policy = Policy(data=DataPolicy(max_rows_per_finding_kind=2))
    texts = np.array(["same text here"] * 5 + sentences(5), dtype=object)
    result = find_duplicates({"t": texts}, text_columns=["t"], policy=policy)
    asset = Asset.from_path(__import__("pathlib").Path("data.csv"), kind="dataset")
    found = result.findings(asset, "data.csv", policy)
    exact = [f for f in found if f.rule == EXACT_DUPLICATE.id]
    assert len(exact) == 3 and exact[0].location.row == 1 and "same as row 0" in exact[0].evidence
    assert exact[-1].location.row is None and "2 more" in exact[-1].evidence
    assert result.to_dict()["exact_duplicates"] == 4
    assert result.near["t"].rows.tolist() == []  # exact duplicates are not near ones too


def test_find_duplicates_reports_near_and_leaked_rows() -> None:
    texts = sentences(50, seed=5)
    texts[10] = texts[3].replace(" ", "  ", 3) + " extra"
    data = {"id": np.arange(50), "t": np.array(texts, dtype=object)}
    reference = {"t": np.array([texts[20], "unrelated"], dtype=object), "other": np.array([1, 2])}
    result = find_duplicates(
        data, ["t"], reference={"t": reference["t"]}, reference_name="train.csv"
    )
    assert result.near["t"].rows.tolist() == [10] and result.near["t"].matches.tolist() == [3]
    assert result.leaked is not None and result.leaked.rows.tolist() == [20]
    asset = Asset(uri="file:///d.csv", kind="dataset")
    found = result.findings(asset, "d.csv", Policy())
    assert {f.rule for f in found} == {NEAR_DUPLICATE.id, LEAKAGE.id}
    leak = next(f for f in found if f.rule == LEAKAGE.id)
    assert leak.location.row == 20 and "train.csv" in leak.evidence
    with pytest.raises(UsageError):
        find_duplicates(data, reference={"nothing": np.array([1])})
    with pytest.raises(UsageError):
        find_duplicates(data, ["missing"])


def test_results_are_json_ready() -> None:
    import json

    result = DuplicateResult(n_rows=3, exact=RowMatches(np.array([2]), np.array([0])))
    assert json.loads(json.dumps(result.to_dict()))["exact_duplicates"] == 1


def test_pii_findings_mask_values_and_are_capped() -> None:
    secret = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
    values = np.array(
        ["fine", f"token {secret}", "mail ann@example.com"]
        + [f"call +44 20 7946 09{i:02d}" for i in range(5)],
        dtype=object,
    )
    policy = Policy(data=DataPolicy(max_rows_per_finding_kind=3))
    result = check_pii("comment", values, policy)
    assert result.counts() == {"email": 1, "github_token": 1, "phone": 5}
    found = result.findings(Asset(uri="file:///d.csv", kind="dataset"), "d.csv", policy)
    secrets = [f for f in found if f.rule == SECRET.id]
    assert (
        len(secrets) == 1
        and secrets[0].location.row == 1
        and secrets[0].location.column == "comment"
    )
    assert secret not in secrets[0].evidence and "github_token" in secrets[0].evidence
    pii = [f for f in found if f.rule == PII.id]
    assert len(pii) == 4 and "3 more" in pii[-1].evidence
    assert all("ann@example.com" not in f.evidence for f in found)
    assert result.to_dict()["flagged_rows"] == 7


def test_reported_similarity_is_the_exact_jaccard() -> None:
    texts = sentences(200, seed=8, words=30)
    words = texts[50].split()
    words[3] = "edited"
    texts.append(" ".join(words))
    rows, matches, sim = near_duplicate_texts(np.array(texts, dtype=object), threshold=0.7)
    assert rows.tolist() == [200] and matches.tolist() == [50]
    a, b = shingles(texts[50]), shingles(texts[200])
    assert sim[0] == pytest.approx(len(a & b) / len(a | b))
