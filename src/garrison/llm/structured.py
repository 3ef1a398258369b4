"""Structured output: the model's JSON must parse, stay within size and depth limits, and
conform to a JSON Schema (validated with jsonschema, the draft the schema declares).

One fenced ```json block around the JSON is accepted, as models often add it.
"""

from __future__ import annotations

import json
from typing import Any

from garrison.errors import MissingExtraError, UsageError
from garrison.findings import Location
from garrison.llm.rules import SCHEMA_VIOLATION
from garrison.llm.scanner import MAX_SCAN_CHARS, GuardContext, ScanResult, Verdict

MAX_ERRORS = 5


def json_depth(text: str) -> int:
    """Deepest bracket nesting of JSON `text`, counted outside strings, in one pass."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def unfence(text: str) -> str:
    """The body of one ```json fence around `text`, or `text` itself."""
    stripped = text.strip()
    if not (stripped.startswith("```") and stripped.endswith("```") and "\n" in stripped):
        return text
    first_line, _, rest = stripped.partition("\n")
    if len(first_line) > 20 or not rest.rstrip().endswith("```"):
        return text
    return rest.rstrip()[:-3]


def _validator_class(schema: dict[str, Any]) -> Any:
    try:
        import jsonschema
    except ImportError as exc:
        raise MissingExtraError("jsonschema", "llm") from exc
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise UsageError(f"invalid output schema: {exc.message}") from None
    return cls


class StructuredOutputGuard:
    """Blocks output that is not JSON, is too large or deep, or breaks `schema`."""

    name = "structured_output"

    def __init__(
        self, schema: dict[str, Any], max_chars: int = MAX_SCAN_CHARS, max_depth: int = 64
    ) -> None:
        if not isinstance(schema, dict):
            raise UsageError("the output schema must be a JSON object (a dict)")
        self.schema = schema
        self.max_chars = max_chars
        self.max_depth = max_depth
        self._validator = _validator_class(schema)(schema)

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        ctx = context or GuardContext()
        problems = self._problems(text)
        if not problems:
            return ScanResult(Verdict.ALLOW, 0.0, (), text, {}, self.name)
        findings = tuple(
            SCHEMA_VIOLATION.finding(ctx.asset, Location(), p) for p in problems[:MAX_ERRORS]
        )
        return ScanResult(Verdict.BLOCK, 1.0, findings, text, {"errors": len(problems)}, self.name)

    def _problems(self, text: str) -> list[str]:
        if len(text) > self.max_chars:
            return [f"output is {len(text)} characters, the limit is {self.max_chars}"]
        body = unfence(text)
        depth = json_depth(body)
        if depth > self.max_depth:
            return [f"JSON nests {depth} levels, the limit is {self.max_depth}"]
        try:
            value = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return [f"not JSON: {str(exc)[:120]}"]
        errors = []
        for error in self._validator.iter_errors(value):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            errors.append(f"{where}: {error.message[:200]}")
            if len(errors) >= MAX_ERRORS:
                break
        return errors
