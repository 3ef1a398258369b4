"""The pickle format scanner: turns what `pickle_vm` saw into findings under rules GA-PKL-*."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from garrison.errors import LimitExceeded
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain import pickle_fast
from garrison.supplychain import pickle_globals as pg
from garrison.supplychain.context import ScanContext
from garrison.supplychain.pickle_vm import (
    JOBLIB_WRAPPERS,
    CallRecord,
    CallResult,
    Const,
    Container,
    GlobalRef,
    Opaque,
    Persistent,
    Program,
    Value,
    VMLimits,
    analyse,
)
from garrison.supplychain.rules import CODE_EXECUTION_REFS, LIMIT_REACHED

_FIX_CODE = (
    "Do not load this file. Obtain the model from a trusted source, or a weights-only "
    "format (safetensors); load pickles only with weights_only=True or a restricted unpickler."
)
_FIX_REVIEW = (
    "Check that the named code comes from a package you trust; add it to safe_globals in the "
    "policy if so, or convert the model to a weights-only format."
)

DANGEROUS_CALLABLE = Rule(
    "GA-PKL-001",
    "Pickle imports or calls a dangerous function",
    Severity.CRITICAL,
    "Unpickling imports and runs the named callable: it can execute commands, run code, "
    "write files, open connections or load further code.",
    _FIX_CODE,
    CODE_EXECUTION_REFS,
)
UNKNOWN_CALLABLE = Rule(
    "GA-PKL-002",
    "Pickle calls a function not on the safe list",
    Severity.MEDIUM,
    "Unpickling calls a function Garrison does not know to be safe; any function can be a "
    "gadget that reaches code execution.",
    _FIX_REVIEW,
    CODE_EXECUTION_REFS,
)
UNKNOWN_CLASS = Rule(
    "GA-PKL-003",
    "Pickle uses a class not on the safe list",
    Severity.LOW,
    "Unpickling imports this class (and may instantiate it and set its state). Custom model "
    "classes are normal in whole-model pickles, but loading them runs their code.",
    _FIX_REVIEW,
    CODE_EXECUTION_REFS,
)
INDIRECT_CALL = Rule(
    "GA-PKL-004",
    "Pickle calls the result of another call",
    Severity.HIGH,
    "A callable produced at load time is called: the chain that built it starts from a "
    "global not on the safe list, the shape of attribute-lookup and import gadgets.",
    _FIX_CODE,
    CODE_EXECUTION_REFS,
)
MALFORMED_AFTER_PAYLOAD = Rule(
    "GA-PKL-005",
    "Pickle is malformed after it calls code",
    Severity.HIGH,
    "The pickle breaks off after calls have already run. Real unpicklers execute them before "
    "failing; truncation is a common way to make scanners give up early.",
    _FIX_CODE,
    CODE_EXECUTION_REFS,
)
EXTENSION_CODE = Rule(
    "GA-PKL-006",
    "Pickle uses the copyreg extension registry",
    Severity.MEDIUM,
    "EXT opcodes import whatever the loading process registered under a number; what they "
    "resolve to cannot be known from the file.",
    _FIX_REVIEW,
    CODE_EXECUTION_REFS,
)
TRAILING_DATA = Rule(
    "GA-PKL-007",
    "Data after the end of the pickle",
    Severity.INFO,
    "Bytes follow the last complete pickle. Loaders ignore them, but they may hide content.",
    "No action needed unless the file should be a plain pickle.",
    CODE_EXECUTION_REFS,
)
DYNAMIC_GLOBAL = Rule(
    "GA-PKL-008",
    "Pickle imports a name computed at load time",
    Severity.HIGH,
    "STACK_GLOBAL takes its module or name from a value built while loading, so the import "
    "cannot be checked statically: the technique of several published scanner bypasses.",
    _FIX_CODE,
    CODE_EXECUTION_REFS,
)
GLOBAL_MUTATION = Rule(
    "GA-PKL-009",
    "Pickle changes attributes of an imported module or function",
    Severity.HIGH,
    "BUILD on a global sets attributes of shared code, so later imports resolve to something "
    "else; real models never do this.",
    _FIX_CODE,
    CODE_EXECUTION_REFS,
)
JOBLIB_LAYOUT = Rule(
    "GA-PKL-010",
    "joblib array data cannot be located",
    Severity.MEDIUM,
    "A joblib array wrapper has a shape or dtype Garrison cannot size, so where the pickle "
    "continues after the array bytes is unknown and the rest was not analysed.",
    "Re-save the object with a current joblib, or review the file's origin.",
    CODE_EXECUTION_REFS,
)
NESTED_PAYLOAD = Rule(
    "GA-PKL-011",
    "Pickle embeds a torch checkpoint that scanned clean",
    Severity.LOW,
    "pickle.dumps of a tensor writes torch.storage._load_from_bytes(<torch file>), which "
    "torch.loads the embedded bytes with full unpickling. Garrison scanned them as a nested "
    "file and found nothing; any nested finding makes this call critical instead.",
    "Prefer torch.save or safetensors over pickle.dumps for tensors.",
    CODE_EXECUTION_REFS,
)

RULES: tuple[Rule, ...] = (
    DANGEROUS_CALLABLE, UNKNOWN_CALLABLE, UNKNOWN_CLASS, INDIRECT_CALL, MALFORMED_AFTER_PAYLOAD,
    EXTENSION_CODE, TRAILING_DATA, DYNAMIC_GLOBAL, GLOBAL_MUTATION, JOBLIB_LAYOUT, NESTED_PAYLOAD,
)  # fmt: skip

_ANOMALY_RULES = {
    "dynamic-global": DYNAMIC_GLOBAL,
    "build-on-global": GLOBAL_MUTATION,
    "ext-code": EXTENSION_CODE,
    "joblib": JOBLIB_LAYOUT,
}
_MAX_PER_RULE = 50  # findings of one rule per pickle; the count of the rest is reported
_RENDER_CHARS = 160


# --------------------------------------------------------------------------- entry points


def scan_pickle(stream: BinaryIO, ctx: ScanContext) -> None:
    """Handler for format "pickle": every pickle in the file, legacy torch files included."""
    from garrison.supplychain import torch_legacy

    if torch_legacy.is_legacy_torch(stream):
        torch_legacy.scan_legacy_torch(stream, ctx)
        return
    if not _plainly_clean(stream, ctx):
        scan_pickle_from(stream, ctx, 0)


def _plainly_clean(stream: BinaryIO, ctx: ScanContext) -> bool:
    """True when the C first pass shows one pickle whose imports are all plainly safe.

    The Python machine would report nothing for such a file, so it is skipped; anything
    else (an unknown import, a helper that calls its argument, joblib array data, a limit)
    goes to the full analysis.
    """
    size = _size(stream)
    if not pickle_fast.AVAILABLE or size > min(ctx.limits.max_pickle_bytes, pickle_fast.MAX_BYTES):
        return False
    stream.seek(0)
    walked = pickle_fast.one_clean_walk(stream.read(size), ctx.limits.max_stack_depth)
    if walked is None:
        return False
    opcodes, imports = walked
    budget = ctx.budget
    if budget.opcodes + opcodes > ctx.limits.max_opcodes:
        return False
    key = (tuple(ctx.policy.safe_globals), tuple(ctx.policy.unsafe_globals))
    if not all(_plainly_safe(key, module, name) for module, name in imports):
        return False
    budget.spend_opcodes(opcodes)
    return True


_PLAIN: dict[tuple[object, str, str], bool] = {}  # a scan of many files asks the same names


def _plainly_safe(key: tuple[tuple[str, ...], tuple[str, ...]], module: str, name: str) -> bool:
    """Safe to import and to call with any arguments, under the policy lists in `key`."""
    known = _PLAIN.get((key, module, name))
    if known is not None:
        return known
    verdict = global_verdict(pg.GlobalPolicy(*key), module, name)
    path = pg.canonical(module, name)
    plain = verdict.kind == "safe" and path not in pg.APPLY_ARGUMENT
    plain = plain and f"{module}.{name}" not in JOBLIB_WRAPPERS
    if len(_PLAIN) > 4096:
        _PLAIN.clear()
    _PLAIN[(key, module, name)] = plain
    return plain


def scan_pickle_from(stream: BinaryIO, ctx: ScanContext, offset: int) -> int:
    """Scan the pickles that start at `offset` (after a header); returns where they end."""
    size = _size(stream)
    position = offset
    count = 0
    while position < size:
        program = analyse_at(stream, ctx, position)
        if count and program.error is not None and not (program.globals or program.calls):
            ctx.add(TRAILING_DATA, f"{size - position} bytes after the last pickle",
                    offset=position)  # fmt: skip
            break
        report_program(program, stream, ctx)
        count += 1
        position = program.end
    return position


def scan_one_pickle(stream: BinaryIO, ctx: ScanContext, offset: int) -> Program:
    """Scan exactly one pickle at `offset`; raises ParseError/LimitExceeded after reporting."""
    program = analyse_at(stream, ctx, offset)
    report_program(program, stream, ctx)
    return program


def analyse_at(stream: BinaryIO, ctx: ScanContext, offset: int) -> Program:
    limits = VMLimits(
        max_bytes=ctx.limits.max_pickle_bytes,
        max_stack=ctx.limits.max_stack_depth,
        spend_opcodes=ctx.budget.spend_opcodes,
    )
    return analyse(stream, offset, limits)


def report_program(program: Program, stream: BinaryIO, ctx: ScanContext) -> None:
    """Add the findings for one program, then raise the error it stopped on, if any."""
    Reporter(ctx, stream).report(program)
    for inline in program.inline:
        Reporter(ctx, stream).report(inline)
    if program.error is not None:
        if program.calls and not ctx.speculative:
            ctx.add(MALFORMED_AFTER_PAYLOAD, f"{len(program.calls)} call(s) before: "
                    f"{program.error}", offset=program.end)  # fmt: skip
        raise program.error


def _size(stream: BinaryIO) -> int:
    here = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(here)
    return size


# --------------------------------------------------------------------------- judging


@dataclass(slots=True)
class Target:
    """What a call really calls, after partial/getattr/methodcaller/import resolution."""

    path: str | None
    args: Value
    root: str | None  # the global the chain starts from
    via: str = ""  # the gadget used to reach it, for evidence


@dataclass(slots=True)
class Reporter:
    ctx: ScanContext
    stream: BinaryIO
    policy: pg.GlobalPolicy = field(init=False)
    counts: dict[str, int] = field(default_factory=dict)
    unknown_seen: set[str] = field(default_factory=set)
    called: set[int] = field(default_factory=set)  # ids of GlobalRefs judged as calls

    def __post_init__(self) -> None:
        self.policy = pg.GlobalPolicy(self.ctx.policy.safe_globals, self.ctx.policy.unsafe_globals)

    def add(self, rule: Rule, evidence: str, offset: int, index: int, **kw: object) -> None:
        seen = self.counts.get(rule.id, 0)
        self.counts[rule.id] = seen + 1
        if seen < _MAX_PER_RULE:
            self.ctx.add(rule, evidence, offset=offset, opcode_index=index, **kw)  # type: ignore[arg-type]

    def report(self, program: Program) -> None:
        for anomaly in program.anomalies:
            rule = _ANOMALY_RULES.get(anomaly.kind)
            if rule is not None:
                self.add(rule, anomaly.message, anomaly.offset, anomaly.opcode_index)
        for record in program.calls:
            self.judge_call(record)
        for ref in program.globals:
            if id(ref) not in self.called:
                self.judge_reference(ref)
        for rule_id, count in self.counts.items():
            if count > _MAX_PER_RULE:
                self.ctx.add(_rule(rule_id), f"{count - _MAX_PER_RULE} more like this",
                             offset=program.start)  # fmt: skip

    def verdict(self, ref: GlobalRef) -> pg.Verdict:
        return global_verdict(self.policy, ref.module, ref.name)

    def judge_reference(self, ref: GlobalRef) -> None:
        verdict = self.verdict(ref)
        if verdict.kind == "dangerous":
            self.add(DANGEROUS_CALLABLE, f"imports {ref.full} ({verdict.family})",
                     ref.offset, ref.opcode_index)  # fmt: skip
        elif verdict.kind == "unknown" and ref.full not in self.unknown_seen:
            self.unknown_seen.add(ref.full)
            self.add(UNKNOWN_CLASS, f"imports {ref.full}", ref.offset, ref.opcode_index)

    def judge_call(self, record: CallRecord) -> None:
        target = resolve_target(record.func, record.args, self.policy)
        if isinstance(record.func, GlobalRef):
            self.called.add(id(record.func))
        if isinstance(record.func, GlobalRef) and not target.via:
            verdict = self.verdict(record.func)  # knows where the module name ends
        elif target.path:
            verdict = self.policy.classify(target.path, 1)
        else:
            verdict = pg.UNKNOWN
        if verdict.kind == "dangerous":
            if self.nested_payload(target, record):
                self.add(NESTED_PAYLOAD, f"{target.path}(<{_size_of(record)} bytes>)",
                         record.offset, record.opcode_index)  # fmt: skip
                return
            family = f" ({verdict.family})"
            evidence = render_call(target, record) + family
            self.add(DANGEROUS_CALLABLE, evidence, record.offset, record.opcode_index)
            return
        # Safe calls are the common case: their evidence is rendered only when reported.
        if not isinstance(record.func, GlobalRef):
            self.judge_indirect(target, record, render_call(target, record))
            return
        if verdict.kind == "unknown":
            self.judge_unknown(record, target)
        else:
            self.judge_safe_arguments(target, record)

    def judge_indirect(self, target: Target, record: CallRecord, evidence: str) -> None:
        cls = _legacy_torch_class(record.func)
        if cls is not None:
            # Legacy torch.save stores module classes as ('module', cls, file, source)
            # persistent ids; torch's persistent_load returns cls, so this instantiates it.
            self.called.add(id(cls))
            verdict = self.verdict(cls)
            if verdict.kind == "dangerous":
                self.add(DANGEROUS_CALLABLE, f"{evidence} ({verdict.family})",
                         record.offset, record.opcode_index)  # fmt: skip
            elif verdict.kind == "unknown" and cls.full not in self.unknown_seen:
                self.unknown_seen.add(cls.full)
                self.add(UNKNOWN_CLASS, f"instantiates {cls.full}", record.offset,
                         record.opcode_index)  # fmt: skip
            return
        if isinstance(record.func, Persistent | Opaque | Const | Container):
            self.add(INDIRECT_CALL, f"calls a value not known statically: {evidence}",
                     record.offset, record.opcode_index)  # fmt: skip
            return
        root = self.policy.classify(target.root, 1) if target.root else pg.UNKNOWN
        severity = Severity.MEDIUM if root.kind == "safe" else None
        self.add(INDIRECT_CALL, evidence, record.offset, record.opcode_index, severity=severity)

    def judge_unknown(self, record: CallRecord, target: Target) -> None:
        assert isinstance(record.func, GlobalRef)
        name = record.func.name.rsplit(".", 1)[-1]
        is_class = record.kind in ("newobj", "newobj_ex") or (
            record.kind in ("inst", "obj") and name[:1].isupper()
        )
        # Enums and simple value classes pickle as REDUCE(cls, (literal, ...)): Class('steps').
        if record.kind == "reduce" and _class_name(name) and _literal_args(record.args):
            is_class = True
        if is_class:
            if record.func.full not in self.unknown_seen:
                self.unknown_seen.add(record.func.full)
                self.add(UNKNOWN_CLASS, f"instantiates {record.func.full}",
                         record.offset, record.opcode_index)  # fmt: skip
            return
        self.add(UNKNOWN_CALLABLE, render_call(target, record), record.offset, record.opcode_index)

    def judge_safe_arguments(self, target: Target, record: CallRecord) -> None:
        """Safe helpers that call one of their arguments pass on that argument's risk."""
        if target.path is None or target.path not in pg.APPLY_ARGUMENT:
            return
        items = record.args.items if isinstance(record.args, Container) else []
        index = pg.APPLY_ARGUMENT[target.path]
        if index >= len(items):
            return
        inner = items[index]
        if isinstance(inner, GlobalRef):
            verdict = self.verdict(inner)
            if verdict.kind == "unknown":
                self.called.add(id(inner))
                self.add(UNKNOWN_CALLABLE, f"{render_call(target, record)} calls {inner.full}",
                         record.offset, record.opcode_index)  # fmt: skip
        elif isinstance(inner, CallResult | Opaque | Persistent):
            self.add(INDIRECT_CALL, f"{render_call(target, record)} calls a computed value",
                     record.offset, record.opcode_index)  # fmt: skip

    def nested_payload(self, target: Target, record: CallRecord) -> bool:
        """Scan the bytes a loader gets; True when it is a torch tensor that scanned clean."""
        path = target.path or ""
        if path not in pg.PICKLE_LOADERS and path not in pg.FILE_LOADERS:
            return False
        items = target.args.items if isinstance(target.args, Container) else []
        try:
            data = concrete_bytes(items[0], self.stream, self.ctx, 0) if items else None
        except LimitExceeded as exc:
            self.ctx.add(LIMIT_REACHED, f"embedded payload of {path}: {exc}",
                         offset=record.offset)  # fmt: skip
            return False
        if data is None:
            return False
        before = len(self.ctx.findings)
        _scan_nested(data, self.ctx, f"{path}@{record.offset}", path in pg.PICKLE_LOADERS)
        nested = self.ctx.findings[before:]
        # pickle.dumps(tensor) itself writes torch.storage._load_from_bytes(<torch file>).
        return path == "torch.storage._load_from_bytes" and not any(
            f.severity >= Severity.MEDIUM for f in nested
        )


