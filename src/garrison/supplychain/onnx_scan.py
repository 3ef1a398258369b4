"""ONNX models: external-data paths that leave the model directory, and custom operators.

The ModelProto is read with the bounded wire reader: every tensor in initializers, node
attributes, subgraphs (If/Loop/Scan), training graphs and local functions is visited, and
tensor data is skipped by offset, so a multi-GB model scans in milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.context import ScanContext
from garrison.supplychain.protobuf_wire import (
    LEN,
    VARINT,
    Field,
    Source,
    iter_fields,
    parse_map_entry,
    submessage,
    text,
)
from garrison.supplychain.rules import LIMIT_REACHED, SUPPLY_CHAIN_REFS

EXTERNAL_PATH_ESCAPES = Rule(
    "GA-ONNX-001",
    "ONNX external data path leaves the model directory",
    Severity.HIGH,
    "A tensor's external data `location` is absolute or climbs out with `..`. Loaders that "
    "follow it read any file the user can read (CVE-2024-27318/27319) into the model's "
    "weights, where outputs or a re-save can leak it.",
    "Do not load the model; external data files must sit beside the .onnx file.",
    SUPPLY_CHAIN_REFS,
)
EXTERNAL_SYMLINK_ESCAPES = Rule(
    "GA-ONNX-002",
    "ONNX external data is a symlink out of the model directory",
    Severity.HIGH,
    "The external data file named by the model is a symbolic link that resolves outside "
    "the model's directory, so loading reads an unrelated file.",
    "Replace the link with the real data file, or remove the model.",
    SUPPLY_CHAIN_REFS,
)
EXTERNAL_MISSING = Rule(
    "GA-ONNX-003",
    "ONNX external data file is missing",
    Severity.LOW,
    "The model refers to an external data file that is not beside it; the model is "
    "incomplete, and whoever supplies that file later controls its weights.",
    "Obtain the data file from the model's publisher together with the model.",
    SUPPLY_CHAIN_REFS,
)
CUSTOM_DOMAIN = Rule(
    "GA-ONNX-004",
    "ONNX model needs an unknown custom-op library",
    Severity.HIGH,
    "Nodes use an operator domain that neither ONNX, ONNX Runtime nor a well-known extension "
    "package provides; running the model means registering a native custom-op library, which "
    "in practice comes from the model's own publisher: native code with the model's trust.",
    "Review where the custom-op library comes from before registering it with a runtime.",
    SUPPLY_CHAIN_REFS,
)
EXTENSION_DOMAIN = Rule(
    "GA-ONNX-005",
    "ONNX model uses operators of a known extension package",
    Severity.LOW,
    "Nodes use a domain of a published extension (onnxruntime-extensions, PyTorch ATen "
    "fallback); running them needs that package's native library installed from PyPI.",
    "Install the extension from its official package, never from files shipped with a model.",
    SUPPLY_CHAIN_REFS,
)

RULES = (
    EXTERNAL_PATH_ESCAPES, EXTERNAL_SYMLINK_ESCAPES, EXTERNAL_MISSING, CUSTOM_DOMAIN,
    EXTENSION_DOMAIN,
)  # fmt: skip
# Domains of published extension packages (their native code comes from PyPI, not the model).
EXTENSION_DOMAINS = frozenset({"ai.onnx.contrib", "org.pytorch.aten", "com.microsoft.extensions"})


# Standard ONNX domains and the operator sets ONNX Runtime ships itself (no plugin code).
STANDARD_DOMAINS = frozenset(
    {
        "", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training",
        "com.microsoft", "com.microsoft.nchwc", "com.microsoft.experimental",
        "com.ms.internal.nhwc", "com.microsoft.dml",
    }
)  # fmt: skip
_DRIVE = re.compile(r"^[A-Za-z]:")
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL
_MAX_LOCATION = 65536
_MAX_REPORTED = 20  # findings per rule: a hostile model can name thousands of paths


@dataclass(slots=True)
class _Model:
    """What the walk collects from one ModelProto."""

    locations: dict[str, list[str]] = field(default_factory=dict)  # location -> tensors
    ops: dict[str, dict[str, int]] = field(default_factory=dict)  # domain -> op -> count
    functions: set[tuple[str, str]] = field(default_factory=set)  # local (domain, name)


def scan_onnx(stream: BinaryIO, ctx: ScanContext) -> None:
    src = Source(stream, max_fields=ctx.limits.max_opcodes)
    model = _Model()
    for f in iter_fields(src):
        if f.number == 7 and f.wire_type == LEN:
            _graph(src, f, model, 1)
        elif f.number == 25 and f.wire_type == LEN:
            _function(src, f, model, 1)
        elif f.number == 20 and f.wire_type == LEN:
            for sub in submessage(src, f, 1):
                if sub.number in (1, 2) and sub.wire_type == LEN:
                    _graph(src, sub, model, 2)
    _report_custom_ops(model, ctx)
    before = len(ctx.findings)
    for location, tensors in model.locations.items():
        if len(ctx.findings) - before >= _MAX_REPORTED:
            ctx.add(LIMIT_REACHED, f"over {_MAX_REPORTED} external data problems; rest unchecked")
            break
        _check_location(location, tensors, ctx)


def _graph(src: Source, graph: Field, model: _Model, depth: int) -> None:
    for f in submessage(src, graph, depth):
        if f.wire_type != LEN:
            continue
        if f.number == 1:
            _node(src, f, model, depth + 1)
        elif f.number == 5:
            _tensor(src, f, model, depth + 1)
        elif f.number == 15:
            _sparse_tensor(src, f, model, depth + 1)


def _function(src: Source, function: Field, model: _Model, depth: int) -> None:
    name = domain = ""
    for f in submessage(src, function, depth):
        if f.wire_type != LEN:
            continue
        if f.number == 1:
            name = text(src, f)
        elif f.number == 10:
            domain = text(src, f)
        elif f.number == 7:
            _node(src, f, model, depth + 1)
        elif f.number == 11:
            _attribute(src, f, model, depth + 1)
    model.functions.add((domain, name))


def _node(src: Source, node: Field, model: _Model, depth: int) -> None:
    op_type = domain = ""
    for f in submessage(src, node, depth):
        if f.wire_type != LEN:
            continue
        if f.number == 4:
            op_type = text(src, f, 256)
        elif f.number == 7:
            domain = text(src, f, 256)
        elif f.number == 5:
            _attribute(src, f, model, depth + 1)
    counts = model.ops.setdefault(domain, {})
    counts[op_type] = counts.get(op_type, 0) + 1


def _attribute(src: Source, attribute: Field, model: _Model, depth: int) -> None:
    """Tensors and graphs held by an attribute (t, g, tensors, graphs, sparse ones)."""
    for f in submessage(src, attribute, depth):
        if f.wire_type != LEN:
            continue
        if f.number in (5, 10):
            _tensor(src, f, model, depth + 1)
        elif f.number in (6, 11):
            _graph(src, f, model, depth + 1)
        elif f.number in (22, 23):
            _sparse_tensor(src, f, model, depth + 1)


def _sparse_tensor(src: Source, sparse: Field, model: _Model, depth: int) -> None:
    for f in submessage(src, sparse, depth):
        if f.number in (1, 2) and f.wire_type == LEN:
            _tensor(src, f, model, depth + 1)


def _tensor(src: Source, tensor: Field, model: _Model, depth: int) -> None:
    """Record the external-data location of a tensor; raw_data is skipped, never read."""
    name = location = ""
    external = False
    for f in submessage(src, tensor, depth):
        if f.number == 8 and f.wire_type == LEN:
            name = text(src, f, 256)
        elif f.number == 14 and f.wire_type == VARINT:
            external = f.value == _EXTERNAL
        elif f.number == 13 and f.wire_type == LEN:
            key, value = parse_map_entry(src, f, depth + 1)
            if key == "location" and value is not None and value.wire_type == LEN:
                location = text(src, value, _MAX_LOCATION)
                if value.value > _MAX_LOCATION:
                    location += "\x00"  # reported as malformed: no real path is this long
    if external or location:
        model.locations.setdefault(location, []).append(name)


def _report_custom_ops(model: _Model, ctx: ScanContext) -> None:
    for domain in sorted(model.ops):
        if domain in STANDARD_DOMAINS:
            continue
        ops = {op: n for op, n in model.ops[domain].items() if (domain, op) not in model.functions}
        if not ops:
            continue  # every op is a function defined inside the model itself
        listed = ", ".join(sorted(ops)[:20]) + (" …" if len(ops) > 20 else "")
        ctx.add(
            EXTENSION_DOMAIN if domain in EXTENSION_DOMAINS else CUSTOM_DOMAIN,
            f"domain {domain!r}: {sum(ops.values())} node(s) of op type(s) {listed}",
        )


def _check_location(location: str, tensors: list[str], ctx: ScanContext) -> None:
    who = _tensor_list(tensors)
    if not location:
        ctx.add(EXTERNAL_MISSING, f"{who}: external data without a location")
        return
    problem = location_problem(location)
    if problem is not None:
        ctx.add(EXTERNAL_PATH_ESCAPES, f"{who}: location {location!r} {problem}")
        return
    if ctx.members:
        return  # inside an archive: there is no directory on disk to check against
    _check_on_disk(location, who, ctx)


def location_problem(location: str) -> str | None:
    """Why a location string can point outside the model directory, or None."""
    if not location:
        return "is empty"
    if "\x00" in location:
        return "contains a NUL byte or is overlong"
    if location.startswith(("/", "\\", "~")) or _DRIVE.match(location):
        return "is an absolute path"
    if ".." in re.split(r"[\\/]", location):
        return "climbs out of the model directory with '..'"
    return None


def _check_on_disk(location: str, who: str, ctx: ScanContext) -> None:
    base = ctx.path.parent
    target = base / PurePosixPath(location.replace("\\", "/"))
    link = _first_symlink(base, target)
    if link is not None:
        _check_symlink(link, target, location, who, ctx)
    elif not target.exists():
        ctx.add(EXTERNAL_MISSING, f"{who}: external data file {location!r} is not beside the model")


def _first_symlink(base: Path, target: Path) -> Path | None:
    current = base
    for part in target.relative_to(base).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def _check_symlink(link: Path, target: Path, location: str, who: str, ctx: ScanContext) -> None:
    resolved = target.resolve()
    base = ctx.path.parent.resolve()
    if resolved.is_relative_to(base):
        return
    # A Hugging Face cache links every file of a snapshot to its blob store; the model
    # file itself then resolves into the same directory as its data.
    model_home = ctx.path.resolve().parent
    severity = Severity.LOW if resolved.is_relative_to(model_home) else None
    ctx.add(
        EXTERNAL_SYMLINK_ESCAPES,
        f"{who}: location {location!r} goes through symlink {link.name!r} to {str(resolved)!r}",
        severity=severity,
    )


def _tensor_list(tensors: list[str]) -> str:
    names = [n or "(unnamed)" for n in tensors[:3]]
    more = f" and {len(tensors) - 3} more" if len(tensors) > 3 else ""
    return f"tensor {', '.join(repr(n) for n in names)}{more}"
