"""A Terraform module read with python-hcl2 and evaluated just far enough to name its buckets.

A .tf file is read together with the other .tf files and the *.tfvars of its directory (one
module): `var.` from variable defaults and tfvars, `local.` from locals blocks, string
templates, common functions (jsonencode, merge, format...), policy documents
(`data "aws_iam_policy_document"`, `data "google_iam_policy"`) and references between
storage resources. Whatever cannot be known here (a variable without a value, `each.key`, a
provider-computed attribute) evaluates to UNKNOWN, and a string that contains one to text with
`${?}` in its place. Every count, size and depth is bounded; a reference cycle is UNKNOWN.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Token, Tree

log = logging.getLogger(__name__)

# hcl2 parses at 2-5 ms per KiB: larger files are left to the patterns of buckets.py.
MAX_HCL_BYTES = 512 << 10
MAX_MODULE_FILES = 64  # a directory with more .tf/.tfvars files is read file by file
MAX_MODULE_BYTES = 2 << 20  # other files of the module read, in all
_MAX_DEPTH = 48  # nesting of expressions and chains of references
_MAX_STEPS = 100_000  # evaluation steps for one file
_MAX_STRING = 256 << 10
_MAX_ITEMS = 20_000  # nodes of a value turned into JSON or searched
MARK = "${?}"  # stands for an unknown part of a string

# Blocks worth keeping: storage resources and the policy documents they can point at.
_RESOURCE_PREFIXES = ("aws_s3_", "google_storage_", "azurerm_storage_")
_DATA_TYPES = ("aws_iam_policy_document", "google_iam_policy")
_PUNCTUATION = frozenset(
    {
        "DBLQUOTE", "LBRACE", "RBRACE", "LSQB", "RSQB", "LPAR", "RPAR", "COMMA", "EQ", "COLON",
        "QMARK", "DOT", "INTERP_START", "COLONS", "FOR_OBJECT_ARROW",
    }
)  # fmt: skip
_SIMPLE_REF = re.compile(r"\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*)\s*")

Expr = tuple[Any, ...]
UNKNOWN_EXPR: Expr = ("unknown",)


class _Unknown:
    """A value that cannot be known without running Terraform."""

    __slots__ = ()

    def __repr__(self) -> str:
        return MARK


UNKNOWN: Any = _Unknown()


def known(value: Any) -> bool:
    """Whether a value is fully known: not UNKNOWN and not a string with an unknown part."""
    return value is not UNKNOWN and not (isinstance(value, str) and MARK in value)


@dataclass(frozen=True, slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    attributes: dict[str, Expr]
    blocks: tuple[Block, ...]
    line: int

    def children(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource or data block of the module; `own`: declared in the file being analysed."""

    type: str
    name: str
    block: Block
    own: bool

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass(slots=True)
class Module:
    variables: dict[str, Expr] = field(default_factory=dict)
    locals: dict[str, Expr] = field(default_factory=dict)
    resources: dict[tuple[str, str], list[Resource]] = field(default_factory=dict)
    data: dict[tuple[str, str], list[Resource]] = field(default_factory=dict)

    def add(self, blocks: tuple[Block, ...], own: bool) -> None:
        """Declarations of one .tf file; the file being analysed is added first and wins."""
        for block in blocks:
            if block.type == "variable" and len(block.labels) == 1:
                default = block.attributes.get("default")
                if default is not None:
                    self.variables.setdefault(block.labels[0], default)
            elif block.type == "locals":
                for name, expr in block.attributes.items():
                    self.locals.setdefault(name, expr)
            elif block.type in ("resource", "data") and len(block.labels) == 2:
                table = self.resources if block.type == "resource" else self.data
                kind, name = block.labels
                table.setdefault((kind, name), []).append(Resource(kind, name, block, own))

    def all_resources(self) -> Iterator[Resource]:
        for found in self.resources.values():
            yield from found