def global_verdict(policy: pg.GlobalPolicy, module: str, name: str) -> pg.Verdict:
    """The verdict on importing `module`.`name` (its Python 2 spelling mapped too)."""
    path = pg.canonical(module, name)
    verdict = policy.classify(path, len(path.split(".")) - len(name.split(".")))
    full = f"{module}.{name}"
    if verdict.kind != "dangerous" and path != full:
        raw = policy.classify(full, len(module.split(".")))
        if raw.kind == "dangerous":
            return raw
    return verdict


def _class_name(name: str) -> bool:
    return name[:1].isupper() and not name.isupper()


def _literal_args(args: Value) -> bool:
    """Arguments made only of literals (no calls, no globals) cannot smuggle a payload."""
    if not isinstance(args, Container):
        return False
    return all(isinstance(item, Const) for item in args.items)


def _legacy_torch_class(func: Value) -> GlobalRef | None:
    if not isinstance(func, Persistent) or not isinstance(func.pid, Container):
        return None
    items = func.pid.items
    if len(items) < 2 or not isinstance(items[0], Const) or items[0].value != "module":
        return None
    return items[1] if isinstance(items[1], GlobalRef) else None


def _scan_nested(data: bytes, ctx: ScanContext, member: str, as_pickle: bool) -> None:
    from garrison.supplychain import dispatch

    if not as_pickle:
        dispatch.scan_nested_bytes(data, ctx, member)
        return
    try:
        child = ctx.child(member)
    except LimitExceeded as exc:
        ctx.add(LIMIT_REACHED, f"{member}: {exc}")
        return
    dispatch.run_handler("pickle", io.BytesIO(data), child, len(data))


