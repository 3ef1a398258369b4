"""Validate the hand-written direct-injection corpus and print its counts.

    .venv/bin/python scripts/injection_corpus/build_direct_en.py [--near 0.8]

The JSONL next to this script is the source of truth (the rows were written by hand, the
encoded variants generated once with the standard library). This checks that every line has
the four keys, that labels match subsets, and that no text repeats, exactly or after
normalising case, punctuation and spacing. --near also lists pairs whose character 5-gram
Jaccard similarity is at least the given value, for a reviewer to look at.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).with_name("direct_en.jsonl")
SOURCE = "written-direct-en"
SUBSETS = {
    "direct-hijack": 1,
    "direct-extraction": 1,
    "direct-jailbreak": 1,
    "direct-obfuscated": 1,
    "benign-instructionlike": 0,
    "benign-security": 0,
    "benign-roleplay": 0,
    "benign-request": 0,
}
KEYS = {"text", "label", "subset", "source"}


def normalise(text: str) -> str:
    key = re.sub(r"\W+", " ", text.lower()).strip()
    # Rows made mostly of symbols (Morse, invisible tag characters) compare on the raw text.
    return key if len(key) >= 0.5 * len(text.strip()) else text


def check(path: Path) -> tuple[list[dict[str, object]], list[str]]:
    rows: list[dict[str, object]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: not JSON ({exc})")
            continue
        if not isinstance(row, dict) or set(row) != KEYS:
            errors.append(f"line {n}: keys must be exactly {sorted(KEYS)}")
            continue
        text, label, subset = row["text"], row["label"], row["subset"]
        if not isinstance(text, str) or not text.strip():
            errors.append(f"line {n}: empty text")
            continue
        if label not in (0, 1) or isinstance(label, bool):
            errors.append(f"line {n}: label {label!r} is not 0 or 1")
        if SUBSETS.get(str(subset)) != label:
            errors.append(f"line {n}: subset {subset!r} does not go with label {label!r}")
        if row["source"] != SOURCE:
            errors.append(f"line {n}: source {row['source']!r}")
        key = normalise(text)
        if key in seen:
            errors.append(f"line {n}: duplicate of line {seen[key]}")
        seen[key] = n
        rows.append(row)
    return rows, errors


def near_duplicates(texts: list[str], threshold: float) -> list[tuple[float, int, int]]:
    grams = []
    for text in texts:
        t = re.sub(r"\s+", " ", text.lower())
        grams.append({t[i : i + 5] for i in range(max(1, len(t) - 4))})
    pairs = []
    for i, a in enumerate(grams):
        for j in range(i + 1, len(grams)):
            b = grams[j]
            if min(len(a), len(b)) * 3 < max(len(a), len(b)):
                continue  # too different in length to be near duplicates
            score = len(a & b) / len(a | b)
            if score >= threshold:
                pairs.append((score, i, j))
    return sorted(pairs, reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--near", type=float, help="list pairs at or above this similarity")
    args = parser.parse_args()

    rows, errors = check(args.corpus)
    by_subset = Counter((int(str(r["label"])), str(r["subset"])) for r in rows)
    for (label, subset), count in sorted(by_subset.items()):
        print(f"label {label}  {subset:24s} {count:5d}")
    by_label = Counter(int(str(r["label"])) for r in rows)
    print(f"total {len(rows)}: {by_label[1]} attacks, {by_label[0]} benign")

    if args.near is not None:
        texts = [str(r["text"]) for r in rows]
        for score, i, j in near_duplicates(texts, args.near):
            print(f"near {score:.2f}: {texts[i][:70]!r} | {texts[j][:70]!r}")

    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
