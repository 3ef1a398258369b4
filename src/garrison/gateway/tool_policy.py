"""Tool-call policy for agents: which tools a key may offer, and which calls an answer may carry.

A request may offer only the tools its key allows (`ApiKey.tools`, else the policy's
`default_tools`; None allows any). Each call in an answer must name an allowed tool that the
request offered, carry arguments that are a bounded JSON object without duplicate keys, and
pass the tool's rule: a JSON Schema, regular expressions, and a host allowlist for URLs.
Calls past `max_calls` in one message are violations too. In "block" mode any violation
refuses the answer; in "strip" mode the violating calls are removed and the rest is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from garrison.errors import MissingExtraError
from garrison.llm.structured import json_depth

if TYPE_CHECKING:  # keys.py loads SQLAlchemy; the policy file's parser must stay light
    from garrison.gateway.keys import ApiKey

# Violation.rule values.
NOT_ALLOWED = "tool.not_allowed"  # the key may not use this tool
NOT_OFFERED = "tool.not_offered"  # the answer calls a tool the request did not offer
MALFORMED = "tool.malformed"  # a tool or call without a usable name
ARGUMENTS = "tool.arguments"  # arguments are not a bounded JSON object
SCHEMA = "tool.schema"
PATTERN = "tool.pattern"
DOMAIN = "tool.domain"
TOO_MANY = "tool.too_many"

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.:-]")
_URL_START = re.compile(r"(?i)^[a-z][a-z0-9+.-]{0,15}://")
_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_URL_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule; `message` names the tool and argument, never an argument's value."""

    tool: str
    rule: str
    message: str
    call: int | None = None  # index of the call in its message; None for an offered tool


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: str | None  # the JSON text the model wrote; None when the call kind has none
    kind: str = "function"


def safe_name(name: object) -> str:
    """A tool name fit for a message: printable identifier characters, 64 at most."""
    return _SAFE_NAME.sub("?", str(name))[:64] or "?"


