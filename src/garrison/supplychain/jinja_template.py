"""Static analysis of Jinja2 chat templates for sandbox-escape (SSTI) gadgets; never renders.

Chat templates ship inside GGUF files and Hugging Face tokenizer configs and are rendered by
the serving stack with the user's messages. A template that reaches Python internals
(`cycler.__init__.__globals__.os.popen(...)`) runs code on the server that loads the model.
We parse the template to an AST and look for the constructs such payloads need.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.rules import CODE_EXECUTION_REFS

if TYPE_CHECKING:
    from jinja2 import nodes

    from garrison.supplychain.context import ScanContext


TEMPLATE_GADGET = Rule(
    "GA-JINJA-001",
    "Chat template reaches Python internals (template injection gadget)",
    Severity.CRITICAL,
    "The template accesses dunder attributes, Jinja global objects or dangerous callables the "
    "way server-side template injection payloads do. Rendering it outside a strict sandbox "
    "(llama-cpp-python before 0.2.72, custom servers) runs code on the host.",
    "Do not serve this model; replace the chat template with the publisher's original one.",
    CODE_EXECUTION_REFS,
)
TEMPLATE_SUSPICIOUS = Rule(
    "GA-JINJA-002",
    "Chat template uses unusual constructs",
    Severity.MEDIUM,
    "The template uses constructs that real chat templates do not need (private attributes, "
    "the attr filter, host objects such as config or request) and that template injection "
    "payloads are built from.",
    "Review the template by hand, or replace it with the publisher's original one.",
    CODE_EXECUTION_REFS,
)
TEMPLATE_UNPARSEABLE = Rule(
    "GA-JINJA-003",
    "Chat template could not be analysed",
    Severity.MEDIUM,
    "The template does not parse as Jinja2 or is too large to analyse. Another engine "
    "(minja, minijinja, jinja2cpp) may still accept it: parser differences hide payloads.",
    "Review the template by hand, or replace it with the publisher's original one.",
    CODE_EXECUTION_REFS,
)
TEMPLATE_LOADS_TEMPLATES = Rule(
    "GA-JINJA-004",
    "Chat template loads other templates",
    Severity.HIGH,
    "include, import and extends make the renderer read other templates through the host's "
    "loader, which can expose files on the server. Chat templates are self-contained.",
    "Do not serve this model; replace the chat template with the publisher's original one.",
    CODE_EXECUTION_REFS,
)

RULES: tuple[Rule, ...] = (
    TEMPLATE_GADGET,
    TEMPLATE_SUSPICIOUS,
    TEMPLATE_UNPARSEABLE,
    TEMPLATE_LOADS_TEMPLATES,
)

# Real chat templates are a few kB; the largest with embedded system prompts are ~100 kB.
MAX_TEMPLATE_CHARS = 1_000_000
_MAX_STATIC_CHARS = 256  # longest string folded from constant expressions (names are short)
_MAX_RESOLVE_DEPTH = 64
_MAX_FOLD_STEPS = 500_000


class IssueKind(StrEnum):
    GADGET = "gadget"
    LOADS_TEMPLATES = "loads-templates"
    SUSPICIOUS = "suspicious"
    UNPARSEABLE = "unparseable"


@dataclass(frozen=True, slots=True)
class TemplateIssue:
    """One problem in a template: what it is, where, and how bad."""

    kind: IssueKind
    severity: Severity
    what: str
    line: int | None = None
    snippet: str = ""


# Python internals that sandbox escapes walk through even without double underscores.
_INTERNAL_ATTRS = frozenset(
    {
        "mro", "func_globals", "func_code", "f_globals", "f_locals", "f_back", "f_builtins",
        "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "tb_frame",
        "tb_next", "co_code", "im_func", "im_class",
    }
)  # fmt: skip
# Attribute names that only make sense on the os/subprocess/importlib modules.
_EXEC_ATTRS = frozenset(
    {
        "popen", "subprocess", "check_output", "check_call", "getoutput", "getstatusoutput",
        "import_module", "load_module", "exec_module", "spawnl", "spawnlp", "spawnv",
        "spawnvp", "execl", "execle", "execlp", "execv", "execve", "execvp", "posix_spawn",
    }
)  # fmt: skip
_HOST_ATTRS = frozenset({"os", "sys", "builtins", "system", "environ", "modules", "eval", "exec"})
_DANGEROUS_CALLS = frozenset(
    {
        "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals",
        "locals", "vars", "__import__", "import_module", "breakpoint", "input", "exit", "quit",
    }
)  # fmt: skip
# Jinja globals whose attributes lead to Python function objects: never dotted in real use.
_CALLABLE_GADGETS = frozenset(
    {"cycler", "joiner", "namespace", "lipsum", "range", "dict", "url_for",
     "get_flashed_messages"}
)  # fmt: skip
# Host objects some frameworks expose to templates; attribute reads leak or reach internals.
_HOST_GADGETS = frozenset({"self", "config", "request", "session", "g"})
_ATTRIBUTE_FILTERS = frozenset(
    {"attr", "map", "selectattr", "rejectattr", "sort", "unique", "min", "max", "sum", "groupby"}
)
_DUNDER = re.compile(r"__[A-Za-z_][A-Za-z0-9_]*__")
_MANGLED = re.compile(r"_[A-Za-z][A-Za-z0-9]*__[A-Za-z]")  # _TemplateReference__context
_DUNDER_PREFIX = re.compile(r"__[A-Za-z][A-Za-z0-9_]*$")


def analyse_template(source: str, max_chars: int = MAX_TEMPLATE_CHARS) -> list[TemplateIssue]:
    """Parse `source` as Jinja2 (never render it) and return its issues, worst first."""
    if len(source) > max_chars:
        what = f"template is {len(source)} characters; analysis limit {max_chars}"
        return [TemplateIssue(IssueKind.UNPARSEABLE, Severity.MEDIUM, what)]
    try:
        tree = _parse(source)
    except RecursionError:
        what = "template nests too deeply to parse"
        return [TemplateIssue(IssueKind.UNPARSEABLE, Severity.MEDIUM, what)]
    except Exception as exc:  # jinja2 raises TemplateSyntaxError and, on odd input, others
        line = getattr(exc, "lineno", None)
        message = getattr(exc, "message", None) or str(exc)
        what = f"not valid Jinja2: {message}"
        issue = TemplateIssue(IssueKind.UNPARSEABLE, Severity.MEDIUM, what, line, "")
        return [_with_snippet(issue, source)]
    # The walk meets a chain's outermost node first; reversed, a line reads in source order.
    issues = _Analyser(tree).run()[::-1]
    unique = {(i.kind, i.line, i.what): _with_snippet(i, source) for i in issues}
    return sorted(unique.values(), key=lambda i: (-i.severity.rank, i.line or 0))


def report_template(
    ctx: ScanContext, source: str, where: str, **location: Any
) -> list[TemplateIssue]:
    """Analyse a template found in a model and add one finding per rule to `ctx`."""
    issues = analyse_template(source)
    by_rule: dict[str, list[TemplateIssue]] = {}
    for issue in issues:
        by_rule.setdefault(_rule_for(issue).id, []).append(issue)
    for group in by_rule.values():
        first = group[0]
        detail = _describe_group(group[:4])
        more = f"; +{len(group) - 4} more" if len(group) > 4 else ""
        fields = dict(location)
        if first.line is not None and "line" not in fields:
            fields["line"] = first.line
        ctx.add(_rule_for(first), f"{where}: {detail}{more}", severity=first.severity, **fields)
    return issues


def _rule_for(issue: TemplateIssue) -> Rule:
    if issue.kind is IssueKind.GADGET:
        return TEMPLATE_GADGET
    if issue.kind is IssueKind.LOADS_TEMPLATES:
        return TEMPLATE_LOADS_TEMPLATES
    if issue.kind is IssueKind.UNPARSEABLE:
        return TEMPLATE_UNPARSEABLE
    return TEMPLATE_SUSPICIOUS


def _describe_group(issues: list[TemplateIssue]) -> str:
    """Issues joined, each source line quoted once (a gadget chain is one line, many issues)."""
    parts: list[str] = []
    quoted: set[int] = set()
    for issue in issues:
        if issue.line is None or issue.line in quoted:
            parts.append(issue.what)
            continue
        quoted.add(issue.line)
        parts.append(f"{issue.what} (line {issue.line}: {issue.snippet})")
    return "; ".join(parts)


def _with_snippet(issue: TemplateIssue, source: str) -> TemplateIssue:
    if issue.line is None or issue.snippet:
        return issue
    lines = source.splitlines()
    if not 1 <= issue.line <= len(lines):
        return issue
    text = lines[issue.line - 1].strip()
    snippet = text if len(text) <= 120 else text[:119] + "…"
    return TemplateIssue(issue.kind, issue.severity, issue.what, issue.line, snippet)


def _parse(source: str) -> nodes.Template:
    """Parse as Hugging Face transformers does (loop controls, the generation tag)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", _generation_extension()],
    )
    return env.parse(source)


