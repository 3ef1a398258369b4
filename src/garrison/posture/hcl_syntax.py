"""hcl2's parse tree as plain data: expressions (nested tuples), blocks, a module's declarations.

An expression is small and hashable (("lit", "x"), ("path", ("id", "var"), (("attr", "env"),)),
("call", "format", (...)) ...), so a parsed file can be cached; what is not modelled here
(splats, for expressions, template directives) is UNKNOWN_EXPR. Evaluation is hcl_eval.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Token, Tree

MAX_DEPTH = 48  # nesting of expressions and chains of references
_PUNCTUATION = frozenset(
    {
        "DBLQUOTE", "LBRACE", "RBRACE", "LSQB", "RSQB", "LPAR", "RPAR", "COMMA", "EQ", "COLON",
        "QMARK", "DOT", "INTERP_START", "COLONS", "FOR_OBJECT_ARROW",
    }
)  # fmt: skip

Expr = tuple[Any, ...]
UNKNOWN_EXPR: Expr = ("unknown",)


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
    """A resource, data or module block; `own`: declared in the file being analysed. `key`
    is the instance of a `for_each` (a string, with `each.value` in `value`) or of a `count`
    (an int); None for the block itself."""

    type: str
    name: str
    block: Block
    own: bool
    key: str | int | None = None
    value: Any = None

    @property
    def address(self) -> str:
        base = f"{self.type}.{self.name}"
        if self.key is None:
            return base
        return f'{base}["{self.key}"]' if isinstance(self.key, str) else f"{base}[{self.key}]"


@dataclass(slots=True)
class Module:
    """What a module declares: variable values (defaults, then tfvars), locals, the storage
    resources, the data sources kept and the calls of other modules."""

    variables: dict[str, Expr] = field(default_factory=dict)
    locals: dict[str, Expr] = field(default_factory=dict)
    resources: dict[tuple[str, str], list[Resource]] = field(default_factory=dict)
    data: dict[tuple[str, str], list[Resource]] = field(default_factory=dict)
    calls: list[Resource] = field(default_factory=list)

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
            elif block.type == "module" and len(block.labels) == 1:
                self.calls.append(Resource("module", block.labels[0], block, own))

    def all_resources(self) -> Iterator[Resource]:
        for found in self.resources.values():
            yield from found


def trees(node: Tree[Token]) -> Iterator[Tree[Token]]:
    for child in node.children:
        if not isinstance(child, str):
            yield child


def significant(node: Tree[Token]) -> list[Any]:
    """Children without punctuation, newlines and comments."""
    out: list[Any] = []
    for child in node.children:
        if isinstance(child, str):
            if child.type not in _PUNCTUATION:
                out.append(child)
        elif child.data != "new_line_or_comment":
            out.append(child)
    return out


def name_of(node: Any) -> str:
    """An attribute or block name: an identifier, a keyword or a literal written bare."""
    if isinstance(node, str):
        return str(node)
    tokens = [str(t) for t in node.scan_values(lambda v: isinstance(v, str))]
    return tokens[0] if tokens else ""


def label_of(node: Any) -> str:
    if isinstance(node, str):
        return str(node)
    if node.data == "string":
        return "".join(str(p.children[0]) for p in trees(node) if isinstance(p.children[0], str))
    return name_of(node)


def expression(node: Any, depth: int) -> Expr:
    """An hcl2 expression tree as nested tuples, small enough to cache."""
    if depth > MAX_DEPTH or isinstance(node, str):
        return UNKNOWN_EXPR
    kind = node.data
    parts = significant(node)
    if kind == "expr_term":
        return expression(parts[0], depth + 1) if len(parts) == 1 else UNKNOWN_EXPR
    if kind == "string":
        return _string(parts, depth)
    if kind in ("int_lit", "float_lit"):
        return _number(str(parts[0]), kind)
    if kind == "literal_value":
        return ("lit", {"true": True, "false": False}.get(str(parts[0])))
    if kind in ("identifier", "keyword"):
        return ("id", str(parts[0]))
    if kind == "tuple":
        return ("list", tuple(expression(p, depth + 1) for p in parts))
    if kind == "object":
        return ("obj", tuple(_element(p, depth + 1) for p in parts if not isinstance(p, str)))
    if kind == "conditional" and len(parts) == 3:
        return ("cond", *(expression(p, depth + 1) for p in parts))
    if kind == "binary_op" and len(parts) == 2 and len(significant(parts[1])) == 2:
        operator, right = significant(parts[1])
        return (
            "bin",
            name_of(operator),
            expression(parts[0], depth + 1),
            expression(right, depth + 1),
        )
    if kind == "unary_op" and len(parts) == 2:
        return ("un", str(parts[0]), expression(parts[1], depth + 1))
    if kind == "function_call":
        return _call(parts, depth)
    if kind in ("heredoc_template", "heredoc_template_trim"):
        return ("heredoc", _heredoc(str(parts[0]), trim=kind.endswith("trim")))
    if kind in ("get_attr_expr_term", "index_expr_term") and len(parts) == 2:
        return _traverse(expression(parts[0], depth + 1), _step(parts[1], depth + 1))
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
            pieces.append(expression(significant(inner)[0], depth + 1))
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
    parts = significant(node)
    key_node = parts[0]
    inner = significant(key_node)[0] if significant(key_node) else key_node
    key = expression(inner, depth)
    if key[0] == "id":  # a bare key is a name, not a reference
        key = ("lit", key[1])
    return key, expression(parts[-1], depth)


def _call(parts: list[Any], depth: int) -> Expr:
    names = [p for p in parts if not isinstance(p, str) and p.data == "identifier"]
    arguments = [p for p in parts if not isinstance(p, str) and p.data == "arguments"]
    if len(names) != 1:
        return UNKNOWN_EXPR  # provider::aws::arn_parse() and the like
    args = significant(arguments[0]) if arguments else []
    if any(isinstance(a, str) for a in args):
        return UNKNOWN_EXPR  # f(list...) expands a list into arguments
    return ("call", name_of(names[0]), tuple(expression(a, depth + 1) for a in args))


def _traverse(base: Expr, step: Expr) -> Expr:
    if base[0] == "path":
        return ("path", base[1], (*base[2], step))
    return ("path", base, (step,))


def _step(node: Tree[Token], depth: int) -> Expr:
    parts = significant(node)
    if node.data == "get_attr" and parts:
        return ("attr", name_of(parts[0]))
    if node.data == "short_index" and parts:
        return ("index", _number(str(parts[0]), "int_lit"))
    if node.data == "braces_index" and parts:
        return ("index", expression(parts[0], depth))
    return ("index", UNKNOWN_EXPR)


def _heredoc(token: str, trim: bool) -> str:
    lines = token.split("\n")
    body = lines[1:-2] if len(lines) >= 3 else []  # drop <<EOT, the closing EOT and the end
    if trim:
        indents = [len(line) - len(line.lstrip()) for line in body if line.strip()]
        cut = min(indents, default=0)
        body = [line[cut:] for line in body]
    return "\n".join(body) + ("\n" if body else "")
