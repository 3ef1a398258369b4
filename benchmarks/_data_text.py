"""Text-column benchmark of `garrison data check`: near duplicates and PII, against Datalab.

Builds generated support tickets (an id, a numeric column, a text column full of harmless
numbers: order ids, dates, prices, versions, tracking numbers), copies 1% of rows with small
edits (a word changed, punctuation, case) and plants personal data or secrets in another 1%.
Garrison's near-duplicate and PII scans and cleanlab Datalab's near_duplicate issue type
(on TF-IDF character n-grams reduced by SVD) then run on the same rows.

Scoring: a planted duplicate pair counts as found when either of its rows is flagged (Garrison
flags the later copy, Datalab both); a false flag is a flagged row outside every planted pair,
over the rows outside them. Datalab has no PII issue type; its outlier issue type is scored on
the PII rows instead, as the closest thing it offers.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

PRODUCTS = [
    f"{a} {b}"
    for a in ("Nova", "Atlas", "Zen", "Pixel", "Orbit", "Vega", "Luma", "Terra")
    for b in ("X1", "Pro", "Mini", "Max", "Air", "Go", "Plus", "Lite")
]
OPENINGS = [
    "I ordered the {product} on {date} and",
    "My {product} arrived {days} days late and",
    "Bought a {product} for ${price} last week,",
    "Order #{order} for the {product}:",
    "After updating to version {version}, my {product}",
    "The {product} I got from your {store} store",
    "Second {product} in {months} months and",
    "Tracking {tracking} says delivered but",
]
PROBLEMS = [
    "the battery drains in {hours} hours",
    "the screen flickers when the brightness is at {pct}%",
    "it will not pair with my phone",
    "the charger gets hot after {minutes} minutes",
    "the left speaker crackles at high volume",
    "it restarts by itself every {hours} hours",
    "the case was cracked out of the box",
    "the app keeps asking me to sign in again",
    "it is missing the {part} that was in the listing",
    "the colour is not the one I picked",
]
ASKS = [
    "Can you send a replacement?",
    "I would like a refund of ${price}.",
    "Please advise on next steps.",
    "Is this covered by the {years}-year warranty?",
    "I already tried a factory reset twice.",
    "Support ticket {order} was closed without a fix.",
    "Otherwise I love the {product}.",
    "Very disappointed, rating {stars}/5.",
]
FILLERS = ["honestly", "really", "again", "today", "still", "now", "sadly", "also"]
PARTS = ["cable", "manual", "strap", "adapter", "stand", "remote"]
STORES = ["Berlin", "Leeds", "Austin", "Lyon", "online", "airport"]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        product=rng.choice(PRODUCTS),
        date=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        days=rng.randint(2, 20),
        price=f"{rng.randint(19, 999)}.{rng.randint(0, 99):02d}",
        order=rng.randint(100000, 9999999),
        version=f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        store=rng.choice(STORES),
        months=rng.randint(2, 11),
        tracking=f"1Z{rng.randint(10**15, 10**16 - 1)}",
        hours=rng.randint(2, 48),
        pct=rng.randint(10, 100),
        minutes=rng.randint(5, 90),
        part=rng.choice(PARTS),
        years=rng.randint(1, 3),
        stars=rng.randint(1, 5),
    )


SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "tas",
    "vo",
    "pel",
    "du",
    "sin",
    "gor",
    "fa",
    "ti",
    "bra",
    "nu",
    "ex",
    "qua",
    "zel",
    "ho",
    "mar",
    "ick",
]
VOCAB = sorted({"".join(random.Random(i).choices(SYLLABLES, k=1 + i % 3)) for i in range(3000)})


def remark(rng: random.Random) -> str:
    """Free text: real tickets are mostly words no template predicts."""
    words = rng.choices(VOCAB, k=rng.randint(12, 24))
    return " ".join(words).capitalize() + "."


def ticket(rng: random.Random) -> str:
    sentences = [f"{_fill(rng.choice(OPENINGS), rng)} {_fill(rng.choice(PROBLEMS), rng)}."]
    sentences += [remark(rng) for _ in range(rng.randint(1, 3))]
    for _ in range(rng.randint(1, 3)):
        sentences.append(_fill(rng.choice(ASKS), rng))
    if rng.random() < 0.5:
        sentences.insert(1, f"It {rng.choice(FILLERS)} {_fill(rng.choice(PROBLEMS), rng)}.")
    return " ".join(sentences)


def small_edit(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    i = rng.randrange(len(words))
    edit = rng.choice(("word", "punctuation", "case", "word+case"))
    if "word" in edit:
        words[i] = rng.choice([*FILLERS, "very", "quite", "totally"])
    if "case" in edit:
        words = [w.upper() if rng.random() < 0.3 else w for w in words]
    if edit == "punctuation":
        words[i] = words[i].rstrip(".,!?") + rng.choice(("!", ",", "...", "?!"))
    return " ".join(words)


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        digits = body + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(int(c) for c in reversed(digits))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError


def _iban(rng: random.Random) -> str:
    bban = "".join(str(rng.randint(0, 9)) for _ in range(18))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "DE00")) % 97
    raw = f"DE{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _token(rng: random.Random, n: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def pii_value(kind: str, rng: random.Random) -> str:
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    first = rng.choice(["anna", "li", "omar", "sofia", "jan", "maria"])
    if kind == "email":
        return (
            f"{first}.{rng.randint(1, 999)}@{rng.choice(['gmail.com', 'example.org', 'mail.de'])}"
        )
    if kind == "phone":
        return rng.choice(
            [
                f"+1 ({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                f"+49 30 {rng.randint(1000000, 99999999)}",
            ]
        )
    if kind == "credit_card":
        number = _luhn_complete(rng.choice(["4", "51", "55", "2221"]), 16, rng)
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    if kind == "iban":
        return _iban(rng)
    if kind == "ssn":
        return f"{rng.randint(1, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    if kind == "ip":
        return ".".join(
            str(rng.randint(lo, hi)) for lo, hi in ((11, 223), (0, 255), (0, 255), (1, 254))
        )
    if kind == "aws_access_key":
        return "AKIA" + _token(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    if kind == "github_token":
        return "ghp_" + _token(rng, 36, alnum)
    return "password=" + _token(rng, 14, alnum + "!#%")


PII_KINDS = (
    "email",
    "phone",
    "credit_card",
    "iban",
    "ssn",
    "ip",
    "aws_access_key",
    "github_token",
    "generic_secret",
)
CARRIERS = ["Reach me at {v} if needed.", "My details: {v}.", "({v})", "Use {v} for the refund."]


def build(n: int, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    base = [ticket(rng) for _ in range(n)]
    n_dup = n // 100
    texts = list(base)
    originals = rng.sample(range(n), n_dup)
    pairs = []
    for row in originals:
        texts.append(small_edit(base[row], rng))
        pairs.append((row, len(texts) - 1))
    # Shuffle so copies are spread through the file, not all at the end.
    order = list(range(len(texts)))
    rng.shuffle(order)
    where = {old: new for new, old in enumerate(order)}
    texts = [texts[i] for i in order]
    pairs = [(where[a], where[b]) for a, b in pairs]
    in_pair = {r for p in pairs for r in p}
    planted = rng.sample([r for r in range(len(texts)) if r not in in_pair], len(texts) // 100)
    for i, row in enumerate(planted):
        kind = PII_KINDS[i % len(PII_KINDS)]
        sentences = texts[row].split(". ")
        sentences.insert(
            rng.randrange(len(sentences)), rng.choice(CARRIERS).format(v=pii_value(kind, rng))
        )
        texts[row] = ". ".join(sentences)
    return {"texts": texts, "pairs": pairs, "pii_rows": sorted(planted), "seed": seed}


def _pair_scores(flagged: set[int], pairs: list[tuple[int, int]], n: int) -> dict[str, float]:
    members = {r for p in pairs for r in p}
    found = sum(1 for a, b in pairs if a in flagged or b in flagged)
    false = len(flagged - members)
    return {
        "recall": found / len(pairs),
        "false_flag_rate": false / (n - len(members)),
        "flagged": len(flagged),
        "false_flags": false,
    }


def _row_scores(flagged: set[int], truth: set[int], n: int) -> dict[str, float]:
    false = len(flagged - truth)
    return {
        "recall": len(flagged & truth) / len(truth),
        "false_flag_rate": false / (n - len(truth)),
        "flagged": len(flagged),
        "false_flags": false,
    }


def _pair_jaccard(data: dict[str, Any]) -> list[float]:
    """How near the planted copies are, on the 5-grams Garrison compares."""

    def grams(text: str) -> set[str]:
        norm = " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
        return {norm[i : i + 5] for i in range(max(1, len(norm) - 4))}

    texts = data["texts"]
    values = [
        len(grams(texts[a]) & grams(texts[b])) / len(grams(texts[a]) | grams(texts[b]))
        for a, b in data["pairs"]
    ]
    return [round(float(v), 3) for v in np.percentile(values, [1, 5, 50])]


def run_garrison(data: dict[str, Any]) -> dict[str, Any]:
    from garrison.data.duplicates import near_duplicate_texts
    from garrison.policy import Policy
    from garrison.sensitive import scan_values

    texts = np.array(data["texts"], dtype=object)
    n = len(texts)
    started = time.perf_counter()
    rows, _, _ = near_duplicate_texts(texts, Policy().data.near_duplicate_similarity)
    near_s = time.perf_counter() - started
    started = time.perf_counter()
    pii_rows, kinds = scan_values(texts)
    pii_s = time.perf_counter() - started
    return {
        "near_duplicate": {**_pair_scores(set(rows.tolist()), data["pairs"], n), "seconds": near_s},
        "pii": {
            **_row_scores(set(pii_rows.tolist()), set(data["pii_rows"]), n),
            "seconds": pii_s,
            "kinds": {
                str(k): int(c) for k, c in zip(*np.unique(kinds, return_counts=True), strict=True)
            },
        },
    }


# Datalab needs Hugging Face `datasets`, which Garrison does not depend on; the benchmark
# installs it here (pip --target) and appends it to sys.path, so the venv's own numpy and
# pyarrow still win.
PEER_DIR = Path(__file__).parent / "work" / "peers" / "datalab"


def _datalab() -> Any:
    try:
        import datasets  # noqa: F401
    except ImportError:
        if not PEER_DIR.exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--target",
                    str(PEER_DIR),
                    "datasets>=2.7",
                ],
                check=True,
            )
        sys.path.append(str(PEER_DIR))
    from cleanlab import Datalab

    return Datalab


def run_datalab(data: dict[str, Any]) -> dict[str, Any]:
    datalab = _datalab()  # before cleanlab is imported: it decides then whether Datalab works
    import cleanlab
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    texts = data["texts"]
    n = len(texts)
    started = time.perf_counter()
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)
    matrix = tfidf.fit_transform(texts)
    features = normalize(TruncatedSVD(128, random_state=0).fit_transform(matrix))
    lab = datalab(data={"text": texts}, verbosity=0)
    lab.find_issues(features=features, issue_types={"near_duplicate": {}, "outlier": {}})
    seconds = time.perf_counter() - started
    near = lab.get_issues("near_duplicate")
    outlier = lab.get_issues("outlier")
    near_rows = set(np.flatnonzero(near["is_near_duplicate_issue"].to_numpy()).tolist())
    outlier_rows = set(np.flatnonzero(outlier["is_outlier_issue"].to_numpy()).tolist())
    return {
        "version": cleanlab.__version__,
        "seconds": seconds,
        "near_duplicate": _pair_scores(near_rows, data["pairs"], n),
        "pii": {
            **_row_scores(outlier_rows, set(data["pii_rows"]), n),
            "note": "no PII issue type; scored with its outlier issue type",
        },
    }


def throughput(n: int = 1_000_000, seed: int = 0) -> dict[str, Any]:
    """scan_values and near_duplicate_texts on `n` short strings generated in memory."""
    import pyarrow as pa

    from garrison.data.duplicates import near_duplicate_texts
    from garrison.sensitive import scan_values

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = np.array(["".join(rng.choice(letters, rng.integers(2, 9))) for _ in range(5000)])
    counts = rng.integers(4, 9, n)
    flat = vocab[rng.integers(0, len(vocab), int(counts.sum()))]
    ends = np.cumsum(counts)
    texts = [" ".join(flat[e - c : e]) for c, e in zip(counts.tolist(), ends.tolist(), strict=True)]
    for row in rng.choice(n, n // 100, replace=False).tolist():  # 1% with a number or an address
        texts[row] += rng.choice(
            [" order 48213 on 2024-03-05", " mail ann@example.com", " +44 20 7946 0958"]
        )
    array = pa.array(texts)
    mean_chars = float(np.mean([len(t) for t in texts[:10000]]))
    started = time.perf_counter()
    rows, _ = scan_values(array)
    scan_s = time.perf_counter() - started
    started = time.perf_counter()
    near, _, _ = near_duplicate_texts(array)
    near_s = time.perf_counter() - started
    return {
        "strings": n,
        "mean_chars": mean_chars,
        "scan_values": {
            "seconds": scan_s,
            "values_per_s": n / scan_s,
            "flagged_rows": len(set(rows.tolist())),
        },
        "near_duplicate_texts": {
            "seconds": near_s,
            "values_per_s": n / near_s,
            "flagged_rows": len(near),
        },
    }


def run(quick: bool) -> dict[str, Any]:
    n = 4000 if quick else 20000
    data = build(n)
    garrison = run_garrison(data)
    datalab = run_datalab(data)
    rows = len(data["texts"])
    claims = {
        issue: {
            "garrison_recall_at_least_95pct": garrison[issue]["recall"] >= 0.95,
            "garrison_false_flags_at_most_1pct": garrison[issue]["false_flag_rate"] <= 0.01,
            "garrison_finds_at_least_datalab": garrison[issue]["recall"]
            >= datalab[issue]["recall"],
        }
        for issue in ("near_duplicate", "pii")
    }
    return {
        "rows": rows,
        "planted_duplicate_pairs": len(data["pairs"]),
        "planted_pair_jaccard_percentiles_1_5_50": _pair_jaccard(data),
        "planted_pii_rows": len(data["pii_rows"]),
        "garrison": garrison,
        "datalab": datalab,
        "claims": claims,
        "throughput": throughput(100_000 if quick else 1_000_000),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2))