def load_module(text: str, path: str, max_text_bytes: int) -> Module | str:
    """The module of the file at `path` (whose text is `text`), or why it cannot be parsed.

    Other files of the directory are context only: one that does not parse is left out.
    """
    if len(text) > MAX_HCL_BYTES:
        return f"larger than {MAX_HCL_BYTES >> 10} KiB"
    own = _declarations(text)
    if isinstance(own, str):
        return own
    module = Module()
    module.add(own, own=True)
    tfvars: list[tuple[str, str]] = []
    for name, sibling in _siblings(path, min(max_text_bytes, MAX_HCL_BYTES)):
        if name.endswith(".tf"):
            blocks = _declarations(sibling) if _worth_parsing(sibling) else ()
            if not isinstance(blocks, str):
                module.add(blocks, own=False)
        else:
            tfvars.append((name, sibling))
    for name, sibling in sorted(tfvars, key=lambda item: _tfvars_order(item[0])):
        module.variables.update(_tfvars(name, sibling))
    return module


def _worth_parsing(text: str) -> bool:
    return any(word in text for word in ("variable", "locals", *_RESOURCE_PREFIXES, *_DATA_TYPES))


def _siblings(path: str, max_bytes: int) -> Iterator[tuple[str, str]]:
    """(name, text) of the other .tf and .tfvars files next to `path`, bounded."""
    if not os.path.isfile(path):
        return  # text not read from disk (a test, a pipe): no module around it
    directory, own = os.path.split(path)
    try:
        with os.scandir(directory or ".") as it:
            entries = sorted((e for e in it if _module_file(e.name)), key=lambda e: e.name)
    except OSError as exc:
        log.debug("module of %s not read: %s", path, exc)
        return
    if len(entries) > MAX_MODULE_FILES:
        log.debug("module of %s has %d files: read on its own", path, len(entries))
        return
    budget = MAX_MODULE_BYTES
    for entry in entries:
        if entry.name == own:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            size = entry.stat(follow_symlinks=False).st_size
            if size > max_bytes or size > budget:
                continue
            budget -= size
            with open(entry.path, "rb") as stream:
                data = stream.read(size + 1)
        except OSError as exc:
            log.debug("%s not read: %s", entry.path, exc)
            continue
        yield entry.name, data.decode("utf-8", "replace")


def _module_file(name: str) -> bool:
    return name.endswith((".tf", ".tfvars", ".tfvars.json"))


def _tfvars_order(name: str) -> tuple[int, str]:
    """Terraform's precedence, lowest first: terraform.tfvars, *.auto.tfvars, then the files
    given with -var-file (which one a run uses is unknown here: the last by name wins)."""
    if name in ("terraform.tfvars", "terraform.tfvars.json"):
        return 0, name
    if name.endswith((".auto.tfvars", ".auto.tfvars.json")):
        return 1, name
    return 2, name


def _tfvars(name: str, text: str) -> dict[str, Expr]:
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return {}
        return {str(k): ("lit", v) for k, v in data.items()} if isinstance(data, dict) else {}
    parsed = _parse(text)
    if isinstance(parsed, str):
        return {}
    attributes, _ = _body(_root_body(parsed), 0, keep_all=True)
    return attributes


@functools.lru_cache(maxsize=32)
def _declarations(text: str) -> tuple[Block, ...] | str:
    """The blocks of one .tf file worth keeping, or why it does not parse.

    Cached by content: each file of a module is the context of every other one, and a pool
    worker gets the files of a directory together.
    """
    parsed = _parse(text)
    if isinstance(parsed, str):
        return parsed
    _, blocks = _body(_root_body(parsed), 0, keep_all=False)
    return blocks


def _root_body(tree: Tree[Token]) -> Tree[Token]:
    first = tree.children[0] if tree.children else None
    return tree if first is None or isinstance(first, str) else first


def _parse(text: str) -> Tree[Token] | str:
    import hcl2
    from lark.exceptions import LarkError

    try:
        return hcl2.parses_to_tree(text if text.endswith("\n") else text + "\n")
    except (LarkError, RecursionError, ValueError) as exc:
        return f"not parsed: {type(exc).__name__}"


