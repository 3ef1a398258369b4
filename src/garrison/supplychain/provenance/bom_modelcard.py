"""Model-card data for the ML-BOM, read from a model directory's config.json and README.md.

Both files are untrusted: they are size-bounded, never executed, and anything malformed is
recorded as a problem instead of raised. The README's YAML front matter is read by a small
reader for the subset Hugging Face cards use (`key: value`, `key: [a, b]`, `- item` lists),
so no YAML library is needed and no YAML tags or anchors are ever interpreted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CARD_BYTES = 1 << 20
MAX_FRONT_MATTER_LINES = 5_000
MAX_ITEMS = 1_000  # values kept per key
MAX_VALUE_CHARS = 512

# transformers' class-name suffixes and the pipeline task each implies.
_TASK_BY_HEAD = (
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForCausalLM", "text-generation"),
    ("ForMaskedLM", "fill-mask"),
    ("ForImageClassification", "image-classification"),
    ("ForAudioClassification", "audio-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
    ("ForCTC", "automatic-speech-recognition"),
)
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)\s*:(?:\s+(.*))?$")


@dataclass(frozen=True, slots=True)
class ModelCard:
    architectures: tuple[str, ...] = ()
    model_type: str = ""  # the architecture family, e.g. "bert"
    task: str = ""
    datasets: tuple[str, ...] = ()
    license: str = ""
    base_models: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    library: str = ""
    dtype: str = ""
    problems: tuple[str, ...] = ()  # why a file could not be read, one line each


def read_model_card(directory: Path) -> ModelCard:
    """What config.json and README.md in `directory` say about the model; empty if neither."""
    problems: list[str] = []
    config = _read_config(directory / "config.json", problems)
    front = _read_front_matter(directory / "README.md", problems)
    architectures = _strings(config.get("architectures"))
    task = _first(front.get("pipeline_tag")) or _task_from_config(config, architectures)
    return ModelCard(
        architectures=architectures,
        model_type=_string(config.get("model_type")),
        task=task,
        datasets=front.get("datasets", ()),
        license=_first(front.get("license")),
        base_models=front.get("base_model", ()),
        languages=front.get("language", ()),
        tags=front.get("tags", ()),
        library=_first(front.get("library_name")),
        dtype=_string(config.get("torch_dtype")) or _string(config.get("dtype")),
        problems=tuple(problems),
    )


def _read_text(path: Path, problems: list[str]) -> str | None:
    if not path.is_file() or path.is_symlink():
        return None
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_CARD_BYTES + 1)
    except OSError as exc:
        problems.append(f"{path.name}: cannot read: {exc.strerror or exc}")
        return None
    if len(raw) > MAX_CARD_BYTES:
        problems.append(f"{path.name}: larger than {MAX_CARD_BYTES} bytes, not read")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path.name}: not UTF-8 text (byte {exc.start})")
        return None


def _read_config(path: Path, problems: list[str]) -> dict[str, Any]:
    text = _read_text(path, problems)
    if text is None:
        return {}
    try:
        document = json.loads(text)
    except RecursionError:
        problems.append(f"{path.name}: JSON nested too deeply")
        return {}
    except ValueError as exc:
        problems.append(f"{path.name}: not valid JSON: {str(exc)[:120]}")
        return {}
    if not isinstance(document, dict):
        problems.append(f"{path.name}: not a JSON object")
        return {}
    # Only top-level scalars and lists of strings are read below, so depth needs no walk.
    return document


def _task_from_config(config: dict[str, Any], architectures: tuple[str, ...]) -> str:
    for architecture in architectures:
        for suffix, task in _TASK_BY_HEAD:
            if architecture.endswith(suffix):
                return task
    params = config.get("task_specific_params")
    if isinstance(params, dict) and len(params) == 1:
        return _clip(str(next(iter(params))))
    return ""


def _read_front_matter(path: Path, problems: list[str]) -> dict[str, tuple[str, ...]]:
    text = _read_text(path, problems)
    if text is None:
        return {}
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    body: list[str] = []
    for line in lines[1 : MAX_FRONT_MATTER_LINES + 1]:
        if line.strip() in ("---", "..."):
            return parse_front_matter(body)
        body.append(line)
    problems.append(f"{path.name}: front matter not closed within {MAX_FRONT_MATTER_LINES} lines")
    return {}


def parse_front_matter(lines: list[str]) -> dict[str, tuple[str, ...]]:
    """Top-level keys whose values are a scalar or a list of scalars; anything nested
    (a mapping, a list of mappings, a block scalar) is left out rather than guessed at."""
    result: dict[str, tuple[str, ...]] = {}
    key = ""
    items: list[str] | None = None  # the block list being read for `key`, if any
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        stripped = line.strip()
        if stripped.startswith("- ") or stripped == "-":
            if items is not None:
                value = _scalar(stripped[1:].strip())
                if value is None:
                    items = None  # a list of mappings or of lists: not ours to read
                    result.pop(key, None)
                elif len(items) < MAX_ITEMS:
                    items.append(value)
                    result[key] = tuple(items)
            continue
        if line[0].isspace():
            items = None  # nested content under a mapping key
            result.pop(key, None)
            continue
        match = _KEY.match(line.rstrip())
        if match is None:
            items = None
            continue
        key, value = match.group(1), (match.group(2) or "").strip()
        items = None
        if not value:
            items = []
        elif value.startswith("["):
            flow = _flow_list(value)
            if flow is not None:
                result[key] = flow
        else:
            scalar = _scalar(value)
            if scalar is not None:
                result[key] = (scalar,)
    return result


def _flow_list(value: str) -> tuple[str, ...] | None:
    value = _strip_comment(value)
    if not value.endswith("]") or "[" in value[1:] or "{" in value:
        return None
    values = []
    for part in value[1:-1].split(","):
        scalar = _scalar(part.strip())
        if scalar:
            values.append(scalar)
    return tuple(values[:MAX_ITEMS])


def _scalar(value: str) -> str | None:
    """A plain or quoted scalar; None for anything structured (mappings, lists, blocks)."""
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        return _clip(value[1:end]) if end > 0 else None
    value = _strip_comment(value)
    if not value or value[0] in "[{|>&*!%@`" or value.startswith("- ") or ": " in value:
        return None
    return _clip(value)


def _strip_comment(value: str) -> str:
    cut = value.find(" #")
    return (value if cut < 0 else value[:cut]).strip()


def _clip(value: str) -> str:
    return "".join(ch for ch in value[:MAX_VALUE_CHARS] if ch.isprintable())


def _string(value: Any) -> str:
    return _clip(value) if isinstance(value, str) else ""


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(_clip(v) for v in value[:MAX_ITEMS] if isinstance(v, str) and v)


def _first(values: tuple[str, ...] | None) -> str:
    return values[0] if values else ""
