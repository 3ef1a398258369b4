"""The gateway's content policy: garrison.llm guards and the tool policy on OpenAI bodies.

Each stage (input, output) runs in one mode: "block" refuses on any finding, "redact"
rewrites what can be rewritten (PII and secrets become placeholders, links outside the
allowlist are removed) and refuses the rest, "log" only records verdicts, "off" skips the
guards. A key's `guard_mode` wins over the route's override, which wins over the stage's
default. A guard that fails is an "error" verdict that refuses in block and redact modes.
Text already streamed cannot be rewritten, so in a stream redact mode cuts on a secret and
records personal data and removed links as "flag". The tool policy is authorisation, not
content: it applies in every mode.

Placeholders put into a request are restored in its answer: pass the request's
`StageResult.vault` to `check_response` or `stream_filter`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from garrison.gateway.config import MODES, GuardConfig, Mode, RouteGuards
from garrison.gateway.keys import ApiKey
from garrison.gateway.record import ALLOW, BLOCK, REDACT, GuardVerdict
from garrison.gateway.stream_filter import StreamFilter, TextCheck
from garrison.gateway.tool_policy import ToolPolicy, Violation, offered_tools
from garrison.llm.links import LinkGuard
from garrison.llm.scanner import GuardContext, Pipeline, Scanner, ScanResult, Verdict
from garrison.llm.sensitive_guard import SensitiveGuard, Vault
from garrison.llm.smuggling import SmugglingGuard
from garrison.sensitive import SECRET_KINDS, restore

log = logging.getLogger(__name__)

__all__ = [
    "MODES",
    "ContentPolicy",
    "GuardConfig",
    "Mode",
    "RouteGuards",
    "StageResult",
    "input_texts",
    "output_texts",
]

Path = tuple[str | int, ...]  # where a text sits in a body: keys and list indices
_RANK = {"pass": 0, "flag": 1, "redact": 2, "error": 3, "block": 4}
# Roles whose text comes from outside the application: where injections arrive.
_UNTRUSTED_ROLES = frozenset({"user", "tool", "function"})
_OUTPUT_TEMPLATE = "[{kind} {n} REDACTED]"  # unlike the vault's, so restore never touches it


@dataclass(frozen=True, slots=True)
class StageResult:
    action: str  # ALLOW | BLOCK | REDACT
    body: dict[str, Any]  # rewritten when redacted or stripped
    verdicts: tuple[GuardVerdict, ...] = ()
    reason: str = ""  # "guard.input", "guard.output" or "tool_policy" when blocked
    message: str = ""  # safe to show the client
    vault: Vault | None = None  # the request's placeholders, to restore in its answer
    violations: tuple[Violation, ...] = ()


@dataclass(frozen=True, slots=True)
class _Text:
    path: Path
    text: str
    untrusted: bool  # read by the injection classifier


class ContentPolicy:
    """The guards of one gateway, built once; each call is one request's check."""

    def __init__(
        self,
        config: GuardConfig,
        tools: ToolPolicy,
        *,
        input_scanners: Sequence[Scanner] = (),
        output_scanners: Sequence[Scanner] = (),
    ) -> None:
        self.config = config
        self.tools = tools
        limit = config.max_scan_chars
        self._smuggling = [SmugglingGuard(max_chars=limit)] if config.smuggling else []
        self._injection: list[Scanner] = []
        if config.injection:
            from garrison.llm.injection import InjectionScanner

            # The model itself loads on the first scan.
            self._injection = [InjectionScanner(threshold=config.injection_threshold)]
        self._sensitive = config.pii or config.secrets
        self._sensitive_names = tuple(
            name for name, on in (("pii", config.pii), ("secrets", config.secrets)) if on
        )
        self._extra_input = list(input_scanners)
        self._input = self._input_pipeline(None, untrusted=False)
        self._input_untrusted = self._input_pipeline(None, untrusted=True)
        links = [LinkGuard(config.allowed_domains, max_chars=limit)] if config.links else []
        sensitive = (
            [SensitiveGuard(None, config.pii, config.secrets, False, limit, _OUTPUT_TEMPLATE)]
            if self._sensitive
            else []
        )
        self._output = Pipeline([*self._smuggling, *links, *sensitive, *output_scanners])

    def mode(self, route: str, stage: str, key: ApiKey | None) -> str:
        """The mode of `stage` for this request: the key's, else the route's, else the default."""
        if key is not None and key.guard_mode is not None:
            if key.guard_mode in MODES:
                return key.guard_mode
            log.warning("key %s has unknown guard_mode %r: blocking", key.id, key.guard_mode)
            return "block"
        override = self.config.routes.get(route)
        chosen = getattr(override, stage) if override is not None else None
        return str(chosen or getattr(self.config, stage))

    # -- requests ------------------------------------------------------------------------

    def check_request(self, route: str, body: dict[str, Any], key: ApiKey) -> StageResult:
        verdicts: dict[str, GuardVerdict] = {}
        violations: tuple[Violation, ...] = ()
        original = body
        if "tools" in body or "functions" in body:
            found = self.tools.check_offered(body, key)
            if found:
                violations = tuple(found)
                blocked = self.tools.mode == "block"
                _merge(verdicts, GuardVerdict("tool_policy", "input", BLOCK if blocked else REDACT))
                if blocked:
                    return _refused(body, verdicts, "tool_policy", found[0].message, violations)
                body = self.tools.strip_offered(body, key)
        mode = self.mode(route, "input", key)
        vault = None
        if mode != "off":
            texts = list(input_texts(route, body))
            if texts:
                outcome = self._guard_input(texts, mode, verdicts)
                if isinstance(outcome, str):
                    return _refused(body, verdicts, "guard.input", outcome, violations)
                rewrites, vault = outcome
                body = _rewrite(body, rewrites)
        action = REDACT if body is not original else ALLOW
        return StageResult(action, body, tuple(verdicts.values()), "", "", vault, violations)

    def _guard_input(
        self, texts: list[_Text], mode: str, verdicts: dict[str, GuardVerdict]
    ) -> str | tuple[list[tuple[Path, str]], Vault | None]:
        """The refusal message, or the rewrites and the vault holding their placeholders."""
        vault = Vault() if mode == "redact" and self._sensitive else None
        trusted, untrusted = self._input, self._input_untrusted
        if vault is not None:
            trusted = self._input_pipeline(vault, untrusted=False)
            untrusted = self._input_pipeline(vault, untrusted=True)
        context = GuardContext("input")
        rewrites: list[tuple[Path, str]] = []
        for item in texts:
            pipeline = untrusted if item.untrusted else trusted
            outcome = pipeline.scan(item.text, context)
            refused = _record(outcome, "input", mode, verdicts, self._sensitive_names)
            if refused:
                return _message("request", verdicts)
            if mode == "redact" and outcome.text != item.text:
                rewrites.append((item.path, outcome.text))
        return rewrites, (vault if vault is not None and len(vault) else None)

    def _input_pipeline(self, vault: Vault | None, *, untrusted: bool) -> Pipeline:
        c = self.config
        sensitive = (
            [SensitiveGuard(vault, c.pii, c.secrets, False, c.max_scan_chars)]
            if self._sensitive
            else []
        )
        injection = self._injection if untrusted else []
        return Pipeline([*self._smuggling, *injection, *sensitive, *self._extra_input])

    # -- answers -------------------------------------------------------------------------

    def check_response(
        self,
        route: str,
        body: dict[str, Any],
        key: ApiKey,
        *,
        request: dict[str, Any] | None = None,
        vault: Vault | None = None,
    ) -> StageResult:
        """The answer's verdict; `request` lets calls to tools it never offered be refused."""
        verdicts: dict[str, GuardVerdict] = {}
        violations: tuple[Violation, ...] = ()
        original = body
        if route == "chat":
            offered = offered_tools(request) if request is not None else None
            found, body = self.tools.check_response(body, key, offered)
            if found:
                violations = tuple(found)
                _log_violations(found, key)
                blocked = self.tools.mode == "block"
                _merge(
                    verdicts, GuardVerdict("tool_policy", "output", BLOCK if blocked else REDACT)
                )
                if blocked:
                    return _refused(body, verdicts, "tool_policy", found[0].message, violations)
        mode = self.mode(route, "output", key)
        if vault is not None and not len(vault):
            vault = None
        if mode != "off" or vault is not None:
            rewrites: list[tuple[Path, str]] = []
            for item in output_texts(route, body):
                text = item.text
                if mode != "off":
                    outcome = self._output.scan(text, GuardContext("output"))
                    if _record(outcome, "output", mode, verdicts, self._sensitive_names):
                        return _refused(
                            body, verdicts, "guard.output", _message("response", verdicts), ()
                        )
                    text = outcome.text if mode == "redact" else text
                text = vault.restore(text) if vault is not None else text
                if text != item.text:
                    rewrites.append((item.path, text))
            if vault is not None:
                rewrites += _restored_arguments(body, vault)
            body = _rewrite(body, rewrites)
        action = REDACT if body is not original else ALLOW
        return StageResult(action, body, tuple(verdicts.values()), "", "", None, violations)

    def stream_filter(
        self,
        route: str,
        key: ApiKey,
        *,
        request: dict[str, Any] | None = None,
        vault: Vault | None = None,
    ) -> StreamFilter:
        """A filter for one streamed answer of `route` to `key`."""
        mode = self.mode(route, "output", key)
        check = None if mode == "off" else self._stream_check(mode)
        return StreamFilter(
            check,
            self.tools if route == "chat" else None,
            key,
            offered_tools(request) if request is not None else None,
            vault,
            check_every=self.config.stream_check_chars,
            holdback=self.config.stream_holdback,
        )

    def _stream_check(self, mode: str) -> TextCheck:
        pipeline = self._output
        context = GuardContext("output")
        names = self._sensitive_names

        def check(text: str) -> tuple[bool, tuple[GuardVerdict, ...]]:
            verdicts: dict[str, GuardVerdict] = {}
            outcome = pipeline.scan(text, context)
            cut = _record(outcome, "output", mode, verdicts, names, streaming=True)
            return cut, tuple(verdicts.values())

        return check