def _wanted(block_type: str, labels: list[str]) -> bool:
    if block_type in ("variable", "locals"):
        return True
    if block_type == "resource" and labels:
        return labels[0].startswith(_RESOURCE_PREFIXES)
    return block_type == "data" and bool(labels) and labels[0] in _DATA_TYPES


def _body(
    node: Tree[Token], depth: int, keep_all: bool
) -> tuple[dict[str, Expr], tuple[Block, ...]]:
    attributes: dict[str, Expr] = {}
    blocks: list[Block] = []
    for child in _trees(node):
        if child.data == "attribute":
            parts = _significant(child)
            if len(parts) >= 2:
                attributes[_name(parts[0])] = _expr(parts[-1], depth + 1)
        elif child.data == "block" and depth < _MAX_DEPTH:
            block = _block(child, depth, keep_all)
            if block is not None:
                blocks.append(block)
    return attributes, tuple(blocks)


def _block(node: Tree[Token], depth: int, keep_all: bool) -> Block | None:
    parts = _significant(node)
    body = parts[-1] if parts else None
    if body is None or isinstance(body, str) or body.data != "body":
        return None
    kind = _name(parts[0])
    labels = [_label(p) for p in parts[1:-1]]
    if not keep_all and not _wanted(kind, labels):
        return None
    attributes, blocks = _body(body, depth + 1, keep_all=True)
    line = 0 if node.meta.empty else node.meta.line
    return Block(kind, tuple(labels), attributes, blocks, line)


def _trees(node: Tree[Token]) -> Iterator[Tree[Token]]:
    for child in node.children:
        if not isinstance(child, str):
            yield child


def _significant(node: Tree[Token]) -> list[Any]:
    """Children without punctuation, newlines and comments."""
    out: list[Any] = []
    for child in node.children:
        if isinstance(child, str):
            if child.type not in _PUNCTUATION:
                out.append(child)
        elif child.data != "new_line_or_comment":
            out.append(child)
    return out


def _name(node: Any) -> str:
    """An attribute or block name: an identifier, a keyword or a literal written bare."""
    if isinstance(node, str):
        return str(node)
    tokens = [str(t) for t in node.scan_values(lambda v: isinstance(v, str))]
    return tokens[0] if tokens else ""


def _label(node: Any) -> str:
    if isinstance(node, str):
        return str(node)
    if node.data == "string":
        return "".join(str(p.children[0]) for p in _trees(node) if isinstance(p.children[0], str))
    return _name(node)


def _expr(node: Any, depth: int) -> Expr:
    """An hcl2 expression tree as nested tuples, small enough to cache."""
    if depth > _MAX_DEPTH or isinstance(node, str):
        return UNKNOWN_EXPR
    kind = node.data
    parts = _significant(node)
    if kind == "expr_term":
        return _expr(parts[0], depth + 1) if len(parts) == 1 else UNKNOWN_EXPR
    if kind == "string":
        return _string(parts, depth)
    if kind in ("int_lit", "float_lit"):
        return _number(str(parts[0]), kind)
    if kind == "literal_value":
        return ("lit", {"true": True, "false": False}.get(str(parts[0])))
    if kind in ("identifier", "keyword"):
        return ("id", str(parts[0]))
    if kind == "tuple":
        return ("list", tuple(_expr(p, depth + 1) for p in parts))
    if kind == "object":
        return ("obj", tuple(_element(p, depth + 1) for p in parts if not isinstance(p, str)))
    if kind == "conditional" and len(parts) == 3:
        return ("cond", *(_expr(p, depth + 1) for p in parts))
    if kind == "binary_op" and len(parts) == 2 and len(_significant(parts[1])) == 2:
        operator, right = _significant(parts[1])
        return ("bin", _name(operator), _expr(parts[0], depth + 1), _expr(right, depth + 1))
    if kind == "unary_op" and len(parts) == 2:
        return ("un", str(parts[0]), _expr(parts[1], depth + 1))
    if kind == "function_call":
        return _call(parts, depth)
    if kind in ("heredoc_template", "heredoc_template_trim"):
        return ("heredoc", _heredoc(str(parts[0]), trim=kind.endswith("trim")))
    if kind in ("get_attr_expr_term", "index_expr_term") and len(parts) == 2:
        return _traverse(_expr(parts[0], depth + 1), _step(parts[1], depth + 1))
    return UNKNOWN_EXPR  # splats, for expressions, template directives