def _size_of(record: CallRecord) -> str:
    items = record.args.items if isinstance(record.args, Container) else []
    first = items[0] if items else None
    if isinstance(first, Const) and first.origin is not None:
        return str(first.origin[1])
    if isinstance(first, Const) and isinstance(first.value, bytes):
        return str(len(first.value))
    return "?"


def _rule(rule_id: str) -> Rule:
    return next(rule for rule in RULES if rule.id == rule_id)


# --------------------------------------------------------------------------- resolution


def path_of(value: Value, depth: int = 0) -> str | None:
    """The dotted path of the object a value denotes, when static analysis can tell."""
    if depth > 32:
        return None
    if isinstance(value, GlobalRef):
        return pg.canonical(value.module, value.name)
    if not isinstance(value, CallResult):
        return None
    func = path_of(value.func, depth + 1)
    args = _items(value.args)
    if func in pg.RESOLVERS:
        return _resolver_path(func, args)
    if func == "builtins.getattr" and len(args) >= 2:
        return _join(path_of(args[0], depth + 1), _text(args[1]))
    if func in ("builtins.dict.get", "builtins.dict.__getitem__", "operator.getitem"):
        return _item_path(path_of(args[0], depth + 1) if args else None, _item(args, 1))
    if isinstance(value.func, CallResult):
        maker = path_of(value.func.func, depth + 1)
        made = _items(value.func.args)
        if maker == "operator.attrgetter" and args:
            return _join(path_of(args[0], depth + 1), _item(made, 0))
        if maker == "operator.itemgetter" and args:
            return _item_path(path_of(args[0], depth + 1), _item(made, 0))
    return None