class ToolRule(BaseModel):
    """What the arguments of one tool must satisfy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("", description="the tool's name; filled from the policy's rules table")
    parameters_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema the arguments object must conform to"
    )
    patterns: dict[str, str] = Field(
        default_factory=dict,
        description="argument (dotted path) -> regex its string value must fully match",
    )
    url_args: tuple[str, ...] = Field(
        (), description="arguments (dotted paths) that must be http(s) URLs to an allowed host"
    )
    allowed_domains: tuple[str, ...] = Field(
        (),
        description="hosts URLs may reach: 'example.com' exactly; '.example.com' also its "
        "subdomains. When set, every argument value that is a URL is checked",
    )

    _validator: Any = PrivateAttr(None)
    _patterns: dict[str, re.Pattern[str]] = PrivateAttr(default_factory=dict)

    @field_validator("parameters_schema")
    @classmethod
    def _schema_is_valid(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            import jsonschema

            try:
                _validator_class(schema).check_schema(schema)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"invalid parameters_schema: {exc.message}") from None
        return schema

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: dict[str, str]) -> dict[str, str]:
        for arg, pattern in patterns.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern for {arg!r} does not compile: {exc}") from None
        return patterns

    @field_validator("allowed_domains")
    @classmethod
    def _domains_are_hosts(cls, domains: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(d.strip().lower().rstrip(".") for d in domains)
        for d in cleaned:
            if not d.lstrip(".") or "/" in d or "@" in d or ":" in d or d.startswith(".."):
                raise ValueError(f"{d!r} is not a host name (e.g. 'api.example.com')")
        return cleaned

    def model_post_init(self, context: Any, /) -> None:
        # Compiled once per rule: checking a call then costs no schema or regex compilation.
        if self.parameters_schema is not None:
            cls = _validator_class(self.parameters_schema)
            self._validator = cls(self.parameters_schema, format_checker=cls.FORMAT_CHECKER)
        self._patterns = {arg: re.compile(p) for arg, p in self.patterns.items()}

    def check(self, args: dict[str, Any], tool: str, call: int) -> list[Violation]:
        """Violations of this rule by the parsed arguments `args` of call number `call`."""
        out: list[Violation] = []
        if self._validator is not None:
            for error in self._validator.iter_errors(args):
                where = "/".join(str(p) for p in error.absolute_path) or "(arguments)"
                out.append(
                    Violation(
                        tool, SCHEMA, f"{tool}: {safe_name(where)} fails '{error.validator}'", call
                    )
                )
                if len(out) >= 5:
                    break
        for arg, pattern in self._patterns.items():
            for value in values_at(args, arg):
                if not (isinstance(value, str) and pattern.fullmatch(value)):
                    message = f"{tool}: argument '{safe_name(arg)}' does not match its pattern"
                    out.append(Violation(tool, PATTERN, message, call))
                    break
        out += self._check_urls(args, tool, call)
        return out

    def _check_urls(self, args: dict[str, Any], tool: str, call: int) -> list[Violation]:
        out: list[Violation] = []
        for arg in self.url_args:
            for value in values_at(args, arg):
                problem = url_problem(value, self.allowed_domains)
                if problem:
                    message = f"{tool}: argument '{safe_name(arg)}' {problem}"
                    out.append(Violation(tool, DOMAIN, message, call))
                    break
        if self.allowed_domains and not out:
            # URLs in arguments the rule did not name reach the network just as well.
            for path, value in _strings(args, ""):
                if _URL_START.match(value.lstrip()):
                    problem = url_problem(value, self.allowed_domains)
                    if problem:
                        message = f"{tool}: argument '{safe_name(path)}' {problem}"
                        out.append(Violation(tool, DOMAIN, message, call))
                        break
        return out


class ToolPolicy(BaseModel):
    """Which tools keys may offer and what calls answers may carry (see the module doc)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["block", "strip"] = Field(
        "block", description="block: refuse an answer with a violating call; strip: remove the call"
    )
    max_calls: int = Field(8, ge=0, le=1024, description="tool calls one message may carry")
    default_tools: tuple[str, ...] | None = Field(
        None, description="tools a key without its own list may offer; None: any tool"
    )
    rules: dict[str, ToolRule] = Field(default_factory=dict, description="tool name -> rule")
    max_argument_bytes: int = Field(
        65536, ge=2, description="largest arguments JSON of one call, in UTF-8 bytes"
    )
    max_argument_depth: int = Field(32, ge=1, description="deepest nesting of arguments JSON")

    @model_validator(mode="after")
    def _rule_names(self) -> ToolPolicy:
        for name, rule in self.rules.items():
            if rule.name and rule.name != name:
                raise ValueError(f"rule {name!r} names another tool ({rule.name!r})")
        return self

    def allowed_tools(self, key: ApiKey | None) -> frozenset[str] | None:
        """The tools `key` may use; None: any."""
        tools = key.tools if key is not None and key.tools is not None else self.default_tools
        return None if tools is None else frozenset(tools)

    def check_offered(self, body: dict[str, Any], key: ApiKey | None) -> list[Violation]:
        """Violations by the tools (and legacy functions) a request offers."""
        allowed = self.allowed_tools(key)
        out: list[Violation] = []
        for name in _offered_names(body):
            if name is None:
                out.append(Violation("?", MALFORMED, "a tool in the request has no name"))
            elif allowed is not None and name not in allowed:
                tool = safe_name(name)
                out.append(Violation(tool, NOT_ALLOWED, f"this key may not offer tool '{tool}'"))
        return out

    def strip_offered(self, body: dict[str, Any], key: ApiKey | None) -> dict[str, Any]:
        """`body` without the tools `key` may not offer (and a tool_choice naming one)."""
        allowed = self.allowed_tools(key)
        out = dict(body)
        for field in ("tools", "functions"):
            items = body.get(field)
            if not isinstance(items, list):
                continue
            kept = [t for t in items if _usable(_tool_name(t, field), allowed)]
            if kept:
                out[field] = kept
            else:
                out.pop(field)
        for field, items_field in (("tool_choice", "tools"), ("function_call", "functions")):
            choice = out.get(field)
            named = isinstance(choice, dict) and not _usable(
                _tool_name(choice, items_field), allowed
            )
            if named or (items_field not in out and field in out):
                out.pop(field)  # upstreams refuse a choice of a tool they were not offered
        if "tools" not in out:
            out.pop("parallel_tool_calls", None)
        return out

    def check_calls(
        self,
        calls: Sequence[ToolCall | None],
        key: ApiKey | None,
        offered: Collection[str] | None = None,
    ) -> list[list[Violation]]:
        """Per call, its violations; None stands for a call without a usable name."""
        allowed = self.allowed_tools(key)
        out: list[list[Violation]] = []
        for i, call in enumerate(calls):
            if call is None:
                out.append([Violation("?", MALFORMED, "a tool call has no name", i)])
                continue
            found = self._check_call(call, i, allowed, offered)
            if i >= self.max_calls:
                message = f"{len(calls)} tool calls in one message, the limit is {self.max_calls}"
                found.append(Violation(safe_name(call.name), TOO_MANY, message, i))
            out.append(found)
        return out

    def _check_call(
        self,
        call: ToolCall,
        i: int,
        allowed: frozenset[str] | None,
        offered: Collection[str] | None,
    ) -> list[Violation]:
        tool = safe_name(call.name)
        if allowed is not None and call.name not in allowed:
            return [Violation(tool, NOT_ALLOWED, f"this key may not call tool '{tool}'", i)]
        if offered is not None and call.name not in offered:
            return [Violation(tool, NOT_OFFERED, f"tool '{tool}' was not offered", i)]
        rule = self.rules.get(call.name)
        if call.kind != "function" or call.arguments is None:
            if rule is None:
                return []
            return [
                Violation(tool, ARGUMENTS, f"{tool}: a {call.kind} call's input is unchecked", i)
            ]
        args, problem = self.parse_arguments(call.arguments)
        if args is None:
            return [Violation(tool, ARGUMENTS, f"{tool}: arguments {problem}", i)]
        return [] if rule is None else rule.check(args, tool, i)

    def parse_arguments(self, text: str) -> tuple[dict[str, Any] | None, str]:
        """The arguments object, or None and why: size and depth are bounded before parsing."""
        if not text.strip():
            return {}, ""  # some servers send "" for a call without arguments
        if len(text) > self.max_argument_bytes or len(text.encode()) > self.max_argument_bytes:
            return None, f"exceed {self.max_argument_bytes} bytes"
        if json_depth(text) > self.max_argument_depth:
            return None, f"nest deeper than {self.max_argument_depth} levels"
        try:
            value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            return None, "are not valid JSON"
        if not isinstance(value, dict):
            return None, "are not a JSON object"
        return value, ""

    def check_message(
        self, message: dict[str, Any], key: ApiKey | None, offered: Collection[str] | None = None
    ) -> tuple[list[Violation], dict[str, Any]]:
        """Violations by a chat message's tool calls, and the message to send on.

        In strip mode the message comes back without its violating calls; otherwise (and
        when nothing is wrong) it is `message` itself.
        """
        tool_calls = message.get("tool_calls")
        calls = list(tool_calls) if isinstance(tool_calls, list) else []
        legacy = message.get("function_call")
        parsed = [call_from_message(c) for c in calls]
        if legacy is not None:
            parsed.append(call_from_message({"type": "function", "function": legacy}))
        if not parsed:
            return [], message
        per_call = self.check_calls(parsed, key, offered)
        violations = [v for found in per_call for v in found]
        if not violations or self.mode == "block":
            return violations, message
        out = dict(message)
        kept = [c for c, found in zip(calls, per_call, strict=False) if not found]
        if kept:
            out["tool_calls"] = kept
        else:
            out.pop("tool_calls", None)
        if legacy is not None and per_call[-1]:
            out.pop("function_call")
        return violations, out

    def check_response(
        self, body: dict[str, Any], key: ApiKey | None, offered: Collection[str] | None = None
    ) -> tuple[list[Violation], dict[str, Any]]:
        """`check_message` over every choice of a chat completion; a choice left with no call
        finishes with "stop" instead of "tool_calls"."""
        choices = body.get("choices")
        if not isinstance(choices, list):
            return [], body
        violations: list[Violation] = []
        new_choices: list[Any] = []
        for choice in choices:
            message = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(message, dict):
                new_choices.append(choice)
                continue
            found, new_message = self.check_message(message, key, offered)
            violations += found
            if new_message is message:
                new_choices.append(choice)
                continue
            new_choices.append(
                finish_without_calls({**choice, "message": new_message}, new_message)
            )
        if not violations or self.mode == "block":
            return violations, body
        return violations, {**body, "choices": new_choices}


