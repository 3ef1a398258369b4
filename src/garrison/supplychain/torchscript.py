"""PyTorch zip specifics: TorchScript sources, tensor storages and TorchServe handler code.

TorchScript code (`<archive>/code/**/*.py`) is compiled and run by `torch.jit.load` -- and,
before PyTorch 2.6, by `torch.load(weights_only=True)` too (CVE-2025-32434). Its operators
are meant to stay inside the tensor sandbox, but some touch the host: `aten::save` writes
files, `aten::from_file` reads them, and storage tricks such as `set_` give out-of-bounds
memory access. The sources are parsed with `ast` and never executed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from garrison.errors import LimitExceeded
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.context import ScanContext

_REFS = ("OWASP-LLM03:2025", "OWASP-ML06:2023", "ATLAS-AML.T0011", "NIST-AI-RMF-MAP-4.1")

SANDBOX_ESCAPE = Rule(
    "GA-TORCH-001",
    "TorchScript code reaches outside the model sandbox",
    Severity.HIGH,
    "TorchScript in this archive calls operations that read or write host files, load "
    "native libraries, import Python modules or run processes. `torch.jit.load` runs this "
    "code, and PyTorch before 2.6 also ran it from `torch.load(weights_only=True)` "
    "(CVE-2025-32434). Models produced by torch.jit.script/trace never contain these calls.",
    "Do not load the model. Re-export it from trusted source code, or use safetensors.",
    (*_REFS, "CVE-2025-32434"),
)
MEMORY_PRIMITIVE = Rule(
    "GA-TORCH-002",
    "TorchScript code uses raw storage or pointer operations",
    Severity.MEDIUM,
    "Operations such as `set_` (re-pointing a tensor at arbitrary storage and offsets) "
    "and `data_ptr` are the building blocks of published TorchScript memory-corruption "
    "exploits and are rare in inference code.",
    "Review the code that produced the model; re-export it from trusted source.",
    _REFS,
)
UNPARSEABLE_CODE = Rule(
    "GA-TORCH-003",
    "TorchScript source could not be analysed",
    Severity.MEDIUM,
    "A code member of a TorchScript archive is not valid source. PyTorch writes valid "
    "TorchScript; a member that cannot be analysed may hide what the loader compiles.",
    "Re-export the model with torch.jit.save, or obtain it from a trusted source.",
    _REFS,
)
CUSTOM_OPERATOR = Rule(
    "GA-TORCH-004",
    "TorchScript code calls a custom native operator",
    Severity.LOW,
    "The model calls operators or classes from a namespace outside PyTorch's own. They are "
    "native code from a library the loading process must have registered.",
    "Make sure the library that provides the operator namespace is one you trust.",
    _REFS,
)
HANDLER_CODE = Rule(
    "GA-TORCH-005",
    "TorchServe archive carries Python handler code",
    Severity.LOW,
    "A .mar archive's Python files are imported and run by TorchServe when the model is "
    "registered, with the server's privileges. This is by design, so it is reported for "
    "review rather than as a threat; dangerous calls in that code are GA-TORCH-006.",
    "Review the handler code before serving the archive.",
    _REFS,
)
HANDLER_DANGER = Rule(
    "GA-TORCH-006",
    "TorchServe handler code runs commands or dynamic code",
    Severity.HIGH,
    "Handler code in a .mar archive starts processes, evaluates dynamic code or opens raw "
    "sockets; TorchServe runs it when the model is registered.",
    "Do not serve the archive until the handler has been reviewed and rebuilt from source.",
    _REFS,
)
RULES: tuple[Rule, ...] = (
    SANDBOX_ESCAPE,
    MEMORY_PRIMITIVE,
    UNPARSEABLE_CODE,
    CUSTOM_OPERATOR,
    HANDLER_CODE,
    HANDLER_DANGER,
)

SourceCheck = Callable[[BinaryIO, ScanContext, int], None]

MAX_SOURCE_BYTES = 16 * 1024 * 1024  # far above any real TorchScript module
MAX_FINDINGS_PER_MEMBER = 20

# Modules that TorchScript source may import (python_print emits at most these).
_TS_IMPORTS = frozenset({"__torch__", "torch", "typing", "math"})
_EXEC_NAMES = frozenset({"__import__", "eval", "exec", "compile", "__builtins__"})
_HOST_NAMES = frozenset({"open", "globals", "locals", "vars", "breakpoint"})
_PROCESS_MODULES = frozenset(
    {"os", "posix", "nt", "subprocess", "pty", "builtins", "importlib", "runpy", "ctypes"}
    | {"multiprocessing", "commands", "popen2"}
)
_HOST_MODULES = frozenset(
    {"sys", "socket", "shutil", "pickle", "marshal", "io", "pathlib", "urllib", "http"}
    | {"requests", "tempfile", "glob", "webbrowser", "code", "codeop"}
)
# Operators (after an optional "torch." prefix) that touch the host filesystem or load code.
_HOST_OPS = frozenset(
    {"from_file", "ops.aten.from_file", "save", "ops.aten.save", "load", "jit.load"}
    | {"ops.load_library", "classes.load_library", "_C._load_library", "hub.load"}
    | {"ops.aten._save", "ops.prim.Save", "serialization.load", "serialization.save"}
)
_MEMORY_OPS = frozenset({"set_", "data_ptr", "untyped_storage", "_set_storage", "source_Storage"})
_KNOWN_NAMESPACES = frozenset(
    {"aten", "prim", "quantized", "_quantized", "quantized_decomposed", "torchvision"}
    | {"torchaudio", "torchtext", "sparse", "xnnpack", "mkldnn", "onednn", "_caffe2"}
    | {"profiler", "cuda", "fbgemm", "rnn", "_nnapi", "metal", "vulkan", "static_runtime"}
    | {"_c10d_functional", "c10d", "_dtensor", "inductor", "higher_order", "_TorchScriptTesting"}
)
# Handler (plain Python) calls that run commands, evaluate code or open raw sockets.
_HANDLER_DANGER = re.compile(
    r"^(os\.(system|popen|exec\w*|spawn\w*|fork\w*|posix_spawn\w*)|subprocess\.\w+|pty\.\w+"
    r"|ctypes\.\w+|socket\.\w+|(builtins\.)?(eval|exec|compile|__import__)"
    r"|marshal\.loads|importlib\.import_module|runpy\.\w+)$"
)


@dataclass(frozen=True, slots=True)
class CodeIssue:
    rule: Rule
    severity: Severity
    evidence: str
    line: int | None


def is_code_member(name: str) -> bool:
    """A TorchScript source member: `<archive>/code/....py`."""
    parts = name.split("/")
    return name.endswith(".py") and "code" in parts[:-1]


def is_tensor_storage(name: str) -> bool:
    """Raw tensor bytes of a torch.save / torch.jit.save archive (`<archive>/data/<key>`)."""
    parts = name.split("/")
    return len(parts) >= 3 and parts[-2] in ("data", "traced_inputs") and parts[-1] != ""


def scan_code(stream: BinaryIO, ctx: ScanContext, size: int) -> None:
    """Check one TorchScript source member (ctx is the member's context)."""
    tree = _parse(stream, ctx, size)
    if tree is not None:
        _report(ctx, _torchscript_issues(tree))


def scan_handler_code(stream: BinaryIO, ctx: ScanContext, size: int) -> None:
    """Check one Python file of a TorchServe archive for commands and dynamic code."""
    tree = _parse(stream, ctx, size)
    if tree is not None:
        _report(ctx, _handler_issues(tree))


def _parse(stream: BinaryIO, ctx: ScanContext, size: int) -> ast.AST | None:
    if size > MAX_SOURCE_BYTES:
        raise LimitExceeded("source member bytes", size, MAX_SOURCE_BYTES)
    data = stream.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise LimitExceeded("source member bytes", len(data), MAX_SOURCE_BYTES)
    try:
        return ast.parse(data.decode("utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError) as exc:
        ctx.add(UNPARSEABLE_CODE, f"source does not parse: {type(exc).__name__}: {exc}")
        return None


def _report(ctx: ScanContext, issues: Iterator[CodeIssue]) -> None:
    seen: set[tuple[str, str]] = set()
    for issue in issues:
        key = (issue.rule.id, issue.evidence)
        if key in seen:
            continue
        seen.add(key)
        ctx.add(issue.rule, issue.evidence, severity=issue.severity, line=issue.line)
        if len(seen) >= MAX_FINDINGS_PER_MEMBER:
            return


def dotted_name(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of attribute accesses on a name; None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _outer_chains(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """Each maximal attribute chain (`torch.ops.aten.save`, not its `torch.ops` prefix).

    Chains rooted at a local name (an argument or variable called `code` or `io`) are not
    module accesses and are skipped.
    """
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    bound = _bound_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)) and id(node) not in inner:
            chain = dotted_name(node)
            if chain is not None and chain.split(".")[0] not in bound:
                yield chain, node


def _bound_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _torchscript_issues(tree: ast.AST) -> Iterator[CodeIssue]:
    yield from _import_issues(tree, allowed=_TS_IMPORTS)
    yield from _call_name_issues(tree)
    for chain, node in _outer_chains(tree):
        issue = _chain_issue(chain, getattr(node, "lineno", None))
        if issue is not None:
            yield issue


def _import_issues(tree: ast.AST, allowed: frozenset[str]) -> Iterator[CodeIssue]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or "." * node.level]
        else:
            continue
        for module in modules:
            root = module.split(".")[0]
            if root not in allowed:
                severity = Severity.CRITICAL if root in _PROCESS_MODULES else Severity.HIGH
                yield CodeIssue(SANDBOX_ESCAPE, severity, f"imports {module}", node.lineno)


def _call_name_issues(tree: ast.AST) -> Iterator[CodeIssue]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ("__import__", "__builtins__"):
            yield CodeIssue(SANDBOX_ESCAPE, Severity.CRITICAL, f"uses {node.id}", node.lineno)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in _EXEC_NAMES | _HOST_NAMES:
            severity = Severity.CRITICAL if func.id in _EXEC_NAMES else Severity.HIGH
            yield CodeIssue(SANDBOX_ESCAPE, severity, f"calls {func.id}()", node.lineno)
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            attr = node.args[1]
            if isinstance(attr, ast.Constant) and str(attr.value).startswith("__"):
                evidence = f"getattr(..., {attr.value!r}) reaches a Python internal"
                yield CodeIssue(SANDBOX_ESCAPE, Severity.HIGH, evidence, node.lineno)


def _chain_issue(chain: str, line: int | None) -> CodeIssue | None:
    parts = chain.split(".")
    if parts[0] in _PROCESS_MODULES and len(parts) > 1:
        return CodeIssue(SANDBOX_ESCAPE, Severity.CRITICAL, f"uses {chain}", line)
    if parts[0] in _HOST_MODULES and len(parts) > 1:
        return CodeIssue(SANDBOX_ESCAPE, Severity.HIGH, f"uses {chain}", line)
    op = chain[len("torch.") :] if parts[0] == "torch" else chain
    if parts[0] in ("torch", "ops") and _matches_host_op(op):
        return CodeIssue(SANDBOX_ESCAPE, Severity.HIGH, f"calls {chain} (host file access)", line)
    if any(part in _MEMORY_OPS for part in parts[1:]):
        return CodeIssue(MEMORY_PRIMITIVE, MEMORY_PRIMITIVE.severity, f"uses {chain}", line)
    return _namespace_issue(op, chain, line)


def _matches_host_op(op: str) -> bool:
    # `ops.aten.save.default` is an overload of `ops.aten.save`.
    return any(op == host or op.startswith(host + ".") for host in _HOST_OPS)


def _namespace_issue(op: str, chain: str, line: int | None) -> CodeIssue | None:
    parts = op.split(".")
    if len(parts) >= 3 and parts[0] in ("ops", "classes") and parts[1] not in _KNOWN_NAMESPACES:
        evidence = f"calls {chain} from operator namespace '{parts[1]}'"
        return CodeIssue(CUSTOM_OPERATOR, CUSTOM_OPERATOR.severity, evidence, line)
    return None


def _handler_issues(tree: ast.AST) -> Iterator[CodeIssue]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted_name(node.func)
        if name is not None and _HANDLER_DANGER.match(name):
            severity = Severity.CRITICAL if name.split(".")[-1] in ("system", "popen") else None
            yield CodeIssue(
                HANDLER_DANGER, severity or HANDLER_DANGER.severity, f"calls {name}()", node.lineno
            )
