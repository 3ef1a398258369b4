"""The output guard of a streamed answer: OpenAI server-sent events in, checked events out.

Events pass through as they arrive (byte for byte while nothing needs changing) and their
text is guarded as it accumulates: every `check_every` new characters of a choice, and when
it finishes, the guards read the new text plus `overlap` characters before it (stretched
back to the start of a word, so a URL or key split between two checks is still seen whole):
a long answer costs linear time. When a
check says cut, nothing more is forwarded: a last chunk finishing with "content_filter"
and `data: [DONE]` end the stream. Text sent before the cut has reached the client; set
`holdback` to forward only text that has been checked (the client then waits for it).

Tool-call deltas are held until their calls are complete, then checked by the ToolPolicy
and forwarded whole, forwarded without the violating calls ("strip"), or cut ("block").
Everything held is bounded by `max_buffer_bytes`; past it the stream is cut.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from garrison.gateway.keys import ApiKey
from garrison.gateway.record import GuardVerdict
from garrison.gateway.tool_policy import ToolCall, ToolPolicy, Violation
from garrison.llm.sensitive_guard import Vault

log = logging.getLogger(__name__)

# text -> (cut, verdicts): the output guards on one window of a choice's text.
TextCheck = Callable[[str], tuple[bool, tuple[GuardVerdict, ...]]]

_EOL = re.compile(rb"\r\n|\r|\n")
_PARTIAL_PLACEHOLDER = re.compile(r"<[A-Z0-9_]{0,40}\Z")
_WORD_TAIL = re.compile(r"\S*\Z")
MAX_WORD = 4096  # how far the overlap stretches back to a word's start (LinkGuard's URL cap)
_DONE = b"data: [DONE]\n\n"
MAX_CHOICES = 128  # choices one stream may carry (n is far lower in practice)
_LIMIT = GuardVerdict("stream_limit", "output", "block", 1.0)
_RANK = {"pass": 0, "flag": 1, "redact": 2, "error": 3, "block": 4}


@dataclass(slots=True)
class _Event:
    raw: bytes
    obj: dict[str, Any] | None = None  # the parsed data when it is a JSON object
    changed: bool = False
    dropped: bool = False  # every call it carried was stripped: nothing left to send

    def encode(self) -> bytes:
        if self.dropped:
            return b""
        if not self.changed or self.obj is None:
            return self.raw
        data = json.dumps(self.obj, ensure_ascii=False, separators=(",", ":"))
        return b"data: " + data.encode() + b"\n\n"


@dataclass(slots=True)
class _Choice:
    text: list[str] = field(default_factory=list)  # the whole text, up to max_text_chars
    size: int = 0
    pending: list[str] = field(default_factory=list)  # not yet checked
    pending_size: int = 0
    carry: str = ""  # the checked text just before `pending`, read again for overlap
    tail: str = ""  # a placeholder possibly cut in half, held until its end arrives
    calls: dict[Any, dict[str, Any]] = field(default_factory=dict)  # index -> name, arguments
    finished: bool = False


class StreamFilter:
    """Feed upstream SSE bytes in, send what `feed` and `close` return (see module doc)."""

    def __init__(
        self,
        check_text: TextCheck | None = None,
        tools: ToolPolicy | None = None,
        key: ApiKey | None = None,
        offered: Collection[str] | None = None,
        vault: Vault | None = None,
        *,
        check_every: int = 256,
        overlap: int = 256,
        holdback: bool = False,
        max_buffer_bytes: int = 1 << 20,
        max_text_chars: int = 1 << 20,
    ) -> None:
        self.check_text = check_text
        self.tools = tools
        self.key = key
        self.offered = offered
        self.vault = vault if vault is not None and len(vault) else None
        self.check_every = max(1, check_every)
        self.overlap = overlap
        self.holdback = holdback and check_text is not None
        self.max_buffer_bytes = max_buffer_bytes
        self.max_text_chars = max_text_chars
        self.cut = False
        self.reason = ""  # why it was cut: "guard.output", "tool_policy" or "stream.limit"
        self.violations: tuple[Violation, ...] = ()
        self._verdicts: dict[str, GuardVerdict] = {}
        self._buf = bytearray()
        self._event = bytearray()
        self._data: list[bytes] | None = None
        self._queue: list[_Event] = []
        self._queued_bytes = 0
        self._holding_tools = False
        self._choices: dict[int, _Choice] = {}
        self._meta: dict[str, Any] = {}
        self._closed = False

    @property
    def verdicts(self) -> tuple[GuardVerdict, ...]:
        return tuple(self._verdicts.values())

    @property
    def text(self) -> str:
        """The completion text seen so far (choices joined by newlines), as the model wrote it."""
        return "\n".join("".join(c.text) for _, c in sorted(self._choices.items()))

    def feed(self, chunk: bytes) -> bytes:
        if self.cut or self._closed:
            return b""
        self._buf += chunk
        out: list[bytes] = []
        self._read_lines(out, final=False)
        if not self.cut and len(self._buf) + len(self._event) > self.max_buffer_bytes:
            self._cut(out, "stream.limit", _LIMIT)
        return b"".join(out)

    def close(self) -> bytes:
        """Check and flush what is held; the stream then ends (cut or not)."""
        if self.cut or self._closed:
            return b""
        out: list[bytes] = []
        self._read_lines(out, final=True)
        if not self.cut and (self._event or self._data is not None):
            self._dispatch(out)  # the upstream ended inside an event: judge it all the same
        if not self.cut:
            self._finish(out)
        self._closed = True
        return b"".join(out)

    # -- SSE framing ---------------------------------------------------------------------

    def _read_lines(self, out: list[bytes], final: bool) -> None:
        buf = self._buf
        pos = 0
        while not self.cut:
            m = _EOL.search(buf, pos)
            if m is None:
                break
            if m.group() == b"\r" and m.end() == len(buf) and not final:
                break  # a "\r\n" may be split between two chunks
            line = bytes(buf[pos : m.start()])
            self._event += buf[pos : m.end()]
            pos = m.end()
            if not line:
                self._dispatch(out)
            elif line.startswith(b"data"):
                name, _, value = line.partition(b":")
                if name == b"data":
                    if self._data is None:
                        self._data = []
                    self._data.append(value[1:] if value[:1] == b" " else value)
        del buf[:pos]
        if final and buf and not self.cut:
            self._event += buf
            buf.clear()

    def _dispatch(self, out: list[bytes]) -> None:
        event = _Event(bytes(self._event))
        data = self._data
        self._event.clear()
        self._data = None
        if data is None:
            self._enqueue(event, out)  # comments, keep-alives, stray blank lines
            self._flow(out)
            return
        text = b"\n".join(data)
        if text.strip() == b"[DONE]":
            self._finish(out)
            if not self.cut:
                out.append(event.raw)
            return
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            event.obj = obj
            self._on_chunk(event, out)
        else:
            self._enqueue(event, out)
            self._flow(out)

    # -- chunks ------------------------------------------------------------------------

    def _on_chunk(self, event: _Event, out: list[bytes]) -> None:
        obj = event.obj
        assert obj is not None
        for name in ("id", "object", "created", "model"):
            if name in obj:
                self._meta[name] = obj[name]
        choices = obj.get("choices")
        finishing: set[int] = set()
        for raw in choices if isinstance(choices, list) else ():
            index = raw.get("index", 0) if isinstance(raw, dict) else None
            if not isinstance(index, int):
                continue
            if index not in self._choices and len(self._choices) >= MAX_CHOICES:
                self._cut(out, "stream.limit", _LIMIT)
                return
            choice = self._choices.setdefault(index, _Choice())
            delta = raw.get("delta") if isinstance(raw.get("delta"), dict) else None
            content = delta.get("content") if delta is not None else raw.get("text")
            if isinstance(content, str) and content:
                self._add_text(choice, content)
                if self.vault is not None:
                    self._restore(event, raw, delta, choice, content)
            if delta is not None and self.tools is not None and self._add_calls(choice, delta):
                self._holding_tools = True
            if raw.get("finish_reason") is not None:
                choice.finished = True
                finishing.add(index)
                if self.vault is not None and choice.tail:
                    self._flush_tail(event, raw, delta, choice)
        self._enqueue(event, out)  # before the checks: a cut drops it with the rest
        for index, choice in self._choices.items():
            if index in finishing or choice.pending_size >= self.check_every:
                self._check(choice, out)
            if self.cut:
                return
        if self._holding_tools and all(c.finished for c in self._choices.values() if c.calls):
            self._resolve_tools(out)
        self._flow(out)

    def _add_text(self, choice: _Choice, content: str) -> None:
        if choice.size < self.max_text_chars:
            choice.text.append(content[: self.max_text_chars - choice.size])
        choice.size += len(content)
        if self.check_text is not None:
            choice.pending.append(content)
            choice.pending_size += len(content)

    def _add_calls(self, choice: _Choice, delta: dict[str, Any]) -> bool:
        found = False
        calls = delta.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if isinstance(call, dict):
                found = True
                entry = choice.calls.setdefault(_call_key(call), {"name": "", "args": []})
                spec = call.get("function")
                if isinstance(spec, dict):
                    _append(entry, spec)
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            found = True
            _append(choice.calls.setdefault("legacy", {"name": "", "args": []}), legacy)
        return found

    def _check(self, choice: _Choice, out: list[bytes]) -> None:
        if self.check_text is None or not choice.pending:
            return
        window = choice.carry + "".join(choice.pending)
        choice.pending.clear()
        choice.pending_size = 0
        choice.carry = _carry(window, self.overlap)
        try:
            cut, verdicts = self.check_text(window)
        except Exception as exc:  # a failing check is never a silent pass
            log.warning("stream check failed: %s", type(exc).__name__)
            cut, verdicts = True, (GuardVerdict("stream_check", "output", "error", 1.0),)
        for v in verdicts:
            self._merge(v)
        if cut:
            self._cut(out, "guard.output")
        elif self.holdback and not self._holding_tools:
            self._release(out)

    # -- placeholders of redacted input -----------------------------------------------------

    def _restore(
        self,
        event: _Event,
        raw: dict[str, Any],
        delta: dict[str, Any] | None,
        choice: _Choice,
        content: str,
    ) -> None:
        assert self.vault is not None
        text = choice.tail + content
        m = _PARTIAL_PLACEHOLDER.search(text)
        choice.tail = text[m.start() :] if m else ""
        restored = self.vault.restore(text[: m.start()] if m else text)
        if restored != content:
            _set_text(raw, delta, restored)
            event.changed = True

    def _flush_tail(
        self, event: _Event, raw: dict[str, Any], delta: dict[str, Any] | None, choice: _Choice
    ) -> None:
        assert self.vault is not None
        current = (delta.get("content") if delta is not None else raw.get("text")) or ""
        _set_text(raw, delta, current + self.vault.restore(choice.tail))
        choice.tail = ""
        event.changed = True

    # -- tool calls ------------------------------------------------------------------------

    def _resolve_tools(self, out: list[bytes]) -> None:
        self._holding_tools = False
        strip: dict[int, dict[Any, int | None]] = {}  # choice -> call index -> new index
        found: list[Violation] = []
        for index, choice in self._choices.items():
            if not choice.calls or self.tools is None:
                continue
            keys = list(choice.calls)
            calls = [_tool_call(choice.calls[k]) for k in keys]
            per_call = self.tools.check_calls(calls, self.key, self.offered)
            found += [v for vs in per_call for v in vs]
            kept = [k for k, vs in zip(keys, per_call, strict=True) if not vs]
            renumber = {k: (kept.index(k) if k in kept else None) for k in keys}
            strip[index] = renumber
            choice.calls = {}
        if found:
            self.violations += tuple(found)
            for v in found:
                log.info("tool call refused: tool=%s rule=%s", v.tool, v.rule)
            assert self.tools is not None
            verdict = "block" if self.tools.mode == "block" else "redact"
            self._merge(GuardVerdict("tool_policy", "output", verdict, 1.0))
            if self.tools.mode == "block":
                self._cut(out, "tool_policy")
                return
            for event in self._queue:
                _strip_calls(event, strip)
        self._flow(out)

    # -- output ----------------------------------------------------------------------------

    def _enqueue(self, event: _Event, out: list[bytes]) -> None:
        self._queue.append(event)
        self._queued_bytes += len(event.raw)
        if self._queued_bytes > self.max_buffer_bytes:
            self._cut(out, "stream.limit", _LIMIT)

    def _flow(self, out: list[bytes]) -> None:
        """Send what is queued unless it must wait for tool calls or for a check."""
        if not self._holding_tools and not self.holdback:
            self._release(out)

    def _release(self, out: list[bytes]) -> None:
        out += [e.encode() for e in self._queue]
        self._queue.clear()
        self._queued_bytes = 0

    def _finish(self, out: list[bytes]) -> None:
        for choice in self._choices.values():
            self._check(choice, out)
            if self.cut:
                return
        if self._holding_tools:
            self._resolve_tools(out)
            if self.cut:
                return
        self._release(out)
        tails = {i: c for i, c in self._choices.items() if c.tail}
        if self.vault is not None and tails:
            out.append(self._tail_chunk(tails))

    def _tail_chunk(self, tails: dict[int, _Choice]) -> bytes:
        assert self.vault is not None
        choices = []
        for index, choice in sorted(tails.items()):
            text = self.vault.restore(choice.tail)
            choice.tail = ""
            if self._meta.get("object") == "text_completion":
                choices.append({"index": index, "text": text, "finish_reason": None})
            else:
                choices.append({"index": index, "delta": {"content": text}, "finish_reason": None})
        return _Event(b"", {**self._meta_chunk(), "choices": choices}, True).encode()

    def _cut(self, out: list[bytes], reason: str, verdict: GuardVerdict | None = None) -> None:
        if verdict is not None:
            self._merge(verdict)
        self.cut = True
        self.reason = reason
        self._queue.clear()
        self._queued_bytes = 0
        self._buf.clear()
        self._event.clear()
        indices = sorted(self._choices) or [0]
        choices: list[dict[str, Any]]
        if self._meta.get("object") == "text_completion":
            choices = [
                {"index": i, "text": "", "logprobs": None, "finish_reason": "content_filter"}
                for i in indices
            ]
        else:
            choices = [
                {"index": i, "delta": {}, "finish_reason": "content_filter"} for i in indices
            ]
        out.append(_Event(b"", {**self._meta_chunk(), "choices": choices}, True).encode())
        out.append(_DONE)

    def _meta_chunk(self) -> dict[str, Any]:
        return {
            "id": self._meta.get("id", "chatcmpl-garrison"),
            "object": self._meta.get("object", "chat.completion.chunk"),
            "created": self._meta.get("created", 0),
            "model": self._meta.get("model", ""),
        }

    def _merge(self, verdict: GuardVerdict) -> None:
        old = self._verdicts.get(verdict.name)
        if old is None or _RANK.get(verdict.verdict, 0) > _RANK.get(old.verdict, 0):
            score = max(verdict.score, old.score) if old else verdict.score
            self._verdicts[verdict.name] = GuardVerdict(
                verdict.name, verdict.stage, verdict.verdict, score
            )
        elif verdict.score > old.score:
            self._verdicts[verdict.name] = GuardVerdict(
                old.name, old.stage, old.verdict, verdict.score
            )


def _carry(window: str, overlap: int) -> str:
    """The last `overlap` characters of `window`, from the start of the word they cut."""
    start = max(0, len(window) - overlap)
    head = window[max(0, start - MAX_WORD) : start]
    m = _WORD_TAIL.search(head)
    return window[start - (len(m.group()) if m else 0) :]


def _call_key(call: dict[str, Any]) -> int | str:
    index = call.get("index")
    return index if isinstance(index, int) else "?"  # calls without a usable index share one


def _append(entry: dict[str, Any], spec: dict[str, Any]) -> None:
    if isinstance(spec.get("name"), str):
        entry["name"] += spec["name"]
    if isinstance(spec.get("arguments"), str):
        entry["args"].append(spec["arguments"])


def _tool_call(entry: dict[str, Any]) -> ToolCall | None:
    return ToolCall(entry["name"], "".join(entry["args"])) if entry["name"] else None


def _set_text(raw: dict[str, Any], delta: dict[str, Any] | None, text: str) -> None:
    if delta is not None:
        delta["content"] = text
    else:
        raw["text"] = text


def _strip_calls(event: _Event, strip: dict[int, dict[Any, int | None]]) -> None:
    """Remove stripped calls from one held chunk and renumber the calls kept."""
    obj = event.obj
    choices = obj.get("choices") if obj is not None else None
    if obj is None or not isinstance(choices, list):
        return
    for raw in choices:
        index = raw.get("index", 0) if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or not isinstance(index, int) or index not in strip:
            continue
        renumber = strip[index]
        delta = raw.get("delta")
        if not isinstance(delta, dict):
            continue
        if isinstance(delta.get("tool_calls"), list):
            kept = []
            for call in delta["tool_calls"]:
                new = renumber.get(_call_key(call)) if isinstance(call, dict) else None
                if new is not None:
                    kept.append({**call, "index": new})
            if kept:
                delta["tool_calls"] = kept
            else:
                del delta["tool_calls"]
            event.changed = True
        if "function_call" in delta and renumber.get("legacy") is None:
            del delta["function_call"]
            event.changed = True
        if raw.get("finish_reason") in ("tool_calls", "function_call") and all(
            n is None for n in renumber.values()
        ):
            raw["finish_reason"] = "stop"
            event.changed = True
    if event.changed and all(_empty(c) for c in choices) and obj.get("usage") is None:
        event.dropped = True


def _empty(choice: Any) -> bool:
    if not isinstance(choice, dict) or choice.get("finish_reason") is not None:
        return False
    delta = choice.get("delta")
    return isinstance(delta, dict) and not any(v not in (None, "") for v in delta.values())
