"""A Terraform module read with python-hcl2 and evaluated just far enough to name its buckets.

A .tf file is read together with the other .tf files and the *.tfvars of its directory (one
module): `var.` from variable defaults and tfvars, `local.` from locals blocks, string
templates, common functions (jsonencode, merge, format...), policy documents
(`data "aws_iam_policy_document"`, `data "google_iam_policy"`) and references between
storage resources, the instances of a known `for_each` or `count`. Whatever cannot be known
here (a variable without a value, `each.key` of an unknown `for_each`, a provider-computed
attribute) evaluates to UNKNOWN, and a string that contains one to text with `${?}` in its
place. Every count, size and depth is bounded; a reference cycle is UNKNOWN. Calls of local
child modules are followed by hcl_modules.py.

This module loads a module directory (siblings, tfvars precedence, a parse cache) and is the
entry point: the parse tree as data is hcl_syntax.py's, values and functions hcl_values.py's,
the Evaluator hcl_eval.py's; their public names are re-exported here.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from garrison.posture.hcl_eval import Evaluator
from garrison.posture.hcl_syntax import (
    MAX_DEPTH,
    UNKNOWN_EXPR,
    Block,
    Expr,
    Module,
    Resource,
    expression,
    label_of,
    name_of,
    significant,
    trees,
)
from garrison.posture.hcl_values import MARK, UNKNOWN, known, parse_json, strings, to_json

if TYPE_CHECKING:
    from lark import Token, Tree

__all__ = [
    "MARK",
    "MAX_HCL_BYTES",
    "MAX_MODULE_BYTES",
    "MAX_MODULE_FILES",
    "UNKNOWN",
    "UNKNOWN_EXPR",
    "Block",
    "Evaluator",
    "Expr",
    "Module",
    "Resource",
    "known",
    "load_module",
    "parse_json",
    "strings",
    "to_json",
]

log = logging.getLogger(__name__)

# hcl2 parses at 2-5 ms per KiB: larger files are left to the patterns of buckets.py.
MAX_HCL_BYTES = 512 << 10
MAX_MODULE_FILES = 64  # a directory with more .tf/.tfvars files is read file by file
MAX_MODULE_BYTES = 2 << 20  # other files of the module read, in all

# Blocks worth keeping: storage resources and the policy documents they can point at.
_RESOURCE_PREFIXES = ("aws_s3_", "google_storage_", "azurerm_storage_")
_DATA_TYPES = ("aws_iam_policy_document", "google_iam_policy")


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
    yield from module_files(directory or ".", own, max_bytes)


def module_files(directory: str, own: str, max_bytes: int) -> Iterator[tuple[str, str]]:
    """(name, text) of the .tf and .tfvars files of a directory but `own`, bounded in number
    and bytes; links are not followed."""
    try:
        with os.scandir(directory) as it:
            entries = sorted((e for e in it if _module_file(e.name)), key=lambda e: e.name)
    except OSError as exc:
        log.debug("module %s not read: %s", directory, exc)
        return
    if len(entries) > MAX_MODULE_FILES:
        log.debug("module %s has %d files: not read as a module", directory, len(entries))
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


def declarations(text: str) -> tuple[Block, ...] | str:
    """The blocks of one .tf file worth keeping (module calls included), or why it does not
    parse; a large file is not parsed."""
    if len(text) > MAX_HCL_BYTES:
        return f"larger than {MAX_HCL_BYTES >> 10} KiB"
    return _declarations(text)


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
    if block_type == "module":
        return len(labels) == 1
    if block_type == "resource" and labels:
        return labels[0].startswith(_RESOURCE_PREFIXES)
    return block_type == "data" and bool(labels) and labels[0] in _DATA_TYPES


def _body(
    node: Tree[Token], depth: int, keep_all: bool
) -> tuple[dict[str, Expr], tuple[Block, ...]]:
    attributes: dict[str, Expr] = {}
    blocks: list[Block] = []
    for child in trees(node):
        if child.data == "attribute":
            parts = significant(child)
            if len(parts) >= 2:
                attributes[name_of(parts[0])] = expression(parts[-1], depth + 1)
        elif child.data == "block" and depth < MAX_DEPTH:
            block = _block(child, depth, keep_all)
            if block is not None:
                blocks.append(block)
    return attributes, tuple(blocks)


def _block(node: Tree[Token], depth: int, keep_all: bool) -> Block | None:
    parts = significant(node)
    body = parts[-1] if parts else None
    if body is None or isinstance(body, str) or body.data != "body":
        return None
    kind = name_of(parts[0])
    labels = [label_of(p) for p in parts[1:-1]]
    if not keep_all and not _wanted(kind, labels):
        return None
    attributes, blocks = _body(body, depth + 1, keep_all=True)
    line = 0 if node.meta.empty else node.meta.line
    return Block(kind, tuple(labels), attributes, blocks, line)