def _number(text: str, kind: str) -> Expr:
    try:
        return ("lit", int(text) if kind == "int_lit" else float(text))
    except ValueError:  # more digits than int() converts
        return UNKNOWN_EXPR


def _string(parts: list[Any], depth: int) -> Expr:
    pieces: list[Any] = []
    for part in parts:
        inner: Any = part.children[0] if part.children else ""
        if isinstance(inner, str):
            text = str(inner)
            if getattr(inner, "type", "") in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                pieces.append(text[1:])  # $${x} is the text ${x}
            else:
                pieces.append(_unescape(text))
        elif inner.data == "interpolation":
            pieces.append(_expr(_significant(inner)[0], depth + 1))
        else:
            pieces.append(UNKNOWN_EXPR)  # a %{ if } or %{ for } directive
    if all(isinstance(p, str) for p in pieces):
        return ("lit", "".join(pieces))
    return ("tmpl", tuple(pieces))


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def _element(node: Tree[Token], depth: int) -> tuple[Expr, Expr]:
    parts = _significant(node)
    key_node = parts[0]
    inner = _significant(key_node)[0] if _significant(key_node) else key_node
    key = _expr(inner, depth)
    if key[0] == "id":  # a bare key is a name, not a reference
        key = ("lit", key[1])
    return key, _expr(parts[-1], depth)


def _call(parts: list[Any], depth: int) -> Expr:
    names = [p for p in parts if not isinstance(p, str) and p.data == "identifier"]
    arguments = [p for p in parts if not isinstance(p, str) and p.data == "arguments"]
    if len(names) != 1:
        return UNKNOWN_EXPR  # provider::aws::arn_parse() and the like
    args = _significant(arguments[0]) if arguments else []
    if any(isinstance(a, str) for a in args):
        return UNKNOWN_EXPR  # f(list...) expands a list into arguments
    return ("call", _name(names[0]), tuple(_expr(a, depth + 1) for a in args))


def _traverse(base: Expr, step: Expr) -> Expr:
    if base[0] == "path":
        return ("path", base[1], (*base[2], step))
    return ("path", base, (step,))


def _step(node: Tree[Token], depth: int) -> Expr:
    parts = _significant(node)
    if node.data == "get_attr" and parts:
        return ("attr", _name(parts[0]))
    if node.data == "short_index" and parts:
        return ("index", _number(str(parts[0]), "int_lit"))
    if node.data == "braces_index" and parts:
        return ("index", _expr(parts[0], depth))
    return ("index", UNKNOWN_EXPR)


def _heredoc(token: str, trim: bool) -> str:
    lines = token.split("\n")
    body = lines[1:-2] if len(lines) >= 3 else []  # drop <<EOT, the closing EOT and the end
    if trim:
        indents = [len(line) - len(line.lstrip()) for line in body if line.strip()]
        cut = min(indents, default=0)
        body = [line[cut:] for line in body]
    return "\n".join(body) + ("\n" if body else "")