# -- texts of OpenAI bodies ----------------------------------------------------------------


def input_texts(route: str, body: dict[str, Any]) -> Iterator[_Text]:
    """The texts a request sends to the model, with where each sits in `body`."""
    if route == "chat":
        messages = body.get("messages")
        for i, message in enumerate(messages if isinstance(messages, list) else ()):
            if isinstance(message, dict):
                untrusted = message.get("role") in _UNTRUSTED_ROLES
                yield from _content_texts(message.get("content"), ("messages", i), untrusted)
    elif route in ("completions", "embeddings"):
        field = "prompt" if route == "completions" else "input"
        value = body.get(field)
        untrusted = route == "completions"  # embedded text instructs no model
        if isinstance(value, str):
            yield _Text((field,), value, untrusted)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield _Text((field, i), item, untrusted)


def output_texts(route: str, body: dict[str, Any]) -> Iterator[_Text]:
    """The texts of an answer's choices (chat message content, or completion text)."""
    choices = body.get("choices")
    for i, choice in enumerate(choices if isinstance(choices, list) else ()):
        if not isinstance(choice, dict):
            continue
        if route == "chat" and isinstance(choice.get("message"), dict):
            content = choice["message"].get("content")
            yield from _content_texts(content, ("choices", i, "message"), False)
        elif route == "completions" and isinstance(choice.get("text"), str):
            yield _Text(("choices", i, "text"), choice["text"], False)


