"""Hugging Face model-directory checks: custom code, Python beside weights, chat templates.

The file scanners look at each file's bytes; this module looks at what the directory as a
whole asks a loader to do. `auto_map` and friends make transformers import the repository's
own Python (trust_remote_code=True), and chat templates in tokenizer configs are rendered
by serving stacks. Every folder under the scanned directory is read (bounded in count and
depth), so a model folder deep in a repository is checked as if it were scanned alone.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from garrison.errors import LimitExceeded
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain import formats, jinja_template
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import CODE_EXECUTION_REFS, LIMIT_REACHED

CUSTOM_CODE = Rule(
    "GA-HF-001",
    "Model needs trust_remote_code (runs the repository's Python)",
    Severity.HIGH,
    "The configuration maps model, tokenizer or pipeline classes to Python modules shipped "
    "with the model (auto_map, custom_pipelines, custom sentence-transformers or diffusers "
    "modules). Loading it with trust_remote_code=True imports and runs that code.",
    "Review every referenced Python file before loading, pin the revision you reviewed, or "
    "use a model whose architecture is built into the library.",
    CODE_EXECUTION_REFS,
)
PYTHON_FILES = Rule(
    "GA-HF-002",
    "Python code shipped beside model weights",
    Severity.HIGH,
    "The model directory contains Python files. Loaders import such files when the "
    "configuration refers to them, and users are often told to run them.",
    "Read the code before running or loading anything from this directory.",
    CODE_EXECUTION_REFS,
)
INVALID_CONFIG = Rule(
    "GA-HF-003",
    "Model configuration file is invalid",
    Severity.MEDIUM,
    "A configuration or chat template file could not be read as JSON or UTF-8 text, so its "
    "instructions to the loader could not be checked.",
    "Re-download the file from a trusted source, or fix it with the library that wrote it.",
    CODE_EXECUTION_REFS,
)

RULES: tuple[Rule, ...] = (CUSTOM_CODE, PYTHON_FILES, INVALID_CONFIG, *jinja_template.RULES)

CONFIG_FILES = frozenset(
    {
        "config.json", "tokenizer_config.json", "processor_config.json",
        "preprocessor_config.json", "feature_extractor_config.json",
        "image_processor_config.json", "video_preprocessor_config.json",
        "generation_config.json", "adapter_config.json", "model_index.json", "modules.json",
        "config_sentence_transformers.json", "chat_template.json",
    }
)  # fmt: skip
WEIGHT_SUFFIXES = formats.MODEL_SUFFIXES
CODE_SUFFIXES = frozenset({".py", ".pyc", ".pyo", ".pyw"})
_TEMPLATE_DIR = "additional_chat_templates"
_SKIPPED_DIRS = frozenset({".git", "__pycache__", ".cache", ".ipynb_checkpoints"})
_MAX_FOLDERS = 20_000  # folders listed per scanned directory, at any depth
_MAX_FOLDER_DEPTH = 32
_MAX_ENTRIES = 10_000  # names listed per folder; HF repos hold a few dozen
_MAX_JSON_NODES = 1_000_000
_KNOWN_DIFFUSERS_LIBS = frozenset({"diffusers", "transformers", "onnxruntime.training"})


@dataclass(slots=True)
class _Folder:
    path: Path
    configs: list[Path] = field(default_factory=list)
    templates: list[Path] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    has_weights: bool = False


def scan_directory(path: Path, ctx: ScanContext) -> None:
    """Check every model folder under `path`, at any depth; adds findings to `ctx`.

    A scan of a whole repository (`garrison scan .`) must reach `models/org/bert/config.json`
    as surely as a scan of that folder. Below the first level only folders with a Hugging
    Face configuration or template are judged: code beside bare weights deep in a project is
    the project's own (test fixtures and the like), not a model that loads it.
    """
    if not path.is_dir():
        return
    for folder_path, depth in _folders(path, ctx.policy.follow_symlinks):
        folder = _list_folder(folder_path, ctx.policy.follow_symlinks)
        if folder is not None and (depth <= 1 or folder.configs or folder.templates):
            _check_folder(folder, ctx)


def _folders(root: Path, follow_symlinks: bool) -> Iterator[tuple[Path, int]]:
    """The folders under `root` with their depth, breadth first, bounded in count and depth."""
    seen: set[tuple[int, int]] = set()
    queue = deque([(root, 0)])
    listed = 0
    while queue and listed < _MAX_FOLDERS:
        folder, depth = queue.popleft()
        try:
            st = folder.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop
            continue
        seen.add((st.st_dev, st.st_ino))
        listed += 1
        yield folder, depth
        if depth >= _MAX_FOLDER_DEPTH:
            continue
        for entry in _entries(folder):
            if entry.name in _SKIPPED_DIRS or (entry.is_symlink() and not follow_symlinks):
                continue
            if _is_dir(entry):
                queue.append((Path(entry.path), depth + 1))


def _entries(path: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            entries = []
            for entry in it:
                entries.append(entry)
                if len(entries) >= _MAX_ENTRIES:
                    break
    except OSError:
        return iter(())
    return iter(sorted(entries, key=lambda e: e.name))


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _list_folder(path: Path, follow_symlinks: bool) -> _Folder | None:
    """What a folder holds, or None when it is not model-like (no configs, no weights)."""
    folder = _Folder(path)
    in_template_dir = path.name == _TEMPLATE_DIR
    for entry in _entries(path):
        if _is_dir(entry):
            continue
        name, suffix = entry.name, os.path.splitext(entry.name)[1].lower()
        # only regular files are read: a pipe named config.json would block the scan
        readable = (follow_symlinks or not entry.is_symlink()) and _is_file(entry)
        if suffix in CODE_SUFFIXES:
            folder.code.append(name)
        elif suffix in WEIGHT_SUFFIXES:
            folder.has_weights = True
        elif name in CONFIG_FILES and readable:
            folder.configs.append(Path(entry.path))
        elif readable and (
            name == "chat_template.jinja" or (in_template_dir and suffix == ".jinja")
        ):
            folder.templates.append(Path(entry.path))
    if not (folder.configs or folder.templates or folder.has_weights):
        return None
    return folder


def _check_folder(folder: _Folder, ctx: ScanContext) -> None:
    referenced: set[str] = set()
    for config in folder.configs:
        fctx = replace(ctx, path=config)
        document = _load_json(config, fctx)
        if document is not None:
            referenced |= _check_custom_code(config.name, document, fctx)
            _check_embedded_templates(config.name, document, fctx)
    for template in folder.templates:
        fctx = replace(ctx, path=template)
        text = _read_text(template, fctx, 4 * jinja_template.MAX_TEMPLATE_CHARS)
        if text is not None:
            jinja_template.report_template(fctx, text, template.name)
    if folder.code:
        _report_code(folder, referenced, ctx)


def _report_code(folder: _Folder, referenced: set[str], ctx: ScanContext) -> None:
    names = folder.code
    listed = ", ".join(names[:10]) + (f" (+{len(names) - 10} more)" if len(names) > 10 else "")
    used = sorted(n for n in names if Path(n).stem in referenced)
    note = f"; loaded through auto_map/custom modules: {', '.join(used)}" if used else ""
    hf_like = bool(folder.configs or folder.templates)
    # Code beside bare weights (no HF configuration) is a project, not an auto-loaded module.
    severity = None if hf_like or used else Severity.MEDIUM
    evidence = f"{len(names)} Python file(s) in {folder.path.name or folder.path}: {listed}{note}"
    replace(ctx, path=folder.path).add(PYTHON_FILES, evidence, severity=severity)


def _read_bytes(path: Path, ctx: ScanContext, limit: int) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > limit:
            ctx.add(LIMIT_REACHED, f"{path.name} is {size} bytes; limit {limit}")
            return None
        with path.open("rb") as stream:
            return stream.read(limit + 1)[:limit]
    except OSError as exc:
        ctx.add(INVALID_CONFIG, f"{path.name}: cannot read: {exc.strerror or exc}")
        return None


def _read_text(path: Path, ctx: ScanContext, limit: int) -> str | None:
    raw = _read_bytes(path, ctx, limit)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.add(INVALID_CONFIG, f"{path.name}: not UTF-8 text (byte {exc.start})")
        return None


def _load_json(path: Path, ctx: ScanContext) -> Any:
    text = _read_text(path, ctx, ctx.limits.max_header_bytes)
    if text is None:
        return None
    try:
        document = json.loads(text)
        _check_depth(document, ctx.limits.max_json_depth)
    except RecursionError:
        ctx.add(LIMIT_REACHED, f"{path.name}: JSON nested too deeply to analyse")
        return None
    except LimitExceeded as exc:
        ctx.add(LIMIT_REACHED, f"{path.name}: {exc}")
        return None
    except ValueError as exc:
        ctx.add(INVALID_CONFIG, f"{path.name}: not valid JSON: {exc}")
        return None
    return document


def _check_depth(document: Any, max_depth: int) -> None:
    """Bound depth and size before any recursive walk over the document."""
    stack = [(document, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > max_depth:
            raise LimitExceeded("JSON nesting", depth, max_depth)
        if nodes > _MAX_JSON_NODES:
            raise LimitExceeded("JSON values", nodes, _MAX_JSON_NODES)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _walk_keys(document: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in nested objects; depth is already bounded."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                yield key, child
                stack.append(child)
        elif isinstance(value, list):
            stack.extend(value)


def _check_custom_code(name: str, document: Any, ctx: ScanContext) -> set[str]:
    """Report what makes a loader import the repository's code; returns the module names."""
    reasons: list[str] = []
    refs: list[str] = []
    for key, value in _walk_keys(document):
        if key in ("auto_map", "custom_pipelines"):
            found = list(_class_refs(value))
            refs += found
            reasons.append(f"{key} -> {', '.join(found[:6]) or 'custom classes'}")
        elif key == "trust_remote_code" and value is True:
            reasons.append("trust_remote_code: true")
    reasons += _custom_modules(name, document, refs)
    if reasons:
        remote = sorted({r.split("--")[0] for r in refs if "--" in r})
        note = f"; code from other repositories: {', '.join(remote)}" if remote else ""
        ctx.add(CUSTOM_CODE, f"{name}: " + "; ".join(reasons[:4]) + note)
    return {r.split("--")[-1].rsplit(".", 1)[0] for r in refs if "." in r}


