"""Training-data benchmark: planted poisoning, label flips, duplicates and PII, and scale.

Runs the poisoning section (BadNets on digits, label flips on breast_cancer and wine), the
text section (near-duplicates and PII), each beside cleanlab's Datalab on the same data, and
`garrison data check` with every check on a 1,000,000 x 20 CSV; writes
benchmarks/results/data.json. Usage:

    .venv/bin/python benchmarks/data.py [--quick]
    .venv/bin/python benchmarks/data.py --tables
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import _data_poison as poison
import _data_scale as scale
import _data_text as text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "data.json"
WORK = ROOT / "benchmarks" / "work" / "data"
SCALE_SECONDS = 60.0
SCALE_RSS_MB = 2048.0

log = logging.getLogger("data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sets, 100k-row scale run")
    parser.add_argument("--tables", action="store_true", help="print markdown from the JSON")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the JSON")
    parser.add_argument("--work", default=str(WORK), help="where generated inputs are kept")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    out = Path(args.output)
    if args.tables:
        sys.stdout.write(markdown(json.loads(out.read_text(encoding="utf-8"))))
        return 0
    results: dict[str, Any] = {"machine": _machine(), "quick": args.quick}
    for name, run in (
        ("poisoning", lambda: poison.run(args.quick)),
        ("text", lambda: text.run(args.quick)),
        ("scale", lambda: scale.run(args.quick, Path(args.work))),
    ):
        log.info("running %s", name)
        started = time.perf_counter()
        results[name] = run()
        results[name]["wall_seconds"] = round(time.perf_counter() - started, 2)
    results["claims"] = claims(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    sys.stdout.write(markdown(json.loads(out.read_text(encoding="utf-8"))))
    log.info("wrote %s", out)
    return 0


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(type(value).__name__)


def claims(r: dict[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = dict(r["poisoning"]["claims"])
    for issue, checks in r["text"]["claims"].items():
        out.update({f"{issue}_{k}": v for k, v in checks.items()})
    big = r["scale"]
    out["scale_1m_rows_under_60s"] = big["exit"] in (0, 1) and big["seconds"] < SCALE_SECONDS
    out["scale_1m_rows_under_2gb"] = (
        big["peak_rss_mb"] is not None and big["peak_rss_mb"] < SCALE_RSS_MB
    )
    return out


def markdown(r: dict[str, Any]) -> str:
    bad = r["poisoning"]["badnets_digits"]
    lines = [r["machine"]["summary"] + (" (--quick)" if r["quick"] else ""), ""]
    lines += [
        "| planted issue | Garrison recall | Garrison false flags | Datalab recall "
        "| Datalab false flags |",
        "| --- | ---: | ---: | ---: | ---: |",
        _row("BadNets patch on 5% of digits", bad["garrison"]["all_checks"], bad["datalab"]["any"]),
    ]
    for name, flips in r["poisoning"]["flips"].items():
        g, d = flips["garrison"], flips["datalab_label"]
        lines.append(
            f"| 10% labels flipped, {name} | {g['recall']:.3f} (precision {g['precision']:.3f}) | "
            f"| {d['recall']:.3f} (precision {d['precision']:.3f}) | |"
        )
    for issue, label in (("near_duplicate", "1% near-duplicates"), ("pii", "PII in 1% of rows")):
        lines.append(_row(label, r["text"]["garrison"][issue], r["text"]["datalab"][issue]))
    big = r["scale"]
    lines += [
        "",
        f"Scale: `garrison data check` on {big['rows']:,} rows x {big['columns']} columns "
        f"({big['bytes'] / 1e6:.0f} MB CSV), {big['checks']}: {big['seconds']:.1f} s, peak RSS "
        f"{big['peak_rss_mb']} MB. Stages: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in big["stage_seconds"].items()),
        "",
    ]
    lines += [f"- {'✓' if ok else '✗'} {name}" for name, ok in r["claims"].items()]
    return "\n".join(lines) + "\n"


def _row(label: str, ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    return (
        f"| {label} | {ours['recall']:.3f} | {ours['false_flag_rate']:.3%} | "
        f"{theirs['recall']:.3f} | {theirs['false_flag_rate']:.3%} |"
    )


def _machine() -> dict[str, Any]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    # Metadata only: importing cleanlab here, before Datalab's extra is on the path, would
    # leave Datalab unavailable for the rest of the run.
    for name in ("cleanlab", "pyarrow", "scikit-learn"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    summary = (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python "
        f"{platform.python_version()}, " + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    return {"cpus": cpus, "versions": versions, "summary": summary}


if __name__ == "__main__":
    raise SystemExit(main())
