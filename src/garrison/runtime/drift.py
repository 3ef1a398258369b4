"""Drift monitor: recent traffic against a baseline window, feature by feature.

The baseline is the first `baseline_size` records (or a saved baseline file); every
`check_every` records the last `window_size` are compared to it with the population
stability index (PSI): quantile bins of the baseline for numbers, categories otherwise.
A PSI above 0.25 is the usual sign of a real shift, 0.1 to 0.25 of a moderate one.
"""

from __future__ import annotations

import json
import logging
import math
import os
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.errors import PolicyError
from garrison.gateway.record import RequestRecord
from garrison.runtime.alerts import Alert
from garrison.runtime.config import DriftConfig
from garrison.runtime.features import EXTRACTORS, NUMERIC

logger = logging.getLogger(__name__)

BASELINE_VERSION = 1
_FLOOR = 1e-4  # share given to an empty bin, so PSI stays finite
_NO_ALERTS: tuple[Alert, ...] = ()
Value = float | str


@dataclass(frozen=True, slots=True)
class NumericBaseline:
    edges: tuple[float, ...]  # upper bounds of every bin but the last
    shares: tuple[float, ...]  # len(edges) + 1
    median: float

    def psi(self, values: Sequence[Value]) -> float:
        counts = [0] * len(self.shares)
        edges = self.edges
        for value in values:
            counts[bisect_left(edges, float(value))] += 1
        return _psi(self.shares, [c / len(values) for c in counts])


@dataclass(frozen=True, slots=True)
class CategoricalBaseline:
    shares: dict[str, float]

    def psi(self, values: Sequence[Value]) -> float:
        counts = Counter(str(v) for v in values)
        names = sorted(set(self.shares) | set(counts))
        return _psi(
            [self.shares.get(n, 0.0) for n in names], [counts[n] / len(values) for n in names]
        )


FeatureBaseline = NumericBaseline | CategoricalBaseline


def _psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, _FLOOR), max(a, _FLOOR)
        total += (a - e) * math.log(a / e)
    return total