class Evaluator:
    """Values of a module's expressions, memoised, within a budget of steps."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.steps = _MAX_STEPS
        self.memo: dict[tuple[str, ...], Any] = {}
        self.active: set[tuple[str, ...]] = set()

    def attribute(self, resource: Resource, name: str, default: Any = None) -> Any:
        expr = resource.block.attributes.get(name)
        return default if expr is None else self.value(expr)

    def value(self, expr: Expr, depth: int = 0) -> Any:
        self.steps -= 1
        if self.steps <= 0 or depth > _MAX_DEPTH:
            return UNKNOWN
        kind = expr[0]
        if kind == "lit":
            return expr[1]
        if kind == "tmpl":
            return _bounded(
                "".join(
                    _text(self.value(p, depth + 1)) if isinstance(p, tuple) else p for p in expr[1]
                )
            )
        if kind == "list":
            return [self.value(e, depth + 1) for e in expr[1]]
        if kind == "obj":
            out: dict[str, Any] = {}
            for key, item in expr[1]:
                out[_text(self.value(key, depth + 1))] = self.value(item, depth + 1)
            return out
        if kind == "path":
            return self._path(expr[1], expr[2], depth + 1)
        if kind == "cond":
            test = self.value(expr[1], depth + 1)
            if isinstance(test, bool):
                return self.value(expr[2] if test else expr[3], depth + 1)
            return UNKNOWN
        if kind == "bin":
            return _binary(expr[1], self.value(expr[2], depth + 1), self.value(expr[3], depth + 1))
        if kind == "un":
            return _unary(expr[1], self.value(expr[2], depth + 1))
        if kind == "call":
            return self._call(expr[1], [self.value(a, depth + 1) for a in expr[2]])
        if kind == "heredoc":
            return self._heredoc(expr[1], depth + 1)
        return UNKNOWN  # a bare identifier (each, count, a for variable) or an unknown form

    def _path(self, base: Expr, steps: tuple[Expr, ...], depth: int) -> Any:
        root = base[1] if base[0] == "id" else None
        names = [s[1] for s in steps if s[0] == "attr"]
        if root in ("var", "local") and steps and steps[0][0] == "attr":
            table = self.module.variables if root == "var" else self.module.locals
            found = self._named((root, steps[0][1]), table.get(steps[0][1]), depth)
            return self._apply(found, steps[1:], depth)
        if root == "data" and len(names) >= 3 and steps[0][0] == steps[1][0] == "attr":
            rest = [s for s in steps[2:] if s[0] == "attr"]
            value = self._data(steps[0][1], steps[1][1], str(rest[0][1]) if rest else "", depth)
            return self._apply(value, tuple(rest[1:]), depth)
        if root is not None and steps and steps[0][0] == "attr":
            resource = self.resource(root, steps[0][1])
            if resource is None:
                return UNKNOWN  # each, count, path, module, or a resource not kept here
            rest = [s for s in steps[1:] if s[0] == "attr"]  # [0] or ["k"]: the same bucket name
            if not rest:
                return UNKNOWN
            return self._apply(
                self.resource_attribute(resource, rest[0][1], depth), tuple(rest[1:]), depth
            )
        if root is not None:
            return UNKNOWN
        return self._apply(self.value(base, depth), steps, depth)

    def _apply(self, value: Any, steps: tuple[Expr, ...] | list[Expr], depth: int) -> Any:
        for step in steps:
            key = step[1] if step[0] == "attr" else self.value(step[1], depth + 1)
            if isinstance(value, dict) and isinstance(key, str):
                value = value.get(key, UNKNOWN)
            elif (
                isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value)
            ):
                value = value[key]
            else:
                return UNKNOWN
        return value

    def _named(self, key: tuple[str, ...], expr: Expr | None, depth: int) -> Any:
        if expr is None:
            return UNKNOWN
        if key in self.memo:
            return self.memo[key]
        if key in self.active:
            return UNKNOWN  # a reference cycle
        self.active.add(key)
        try:
            value = self.value(expr, depth + 1)
        finally:
            self.active.discard(key)
        self.memo[key] = value
        return value

    def resource(self, kind: str, name: str) -> Resource | None:
        found = self.module.resources.get((kind, name))
        return found[0] if found else None

    def resource_attribute(self, resource: Resource, name: str, depth: int = 0) -> Any:
        """An attribute of a resource: identity attributes of storage from their names."""
        identity = _IDENTITY.get(resource.type)
        if identity is not None and name in identity[1]:
            return identity[1][name].replace("{}", self.bucket_key(resource, depth + 1))
        expr = resource.block.attributes.get(name)
        return self._named(("resource", resource.address, name), expr, depth)

    def bucket_key(self, resource: Resource, depth: int = 0) -> str:
        """A bucket's (or storage account's, container's) name, or its address when unknown:
        the value that references to it evaluate to, so they can be matched by equality."""
        name_attribute = _IDENTITY.get(resource.type, ("name", {}))[0]
        value = self._named(
            ("resource", resource.address, name_attribute),
            resource.block.attributes.get(name_attribute),
            depth,
        )
        return value if isinstance(value, str) and known(value) else resource.address

    def display_name(self, resource: Resource) -> str:
        """The bucket's name as far as it is known ("acme-${?}-weights"), or its address."""
        name_attribute = _IDENTITY.get(resource.type, ("name", {}))[0]
        value = self.attribute(resource, name_attribute)
        if isinstance(value, str) and value != MARK:
            return value
        prefix = self.attribute(resource, "bucket_prefix")
        return f"{prefix}{MARK}" if isinstance(prefix, str) else resource.address

    def _data(self, kind: str, name: str, attribute: str, depth: int) -> Any:
        found = self.module.data.get((kind, name))
        if not found:
            return UNKNOWN
        key = ("data", kind, name)
        if key not in self.memo:
            if key in self.active:
                return UNKNOWN
            self.active.add(key)
            try:
                build = _POLICY_DOCUMENTS[kind]
                document = build(self, found[0].block, depth + 1)
            finally:
                self.active.discard(key)
            self.memo[key] = to_json(document)
        if attribute in ("json", "minified_json", "policy_data"):
            return self.memo[key]
        return UNKNOWN

    def _call(self, name: str, args: list[Any]) -> Any:
        function = _FUNCTIONS.get(name)
        if function is None:
            return UNKNOWN
        if name not in _TOLERANT and any(a is UNKNOWN for a in args):
            return UNKNOWN
        try:
            return function(*args)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, RecursionError):
            return UNKNOWN  # wrong arguments: Terraform would stop here too

    def _heredoc(self, body: str, depth: int) -> Any:
        def substitute(m: re.Match[str]) -> str:
            ref = _SIMPLE_REF.fullmatch(m.group(1))
            if ref is None:
                return MARK
            words = re.findall(r"[A-Za-z_][\w-]*|\[\d+\]", ref.group(1))
            steps = tuple(
                ("index", ("lit", int(w[1:-1]))) if w.startswith("[") else ("attr", w)
                for w in words[1:]
            )
            return _text(self._path(("id", words[0]), steps, depth + 1))

        text = re.sub(r"(?<!\$)\$\{([^{}]*)\}", substitute, body)
        return _bounded(text.replace("$${", "${").replace("%%{", "%{"))