def _generation_extension() -> type:
    """transformers' `{% generation %}...{% endgeneration %}` marks assistant tokens."""
    from jinja2 import nodes as jnodes
    from jinja2.ext import Extension
    from jinja2.parser import Parser

    class GenerationTag(Extension):
        tags = {"generation"}  # noqa: RUF012 (jinja2 declares it a plain attribute)

        def parse(self, parser: Parser) -> jnodes.Node:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return jnodes.Scope(body, lineno=lineno)

    return GenerationTag


def _walk(root: nodes.Node) -> Iterator[nodes.Node]:
    """Every node, iteratively: hostile templates nest deeper than Python's stack."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.iter_child_nodes())


class _Analyser:
    """One pass over a parsed template, collecting issues."""

    def __init__(self, tree: nodes.Template) -> None:
        self.tree = tree
        self.issues: list[TemplateIssue] = []
        self.assigned: dict[str, list[nodes.Node]] = {}
        self.local_names: set[str] = set()
        self.folder = _Folder(self.assigned)

    def run(self) -> list[TemplateIssue]:
        from jinja2 import nodes as jnodes

        self._collect_assignments()
        handlers: dict[type, Callable[[Any], None]] = {
            jnodes.Getattr: self._getattr,
            jnodes.Getitem: self._getitem,
            jnodes.Filter: self._filter,
            jnodes.Call: self._call,
            jnodes.Const: self._const,
            jnodes.Keyword: self._keyword,
        }
        loaders = (jnodes.Include, jnodes.Import, jnodes.FromImport, jnodes.Extends)
        builders = (jnodes.Concat, jnodes.Add, jnodes.Mul, jnodes.Mod, jnodes.Filter, jnodes.Call)
        for node in _walk(self.tree):
            handler = handlers.get(type(node))
            if handler is not None:
                handler(node)
            if isinstance(node, loaders):
                kind = type(node).__name__.lower()
                self._add(IssueKind.LOADS_TEMPLATES, Severity.HIGH, f"'{kind}' statement", node)
            if isinstance(node, builders):
                self._built_name(node)
        if self.folder.exhausted:
            what = "template too complex to fold all constant strings"
            self._add(IssueKind.SUSPICIOUS, Severity.MEDIUM, what, self.tree)
        return self.issues

    def _add(self, kind: IssueKind, severity: Severity, what: str, node: nodes.Node) -> None:
        self.issues.append(TemplateIssue(kind, severity, what, getattr(node, "lineno", None)))

    def _collect_assignments(self) -> None:
        """Names the template sets itself, with their values, for constant folding."""
        from jinja2 import nodes as jnodes

        for node in _walk(self.tree):
            if isinstance(node, jnodes.Assign | jnodes.For):
                values = [node.node] if isinstance(node, jnodes.Assign) else _items(node.iter)
                for target in _target_names(node.target):
                    self.local_names.add(target)
                    self.assigned.setdefault(target, []).extend(values)
            elif isinstance(node, jnodes.AssignBlock):
                for target in _target_names(node.target):
                    self.local_names.add(target)
            elif isinstance(node, jnodes.Macro | jnodes.CallBlock):
                self.local_names.update(arg.name for arg in node.args)
                if isinstance(node, jnodes.Macro):
                    self.local_names.add(node.name)

    # -- node handlers ---------------------------------------------------------------------

    def _getattr(self, node: nodes.Getattr) -> None:
        self._attribute_name(node.attr, node, "attribute")
        self._gadget_base(node.node, node.attr, node)

    def _getitem(self, node: nodes.Getitem) -> None:
        from jinja2 import nodes as jnodes

        if isinstance(node.arg, jnodes.Slice):
            return
        name = self._static(node.arg)
        if isinstance(name, str):
            self._attribute_name(name, node, "item", item=True)
            self._gadget_base(node.node, name, node)

    def _filter(self, node: nodes.Filter) -> None:
        if node.name not in _ATTRIBUTE_FILTERS:
            return
        args = list(node.args) + [kw.value for kw in node.kwargs if kw.key == "attribute"]
        attr_call = node.name == "attr" or (
            node.name == "map" and bool(node.args) and self._static(node.args[0]) == "attr"
        )
        for arg in args:
            name = self._static(arg)
            if isinstance(name, str):
                self._attribute_name(name, node, f"'{node.name}' filter")
            elif attr_call:
                what = "attr filter with an attribute name computed at render time"
                self._add(IssueKind.SUSPICIOUS, Severity.MEDIUM, what, node)
        if attr_call and not self._reports_at(node):
            self._add(IssueKind.SUSPICIOUS, Severity.MEDIUM, "attr filter (not used by chat "
                      "templates; reaches object attributes by name)", node)  # fmt: skip

    def _call(self, node: nodes.Call) -> None:
        from jinja2 import nodes as jnodes

        func = node.node
        if (
            isinstance(func, jnodes.Name)
            and func.name in _DANGEROUS_CALLS
            and func.name not in self.local_names
        ):
            what = f"call to Python builtin '{func.name}()'"
            self._add(IssueKind.GADGET, Severity.CRITICAL, what, node)

    def _const(self, node: nodes.Const) -> None:
        value = node.value
        if not isinstance(value, str):
            return
        if _DUNDER.fullmatch(value):
            what = f"string literal naming Python internal '{value}'"
            self._add(IssueKind.GADGET, Severity.CRITICAL, what, node)
        elif _DUNDER_PREFIX.match(value) and len(value) <= 64:
            what = f"string literal '{value}' starts like a Python internal name"
            self._add(IssueKind.SUSPICIOUS, Severity.MEDIUM, what, node)

    def _keyword(self, node: nodes.Keyword) -> None:
        if node.key.startswith("__"):
            what = f"keyword argument named '{node.key}' (builds a dunder name)"
            self._add(IssueKind.GADGET, Severity.CRITICAL, what, node)

    # -- shared checks ---------------------------------------------------------------------

    def _attribute_name(self, name: str, node: nodes.Node, how: str, item: bool = False) -> None:
        if name.startswith("__") or _MANGLED.match(name):
            what = f"{how} access to Python internal '{name}'"
            self._add(IssueKind.GADGET, Severity.CRITICAL, what, node)
        elif name in _INTERNAL_ATTRS or name in _EXEC_ATTRS:
            what = f"{how} access to '{name}' (Python internals or process execution)"
            self._add(IssueKind.GADGET, Severity.CRITICAL, what, node)
        elif name.startswith("_") and not item:
            what = f"{how} access to private attribute '{name}'"
            self._add(IssueKind.SUSPICIOUS, Severity.MEDIUM, what, node)
        elif name in _HOST_ATTRS and not item:
            what = f"{how} access to '{name}' (a module or host object, not chat data)"
            self._add(IssueKind.SUSPICIOUS, Severity.MEDIUM, what, node)

    def _gadget_base(self, base: nodes.Node, name: str, node: nodes.Node) -> None:
        from jinja2 import nodes as jnodes

        if not isinstance(base, jnodes.Name) or base.name in self.local_names:
            return
        if base.name in _CALLABLE_GADGETS:
            what = f"attribute '{name}' of Jinja global '{base.name}' (sandbox escape entry point)"
            self._add(IssueKind.GADGET, Severity.CRITICAL, what, node)
        elif base.name in _HOST_GADGETS:
            what = f"attribute '{name}' of host object '{base.name}'"
            self._add(IssueKind.SUSPICIOUS, Severity.MEDIUM, what, node)

    def _built_name(self, node: nodes.Node) -> None:
        """Names assembled from pieces ('__cla' ~ 'ss__', '_' * 2, '%c'|format(95))."""
        from jinja2 import nodes as jnodes

        if isinstance(node, jnodes.Filter | jnodes.Call) and not _is_string_op(node):
            return
        value = self._static(node)
        if isinstance(value, str):
            match = _DUNDER.search(value)
            if match is not None:
                what = f"expression builds Python internal name '{match.group()}'"
                self._add(IssueKind.GADGET, Severity.CRITICAL, what, node)

    def _reports_at(self, node: nodes.Node) -> bool:
        line = getattr(node, "lineno", None)
        return any(i.line == line and i.kind is IssueKind.GADGET for i in self.issues)

    def _static(self, node: nodes.Node) -> Any:
        return self.folder.fold(node)


def _target_names(target: nodes.Node) -> list[str]:
    from jinja2 import nodes as jnodes

    if isinstance(target, jnodes.Name):
        return [target.name]
    if isinstance(target, jnodes.Tuple):
        return [n.name for n in target.items if isinstance(n, jnodes.Name)]
    return []


def _items(node: nodes.Node) -> list[nodes.Node]:
    from jinja2 import nodes as jnodes

    return list(node.items) if isinstance(node, jnodes.List | jnodes.Tuple) else []


_STRING_FILTERS = frozenset(
    {"join", "format", "replace", "reverse", "lower", "upper", "string", "trim", "first", "last"}
)
_STRING_METHODS = frozenset(
    {"format", "join", "replace", "lower", "upper", "strip", "lstrip", "rstrip"}
)


def _is_string_op(node: nodes.Filter | nodes.Call) -> bool:
    from jinja2 import nodes as jnodes

    if isinstance(node, jnodes.Filter):
        return node.name in _STRING_FILTERS
    return isinstance(node.node, jnodes.Getattr) and node.node.attr in _STRING_METHODS


class _Folder:
    """Evaluates constant string expressions with bounded cost; None when not constant.

    Hand-written instead of Python's operators so hostile constants ('x' * 10**12,
    '%*d' % (10**9, 1)) cannot exhaust memory. Results are memoised per node and a
    self-referencing name ({% set a = a ~ a %}) folds to None, so the cost stays linear.
    """

    def __init__(self, assigned: dict[str, list[nodes.Node]]) -> None:
        self.assigned = assigned
        self.memo: dict[int, Any] = {}
        self.active: set[int] = set()
        self.steps = 0
        self.exhausted = False

    def fold(self, node: nodes.Node, depth: int = 0) -> Any:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        if key in self.active or depth > _MAX_RESOLVE_DEPTH or self._spent():
            return None
        method: Callable[[Any, int], Any] | None = getattr(
            self, "_fold_" + type(node).__name__, None
        )
        if method is None:
            return None
        self.active.add(key)
        try:
            value = method(node, depth + 1)
        finally:
            self.active.discard(key)
        if isinstance(value, str) and len(value) > _MAX_STATIC_CHARS:
            value = None
        self.memo[key] = value
        return value

    def _spent(self) -> bool:
        self.steps += 1
        if self.steps > _MAX_FOLD_STEPS:
            self.exhausted = True
        return self.exhausted

    def _fold_Const(self, node: nodes.Const, depth: int) -> Any:
        return node.value if isinstance(node.value, str | int) else None

    def _fold_Name(self, node: nodes.Name, depth: int) -> Any:
        # A name set several times folds only when one definition is constant
        # ({% set a = '__cla' %}{% set a = a ~ 'ss__' %} folds a to '__cla' inside).
        values = [self.fold(v, depth) for v in self.assigned.get(node.name, [])[:16]]
        known = [v for v in values if v is not None]
        return known[0] if len(known) == 1 else None

    def _fold_List(self, node: nodes.List, depth: int) -> Any:
        items = [self.fold(item, depth) for item in node.items[:256]]
        return None if any(i is None for i in items) else items

    _fold_Tuple = _fold_List

    def _fold_Concat(self, node: nodes.Concat, depth: int) -> Any:
        parts = [self.fold(part, depth) for part in node.nodes]
        if any(p is None or isinstance(p, list) for p in parts):
            return None
        return _bounded("".join(str(p) for p in parts))

    def _fold_Add(self, node: nodes.Add, depth: int) -> Any:
        left, right = self.fold(node.left, depth), self.fold(node.right, depth)
        if isinstance(left, str) and isinstance(right, str):
            return _bounded(left + right)
        if _is_int(left) and _is_int(right) and abs(left) < 2**31 and abs(right) < 2**31:
            return left + right
        return None

    def _fold_Mul(self, node: nodes.Mul, depth: int) -> Any:
        left, right = self.fold(node.left, depth), self.fold(node.right, depth)
        text, count = (left, right) if isinstance(left, str) else (right, left)
        if isinstance(text, str) and _is_int(count) and 0 <= count <= _MAX_STATIC_CHARS:
            return _bounded(text * count) if len(text) * count <= _MAX_STATIC_CHARS else None
        return None

    def _fold_Mod(self, node: nodes.Mod, depth: int) -> Any:
        fmt, args = self.fold(node.left, depth), self.fold(node.right, depth)
        if not isinstance(fmt, str) or args is None:
            return None
        return _percent_format(fmt, args if isinstance(args, list) else [args])

    def _fold_Getitem(self, node: nodes.Getitem, depth: int) -> Any:
        from jinja2 import nodes as jnodes

        base = self.fold(node.node, depth)
        if not isinstance(base, str | list):
            return None
        if isinstance(node.arg, jnodes.Slice):
            bounds = [None if p is None else self.fold(p, depth) for p in _slice_parts(node.arg)]
            if all(b is None or _is_int(b) for b in bounds) and bounds[2] != 0:
                return base[slice(*bounds)]
            return None
        index = self.fold(node.arg, depth)
        if _is_int(index) and -len(base) <= index < len(base):
            return base[index]
        return None

    def _fold_Filter(self, node: nodes.Filter, depth: int) -> Any:
        if node.node is None or node.name not in _STRING_FILTERS:
            return None
        subject = self.fold(node.node, depth)
        args = [self.fold(arg, depth) for arg in node.args]
        if subject is None or any(a is None for a in args):
            return None
        return _string_op(node.name, subject, args)

    def _fold_Call(self, node: nodes.Call, depth: int) -> Any:
        from jinja2 import nodes as jnodes

        if not isinstance(node.node, jnodes.Getattr) or node.node.attr not in _STRING_METHODS:
            return None
        subject = self.fold(node.node.node, depth)
        args = [self.fold(arg, depth) for arg in node.args]
        if subject is None or any(a is None for a in args):
            return None
        method = node.node.attr
        if method == "join" and isinstance(subject, str) and args:
            return _string_op("join", args[0], [subject])
        if method == "format":
            return _brace_format(subject, args)
        return _string_op(method, subject, args)


def _slice_parts(node: nodes.Slice) -> tuple[Any, Any, Any]:
    return node.start, node.stop, node.step


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded(text: str) -> str | None:
    return text if len(text) <= _MAX_STATIC_CHARS else None


def _string_op(name: str, subject: Any, args: list[Any]) -> Any:
    """The string filters/methods used to disguise names, on constant inputs only."""
    if name == "join":
        if isinstance(subject, list) and all(isinstance(s, str | int) for s in subject):
            sep = args[0] if args and isinstance(args[0], str) else ""
            return _bounded(sep.join(str(s) for s in subject))
        return None
    if name == "format":
        return _percent_format(subject, args) if isinstance(subject, str) else None
    if name in ("first", "last") and isinstance(subject, str | list) and subject:
        return subject[0] if name == "first" else subject[-1]
    if not isinstance(subject, str):
        return str(subject) if name == "string" and _is_int(subject) else None
    if name == "replace":
        if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str) and args[0]:
            growth = subject.count(args[0]) * max(0, len(args[1]) - len(args[0]))
            return subject.replace(args[0], args[1]) if growth <= _MAX_STATIC_CHARS else None
        return None
    simple: dict[str, Callable[[str], str]] = {
        "reverse": lambda s: s[::-1],
        "lower": str.lower,
        "upper": str.upper,
        "string": str,
        "trim": str.strip,
        "strip": str.strip,
        "lstrip": str.lstrip,
        "rstrip": str.rstrip,
    }
    op = simple.get(name)
    return op(subject) if op is not None and not args else None


def _percent_format(fmt: str, args: list[Any]) -> str | None:
    """'%s', '%c', '%d' and '%%' only, without widths: enough to see through disguises."""
    out: list[str] = []
    pieces = iter(args)
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        spec = fmt[i + 1 : i + 2]
        i += 2
        if spec == "%":
            out.append("%")
            continue
        arg = next(pieces, None)
        text = _format_one(spec, arg)
        if text is None:
            return None
        out.append(text)
    return _bounded("".join(out))


def _format_one(spec: str, arg: Any) -> str | None:
    if spec == "s" and arg is not None:
        return str(arg)
    if spec == "c" and isinstance(arg, int) and not isinstance(arg, bool):
        return chr(arg) if 0 <= arg < 0x110000 else None
    if spec == "c" and isinstance(arg, str) and len(arg) == 1:
        return arg
    if spec == "d" and _is_int(arg):
        return str(arg)
    return None


def _brace_format(fmt: Any, args: list[Any]) -> str | None:
    """str.format with bare '{}' / '{0}' fields only."""
    if not isinstance(fmt, str) or any(not isinstance(a, str | int) for a in args):
        return None
    parts = re.split(r"\{(\d*)\}", fmt)
    out = [parts[0]]
    for auto, index in enumerate(range(1, len(parts), 2)):
        field = parts[index]
        position = int(field) if field else auto
        if position >= len(args) or "{" in parts[index + 1] or "}" in parts[index + 1]:
            return None
        out.append(str(args[position]))
        out.append(parts[index + 1])
    if "{" in parts[0] or "}" in parts[0]:
        return None
    return _bounded("".join(out))