def resolve_target(func: Value, args: Value, policy: pg.GlobalPolicy, depth: int = 0) -> Target:
    root = _root(func)
    if isinstance(func, CallResult) and depth < 16:
        maker = path_of(func.func)
        made = _items(func.args)
        if maker == "functools.partial" and made:
            bound = Container("tuple")
            bound.add(*made[1:], *_items(args))
            inner = resolve_target(made[0], bound, policy, depth + 1)
            return Target(inner.path, inner.args, root, "functools.partial")
        if maker == "operator.methodcaller" and made and _items(args):
            method = _join(path_of(_items(args)[0]), _text(made[0]))
            rest = Container("tuple")
            rest.add(*made[1:])
            return Target(method, rest, root, "operator.methodcaller")
    path = path_of(func)
    via = "" if isinstance(func, GlobalRef) else (path_of(func.func) or "") if isinstance(
        func, CallResult) else ""  # fmt: skip
    return Target(path, args, root, via)


def _root(value: Value) -> str | None:
    for _ in range(64):
        if isinstance(value, GlobalRef):
            return pg.canonical(value.module, value.name)
        if not isinstance(value, CallResult):
            return None
        value = value.func
    return None


def _resolver_path(func: str, args: list[Value]) -> str | None:
    if "ufunc_reconstruct" in func:
        return _join(_text(args[0]) if args else None, _item(args, 1))
    name = _text(args[0]) if args else None
    return name.replace(":", ".") if name else None


