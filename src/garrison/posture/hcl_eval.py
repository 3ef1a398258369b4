"""The Evaluator: values of a Terraform module's expressions, policy documents included.

`var.` from variable defaults and tfvars, `local.` from locals blocks, references between
storage resources (a bucket's arn, id or name from its name), string templates, heredocs,
common functions (hcl_values.py) and policy documents (`data "aws_iam_policy_document"`,
`data "google_iam_policy"`). A resource (or module call) with a known `for_each` or `count`
has instances, each evaluated with its `each.key`/`each.value` or `count.index`, and
`aws_s3_bucket.m["k"]` names one of them. Evaluation is bounded in steps and depth; a reference
cycle is UNKNOWN.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from garrison.posture.hcl_syntax import MAX_DEPTH, UNKNOWN_EXPR, Block, Expr, Module, Resource
from garrison.posture.hcl_values import (
    FUNCTIONS,
    MARK,
    TOLERANT,
    UNKNOWN,
    as_text,
    binary,
    bounded,
    known,
    parse_json,
    to_json,
    unary,
)

_MAX_STEPS = 100_000  # evaluation steps for one file
MAX_INSTANCES = 64  # instances of one for_each or count; more are judged as one, unknown
_SIMPLE_REF = re.compile(r"\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*)\s*")


class Evaluator:
    """Values of a module's expressions, memoised, within a budget of steps."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.steps = _MAX_STEPS
        self.memo: dict[tuple[str, ...], Any] = {}
        self.active: set[tuple[str, ...]] = set()
        self.bindings: dict[str, Any] = {}  # each and count of the instance being evaluated
        self.expanded: dict[int, list[Resource]] = {}

    def attribute(self, resource: Resource, name: str, default: Any = None) -> Any:
        expr = resource.block.attributes.get(name)
        if expr is None:
            return default
        with self.within(resource):
            return self.value(expr)

    @contextmanager
    def within(self, resource: Resource | None) -> Iterator[None]:
        """Evaluate in the scope of one instance: its each.key/each.value or count.index."""
        saved = self.bindings
        if resource is None or resource.key is None:
            self.bindings = {}
        elif isinstance(resource.key, int):
            self.bindings = {"count": {"index": resource.key}}
        else:
            self.bindings = {"each": {"key": resource.key, "value": resource.value}}
        try:
            yield
        finally:
            self.bindings = saved

    def instances(self, resource: Resource, depth: int = 0) -> list[Resource]:
        """The instances of a block: none for `count = 0` or an empty `for_each`, one per key
        when the collection is known and small, else the block itself (judged as unknown)."""
        if resource.key is not None or depth > MAX_DEPTH:
            return [resource]
        key = id(resource.block)
        if key not in self.expanded:
            self.expanded[key] = [resource]  # while expanding: a cycle sees the block itself
            self.expanded[key] = self._expand(resource, depth + 1)
        return self.expanded[key]

    def _expand(self, resource: Resource, depth: int) -> list[Resource]:
        attributes = resource.block.attributes
        if "for_each" in attributes:
            with self.within(None):
                collection = self.value(attributes["for_each"], depth)
            if isinstance(collection, list):  # toset([...]): the strings are the keys
                collection = {v: v for v in collection} if all(map(_plain, collection)) else None
            if not isinstance(collection, dict) or not all(map(_plain, collection)):
                return [resource]
            if len(collection) > MAX_INSTANCES:
                return [resource]
            return [dataclasses.replace(resource, key=k, value=v) for k, v in collection.items()]
        if "count" in attributes:
            with self.within(None):
                count = self.value(attributes["count"], depth)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                return [resource]
            if count > MAX_INSTANCES:
                return [resource]
            return [dataclasses.replace(resource, key=i) for i in range(count)]
        return [resource]

    def value(self, expr: Expr, depth: int = 0) -> Any:
        self.steps -= 1
        if self.steps <= 0 or depth > MAX_DEPTH:
            return UNKNOWN
        kind = expr[0]
        if kind == "lit":
            return expr[1]
        if kind == "tmpl":
            return bounded(
                "".join(
                    as_text(self.value(p, depth + 1)) if isinstance(p, tuple) else p
                    for p in expr[1]
                )
            )
        if kind == "list":
            return [self.value(e, depth + 1) for e in expr[1]]
        if kind == "obj":
            out: dict[str, Any] = {}
            for key, item in expr[1]:
                out[as_text(self.value(key, depth + 1))] = self.value(item, depth + 1)
            return out
        if kind == "path":
            return self._path(expr[1], expr[2], depth + 1)
        if kind == "cond":
            test = self.value(expr[1], depth + 1)
            if isinstance(test, bool):
                return self.value(expr[2] if test else expr[3], depth + 1)
            return UNKNOWN
        if kind == "bin":
            return binary(expr[1], self.value(expr[2], depth + 1), self.value(expr[3], depth + 1))
        if kind == "un":
            return unary(expr[1], self.value(expr[2], depth + 1))
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
            with self.within(None):
                found = self._named((root, steps[0][1]), table.get(steps[0][1]), depth)
            return self._apply(found, steps[1:], depth)
        if root in ("each", "count"):
            return self._apply(self.bindings.get(root, UNKNOWN), steps, depth)
        if root == "data" and len(names) >= 3 and steps[0][0] == steps[1][0] == "attr":
            rest = [s for s in steps[2:] if s[0] == "attr"]
            value = self._data(steps[0][1], steps[1][1], str(rest[0][1]) if rest else "", depth)
            return self._apply(value, tuple(rest[1:]), depth)
        if root is not None and steps and steps[0][0] == "attr":
            resource = self.resource(root, steps[0][1])
            if resource is None:
                return UNKNOWN  # path, module, or a resource not kept here
            resource, after = self._instance(resource, steps[1:], depth)
            if not after:
                return self._objects(resource, depth)
            if after[0][0] != "attr":
                return UNKNOWN
            return self._apply(
                self.resource_attribute(resource, after[0][1], depth), after[1:], depth
            )
        if root is not None:
            return UNKNOWN
        return self._apply(self.value(base, depth), steps, depth)

    def _instance(
        self, resource: Resource, steps: tuple[Expr, ...], depth: int
    ) -> tuple[Resource, tuple[Expr, ...]]:
        """The instance an index names (`m["k"]`, `m[0]`) and the steps after it; without a
        known instance, the block itself, whose name stands for every instance's."""
        if not steps or steps[0][0] != "index":
            return resource, steps
        key = self.value(steps[0][1], depth + 1)
        found = [i for i in self.instances(resource, depth) if i.key is not None and i.key == key]
        return (found[0] if found else resource), steps[1:]

    def _objects(self, resource: Resource, depth: int) -> Any:
        """`aws_s3_bucket.m` as a value (`for_each = aws_s3_bucket.m`): its identity attributes,
        by instance key when it has instances."""
        identity = _IDENTITY.get(resource.type)
        if identity is None:
            return UNKNOWN

        def attributes(instance: Resource) -> dict[str, Any]:
            return {n: self.resource_attribute(instance, n, depth + 1) for n in identity[1]}

        repeated = {"for_each", "count"} & resource.block.attributes.keys()
        instances = self.instances(resource, depth + 1)
        if resource.key is not None or not repeated:
            return attributes(resource)
        if instances == [resource]:
            return UNKNOWN  # a collection not known here
        if "for_each" in repeated:
            return {str(i.key): attributes(i) for i in instances}
        return [attributes(i) for i in instances]

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
        with self.within(resource):
            return self._named(("resource", resource.address, name), expr, depth)

    def bucket_key(self, resource: Resource, depth: int = 0) -> str:
        """A bucket's (or storage account's, container's) name, or its address when unknown:
        the value that references to it evaluate to, so they can be matched by equality."""
        name_attribute = _IDENTITY.get(resource.type, ("name", {}))[0]
        with self.within(resource):
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
                with self.within(None):
                    document = build(self, found[0].block, depth + 1)
            finally:
                self.active.discard(key)
            self.memo[key] = to_json(document)
        if attribute in ("json", "minified_json", "policy_data"):
            return self.memo[key]
        return UNKNOWN

    def _call(self, name: str, args: list[Any]) -> Any:
        function = FUNCTIONS.get(name)
        if function is None:
            return UNKNOWN
        if name not in TOLERANT and any(a is UNKNOWN for a in args):
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
            return as_text(self._path(("id", words[0]), steps, depth + 1))

        text = re.sub(r"(?<!\$)\$\{([^{}]*)\}", substitute, body)
        return bounded(text.replace("$${", "${").replace("%%{", "%{"))


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
            test = as_text(ev.value(condition.attributes.get("test", UNKNOWN_EXPR), depth))
            variable = as_text(ev.value(condition.attributes.get("variable", UNKNOWN_EXPR), depth))
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
        kind = as_text(ev.value(block.attributes.get("type", UNKNOWN_EXPR), depth))
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


def _plain(key: Any) -> bool:
    """A key an instance can have: a known string."""
    return isinstance(key, str) and known(key)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None or value is UNKNOWN else [value]
