"""Train the shipped prompt-injection model (src/garrison/llm/models/injection.json).

    .venv/bin/python scripts/train_injection.py [--data DIR]

Reads ../shared/data/prompt_injection/{dev,extra}.jsonl by path plus the project's generated
rows (garrison.llm.injection_data.generate), trains on the training split only (test sources
and 40% of BIPIA contexts stay out), and picks the threshold from out-of-fold scores where
whole sources are held out, never from the test split.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from garrison.llm.injection import (  # noqa: E402
    MAX_TOKENS,
    MODEL_PATH,
    InjectionModel,
    bound,
    chunks,
    features,
)
from garrison.llm.injection_data import (  # noqa: E402
    Row,
    generate,
    load_rows,
    load_written,
    split,
)

BITS = 18
C = 4.0  # inverse L2 strength; --C overrides
FOLDS = 5
ORDINARY = ("benign-request", "benign-roleplay", "benign-document", "document-")
# Out-of-fold false-positive rates the threshold is set to (the acceptance allows 1% / 10%).
TARGET_FPR_ORDINARY = 0.005
TARGET_FPR_HARD = 0.05


def matrix(texts: list[str], bits: int = BITS) -> sparse.csr_matrix:
    indptr, indices = [0], []
    for text in texts:
        idx = features(bound(text, MAX_TOKENS), bits)
        indices.append(idx)
        indptr.append(indptr[-1] + len(idx))
    cols = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64)
    counts = np.diff(indptr)
    data = np.repeat(1.0 / np.sqrt(np.maximum(counts, 1)), counts)
    return sparse.csr_matrix((data, cols, indptr), shape=(len(texts), 1 << bits))


def fit(x: sparse.csr_matrix, y: np.ndarray, c: float = C) -> LogisticRegression:
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, solver="liblinear")
    return clf.fit(x, y)


def is_ordinary(row: Row) -> bool:
    return row.subset.startswith(ORDINARY)


def pick_threshold(
    rows: list[Row], x: sparse.csr_matrix, c: float = C
) -> tuple[float, dict[str, float]]:
    """Threshold from scores of models that never saw the row's source (group k-fold)."""
    y = np.array([r.label for r in rows])
    fold = np.array([zlib.crc32(r.group.encode()) % FOLDS for r in rows])
    oof = np.zeros(len(rows))
    for k in range(FOLDS):
        held = fold == k
        oof[held] = fit(x[~held], y[~held], c).predict_proba(x[held])[:, 1]
    ordinary = np.array([r.label == 0 and is_ordinary(r) for r in rows])
    hard = np.array([r.label == 0 and not is_ordinary(r) for r in rows])
    threshold = float(
        max(
            np.quantile(oof[ordinary], 1 - TARGET_FPR_ORDINARY),
            np.quantile(oof[hard], 1 - TARGET_FPR_HARD),
        )
    )
    stats = {
        "threshold": threshold,
        "oof_tpr": float((oof[y == 1] >= threshold).mean()),
        "oof_fpr_ordinary": float((oof[ordinary] >= threshold).mean()),
        "oof_fpr_hard": float((oof[hard] >= threshold).mean()),
    }
    return threshold, stats


MAX_CHUNKS = 8  # chunk examples taken from one long text


def chunk_rows(rows: list[Row]) -> list[Row]:
    """Chunk-level examples, as the scanner scores chunks of long texts.

    Chunks of benign texts are benign; a chunk of an injected BIPIA context is an attack when
    it is not part of its clean twin (so it holds the inserted instruction). Chunks of other
    attacks are left out: which of them carries the attack is unknown.
    """
    clean = {r.group: r.text for r in rows if r.source == "bipia" and r.label == 0}
    out: list[Row] = []
    for r in rows:
        parts = chunks(bound(r.text, MAX_TOKENS))
        if len(parts) < 2:
            continue
        if r.label == 0:
            out += [Row(p, 0, r.source, r.subset, r.group) for p in parts[:MAX_CHUNKS]]
        elif r.group in clean:
            twin = clean[r.group]
            out += [Row(p, 1, r.source, r.subset, r.group) for p in parts if p.strip() not in twin]
    return out


def training_rows(data: Path, written: bool = False) -> list[Row]:
    train, _ = split(load_rows(data))
    rows = train + generate() + (load_written() if written else [])
    return rows + chunk_rows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="prompt_injection data dir")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--C", type=float, default=C, help="inverse regularisation strength")
    parser.add_argument(
        "--written",
        action="store_true",
        help="add scripts/injection_corpus/*.jsonl (the shipped model does not; see docs/llm.md)",
    )
    args = parser.parse_args()
    from garrison.llm.injection_data import DEFAULT_DATA

    rows = training_rows(args.data or DEFAULT_DATA, args.written)
    x = matrix([r.text for r in rows])
    y = np.array([r.label for r in rows])
    threshold, stats = pick_threshold(rows, x, args.C)
    clf = fit(x, y, args.C)
    meta = {
        "trained_on_rows": len(rows),
        "attacks": int(y.sum()),
        "sources": sorted({r.source for r in rows}),
        "C": args.C,
        "threshold_from": "5-fold out-of-fold scores, folds by source",
        **stats,
    }
    model = InjectionModel(
        clf.coef_[0].astype(np.float32),
        float(clf.intercept_[0]),
        BITS,
        threshold,
        MAX_TOKENS,
        meta,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_json()), encoding="utf-8")
    print(json.dumps(meta | {"sources": len(meta["sources"])}, indent=2))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
