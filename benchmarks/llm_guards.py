"""Prompt-injection benchmark: Garrison's shipped models against TF-IDF + LR and a keyword list.

    .venv/bin/python benchmarks/llm_guards.py [--data DIR]

The test set is the held-out split of garrison.llm.injection_data (whole sources of
extra.jsonl and 40% of BIPIA contexts with their injected twins). The TF-IDF baseline trains
on what the default (encoder) model trains on: the training split, the generated rows and the
written corpus. The linear model, Garrison's first, is kept for comparison.
Writes benchmarks/results/llm_guards.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from garrison.llm.encoder import TOKENIZER_PATH  # noqa: E402
from garrison.llm.injection import LINEAR_MODEL_PATH, InjectionScanner  # noqa: E402
from garrison.llm.injection_data import (  # noqa: E402
    DEFAULT_DATA,
    Row,
    generate,
    load_rows,
    load_written,
    split,
)

RESULTS = ROOT / "benchmarks" / "results" / "llm_guards.json"
ORDINARY = ("benign-request", "document-")
HARD = ("benign-instructionlike", "benign-security", "benign-roleplay", "benign-encoded")
KEYWORDS = (
    "ignore",
    "disregard",
    "forget",
    "previous instructions",
    "system prompt",
    "instructions",
    "password",
    "secret",
    "reveal",
    "jailbreak",
    "dan",
    "developer mode",
    "no restrictions",
    "pretend",
    "act as",
    "override",
    "confidential",
)


def keyword_scores(texts: list[str]) -> np.ndarray:
    import re

    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in KEYWORDS) + r")\b", re.I)
    return np.array([1.0 if pattern.search(t) else 0.0 for t in texts])


def tfidf_baseline(train: list[Row]) -> tuple[object, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000),
        LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"),
    )
    texts, y = [r.text for r in train], np.array([r.label for r in train])
    model.fit(texts, y)
    benign = model.predict_proba([t for t, lab in zip(texts, y, strict=True) if lab == 0])[:, 1]
    return model, float(np.quantile(benign, 0.99))  # 1% FPR on its own training data


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def per_subset(rows: list[Row], flagged: np.ndarray) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for subset in sorted({r.subset for r in rows}):
        mask = np.array([r.subset == subset for r in rows])
        label = rows[int(np.argmax(mask))].label
        rate = float(flagged[mask].mean())
        out[subset] = {"n": int(mask.sum()), ("tpr" if label else "fpr"): round(rate, 4)}
    return out


def groups(rows: list[Row], flagged: np.ndarray) -> dict[str, float]:
    y = np.array([r.label for r in rows])
    ordinary = np.array([r.label == 0 and r.subset.startswith(ORDINARY) for r in rows])
    hard = np.array([r.label == 0 and r.subset.startswith(HARD) for r in rows])
    return {
        "tpr_all_attacks": round(float(flagged[y == 1].mean()), 4),
        "fpr_ordinary": round(float(flagged[ordinary].mean()), 4),
        "fpr_hard_negatives": round(float(flagged[hard].mean()), 4),
    }


def at_fpr(scores: np.ndarray, y: np.ndarray, fpr: float) -> np.ndarray:
    """Flags at the threshold where `scores` flag the share `fpr` of all benign test rows."""
    return scores > np.quantile(scores[y == 0], 1 - fpr)


def matched(
    rows: list[Row], systems: dict[str, tuple[np.ndarray, np.ndarray, float]]
) -> dict[str, object]:
    """Each baseline against Garrison at one false-positive rate, subset by subset.

    Default thresholds leave the systems at very different FPRs, so their TPRs do not
    compare. Scored baselines are moved to Garrison's FPR; the keyword list, which has no
    score, stays put and Garrison moves to its FPR instead. Reporting only: nothing shipped
    is tuned on it.
    """
    y = np.array([r.label for r in rows])
    g_scores, g_flag, _ = systems["garrison"]
    out: dict[str, object] = {}
    for name, (scores, flag, _) in systems.items():
        if name == "garrison":
            continue
        if name == "keywords":
            fpr = float(flag[y == 0].mean())
            ours, theirs = at_fpr(g_scores, y, fpr), flag
        else:
            fpr = float(g_flag[y == 0].mean())
            ours, theirs = g_flag, at_fpr(scores, y, fpr)
        base = per_subset(rows, theirs)
        attacks = {
            subset: (v["tpr"], base[subset]["tpr"])
            for subset, v in per_subset(rows, ours).items()
            if "tpr" in v
        }
        out[name] = {
            "benign_fpr": round(fpr, 4),
            "tpr_garrison_vs_baseline": attacks,
            "garrison_ahead_on_every_attack_subset": all(a > b for a, b in attacks.values()),
        }
    return out


def prompt_of(tokens: int) -> str:
    from garrison.llm.limits import count_tokens

    words = (
        "please summarise the attached quarterly report and list the three main risks " * 80
    ).split()
    text = " ".join(words[:tokens])
    while count_tokens(text) > tokens:
        text = text.rsplit(" ", 1)[0]
    return text


def latency(scanner: InjectionScanner) -> dict[str, float]:
    out: dict[str, float] = {}
    for tokens in (128, 512):
        text = prompt_of(tokens)
        scanner.scan(text)
        times = []
        for i in range(300):
            t0 = time.perf_counter()
            scanner.scan(text + str(i))
            times.append(time.perf_counter() - t0)
        out[f"p50_ms_{tokens}_tokens"] = round(1000 * float(np.median(times)), 3)
        out[f"p99_ms_{tokens}_tokens"] = round(1000 * float(np.quantile(times, 0.99)), 3)
    batch = [prompt_of(128) + f" {i}" for i in range(1000)]
    t0 = time.perf_counter()
    scanner.scan_batch(batch)
    out["batched_inputs_per_s_128_tokens"] = round(len(batch) / (time.perf_counter() - t0), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    train, test = split(load_rows(args.data))
    train = train + generate() + load_written()
    texts, y = [r.text for r in test], np.array([r.label for r in test])

    scanner = InjectionScanner()
    g_scores = np.array(scanner.scan_batch(texts))
    g_flag = g_scores >= scanner.threshold
    linear = InjectionScanner(model_path=LINEAR_MODEL_PATH)
    l_scores = np.array(linear.scan_batch(texts))
    l_flag = l_scores >= linear.threshold
    tfidf, tfidf_threshold = tfidf_baseline(train)
    t_scores = tfidf.predict_proba(texts)[:, 1]  # type: ignore[attr-defined]
    t_flag = t_scores >= tfidf_threshold
    k_flag = keyword_scores(texts) > 0

    systems = {
        "garrison": (g_scores, g_flag, scanner.threshold),
        "garrison_linear_v1": (l_scores, l_flag, linear.threshold),
        "tfidf_lr": (t_scores, t_flag, tfidf_threshold),
        "keywords": (k_flag.astype(float), k_flag, 0.5),
    }
    report = {
        "test_rows": len(test),
        "test_attacks": int(y.sum()),
        "train_rows": len(train),
        "test_sources": sorted({r.source for r in test}),
        "systems": {
            name: {
                "threshold": round(th, 4),
                "roc_auc": round(auc(s, y), 4),
                **groups(test, f),
                "subsets": per_subset(test, f),
            }
            for name, (s, f, th) in systems.items()
        },
        "at_equal_fpr": matched(test, systems),
        "model": {
            "bytes": scanner.model_path.stat().st_size + TOKENIZER_PATH.stat().st_size,
            "format": "safetensors (int8 token embeddings, float16 rest) and tokenizer JSON",
        },
        "latency_one_thread": latency(scanner),
        "latency_one_thread_linear_v1": latency(linear),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
