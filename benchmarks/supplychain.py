"""Supply-chain benchmark: Garrison against modelscan, picklescan, fickling and ModelAudit.

One run installs each peer in its own venv under benchmarks/work/venvs, scans the labelled
corpus and the scale inputs with every tool in subprocesses, and writes
benchmarks/results/supplychain.json. Usage:

    .venv/bin/python benchmarks/supplychain.py [--skip-install] [--quick] [--keep-inputs]
    .venv/bin/python benchmarks/supplychain.py --tables   # markdown tables from the JSON

The benchmark never loads a corpus file itself; only the scanners read them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _corpus
import _peer_install
import _peers
import _scale_inputs
import _tables
from _measure import Measured, measure

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results" / "supplychain.json"
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
FILE_TIMEOUT = 120.0  # seconds one tool may spend on one corpus file
CASE_TIMEOUT = 900.0  # seconds one tool may spend on one scale case
MIXED_FILES = 130
# ModelAudit spends about 2 s on each small pickle (210 s for 100 in a trial run), so 1,000
# would take over half an hour; its per-file cost is measured on the mixed corpus instead.
NOT_RUN = {("modelaudit", "small_pickles"): "not run: about 2 s per pickle (see mixed corpus)"}

log = logging.getLogger("supplychain")


@dataclass(frozen=True, slots=True)
class Sizes:
    large_bytes: int
    small_pickles: int
    corpus_limit: int | None


FULL = Sizes(large_bytes=2 * _scale_inputs.GIB, small_pickles=1000, corpus_limit=None)
QUICK = Sizes(large_bytes=_scale_inputs.GIB // 8, small_pickles=100, corpus_limit=12)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.tables:
        sys.stdout.write(_tables.markdown(json.loads(RESULTS.read_text(encoding="utf-8"))))
        return 0
    sizes = QUICK if args.quick else FULL
    versions, tools = _setup_tools(args.skip_install)
    entries = _corpus.build(PROJECT_PYTHON, ROOT, WORK / "corpus")[: sizes.corpus_limit]
    log.info("corpus: %d entries", len(entries))
    results: dict[str, Any] = {
        "meta": _meta(versions, args.quick),
        "corpus": _run_corpus(tools, entries),
    }
    results["scale"] = _run_scale(tools, entries, sizes, keep=args.keep_inputs)
    results["claims"] = _tables.claims(results)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(_tables.console(results))
    log.info("wrote %s", out)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-install", action="store_true", help="use the venvs as they are")
    parser.add_argument(
        "--quick", action="store_true", help="12 corpus entries, 128 MB files, 100 pickles"
    )
    parser.add_argument("--keep-inputs", action="store_true", help="keep the large files")
    parser.add_argument("--tables", action="store_true", help="print markdown from the JSON")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the JSON")
    return parser.parse_args(argv)


def _setup_tools(skip_install: bool) -> tuple[dict[str, str], list[_peers.Tool]]:
    venvs = WORK / "venvs"
    venvs.mkdir(parents=True, exist_ok=True)
    versions = {"garrison": _garrison_version()}
    for spec in _peer_install.PEERS:
        versions[spec.name] = _peer_install.ensure_peer(venvs, spec, skip_install)
        log.info("%s %s", spec.name, versions[spec.name])
    driver = ROOT / "benchmarks" / "_fickling_driver.py"
    tools = [
        _peers.garrison_tool(PROJECT_PYTHON.parent),
        _peers.modelscan_tool(venvs / "modelscan"),
        _peers.picklescan_tool(venvs / "picklescan"),
        _peers.fickling_tool(venvs / "fickling", driver),
        _peers.modelaudit_tool(venvs / "modelaudit"),
    ]
    return versions, tools


def _garrison_version() -> str:
    return _peer_install.installed_version(PROJECT_PYTHON, "garrison-ml") or "unknown"


def _run(tool: _peers.Tool, target: Path, timeout: float) -> tuple[Measured, _peers.Verdict]:
    """Run one tool on one path from a scratch cwd (so no tool picks up a stray config)."""
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        report = Path(scratch) / "report.json"
        env = {**os.environ, **_peers.QUIET_ENV, "NO_COLOR": "1"}
        # Every tool runs as installed for a user, with its bytecode cached: a set
        # PYTHONDONTWRITEBYTECODE would make each start recompile every module it imports.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        run = measure(tool.command(target, report), timeout, env=env, cwd=Path(scratch))
        return run, tool.verdict(run, report)


def _run_corpus(tools: list[_peers.Tool], entries: list[_corpus.Entry]) -> dict[str, Any]:
    """Each tool scans each entry in its own process: clean attribution, isolated crashes."""
    per_tool: dict[str, Any] = {}
    verdicts: dict[str, dict[str, str]] = {e.id: {} for e in entries}
    for tool in tools:
        _run(tool, entries[0].path, FILE_TIMEOUT)  # warm-up: bytecode caches, page cache
        seconds, peak, rows = 0.0, 0.0, []
        for entry in entries:
            run, verdict = _run(tool, entry.path, FILE_TIMEOUT)
            seconds += run.seconds
            peak = max(peak, run.peak_rss_mb)
            rows.append((entry, verdict))
            verdicts[entry.id][tool.name] = _label(verdict)
        per_tool[tool.name] = _score(rows) | {
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(peak, 1),
        }
        log.info("corpus %-10s %s", tool.name, _tables.one_line(per_tool[tool.name]))
    files = [
        {"id": e.id, "format": e.format, "technique": e.technique, "malicious": e.malicious}
        | {"verdicts": verdicts[e.id]}
        for e in entries
    ]
    malicious = sum(e.malicious for e in entries)
    return {
        "malicious": malicious,
        "benign": len(entries) - malicious,
        "tools": per_tool,
        "files": files,
    }


def _score(rows: list[tuple[_corpus.Entry, _peers.Verdict]]) -> dict[str, Any]:
    bad = [(e, v) for e, v in rows if e.malicious]
    good = [(e, v) for e, v in rows if not e.malicious]
    return {
        "detected": sum(v.detected for _, v in bad),
        "detected_at_medium": sum(v.flagged for _, v in bad),
        "missed": [e.id for e, v in bad if not v.detected],
        "false_positives": [e.id for e, v in good if v.flagged],
        "errors": [e.id for e, v in rows if v.error],
        "unsupported": [e.id for e, v in rows if v.unsupported],
        "error_details": {e.id: v.error for e, v in rows if v.error},
    }


def _label(verdict: _peers.Verdict) -> str:
    if verdict.unsupported:
        return "skipped"
    label = verdict.severity or "clean"
    return f"{label} (error)" if verdict.error else label


def _run_scale(
    tools: list[_peers.Tool], entries: list[_corpus.Entry], sizes: Sizes, keep: bool
) -> dict[str, Any]:
    scale_dir = WORK / "scale"
    scale_dir.mkdir(parents=True, exist_ok=True)
    large = scale_dir / "large"
    large.mkdir(exist_ok=True)
    cases = {
        "safetensors_large": _scale_inputs.safetensors_file(
            large / "model.safetensors", sizes.large_bytes
        ),
        "pytorch_large": _scale_inputs.torch_checkpoint(
            PROJECT_PYTHON, large / "pytorch_model.bin", sizes.large_bytes
        ),
        "small_pickles": _scale_inputs.small_pickles(
            PROJECT_PYTHON, scale_dir / "pickles", sizes.small_pickles
        ),
        "mixed_corpus": _scale_inputs.mixed_corpus(
            [e.path for e in entries], scale_dir / "mixed", MIXED_FILES
        ),
    }
    try:
        out = {name: _run_case(tools, name, target) for name, target in cases.items()}
        out["small_pickles"]["floor"] = _floor(cases["small_pickles"])
        out["small_pickles"]["startup"] = _startup(tools, scale_dir / "empty")
        return out
    finally:
        if not keep:
            shutil.rmtree(large, ignore_errors=True)


def _run_case(tools: list[_peers.Tool], name: str, target: Path) -> dict[str, Any]:
    case: dict[str, Any] = {
        "target": str(target.relative_to(ROOT)),
        "files": _scale_inputs.count_files(target),
        "bytes": _scale_inputs.total_bytes(target),
        "tools": {},
    }
    for tool in tools:
        reason = NOT_RUN.get((tool.name, name))
        if reason is not None:
            case["tools"][tool.name] = {"not_run": reason}
            continue
        case["tools"][tool.name] = _timed(tool, target)
        log.info("%s %-10s %s", target.name, tool.name, case["tools"][tool.name])
    return case


def _floor(target: Path) -> dict[str, Any]:
    """Python start-up plus a bare `pickletools.genops` walk of every file, best of three:
    what any pure-Python scanner pays before it judges anything."""
    script = ROOT / "benchmarks" / "_pickle_floor.py"
    runs = [measure([str(PROJECT_PYTHON), str(script), str(target)], CASE_TIMEOUT) for _ in "123"]
    return {
        "what": "python start-up + pickletools.genops over every file, no analysis",
        "seconds": round(min(r.seconds for r in runs), 3),
        "opcodes": int(runs[0].stdout.strip() or 0),
    }


def _startup(tools: list[_peers.Tool], empty: Path) -> dict[str, float]:
    """Each tool on an empty directory: the fixed cost inside every figure above."""
    empty.mkdir(exist_ok=True)
    return {
        tool.name: _timed(tool, empty)["seconds"]
        for tool in tools
        if (tool.name, "small_pickles") not in NOT_RUN
    }


def _timed(tool: _peers.Tool, target: Path) -> dict[str, Any]:
    """Best of three for runs under 5 s (noise dominates there), else a single run."""
    run, verdict = _run(tool, target, CASE_TIMEOUT)
    runs = [run]
    while run.seconds < 5 and len(runs) < 3 and not verdict.error:
        runs.append(_run(tool, target, CASE_TIMEOUT)[0])
    return {
        "seconds": round(min(r.seconds for r in runs), 3),
        "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1),
        "verdict": _label(verdict),
        "error": verdict.error,
        "exit": run.returncode,
    }


def _meta(versions: dict[str, str], quick: bool) -> dict[str, Any]:
    return {
        "versions": versions,
        "quick": quick,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "command": "python benchmarks/supplychain.py" + (" --quick" if quick else ""),
    }


if __name__ == "__main__":
    sys.exit(main())
