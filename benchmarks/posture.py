"""Posture benchmark: discovery recall, false positives and speed on a generated tree.

    .venv/bin/python benchmarks/posture.py [--files 100000] [--jobs 2]

Builds (once) a tree of fake repositories and disks with seeded shadow-AI use, provider keys,
risky configuration and model files, plus as many look-alikes that are not; runs
`garrison discover` on it as a user would (a subprocess, JSON report), and a plain
`grep -rlE` keyword search as the baseline in the same run. Writes
benchmarks/results/posture.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import measure
from _posture_tree import GATEWAY, LOOKALIKES, POSITIVES, build_tree

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work" / "posture"
RESULTS = ROOT / "results" / "posture.json"
RUN = ".venv/bin/python benchmarks/posture.py"
GARRISON = Path(sys.executable).with_name("garrison")
# What a keyword search for shadow AI and risky configuration looks like.
GREP_PATTERN = (
    r"openai|anthropic|bedrock|vertexai|generativeai|transformers|huggingface|langchain|"
    r"llama_index|vllm|ollama|gradio|sk-|hf_|AKIA|AIza|trust_remote_code|torch\.load|pickle|"
    r"joblib|allow_pickle|from_pretrained|0\.0\.0\.0|jupyter|mlflow|privileged|public-read|"
    r"allUsers|Principal|GGUF|safetensors"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    tree, truth = _tree(args.files, args.rebuild)
    files = sum(len(names) for _, _, names in os.walk(tree))
    runs = {jobs: _discover(tree, jobs) for jobs in sorted({1, args.jobs})}
    best = min(runs.values(), key=lambda r: r["seconds"])
    accuracy = _score(best["labels"], truth)
    baseline = _grep(tree, truth)
    result = {
        "command": f"{RUN} --files {args.files} --jobs {args.jobs}",
        "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "tree": {
            "files": files,
            "seeded_files": sum(1 for t in truth.values() if t["seeded"]),
            "lookalike_files": sum(1 for t in truth.values() if not t["seeded"]),
            "seeded_labels": sum(len(t["labels"]) for t in truth.values() if t["seeded"]),
            "positive_templates": len(POSITIVES),
            "lookalike_templates": len(LOOKALIKES),
        },
        "garrison": {
            "speed": {
                f"jobs={jobs}": {
                    "seconds": round(run["seconds"], 2),
                    "files_per_second": round(files / run["seconds"]),
                    "peak_rss_mb": round(run["peak_rss_mb"], 1),
                }
                for jobs, run in runs.items()
            },
            **accuracy,
        },
        "grep_baseline": baseline,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _tree(n_files: int, rebuild: bool) -> tuple[Path, dict[str, dict[str, Any]]]:
    tree = WORK / f"tree-{n_files}"
    truth_file = WORK / f"truth-{n_files}.json"
    if rebuild or not truth_file.exists():
        shutil.rmtree(tree, ignore_errors=True)
        started = time.perf_counter()
        truth = build_tree(tree, n_files)
        truth_file.write_text(json.dumps(truth))
        print(f"built {tree} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return tree, json.loads(truth_file.read_text())


def _discover(tree: Path, jobs: int) -> dict[str, Any]:
    report = WORK / f"report-jobs{jobs}.json"
    cmd = [
        str(GARRISON), "discover", str(tree), "--format", "json", "--output", str(report),
        "--gateway-url", GATEWAY, "--jobs", str(jobs), "--no-progress", "--fail-on", "critical",
    ]  # fmt: skip
    run = measure(cmd, timeout=600, cwd=WORK)
    if run.returncode not in (0, 1):
        raise SystemExit(f"garrison discover failed ({run.returncode}): {run.stderr[-2000:]}")
    data = json.loads(report.read_text())
    labels: dict[str, set[str]] = {}
    for finding in data["findings"]:
        _add(
            labels,
            tree,
            finding["location"].get("path") or finding["asset"].get("path"),
            finding["rule"],
        )
    for found in data["metrics"]["discovery"]["inventory"]:
        label = f"asset:{found['category']}:{found['name']}"
        _add(labels, tree, found["location"].get("path"), label)
    return {"seconds": run.seconds, "peak_rss_mb": run.peak_rss_mb, "labels": labels}


def _add(labels: dict[str, set[str]], tree: Path, path: str | None, label: str) -> None:
    rel = os.path.relpath(path, tree) if path else "?"
    labels.setdefault(rel, set()).add(label)


def _score(found: dict[str, set[str]], truth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    expected = {(path, label) for path, t in truth.items() for label in t["labels"]}
    reported = {(path, label) for path, labels in found.items() for label in labels}
    seeded = {(p, lbl) for p, lbl in expected if truth[p]["seeded"]}
    missed = sorted(seeded - reported)
    false_positives = sorted(reported - expected)
    traps = [(p, t["trap"]) for p, t in truth.items() if not t["seeded"]]
    sprung = [(p, trap) for p, trap in traps if trap in found.get(p, set())]
    by_label = Counter(label for _, label in seeded)
    missed_by_label = Counter(label for _, label in missed)
    return {
        "recall": round(1 - len(missed) / max(len(seeded), 1), 4),
        "seeded_labels": len(seeded),
        "missed": len(missed),
        "reported_labels": len(reported),
        "false_positives": len(false_positives),
        "false_positive_rate": round(len(false_positives) / max(len(reported), 1), 4),
        "lookalikes_flagged": len(sprung),
        "lookalike_flag_rate": round(len(sprung) / max(len(traps), 1), 4),
        "recall_by_label": {
            label: round(1 - missed_by_label[label] / n, 3) for label, n in sorted(by_label.items())
        },
        "examples_missed": [f"{p}: {lbl}" for p, lbl in missed[:10]],
        "examples_false_positive": [f"{p}: {lbl}" for p, lbl in false_positives[:10]],
    }


def _grep(tree: Path, truth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    run = measure(["grep", "-rlE", GREP_PATTERN, str(tree)], timeout=600)
    hits = {os.path.relpath(line, tree) for line in run.stdout.splitlines() if line}
    seeded = [p for p, t in truth.items() if t["seeded"]]
    lookalikes = [p for p, t in truth.items() if not t["seeded"]]
    other = hits - set(truth)
    return {
        "command": f"grep -rlE '<{GREP_PATTERN.count('|') + 1} keywords>' TREE",
        "seconds": round(run.seconds, 2),
        "seeded_files_found": round(sum(p in hits for p in seeded) / max(len(seeded), 1), 4),
        "lookalike_files_flagged": round(
            sum(p in hits for p in lookalikes) / max(len(lookalikes), 1), 4
        ),
        "filler_files_flagged": len(other),
        "false_positive_rate": round(
            (sum(p in hits for p in lookalikes) + len(other)) / max(len(hits), 1), 4
        ),
        "note": "file level: grep cannot say which rule or asset a hit is, nor read model bytes",
    }


if __name__ == "__main__":
    main()