def finish_without_calls(choice: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """`choice` finishing with "stop" when its calls were all stripped."""
    reason = choice.get("finish_reason")
    if reason in ("tool_calls", "function_call") and not (
        message.get("tool_calls") or message.get("function_call")
    ):
        return {**choice, "finish_reason": "stop"}
    return choice


def call_from_message(call: Any) -> ToolCall | None:
    """A ToolCall from one entry of a message's tool_calls; None when it has no name."""
    if not isinstance(call, dict):
        return None
    kind = call.get("type") or "function"
    spec = call.get(kind) if isinstance(kind, str) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        return None
    arguments = spec.get("arguments")
    if kind == "function" and not isinstance(arguments, str):
        arguments = "" if arguments is None else json.dumps(arguments)
    return ToolCall(spec["name"], arguments if isinstance(arguments, str) else None, str(kind))


def offered_tools(body: dict[str, Any]) -> frozenset[str]:
    """Names of the tools and functions a request offers (malformed ones left out)."""
    return frozenset(n for n in _offered_names(body) if n is not None)


def url_problem(value: Any, allowed: Sequence[str]) -> str:
    """Why `value` is not an http(s) URL to an allowed host; "" when it is."""
    if not isinstance(value, str):
        return "is not a URL string"
    url = value.strip()
    if _UNSAFE_URL_CHARS.search(url):
        return "holds whitespace, control characters or backslashes"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in _URL_SCHEMES or not host:
        return "is not an absolute http(s) URL"
    if "@" in parts.netloc:
        return "carries credentials"  # "https://allowed.com@evil.com" reaches evil.com
    if not host.isascii():
        return "has a non-ASCII host (use its punycode form)"
    if not domain_allowed(host, allowed):
        return f"reaches a host outside the allowlist ({safe_name(host)})"
    return ""


def domain_allowed(host: str, allowed: Sequence[str]) -> bool:
    """`host` equals an entry, or is under a ".example.com" entry (or is example.com)."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


def values_at(args: Any, path: str) -> Iterator[Any]:
    """The values at dotted `path` in `args`, stepping into every element of a list."""
    current = [args]
    for part in path.split("."):
        step: list[Any] = []
        for node in current:
            if isinstance(node, dict) and part in node:
                value = node[part]
                step += value if isinstance(value, list) else [value]
        current = step
    yield from current


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path or "(arguments)", value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, path)


def _validator_class(schema: dict[str, Any]) -> Any:
    try:
        import jsonschema
    except ImportError as exc:
        raise MissingExtraError("jsonschema", "gateway") from exc

    return jsonschema.validators.validator_for(schema)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which duplicate wins; a checked value must be the one the tool sees.
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _tool_name(tool: Any, field: str) -> str | None:
    """The name of one entry of a request's `tools` or `functions` (or a tool_choice)."""
    if not isinstance(tool, dict):
        return None
    if field == "functions":
        name = tool.get("name")
    else:
        kind = tool.get("type") or "function"
        spec = tool.get(kind) if isinstance(kind, str) else None
        name = spec.get("name") if isinstance(spec, dict) else None
        if name is None and isinstance(kind, str) and kind != "function":
            name = kind  # a built-in tool such as {"type": "web_search"} goes by its type
    return name if isinstance(name, str) and name else None


def _offered_names(body: dict[str, Any]) -> Iterator[str | None]:
    for field in ("tools", "functions"):
        items = body.get(field)
        if items is None:
            continue
        if not isinstance(items, list):
            yield None
            continue
        for tool in items:
            yield _tool_name(tool, field)


def _usable(name: str | None, allowed: frozenset[str] | None) -> bool:
    return name is not None and (allowed is None or name in allowed)