# Storage resources: the attribute holding the name, and the identity attributes built from it.
_IDENTITY: dict[str, tuple[str, dict[str, str]]] = {
    "aws_s3_bucket": (
        "bucket",
        {
            "id": "{}",
            "bucket": "{}",
            "arn": "arn:aws:s3:::{}",
            "bucket_domain_name": "{}.s3.amazonaws.com",
        },
    ),
    "google_storage_bucket": ("name", {"id": "{}", "name": "{}", "url": "gs://{}"}),
    "azurerm_storage_account": (
        "name",
        {
            "id": f"/subscriptions/{MARK}/resourceGroups/{MARK}/providers/Microsoft.Storage"
            "/storageAccounts/{}",
            "name": "{}",
        },
    ),
    "azurerm_storage_container": ("name", {"id": "{}", "name": "{}"}),
}


def _aws_policy_document(ev: Evaluator, block: Block, depth: int) -> Any:
    """`data "aws_iam_policy_document"` as the IAM JSON it renders to."""
    statements: list[Any] = []
    for source in ("source_policy_documents", "source_json"):
        for text in _as_list(ev.value(block.attributes.get(source, ("lit", None)), depth)):
            statements.extend(_statements_of(text))
    for statement in block.children("statement"):
        rendered: dict[str, Any] = {
            "Effect": ev.value(statement.attributes.get("effect", ("lit", "Allow")), depth)
        }
        for attribute, key in (
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
        ):
            if attribute in statement.attributes:
                rendered[key] = ev.value(statement.attributes[attribute], depth)
        for blocks, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            principals = _principals(ev, statement.children(blocks), depth)
            if principals is not None:
                rendered[key] = principals
        conditions: dict[str, Any] = {}
        for condition in statement.children("condition"):
            test = _text(ev.value(condition.attributes.get("test", UNKNOWN_EXPR), depth))
            variable = _text(ev.value(condition.attributes.get("variable", UNKNOWN_EXPR), depth))
            conditions.setdefault(test, {})[variable] = ev.value(
                condition.attributes.get("values", UNKNOWN_EXPR), depth
            )
        if conditions:
            rendered["Condition"] = conditions
        statements.append(rendered)
    return {"Version": "2012-10-17", "Statement": statements}