def _item_path(base: str | None, key: str | None) -> str | None:
    if base is None or key is None:
        return None
    if base == "builtins" or base.endswith(".__builtins__"):
        return f"builtins.{key}"
    if base.endswith("sys.modules"):
        return key
    if base.endswith(".__dict__"):
        return f"{base[: -len('.__dict__')]}.{key}"
    return None


def _join(base: str | None, attr: str | None) -> str | None:
    return f"{base}.{attr}" if base and attr else None


def _items(value: Value | None) -> list[Value]:
    return value.items if isinstance(value, Container) else []


def _item(items: list[Value], index: int) -> str | None:
    return _text(items[index]) if index < len(items) else None


def _text(value: Value) -> str | None:
    return value.value if isinstance(value, Const) and isinstance(value.value, str) else None


# --------------------------------------------------------------------------- evidence


def render_call(target: Target, record: CallRecord) -> str:
    name = target.path or render(record.func)
    text = f"{name}({render_args(target.args)})"
    if target.via and target.path:
        text += f" via {target.via}"
    return text


def render_args(args: Value) -> str:
    if isinstance(args, Container) and args.kind == "tuple":
        return _clip(", ".join(render(item) for item in args.items[:8]))
    return render(args)


def render(value: Value, depth: int = 0) -> str:
    if depth > 4:
        return "…"
    if isinstance(value, Const):
        text = repr(value.value)
        suffix = "…" if value.truncated else ""
        return _clip(text) + suffix
    if isinstance(value, GlobalRef):
        return value.full
    if isinstance(value, CallResult):
        name = path_of(value) or render(value.func, depth + 1)
        if path_of(value):
            return name
        return _clip(f"{name}({', '.join(render(a, depth + 1) for a in _items(value.args)[:6])})")
    if isinstance(value, Container):
        return _render_container(value, depth)
    if isinstance(value, Persistent):
        return f"persistent_id({render(value.pid, depth + 1)})"
    return f"<{value.what}>" if isinstance(value, Opaque) else "?"