def _class_refs(value: Any) -> Iterator[str]:
    """'module.Class' strings inside an auto_map / custom_pipelines value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item[:200]
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _custom_modules(name: str, document: Any, refs: list[str]) -> list[str]:
    """diffusers model_index.json and sentence-transformers modules.json custom classes."""
    reasons = []
    if name == "model_index.json" and isinstance(document, dict):
        for component, spec in document.items():
            custom = isinstance(spec, list) and len(spec) == 2 and isinstance(spec[0], str)
            if custom and spec[0] not in _KNOWN_DIFFUSERS_LIBS:
                refs.append(f"{spec[0]}.{spec[1]}")
                reasons.append(f"component '{component}' loads {spec[0]}.{spec[1]}")
    if name == "modules.json" and isinstance(document, list):
        for module in document:
            kind = module.get("type") if isinstance(module, dict) else None
            if isinstance(kind, str) and not kind.startswith("sentence_transformers."):
                refs.append(kind)
                reasons.append(f"module type {kind[:200]}")
    return reasons


def _check_embedded_templates(name: str, document: Any, ctx: ScanContext) -> None:
    if not isinstance(document, dict) or "chat_template" not in document:
        return
    value = document["chat_template"]
    if isinstance(value, str):
        jinja_template.report_template(ctx, value, f"{name} chat_template")
        return
    if isinstance(value, list):  # [{"name": ..., "template": ...}, ...]
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                label = str(item.get("name", "?"))[:80]
                where = f"{name} chat_template '{label}'"
                jinja_template.report_template(ctx, item["template"], where)
        return
    if value is not None:
        ctx.add(INVALID_CONFIG, f"{name}: chat_template is neither a string nor a list")