def _principals(ev: Evaluator, blocks: list[Block], depth: int) -> Any:
    if not blocks:
        return None
    out: dict[str, list[Any]] = {}
    for block in blocks:
        kind = _text(ev.value(block.attributes.get("type", UNKNOWN_EXPR), depth))
        identifiers = _as_list(ev.value(block.attributes.get("identifiers", UNKNOWN_EXPR), depth))
        if kind == "*" and "*" in identifiers:
            return "*"  # how AWS renders type "*": anyone
        out.setdefault(kind, []).extend(identifiers)
    return out


def _google_policy(ev: Evaluator, block: Block, depth: int) -> Any:
    """`data "google_iam_policy"` as the policy_data JSON it renders to."""
    bindings = [
        {
            "role": ev.value(b.attributes.get("role", UNKNOWN_EXPR), depth),
            "members": ev.value(b.attributes.get("members", UNKNOWN_EXPR), depth),
        }
        for b in block.children("binding")
    ]
    return {"bindings": bindings}


_POLICY_DOCUMENTS: dict[str, Callable[[Evaluator, Block, int], Any]] = {
    "aws_iam_policy_document": _aws_policy_document,
    "google_iam_policy": _google_policy,
}


def _statements_of(text: Any) -> list[Any]:
    document = parse_json(text)
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        return [statements]
    return statements if isinstance(statements, list) else []


def parse_json(value: Any) -> Any:
    """A policy as data: a JSON string parsed, a value from jsonencode kept; else None."""
    if isinstance(value, (dict, list)):
        return value
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None


