"""The scale section of benchmarks/data.py: every check on a 1,000,000 x 20 CSV."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GARRISON = ROOT / ".venv" / "bin" / "garrison"
GNU_TIME = Path("/usr/bin/time")


def write_table(path: Path, rows: int, seed: int = 0) -> Path:
    """16 numeric columns, 2 categorical, a short free-text note and a label: 20 columns."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, rows)
    columns: dict[str, Any] = {}
    for i in range(16):
        columns[f"x{i}"] = np.round(rng.normal(label * (0.5 if i < 6 else 0.0), 1.0), 4)
    columns["region"] = rng.choice(np.array(["north", "south", "east", "west"]), rows)
    columns["channel"] = rng.choice(np.array(["web", "store", "phone"]), rows)
    words = np.array(["order", "late", "refund", "box", "damaged", "thanks", "size", "colour"])
    picks = rng.integers(0, len(words), (rows, 5))
    columns["note"] = [" ".join(r) for r in words[picks]]
    columns["label"] = label
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(pa.table(columns), path)
    return path


def run(quick: bool, work: Path) -> dict[str, Any]:
    rows = 100_000 if quick else 1_000_000
    table = write_table(work / f"scale_{rows}.csv", rows)
    reference = write_table(work / f"scale_ref_{rows // 5}.csv", rows // 5, seed=1)
    with (
        tempfile.NamedTemporaryFile(suffix=".json") as report,
        tempfile.NamedTemporaryFile() as rss,
    ):
        cmd = [
            str(GARRISON),
            "data",
            "check",
            str(table),
            "--label",
            "label",
            "--reference",
            str(reference),
            "-f",
            "json",
            "-o",
            report.name,
            "--no-progress",
        ]
        if GNU_TIME.exists():
            cmd = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *cmd]
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        seconds = time.perf_counter() - started
        peak = int(Path(rss.name).read_text().split()[-1]) / 1024 if GNU_TIME.exists() else None
        data = json.loads(Path(report.name).read_text()) if done.returncode in (0, 1) else {}
    return {
        "rows": rows,
        "columns": 20,
        "bytes": table.stat().st_size,
        "checks": "schema (inferred from a reference), drift, outliers, duplicates, near-duplicate "
        "text, PII and secrets, label issues, poisoning and backdoor signals",
        "exit": done.returncode,
        "error": done.stderr.strip().splitlines()[-1] if done.returncode not in (0, 1) else "",
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak, 1) if peak else None,
        "stage_seconds": data.get("metrics", {}).get("seconds", {}),
        "findings": len(data.get("findings", [])),
    }