def _render_container(box: Container, depth: int) -> str:
    inner = ", ".join(render(item, depth + 1) for item in box.items[:6])
    more = ", …" if box.length > 6 else ""
    if box.kind == "dict":
        pairs = box.pairs()[:4]
        body = ", ".join(f"{render(k, depth + 1)}: {render(v, depth + 1)}" for k, v in pairs)
        return _clip("{" + body + (", …" if box.length > 4 else "") + "}")
    brackets = {"list": "[]", "tuple": "()"}.get(box.kind, "{}")
    return _clip(brackets[0] + inner + more + brackets[1])


def _clip(text: str) -> str:
    return text if len(text) <= _RENDER_CHARS else text[: _RENDER_CHARS - 1] + "…"


# --------------------------------------------------------------------------- payload bytes


def concrete_bytes(value: Value, stream: BinaryIO, ctx: ScanContext, depth: int) -> bytes | None:
    """The bytes a loader argument holds, evaluating simple transforms; None if unknown."""
    if depth > 16:
        return None
    if isinstance(value, Const):
        return _const_bytes(value, stream, ctx)
    if not isinstance(value, CallResult):
        return None
    func = path_of(value.func)
    if func not in pg.BYTE_TRANSFORMS:
        return None
    args = _items(value.args)
    if not args:
        return None
    data = concrete_bytes(args[0], stream, ctx, depth + 1)
    if data is None:
        return None
    try:
        return _transform(func, data, _item(args, 1), ctx)
    except (ValueError, TypeError, LookupError, EOFError, OSError):
        return None