def to_json(value: Any) -> Any:
    """jsonencode: UNKNOWN parts written as MARK; UNKNOWN when the value is too large."""
    budget = [_MAX_ITEMS]

    def plain(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > _MAX_DEPTH:
            raise OverflowError
        if isinstance(item, dict):
            return {str(k): plain(v, depth + 1) for k, v in item.items()}
        if isinstance(item, list):
            return [plain(v, depth + 1) for v in item]
        return MARK if item is UNKNOWN else item

    try:
        return _bounded(json.dumps(plain(value, 0)))
    except OverflowError:
        return UNKNOWN


def strings(value: Any) -> Iterator[str]:
    """Every string inside a value (bounded), for searches such as allUsers."""
    stack, count = [value], 0
    while stack and count < _MAX_ITEMS:
        item = stack.pop()
        count += 1
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None or value is UNKNOWN else [value]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "" if value is None else MARK


def _bounded(text: str) -> Any:
    return text if len(text) <= _MAX_STRING else UNKNOWN


def _binary(operator: str, left: Any, right: Any) -> Any:
    if operator in ("==", "!="):
        if not (known(left) and known(right)):
            return UNKNOWN
        return (left == right) == (operator == "==")
    if operator in ("&&", "||"):
        if isinstance(left, bool) and isinstance(right, bool):
            return (left and right) if operator == "&&" else (left or right)
        if operator == "&&" and (left is False or right is False):
            return False
        if operator == "||" and (left is True or right is True):
            return True
        return UNKNOWN
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    if not numbers:
        return UNKNOWN
    try:
        return _ARITHMETIC[operator](left, right)
    except (KeyError, ZeroDivisionError, OverflowError):
        return UNKNOWN


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b if abs(a) < 1e15 and abs(b) < 1e15 else UNKNOWN,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _unary(operator: str, value: Any) -> Any:
    if operator == "!" and isinstance(value, bool):
        return not value
    if operator == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return -value
    return UNKNOWN


def _format(spec: Any, *args: Any) -> Any:
    if not isinstance(spec, str):
        return UNKNOWN
    values = iter(args)

    def verb(m: re.Match[str]) -> str:
        return "%" if m.group() == "%%" else _text(next(values, UNKNOWN))

    return _bounded(re.sub(r"%%|%[-+# 0]*\d*(?:\.\d+)?[a-zA-Z]", verb, spec))


def _merge(*maps: Any) -> Any:
    out: dict[str, Any] = {}
    for item in maps:
        if not isinstance(item, dict):
            return UNKNOWN
        out.update(item)
    return out


def _concat(*lists: Any) -> Any:
    if not all(isinstance(item, list) for item in lists):
        return UNKNOWN
    return [v for item in lists for v in item][:_MAX_ITEMS]


def _join(separator: Any, *lists: Any) -> Any:
    items = [v for item in lists for v in (item if isinstance(item, list) else [UNKNOWN])]
    return _bounded(_text(separator).join(_text(v) for v in items[:_MAX_ITEMS]))


def _replace(text: Any, old: Any, new: Any) -> Any:
    if not all(isinstance(v, str) and known(v) for v in (text, old, new)):
        return UNKNOWN
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return UNKNOWN  # a regular expression in Terraform's syntax: not guessed at
    return _bounded(text.replace(old, new)) if old else text


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if isinstance(mapping, dict) and isinstance(key, str):
        return mapping.get(key, default[0] if default else UNKNOWN)
    return UNKNOWN


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is UNKNOWN:
            return UNKNOWN  # it might have been the non-empty one
        if value not in (None, ""):
            return value
    return UNKNOWN


def _try(*values: Any) -> Any:
    return next((v for v in values if v is not UNKNOWN), UNKNOWN)


def _string_function(function: Callable[[str], str]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        return function(value) if isinstance(value, str) else UNKNOWN

    return apply


def _element_at(items: Any, index: Any) -> Any:
    if isinstance(items, list) and items and isinstance(index, int):
        return items[index % len(items)]
    return UNKNOWN


def _same(value: Any) -> Any:
    return value


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": to_json,
    "jsondecode": lambda text: parse_json(text) if isinstance(text, str) else UNKNOWN,
    "merge": _merge,
    "concat": _concat,
    "format": _format,
    "join": _join,
    "replace": _replace,
    "lookup": _lookup,
    "coalesce": _coalesce,
    "try": _try,
    "element": _element_at,
    "lower": _string_function(str.lower),
    "upper": _string_function(str.upper),
    "trimspace": _string_function(str.strip),
    "compact": lambda items: (
        [v for v in items if v not in (None, "")] if isinstance(items, list) else UNKNOWN
    ),
    "tostring": _same,
    "tolist": _same,
    "toset": _same,
    "tomap": _same,
    "tobool": _same,
    "tonumber": _same,
    "sensitive": _same,
    "nonsensitive": _same,
}
# Functions that still say something when an argument is unknown.
_TOLERANT = frozenset({"jsonencode", "format", "join", "try", "coalesce"})
