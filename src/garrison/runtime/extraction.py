"""Extraction monitor: per API key, query volume and input diversity in a sliding window.

Copying a model takes many queries that spread over the input space: volume alone raises
`extraction.volume`, volume with diverse inputs raises `extraction.diversity`. Diversity is
the share of distinct word 3-grams among all a key's 3-grams, estimated from a hash sample
of bounded size, so the cost per request is a few dict operations per token.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.errors import PolicyError
from garrison.gateway.record import ALLOW, REDACT, RequestRecord
from garrison.runtime.alerts import Alert
from garrison.runtime.config import ExtractionConfig

COUNT_BUCKETS = 12  # the window's query counts move in steps of window_s / 12
SKETCH_SIZE = 128  # sampled 3-grams kept per half window and key (bounds memory)
CHECK_EVERY = 50  # queries of one key between two diversity estimates
_SPACE = 1 << 32
_CHARS_PER_TOKEN = 12  # text read per token sketched, so a huge prompt costs no more
# Numbers are one token each, so a sweep over numeric inputs (KServe tensors as text) is
# sketched value by value; words are lower-cased runs of letters and digits.
_TOKEN = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\w+")
_NUMBER = re.compile(r"-?\d")
_COUNTED = frozenset({ALLOW, REDACT})
_NO_ALERTS: tuple[Alert, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyState:
    """What the monitor currently holds about one key."""

    queries: int  # in the window
    budget: int
    diversity: float  # share of distinct 3-grams, 0..1
    sampled: int  # 3-gram occurrences the diversity is estimated from


class _Sketch:
    """Adaptive hash sample of 3-grams: keeps those whose hash is under a threshold that
    halves whenever more than SKETCH_SIZE distinct ones are held, with their counts."""

    __slots__ = ("counts", "level")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.level = 0

    def add(self, hashed: int) -> None:
        if hashed >= _SPACE >> self.level:
            return
        counts = self.counts
        counts[hashed] = counts.get(hashed, 0) + 1
        if len(counts) > SKETCH_SIZE:
            self.level += 1
            limit = _SPACE >> self.level
            self.counts = {h: n for h, n in counts.items() if h < limit}


def _merged(sketches: Iterable[_Sketch]) -> tuple[int, int]:
    """(distinct, occurrences) of the sampled 3-grams over several sketches."""
    parts = list(sketches)
    if not parts:
        return 0, 0
    limit = _SPACE >> max(s.level for s in parts)
    union: dict[int, int] = {}
    for sketch in parts:
        for hashed, n in sketch.counts.items():
            if hashed < limit:
                union[hashed] = union.get(hashed, 0) + n
    return len(union), sum(union.values())


class _KeyWindow:
    __slots__ = ("counts", "queries", "since_check", "sketches", "volume_alerted", "wide_alerted")

    def __init__(self) -> None:
        self.counts: deque[list[int]] = deque()  # [bucket index, queries]
        self.queries = 0
        self.sketches: deque[tuple[int, _Sketch]] = deque()  # (half-window index, sketch)
        self.since_check = 0
        self.volume_alerted = False
        self.wide_alerted = False

    def count(self, bucket: int) -> None:
        counts = self.counts
        while counts and counts[0][0] <= bucket - COUNT_BUCKETS:
            self.queries -= counts.popleft()[1]
        if counts and counts[-1][0] == bucket:
            counts[-1][1] += 1
        else:
            counts.append([bucket, 1])
        self.queries += 1

    def sketch(self, half: int) -> _Sketch:
        sketches = self.sketches
        while sketches and sketches[0][0] < half - 1:
            sketches.popleft()
        if not sketches or sketches[-1][0] != half:
            sketches.append((half, _Sketch()))
        return sketches[-1][1]

    def diversity(self) -> tuple[float, int]:
        distinct, occurrences = _merged(s for _, s in self.sketches)
        return (distinct / occurrences if occurrences else 0.0), occurrences


class ExtractionMonitor:
    """Per-key sliding windows; `observe` returns the alerts a record raises (usually none)."""

    def __init__(
        self,
        config: ExtractionConfig,
        *,
        budget: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.budget = budget if budget is not None else resolve_budget(config)
        self._clock = clock
        self._bucket_s = config.window_s / COUNT_BUCKETS
        self._half_s = config.window_s / 2
        self._wide_from = max(1, math.ceil(self.budget * config.diversity_volume))
        self._max_chars = config.max_tokens * _CHARS_PER_TOKEN
        self._keys: OrderedDict[str, _KeyWindow] = OrderedDict()

    def observe(self, record: RequestRecord) -> tuple[Alert, ...]:
        key_id = record.key_id
        if key_id is None or record.decision not in _COUNTED or record.route == "models":
            return _NO_ALERTS
        window = self._window(key_id)
        now = self._clock()
        window.count(int(now // self._bucket_s))
        sketch = window.sketch(int(now // self._half_s))
        for hashed in self._shingles(record.prompt_text):
            sketch.add(hashed)
        return self._check(key_id, window)

    def state(self, key_id: str) -> KeyState | None:
        window = self._keys.get(key_id)
        if window is None:
            return None
        diversity, sampled = window.diversity()
        return KeyState(window.queries, self.budget, diversity, sampled)

    @property
    def keys(self) -> int:
        return len(self._keys)

    def _window(self, key_id: str) -> _KeyWindow:
        keys = self._keys
        window = keys.get(key_id)
        if window is None:
            window = keys[key_id] = _KeyWindow()
            if len(keys) > self.config.max_keys:
                keys.popitem(last=False)  # the key idle the longest
        else:
            keys.move_to_end(key_id)
        return window

    def _shingles(self, text: str) -> list[int]:
        tokens = _TOKEN.findall(text[: self._max_chars].lower())[: self.config.max_tokens]
        tokens = [_quantised(t) if _NUMBER.match(t) else t for t in tokens]
        if len(tokens) < 3:  # a short input is one shingle of its own
            return [hash(tuple(tokens)) & (_SPACE - 1)] if tokens else []
        # Python's string hash is keyed per process, so a client cannot pick inputs that
        # dodge the sample.
        return [hash(g) & (_SPACE - 1) for g in zip(tokens, tokens[1:], tokens[2:], strict=False)]

    def _check(self, key_id: str, window: _KeyWindow) -> tuple[Alert, ...]:
        queries = window.queries
        alerts: list[Alert] = []
        if queries <= self.budget:
            window.volume_alerted = False
        elif not window.volume_alerted:
            window.volume_alerted = True
            alerts.append(self._volume_alert(key_id, queries))
        if queries < self._wide_from:
            window.wide_alerted = False
            window.since_check = 0
            return tuple(alerts)
        window.since_check -= 1
        if window.since_check > 0:
            return tuple(alerts)
        window.since_check = CHECK_EVERY
        diversity, sampled = window.diversity()
        if diversity < self.config.diversity_threshold:
            window.wide_alerted = False
        elif not window.wide_alerted:
            window.wide_alerted = True
            alerts.append(self._diversity_alert(key_id, queries, diversity, sampled))
        return tuple(alerts)

    def _volume_alert(self, key_id: str, queries: int) -> Alert:
        return Alert(
            "extraction.volume",
            f"key made {queries} queries in {self.config.window_s:g} s, over the extraction "
            f"budget of {self.budget}",
            key_id,
            "medium",
            {"queries": queries, "budget": self.budget, "window_s": self.config.window_s},
        )

    def _diversity_alert(self, key_id: str, queries: int, diversity: float, sampled: int) -> Alert:
        return Alert(
            "extraction.diversity",
            f"key made {queries} queries in {self.config.window_s:g} s with "
            f"{diversity:.0%} distinct 3-grams: a sweep of the input space",
            key_id,
            "high",
            {
                "queries": queries,
                "budget": self.budget,
                "diversity": round(diversity, 4),
                "threshold": self.config.diversity_threshold,
                "sampled": sampled,
                "window_s": self.config.window_s,
            },
        )


def _quantised(token: str) -> str:
    try:
        return format(float(token), ".3g")
    except ValueError:  # pragma: no cover - the pattern only matches numbers
        return token


def resolve_budget(config: ExtractionConfig) -> int:
    """The query budget per key and window: `max_queries`, lowered by the report if given."""
    if config.report is None:
        return config.max_queries
    reached = budget_from_report(config.report, config.fidelity)
    if reached is None:
        return config.max_queries
    return max(1, min(config.max_queries, math.floor(reached * config.report_fraction)))


def budget_from_report(path: Path, fidelity: float) -> int | None:
    """Fewest queries after which the surrogate's fidelity reached `fidelity`, from the JSON
    report of `garrison test extraction` (or its bare `metrics.extraction` object); None
    when no budget tested reached it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read extraction report {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PolicyError(f"extraction report {path} is not JSON") from None
    points = _points(data)
    if points is None:
        raise PolicyError(
            f"{path} has no extraction curve: write it with "
            "`garrison test extraction --format json -o FILE`"
        )
    reached = [queries for queries, fid in points if fid >= fidelity]
    return min(reached) if reached else None


def _points(data: Any) -> list[tuple[int, float]] | None:
    """(queries, fidelity) of each point of the curve, or None when it is not one."""
    if isinstance(data, dict) and isinstance(data.get("metrics"), dict):
        data = data["metrics"].get("extraction")
    if not isinstance(data, dict) or not isinstance(data.get("points"), list):
        return None
    points: list[tuple[int, float]] = []
    for point in data["points"]:
        if not isinstance(point, dict):
            return None
        queries, fid = point.get("queries"), point.get("fidelity")
        if not isinstance(queries, int) or not isinstance(fid, int | float) or queries < 1:
            return None
        points.append((queries, float(fid)))
    return points