def _const_bytes(value: Const, stream: BinaryIO, ctx: ScanContext) -> bytes | None:
    raw = value.value
    if value.truncated and value.origin is not None:
        raw = _reread(value.origin, stream, ctx)
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        # _codecs.encode(text, "latin1") is how protocols 0-2 write bytes.
        return raw.encode("latin-1", "ignore")
    return None


def _reread(origin: tuple[int, int, str], stream: BinaryIO, ctx: ScanContext) -> object:
    import codecs

    offset, length, encoding = origin
    if length > ctx.limits.max_nested_bytes:
        raise LimitExceeded("embedded payload bytes", length, ctx.limits.max_nested_bytes)
    here = stream.tell()
    stream.seek(offset)
    data = stream.read(length)
    stream.seek(here)
    if encoding == "bytes":
        return data
    if encoding == "unicode-line":
        return codecs.decode(data, "raw-unicode-escape", "ignore")
    if encoding == "string-line":
        return bytes(codecs.escape_decode(data[1:-1])[0]).decode("latin-1")
    return data.decode("latin-1" if encoding == "latin-1" else "utf-8", "ignore")


def _transform(func: str, data: bytes, option: str | None, ctx: ScanContext) -> bytes | None:
    import base64
    import binascii

    simple: dict[str, Callable[[bytes], bytes]] = {
        "base64.b64decode": base64.b64decode, "base64.standard_b64decode": base64.b64decode,
        "base64.urlsafe_b64decode": base64.urlsafe_b64decode,
        "base64.b32decode": base64.b32decode, "base64.b16decode": base64.b16decode,
        "base64.a85decode": base64.a85decode, "base64.b85decode": base64.b85decode,
        "base64.decodebytes": base64.decodebytes, "binascii.a2b_base64": binascii.a2b_base64,
        "binascii.unhexlify": binascii.unhexlify, "binascii.a2b_hex": binascii.a2b_hex,
        "builtins.bytes.fromhex": lambda b: bytes.fromhex(b.decode("ascii")),
    }  # fmt: skip
    if func in simple:
        return bytes(simple[func](data))
    if func in ("zlib.decompress", "gzip.decompress", "bz2.decompress", "lzma.decompress"):
        return _inflate(func.split(".")[0], data, ctx)
    if func in ("codecs.decode", "_codecs.decode") and option:
        return _codec_decode(data, option, ctx)
    return data  # encode(text, "latin1"), BytesIO, bytes(), bytearray()


def _codec_decode(data: bytes, codec: str, ctx: ScanContext) -> bytes | None:
    import codecs

    name = codec.lower().replace("-", "_")
    if name in ("zlib", "zlib_codec", "zip"):
        return _inflate("zlib", data, ctx)
    if name in ("bz2", "bz2_codec"):
        return _inflate("bz2", data, ctx)
    if name in ("base64", "base_64", "base64_codec", "hex", "hex_codec", "uu", "quopri"):
        out = codecs.decode(data, name)
        return out if isinstance(out, bytes) else None
    return None


def _inflate(kind: str, data: bytes, ctx: ScanContext) -> bytes:
    import bz2
    import lzma
    import zlib

    cap = ctx.limits.max_nested_bytes
    if kind == "zlib":
        out = zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(data, cap + 1)
    elif kind == "gzip":
        out = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data, cap + 1)
    elif kind == "bz2":
        out = bz2.BZ2Decompressor().decompress(data, cap + 1)
    else:
        out = lzma.LZMADecompressor().decompress(data, cap + 1)
    if len(out) > cap:
        raise LimitExceeded("embedded payload bytes", len(out), cap)
    ctx.budget.spend_decompressed(len(out))
    return out
