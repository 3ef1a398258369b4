"""Latency percentiles and the added-latency arithmetic of the gateway benchmark (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile with linear interpolation between ranks (NumPy's default)."""
    if not values:
        raise ValueError("no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99, mean and max of one run, in milliseconds rounded to microseconds."""
    out = {f"p{p}_ms": round(percentile(latencies_ms, p), 3) for p in PERCENTILES}
    out["mean_ms"] = round(sum(latencies_ms) / len(latencies_ms), 3)
    out["max_ms"] = round(max(latencies_ms), 3)
    return out


def added(via_proxy: dict[str, float], direct: dict[str, float]) -> dict[str, float]:
    """Per-percentile difference of a proxied run over the direct run (not the mean of
    per-request differences: the two runs are separate samples of the same distribution)."""
    return {
        f"added_p{p}_ms": round(via_proxy[f"p{p}_ms"] - direct[f"p{p}_ms"], 3) for p in PERCENTILES
    }


def cpu_ms_per_request(cpu_seconds: float, requests: int) -> float | None:
    return round(1000 * cpu_seconds / requests, 3) if requests else None


def throughput(done: int, seconds: float) -> float:
    return round(done / seconds, 1) if seconds > 0 else 0.0


def check_latency_run(run: dict[str, Any]) -> None:
    """Raise when a load-generator result lacks a field the report needs."""
    _require(run, ("requests", "errors", "seconds", "p50_ms", "p99_ms"))


def check_throughput_run(run: dict[str, Any]) -> None:
    _require(run, ("requests", "errors", "seconds", "requests_per_s", "concurrency"))


def _require(run: dict[str, Any], keys: Sequence[str]) -> None:
    missing = [k for k in keys if k not in run]
    if missing:
        raise ValueError(f"load-generator result lacks {', '.join(missing)}")
