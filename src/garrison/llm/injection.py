"""Prompt-injection scanner, and its first model: hashed n-grams into a linear model.

`InjectionScanner` runs the encoder model (`garrison.llm.encoder`) by default, or this linear
one when given its path (`LINEAR_MODEL_PATH`). The linear weights ship as JSON (float16,
base64) beside this module and run as a few numpy operations; `scripts/train_injection.py`
trains them with the same `features`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from garrison.errors import UsageError
from garrison.findings import Location
from garrison.llm.scanner import DEFAULT_ASSET, GuardContext, ScanResult, Verdict, result

MODEL_PATH = Path(__file__).parent / "models" / "injection.json"
LINEAR_MODEL_PATH = MODEL_PATH
ENCODER_MODEL_PATH = Path(__file__).parent / "models" / "injection_encoder.safetensors"
FORMAT = "garrison-injection-linear/1"
MAX_TOKENS = 512  # tokens read at each end of a long text
CHARS_PER_TOKEN = 16  # characters read per token at most
CHAR_NGRAMS = (3, 4, 5)
CHUNK_TOKENS = 64  # an instruction hidden in a long document is scored in its own chunk
_SEGMENT = re.compile(r"(?<=[.!?:;\n|>])")
_TOKEN = re.compile(r"\w{1,8}|[^\w\s]")
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1_000_003)

U64 = npt.NDArray[np.uint64]


def bound(text: str, max_tokens: int = MAX_TOKENS) -> str:
    """The first and last `max_tokens` tokens of `text` (all of it when shorter)."""
    limit = 2 * max_tokens * CHARS_PER_TOKEN
    if len(text) > limit:
        text = text[: limit // 2] + "\n" + text[-limit // 2 :]
    starts = [m.start() for m in _TOKEN.finditer(text)]
    if len(starts) <= 2 * max_tokens:
        return text
    return text[: starts[max_tokens]] + "\n" + text[starts[-max_tokens] :]


def normalise(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def _mix(h: U64, salt: int, bits: int) -> U64:
    h = (h ^ np.uint64(salt)) * _MIX
    return h >> np.uint64(64 - bits)


def _char_ngrams(text: str, bits: int) -> list[U64]:
    codes = np.frombuffer(f" {text} ".encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    out = []
    for n in CHAR_NGRAMS:
        if len(codes) < n:
            break
        h = np.zeros(len(codes) - n + 1, dtype=np.uint64)
        for k in range(n):
            h = h * _PRIME + codes[k : len(codes) - n + 1 + k]
        out.append(_mix(h, n, bits))
    return out


def _word_ngrams(text: str, bits: int) -> list[U64]:
    words = np.array([zlib.crc32(w.encode()) for w in _WORD.findall(text)], dtype=np.uint64)
    if len(words) == 0:
        return []
    out = [_mix(words, 101, bits)]
    if len(words) > 1:
        out.append(_mix(words[:-1] * _PRIME + words[1:], 102, bits))
    return out


def features(text: str, bits: int) -> npt.NDArray[np.int64]:
    """Sorted unique feature indices of `text` (already bounded) in [0, 2**bits)."""
    norm = normalise(text)
    parts = _char_ngrams(norm, bits) + _word_ngrams(norm, bits)
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(parts)).astype(np.int64)


def chunks(text: str, size: int = CHUNK_TOKENS) -> list[str]:
    """`text` cut at sentence, line and cell ends into pieces of about `size` tokens."""
    out: list[str] = []
    current: list[str] = []
    count = 0
    for segment in _SEGMENT.split(text):
        n = len(_TOKEN.findall(segment))
        if current and count + n > size:
            out.append("".join(current))
            current, count = [], 0
        current.append(segment)
        count += n
    if current:
        out.append("".join(current))
    return [c for c in out if c.strip()]


@dataclass(frozen=True, slots=True)
class InjectionModel:
    weights: npt.NDArray[np.float32]
    bias: float
    bits: int
    threshold: float
    max_tokens: int
    meta: dict[str, Any]

    def _logit(self, text: str) -> float:
        idx = features(text, self.bits)
        if len(idx) == 0:
            return self.bias
        return self.bias + float(self.weights[idx].sum()) / float(np.sqrt(len(idx)))

    def logit(self, text: str) -> float:
        """The highest logit of the whole (bounded) text and of each of its chunks."""
        text = bound(text, self.max_tokens)
        parts = chunks(text)
        best = self._logit(text)
        if len(parts) > 1:
            best = max(best, *(self._logit(p) for p in parts))
        return best

    def score(self, text: str) -> float:
        return float(1.0 / (1.0 + np.exp(-np.clip(self.logit(text), -50, 50))))

    def scores(self, texts: Sequence[str]) -> list[float]:
        return [self.score(t) for t in texts]

    def to_json(self) -> dict[str, Any]:
        half = self.weights.astype("<f2").tobytes()
        return {
            "format": FORMAT,
            "bits": self.bits,
            "bias": self.bias,
            "threshold": self.threshold,
            "max_tokens": self.max_tokens,
            "char_ngrams": list(CHAR_NGRAMS),
            "weights_f16_b64": base64.b64encode(half).decode("ascii"),
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InjectionModel:
        if data.get("format") != FORMAT:
            raise UsageError(f"not a Garrison injection model (format {data.get('format')!r})")
        bits = int(data["bits"])
        raw = base64.b64decode(data["weights_f16_b64"])
        weights = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        if len(weights) != 1 << bits:
            raise UsageError(f"injection model has {len(weights)} weights, expected {1 << bits}")
        return cls(
            weights,
            float(data["bias"]),
            bits,
            float(data["threshold"]),
            int(data["max_tokens"]),
            dict(data.get("meta", {})),
        )


def load_model(path: Path = MODEL_PATH) -> InjectionModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read injection model {path}: {exc}") from exc
    return InjectionModel.from_json(data)


class ScoringModel(Protocol):
    @property
    def threshold(self) -> float: ...

    def scores(self, texts: Sequence[str]) -> list[float]: ...


def load_any(path: Path) -> ScoringModel:
    """The encoder model for a .safetensors file, else the linear JSON model."""
    if path.suffix == ".safetensors":
        from garrison.llm.encoder import load_encoder

        return load_encoder(path)
    return load_model(path)


class InjectionScanner:
    """Scores text for prompt injection; blocks at or above the model's threshold."""

    name = "prompt_injection"

    def __init__(
        self, threshold: float | None = None, model_path: Path = ENCODER_MODEL_PATH
    ) -> None:
        if threshold is not None and not 0.0 <= threshold <= 1.0:  # also refuses NaN
            raise UsageError(f"threshold must be between 0 and 1, not {threshold!r}")
        self._threshold = threshold
        self.model_path = model_path
        self._model: ScoringModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> ScoringModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = load_any(self.model_path)
        return self._model

    @property
    def threshold(self) -> float:
        return self.model.threshold if self._threshold is None else self._threshold

    def scan_batch(self, texts: Sequence[str]) -> list[float]:
        return self.model.scores(texts)

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        ctx = context or GuardContext()
        score = self.model.scores([text])[0]
        if score < self.threshold:
            return result(self.name, text, verdict=Verdict.ALLOW, score=score)
        from garrison.llm.rules import PROMPT_INJECTION

        asset = ctx.asset if ctx.asset is not None else DEFAULT_ASSET
        finding = PROMPT_INJECTION.finding(
            asset, Location(), f"injection score {score:.3f} (threshold {self.threshold:.3f})"
        )
        return result(self.name, text, [finding], Verdict.BLOCK, score=score)