def _content_texts(content: Any, where: Path, untrusted: bool) -> Iterator[_Text]:
    if isinstance(content, str):
        yield _Text((*where, "content"), content, untrusted)
    elif isinstance(content, list):
        for j, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") == "text":
                text = part.get("text")
                if isinstance(text, str):
                    yield _Text((*where, "content", j, "text"), text, untrusted)


def _rewrite(body: dict[str, Any], rewrites: list[tuple[Path, str]]) -> Any:
    """`body` with each path set to its new text; only the containers on a path are copied."""
    for path, text in rewrites:
        body = _set(body, path, text)
    return body


def _set(node: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = list(node) if isinstance(node, list) else dict(node)
    copy[head] = _set(node[head], rest, value)  # type: ignore[index]
    return copy


def _restored_arguments(body: dict[str, Any], vault: Vault) -> list[tuple[Path, str]]:
    """Tool-call arguments with the vault's placeholders restored, escaped for JSON strings."""
    mapping = {p: json.dumps(v)[1:-1] for p, v in vault.mapping.items()}
    out: list[tuple[Path, str]] = []
    choices = body.get("choices")
    for i, choice in enumerate(choices if isinstance(choices, list) else ()):
        message = choice.get("message") if isinstance(choice, dict) else None
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for j, call in enumerate(calls if isinstance(calls, list) else ()):
            spec = call.get("function") if isinstance(call, dict) else None
            args = spec.get("arguments") if isinstance(spec, dict) else None
            if isinstance(args, str) and (new := restore(args, mapping)) != args:
                path = ("choices", i, "message", "tool_calls", j, "function", "arguments")
                out.append((path, new))
    return out


# -- verdicts ------------------------------------------------------------------------------


def _record(
    outcome: ScanResult,
    stage: str,
    mode: str,
    verdicts: dict[str, GuardVerdict],
    sensitive: tuple[str, ...],
    *,
    streaming: bool = False,
) -> bool:
    """Merge one pipeline outcome into `verdicts`; whether the stage must refuse (or cut)."""
    refuse = False
    for result in outcome.details.get("results", ()):
        for name in _names(result, sensitive):
            verdict = _verdict(result, name, mode, streaming)
            _merge(verdicts, GuardVerdict(name, stage, verdict, float(result["score"])))
            refuse = refuse or verdict in ("block", "error")
    if mode == "log":
        return False
    return refuse or outcome.verdict is Verdict.BLOCK


def _verdict(result: dict[str, Any], name: str, mode: str, streaming: bool) -> str:
    raw = result["verdict"]
    if raw == Verdict.ALLOW:
        return "pass"
    if raw == Verdict.ERROR:
        return "error"
    if mode == "log":
        return "flag"
    if raw == Verdict.BLOCK or mode == "block":
        return "block"
    if streaming:
        # Sent text cannot be redacted: a secret cuts the stream, the rest is recorded.
        return "block" if name == "secrets" else "flag"
    return "redact"


def _names(result: dict[str, Any], sensitive: tuple[str, ...]) -> tuple[str, ...]:
    """Verdict names of one scanner result; the sensitive guard reports PII and secrets apart."""
    scanner = str(result.get("scanner", ""))
    if scanner != "sensitive":
        return ({"prompt_injection": "injection"}.get(scanner, scanner),)
    kinds = result.get("details", {}).get("kinds")
    if not kinds:
        return sensitive
    secret = any(k in SECRET_KINDS for k in kinds)
    personal = any(k not in SECRET_KINDS for k in kinds)
    return (*(("pii",) if personal else ()), *(("secrets",) if secret else ()))


def _merge(verdicts: dict[str, GuardVerdict], verdict: GuardVerdict) -> None:
    old = verdicts.get(verdict.name)
    if old is None:
        verdicts[verdict.name] = verdict
        return
    worse = verdict if _RANK[verdict.verdict] > _RANK[old.verdict] else old
    score = max(old.score, verdict.score)
    verdicts[verdict.name] = GuardVerdict(worse.name, worse.stage, worse.verdict, score)


def _message(what: str, verdicts: dict[str, GuardVerdict]) -> str:
    names = sorted(n for n, v in verdicts.items() if v.verdict in ("block", "error"))
    return f"the {what} was refused by the gateway's content policy ({', '.join(names)})"


def _refused(
    body: dict[str, Any],
    verdicts: dict[str, GuardVerdict],
    reason: str,
    message: str,
    violations: tuple[Violation, ...],
) -> StageResult:
    return StageResult(BLOCK, body, tuple(verdicts.values()), reason, message, None, violations)


def _log_violations(found: list[Violation], key: ApiKey | None) -> None:
    for v in found:
        log.info(
            "tool call refused: key=%s tool=%s rule=%s", key.id if key else "-", v.tool, v.rule
        )