@dataclass(frozen=True, slots=True)
class Baseline:
    size: int
    features: dict[str, FeatureBaseline]

    @classmethod
    def from_values(cls, columns: dict[str, list[Value]], bins: int = 10) -> Baseline:
        features: dict[str, FeatureBaseline] = {}
        size = 0
        for name, values in columns.items():
            size = len(values)
            if name in NUMERIC:
                features[name] = _numeric(sorted(float(v) for v in values), bins)
            else:
                counts = Counter(str(v) for v in values)
                features[name] = CategoricalBaseline({k: n / size for k, n in counts.items()})
        return cls(size, features)

    def to_dict(self) -> dict[str, Any]:
        features: dict[str, Any] = {}
        for name, spec in self.features.items():
            if isinstance(spec, NumericBaseline):
                features[name] = {
                    "kind": "numeric",
                    "edges": list(spec.edges),
                    "shares": list(spec.shares),
                    "median": spec.median,
                }
            else:
                features[name] = {"kind": "categorical", "shares": spec.shares}
        return {"version": BASELINE_VERSION, "size": self.size, "features": features}

    @classmethod
    def from_dict(cls, data: Any) -> Baseline:
        try:
            features: dict[str, FeatureBaseline] = {}
            for name, spec in data["features"].items():
                if spec["kind"] == "numeric":
                    edges = tuple(float(e) for e in spec["edges"])
                    shares = tuple(float(s) for s in spec["shares"])
                    if len(shares) != len(edges) + 1:
                        raise ValueError("one share per bin")
                    features[name] = NumericBaseline(edges, shares, float(spec["median"]))
                else:
                    shares_by = {str(k): float(v) for k, v in spec["shares"].items()}
                    features[name] = CategoricalBaseline(shares_by)
            return cls(int(data["size"]), features)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PolicyError(f"drift baseline is malformed: {exc}") from None

    def save(self, path: Path) -> None:
        """Write atomically, so workers racing to save leave one whole file."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PolicyError(f"cannot read drift baseline {path}: {exc.strerror}") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PolicyError(f"drift baseline {path} is not JSON") from None
        return cls.from_dict(data)


def _numeric(ordered: list[float], bins: int) -> NumericBaseline:
    n = len(ordered)
    edges = sorted({ordered[max(0, math.ceil(i * n / bins) - 1)] for i in range(1, bins)})
    counts = [0] * (len(edges) + 1)
    for value in ordered:
        counts[bisect_left(edges, value)] += 1
    return NumericBaseline(tuple(edges), tuple(c / n for c in counts), ordered[n // 2])


class DriftMonitor:
    """Collects a baseline, then compares a sliding window of recent records to it."""

    def __init__(self, config: DriftConfig, *, baseline: Baseline | None = None) -> None:
        self.config = config
        self.features = config.features
        path = config.baseline_path
        if baseline is None and path is not None and path.exists():
            baseline = Baseline.load(path)
        if baseline is not None:
            missing = sorted(set(self.features) - set(baseline.features))
            if missing:
                raise PolicyError(f"drift baseline lacks feature(s) {missing}: rebuild it")
        self.baseline = baseline
        self._extract = [EXTRACTORS[name] for name in self.features]
        self._collecting: list[tuple[Value, ...]] = []
        self.recent: deque[tuple[Value, ...]] = deque(maxlen=config.window_size)
        self._since_check = 0
        self.last: dict[str, float] = {}  # PSI of each feature at the last comparison
        self.drifted: set[str] = set()

    def observe(self, record: RequestRecord) -> tuple[Alert, ...]:
        if record.route == "models" or record.status == 401:
            return _NO_ALERTS
        row = tuple(extract(record) for extract in self._extract)
        if self.baseline is None:
            self._collect(row)
            return _NO_ALERTS
        self.recent.append(row)
        self._since_check += 1
        if (
            self._since_check < self.config.check_every
            or len(self.recent) < self.config.window_size
        ):
            return _NO_ALERTS
        return self.check()

    def check(self) -> tuple[Alert, ...]:
        """Compare the recent window to the baseline now; alerts for newly drifted features."""
        self._since_check = 0
        if self.baseline is None or not self.recent:
            return _NO_ALERTS
        alerts = []
        for index, name in enumerate(self.features):
            values = [row[index] for row in self.recent]
            spec = self.baseline.features[name]
            psi = spec.psi(values)
            self.last[name] = psi
            threshold = self.config.thresholds.get(name, self.config.psi_threshold)
            if psi <= threshold:
                self.drifted.discard(name)
            elif name not in self.drifted:
                self.drifted.add(name)
                alerts.append(self._alert(name, spec, values, psi, threshold))
        return tuple(alerts)

    def _collect(self, row: tuple[Value, ...]) -> None:
        self._collecting.append(row)
        if len(self._collecting) < self.config.baseline_size:
            return
        columns = {
            name: [row[i] for row in self._collecting] for i, name in enumerate(self.features)
        }
        self.baseline = Baseline.from_values(columns, self.config.bins)
        self._collecting = []
        path = self.config.baseline_path
        if path is not None:
            try:
                self.baseline.save(path)
            except OSError as exc:
                logger.warning("drift baseline not saved path=%s error=%s", path, exc.strerror)

    def _alert(
        self, name: str, spec: FeatureBaseline, values: list[Value], psi: float, threshold: float
    ) -> Alert:
        evidence: dict[str, float | int | str] = {
            "psi": round(psi, 4),
            "threshold": threshold,
            "window": len(values),
            "baseline": self.baseline.size if self.baseline else 0,
        }
        if isinstance(spec, NumericBaseline):
            ordered = sorted(float(v) for v in values)
            evidence["baseline_median"] = spec.median
            evidence["recent_median"] = ordered[len(ordered) // 2]
        else:
            top, count = Counter(str(v) for v in values).most_common(1)[0]
            usual = max(spec.shares, key=spec.shares.__getitem__, default="-")
            evidence["baseline_top"] = f"{usual} {spec.shares.get(usual, 0.0):.0%}"
            evidence["recent_top"] = f"{top} {count / len(values):.0%}"
        return Alert(
            f"drift.{name}",
            f"{name} of recent requests drifted from the baseline (PSI {psi:.2f} > {threshold:g})",
            None,
            "medium",
            evidence,
        )
