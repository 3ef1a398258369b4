"""Posture hold-out: recall and false positives of `garrison discover` on independent cases.

    .venv/bin/python benchmarks/posture_holdout.py [--set 1|2]

Builds the hold-out set of `_posture_holdout.py` (cases written from docs/posture.md, not from
the detector) fresh under benchmarks/work/posture_holdout/, or with `--set 2` the second,
independently written set of `_posture_holdout2.py` under benchmarks/work/posture_holdout2/,
runs `garrison discover` on it as a user would (a subprocess writing a JSON report, with a
gateway URL so GA-POST-011 is on), and scores every case file:

- recall: a seeded file is found when it gets every expected rule and inventory category;
- false positives: a look-alike file with any finding at medium or above (and, apart, one whose
  inventory holds a category it must not, e.g. an `ai-service` for a variable named
  `openai_model`); seeded files with unexpected medium+ rules are listed separately.

Writes benchmarks/results/posture_holdout.json (set 2: posture_holdout2.json) with every miss
and false positive, its evidence and a (key-masked) snippet of the file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work"
# Each hold-out set: (module with GATEWAY and build_holdout, name of its tree and results).
SETS = {
    "1": ("_posture_holdout", "posture_holdout"),
    "2": ("_posture_holdout2", "posture_holdout2"),
}
# The chosen set's paths; main() points them at --set before anything runs.
TREE = WORK / "posture_holdout"
REPORT = WORK / "posture_holdout_report.json"
TRUTH = WORK / "posture_holdout_truth.json"
RESULTS = ROOT / "results" / "posture_holdout.json"
RUN = ".venv/bin/python benchmarks/posture_holdout.py"
GATEWAY = ""
GARRISON = Path(sys.executable).with_name("garrison")
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
MEDIUM = RANK["medium"]
# Results are committed: show a key's prefix, never the key.
PREFIXED_KEY = re.compile(
    r"(sk-ant-api03-|sk-proj-|sk-svcacct-|sk-|hf_|AIzaSy|AKIA|gsk_|r8_|xai-|pplx-)"
    r"([A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{12,}"
)
LONG_TOKEN = re.compile(r"\b([A-Za-z0-9/+]{4})[A-Za-z0-9/+]{26,}")
SECRET_LINE = re.compile(r"key|token|secret", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="1", help="hold-out set to score")
    build_holdout = _choose(parser.parse_args().set)
    shutil.rmtree(TREE, ignore_errors=True)
    TREE.mkdir(parents=True)
    truth = build_holdout(TREE)
    TRUTH.write_text(json.dumps(truth, indent=1) + "\n")
    report, seconds = _discover(TREE)
    findings, inventory = _index(report, TREE)
    result = {
        "command": RUN,
        "discover": (
            f"garrison discover TREE --format json --gateway-url {GATEWAY} --jobs 1 "
            "--no-progress --fail-on critical"
        ),
        "seconds": round(seconds, 2),
        **_score(truth, findings, inventory),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    _print(result)


def _choose(number: str) -> Any:
    """Point the paths at one set; return its build_holdout."""
    global TREE, REPORT, TRUTH, RESULTS, RUN, GATEWAY
    module_name, name = SETS[number]
    module = importlib.import_module(module_name)
    TREE = WORK / name
    REPORT = WORK / f"{name}_report.json"
    TRUTH = WORK / f"{name}_truth.json"
    RESULTS = ROOT / "results" / f"{name}.json"
    RUN = ".venv/bin/python benchmarks/posture_holdout.py" + (
        "" if number == "1" else f" --set {number}"
    )
    GATEWAY = module.GATEWAY
    return module.build_holdout


def _discover(tree: Path) -> tuple[dict[str, Any], float]:
    REPORT.unlink(missing_ok=True)
    cmd = [
        str(GARRISON), "discover", str(tree), "--format", "json", "--output", str(REPORT),
        "--gateway-url", GATEWAY, "--jobs", "1", "--no-progress", "--fail-on", "critical",
    ]  # fmt: skip
    started = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    seconds = time.perf_counter() - started
    if run.returncode not in (0, 1):
        raise SystemExit(f"garrison discover failed ({run.returncode}): {run.stderr[-2000:]}")
    return json.loads(REPORT.read_text()), seconds


def _rel(path: str | None, tree: Path) -> str:
    return os.path.relpath(path, tree) if path else "?"


def _index(
    report: dict[str, Any], tree: Path
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    findings: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        path = f["location"].get("path") or f["asset"].get("path")
        findings.setdefault(_rel(path, tree), []).append(
            {
                "rule": f["rule"],
                "severity": f["severity"],
                "line": f["location"].get("line"),
                "evidence": f.get("evidence", ""),
            }
        )
    inventory: dict[str, list[dict[str, Any]]] = {}
    for a in report["metrics"]["discovery"]["inventory"]:
        path = a["location"].get("path") or a["asset"].get("path")
        inventory.setdefault(_rel(path, tree), []).append(
            {"category": a["category"], "name": a["name"], "line": a["location"].get("line")}
        )
    return findings, inventory


def _score(
    truth: dict[str, dict[str, Any]],
    findings: dict[str, list[dict[str, Any]]],
    inventory: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    misses, unexpected, names, false_pos, asset_fp, low_on_lookalikes = [], [], [], [], [], []
    expected_rules: Counter[str] = Counter()
    found_rules: Counter[str] = Counter()
    expected_assets: Counter[str] = Counter()
    found_assets: Counter[str] = Counter()
    allowed_hits: Counter[str] = Counter()  # rules the docs leave open, as reported
    for path, case in sorted(truth.items()):
        got = findings.get(path, [])
        rules = {f["rule"] for f in got}
        serious = [f for f in got if RANK[f["severity"]] >= MEDIUM]
        assets = inventory.get(path, [])
        categories = {a["category"] for a in assets}
        if case["seeded"]:
            missing_rules = [r for r in case["rules"] if r not in rules]
            wanted = [a.split(":", 1) for a in case["assets"]]
            missing_assets = [w[0] for w in wanted if w[0] not in categories]
            allowed_hits.update(r for r in rules if r in case["allowed"])
            expected_rules.update(case["rules"])
            found_rules.update(r for r in case["rules"] if r in rules)
            expected_assets.update(w[0] for w in wanted)
            found_assets.update(w[0] for w in wanted if w[0] in categories)
            if missing_rules or missing_assets:
                misses.append(
                    _entry(path, case, got, assets)
                    | {"missing_rules": missing_rules, "missing_assets": missing_assets}
                )
            extra = [f for f in serious if f["rule"] not in case["rules"] + case["allowed"]]
            if extra:
                unexpected.append(_entry(path, case, extra, assets))
            for category, name in (w for w in wanted if len(w) == 2):
                have = [a["name"] for a in assets if a["category"] == category]
                if have and not any(name.lower() in h.lower() for h in have):
                    names.append({"path": path, "expected": f"{category}:{name}", "got": have})
        else:
            if serious:
                false_pos.append(_entry(path, case, serious, assets))
            forbidden = [a for a in assets if a["category"] in case["forbid_assets"]]
            if forbidden:
                asset_fp.append(_entry(path, case, [], forbidden))
            low = [f for f in got if RANK[f["severity"]] < MEDIUM]
            if low:
                low_on_lookalikes.append({"path": path, "findings": low})
    stray = [
        {"path": p, "findings": fs}
        for p, fs in sorted(findings.items())
        if p not in truth and any(RANK[f["severity"]] >= MEDIUM for f in fs)
    ]
    seeded = sum(1 for c in truth.values() if c["seeded"])
    stretch = sum(1 for c in truth.values() if c["seeded"] and c["stretch"])
    core_misses = sum(1 for m in misses if not truth[m["path"]]["stretch"])
    lookalikes = len(truth) - seeded
    return {
        "cases": {
            "seeded_files": seeded,
            "seeded_stretch_files": stretch,
            "lookalike_files": lookalikes,
        },
        "recall_files": round(1 - len(misses) / max(seeded, 1), 4),
        "recall_files_without_stretch": round(1 - core_misses / max(seeded - stretch, 1), 4),
        "rule_recall": round(sum(found_rules.values()) / max(sum(expected_rules.values()), 1), 4),
        "asset_recall": round(
            sum(found_assets.values()) / max(sum(expected_assets.values()), 1), 4
        ),
        "recall_by_rule": {r: f"{found_rules[r]}/{n}" for r, n in sorted(expected_rules.items())},
        "recall_by_asset_category": {
            a: f"{found_assets[a]}/{n}" for a, n in sorted(expected_assets.items())
        },
        "lookalike_fp_files": len(false_pos),
        "lookalike_fp_rate": round(len(false_pos) / max(lookalikes, 1), 4),
        "lookalike_fp_by_rule": dict(
            Counter(f["rule"] for e in false_pos for f in e["findings"]).most_common()
        ),
        "lookalike_asset_fp_files": len(asset_fp),
        "seeded_files_with_unexpected_rules": len(unexpected),
        "allowed_rules_reported": dict(allowed_hits.most_common()),
        "misses": misses,
        "false_positives": false_pos,
        "asset_false_positives": asset_fp,
        "seeded_unexpected": unexpected,
        "asset_name_mismatches": names,
        "stray_findings": stray,
        "low_info_on_lookalikes": low_on_lookalikes,
    }


def _entry(
    path: str, case: dict[str, Any], got: list[dict[str, Any]], assets: list[dict[str, Any]]
) -> dict[str, Any]:
    lines = [f["line"] for f in got if f.get("line")] or [a["line"] for a in assets if a["line"]]
    return {
        "path": path,
        "why": case["why"],
        "stretch": case["stretch"],
        "expected_rules": case["rules"],
        "findings": got,
        "assets": assets,
        "snippet": _snippet(TREE / path, lines[0] if lines else None),
    }


def _snippet(path: Path, line: int | None, around: int = 5, head: int = 24) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if "\0" in text or (data and not text):
        return f"<binary {len(data)} bytes> {data[:48].hex(' ')}"
    if path.suffix == ".ipynb":  # show the cells, not the JSON around them
        cells = json.loads(text)["cells"]
        text = "\n".join(f"[{c['cell_type']}] " + "".join(c["source"]) for c in cells)
        line = None
    rows = text.splitlines()
    start, stop = (max(line - 1 - around, 0), line + around) if line else (0, head)
    return "\n".join(_mask(row) for row in rows[start:stop])


def _mask(row: str) -> str:
    row = PREFIXED_KEY.sub(r"\1\2…", row)
    return LONG_TOKEN.sub(r"\1…", row) if SECRET_LINE.search(row) else row


def _print(result: dict[str, Any]) -> None:
    keys = (
        "cases", "recall_files", "recall_files_without_stretch", "rule_recall", "asset_recall",
        "recall_by_rule", "recall_by_asset_category", "lookalike_fp_files", "lookalike_fp_rate",
        "lookalike_fp_by_rule", "lookalike_asset_fp_files", "seeded_files_with_unexpected_rules",
        "allowed_rules_reported", "seconds",
    )  # fmt: skip
    print(json.dumps({k: result[k] for k in keys}, indent=2))
    for title, name in (
        ("MISSES", "misses"),
        ("FALSE POSITIVES (look-alikes, medium+)", "false_positives"),
        ("ASSET FALSE POSITIVES (look-alikes)", "asset_false_positives"),
        ("UNEXPECTED RULES ON SEEDED FILES", "seeded_unexpected"),
    ):
        print(f"\n== {title}: {len(result[name])}")
        for e in result[name]:
            got = ", ".join(f"{f['rule']}({f['severity']})" for f in e["findings"]) or "-"
            assets = ", ".join(f"{a['category']}:{a['name']}" for a in e["assets"]) or "-"
            missing = e.get("missing_rules", []) + e.get("missing_assets", [])
            tag = " (stretch)" if e["stretch"] else ""
            print(f"- {e['path']}  [{e['why']}]{tag}")
            print(f"  missing: {missing or '-'}  findings: {got}  assets: {assets}")
    print(f"\nresults: {RESULTS.relative_to(ROOT.parent)}")


if __name__ == "__main__":
    main()
