"""Run probes against a target: bounded workers, a JSONL state file for resuming, a progress bar.

Each finished attempt is appended to the state file as one JSON line. A rerun with the same
file reuses its seed (so the canaries match), skips attempts that got an answer and retries
those that failed, so an interrupted or failing run can be resumed later.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.errors import UsageError
from garrison.llm.redteam.client import AuthError, ChatClient, ClientConfig, TargetError
from garrison.llm.redteam.probes import ChatRequest, ChatResponse, Probe, ProbeContext

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # characters kept per message in a transcript


@dataclass(frozen=True, slots=True)
class AttemptResult:
    id: str
    probe: str
    family: str
    status: str  # hit, miss, error
    evidence: str = ""  # the detector's, for a hit; the message, for an error
    error_kind: str = ""
    transcript: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "probe": self.probe,
            "family": self.family,
            "status": self.status,
            "evidence": self.evidence,
            "error_kind": self.error_kind,
            "transcript": list(self.transcript),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttemptResult:
        return cls(
            id=str(data["id"]),
            probe=str(data["probe"]),
            family=str(data["family"]),
            status=str(data["status"]),
            evidence=str(data.get("evidence", "")),
            error_kind=str(data.get("error_kind", "")),
            transcript=tuple(data.get("transcript", ())),
        )


@dataclass(frozen=True, slots=True)
class RedteamResult:
    target: str
    model: str
    probes: tuple[dict[str, Any], ...]  # Probe.describe() of each probe that ran
    attempts: tuple[AttemptResult, ...]
    stopped: str = ""  # why the run ended early, if it did
    duration_s: float = 0.0
    requests_sent: int = 0

    def hits(self) -> list[AttemptResult]:
        return [a for a in self.attempts if a.status == "hit"]

    def by_family(self) -> dict[str, dict[str, Any]]:
        """Attack success rate per family: hits over attempts that got an answer."""
        out: dict[str, dict[str, Any]] = {}
        for family in sorted({p["family"] for p in self.probes}):
            rows = [a for a in self.attempts if a.family == family]
            answered = sum(a.status != "error" for a in rows)
            hits = sum(a.status == "hit" for a in rows)
            out[family] = {
                "attempts": len(rows),
                "answered": answered,
                "successes": hits,
                "errors": len(rows) - answered,
                "success_rate": round(hits / answered, 4) if answered else None,
            }
        return out

    def errors_by_kind(self) -> dict[str, int]:
        return dict(Counter(a.error_kind for a in self.attempts if a.status == "error"))

    def vulnerable_families(self) -> set[str]:
        return {a.family for a in self.hits()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "model": self.model,
            "stopped": self.stopped,
            "duration_s": round(self.duration_s, 3),
            "requests_sent": self.requests_sent,
            "families": self.by_family(),
            "errors": self.errors_by_kind(),
            "probes": list(self.probes),
        }


OnResult = Callable[[AttemptResult], None]


def run(
    probes: Sequence[Probe],
    config: ClientConfig,
    state_path: Path | None = None,
    *,
    progress: bool = False,
    on_result: OnResult | None = None,
) -> RedteamResult:
    """Send every probe's requests to the target and judge the answers (blocking)."""
    return asyncio.run(
        run_async(probes, config, state_path, progress=progress, on_result=on_result)
    )


async def run_async(
    probes: Sequence[Probe],
    config: ClientConfig,
    state_path: Path | None = None,
    *,
    progress: bool = False,
    on_result: OnResult | None = None,
) -> RedteamResult:
    started = time.monotonic()
    state = _State.open(state_path, config)
    by_id = {p.id: p for p in probes}
    context = ProbeContext(state.seed)
    requests = [r for p in probes for r in p.build_requests(context)]
    todo = [r for r in requests if r.id not in state.done]
    stopped = ""
    client = ChatClient(config)
    async with client:
        with _progress(progress, len(requests), len(requests) - len(todo)) as advance:
            queue: asyncio.Queue[ChatRequest] = asyncio.Queue()
            for request in todo:
                queue.put_nowait(request)

            async def worker() -> None:
                nonlocal stopped
                while not stopped:
                    try:
                        request = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    result = await _attempt(client, by_id[request.probe], request)
                    state.record(result)
                    advance()
                    if result.error_kind == "auth":
                        stopped = result.evidence
                    if on_result is not None:
                        on_result(result)

            workers = min(config.concurrency, max(1, len(todo)))
            try:
                await asyncio.gather(*(worker() for _ in range(workers)))
            finally:
                state.close()
    wanted = {r.id for r in requests}
    return RedteamResult(
        target=config.base_url,
        model=config.model,
        probes=tuple(p.describe() for p in probes),
        attempts=tuple(a for a in state.latest().values() if a.id in wanted),
        stopped=stopped,
        duration_s=time.monotonic() - started,
        requests_sent=client.requests_sent,
    )


async def _attempt(client: ChatClient, probe: Probe, request: ChatRequest) -> AttemptResult:
    def result(
        status: str, evidence: str = "", kind: str = "", response: Any = None
    ) -> AttemptResult:
        return AttemptResult(
            request.id, request.probe, request.family, status, evidence, kind,
            transcript(request, response),
        )  # fmt: skip

    try:
        response = await client.complete(request)
    except AuthError as exc:
        log.error("%s", exc)
        return result("error", str(exc), "auth")
    except TargetError as exc:
        log.warning("attempt %s failed: %s", request.id, exc)
        return result("error", str(exc), exc.kind)
    hit = probe.detect(request, response)
    if hit is None:
        return result("miss", response=response)
    return result("hit", hit.evidence, response=response)


def transcript(request: ChatRequest, response: ChatResponse | None) -> tuple[dict[str, Any], ...]:
    """The conversation, each message clipped so a chatty target cannot bloat the state file."""
    turns: list[dict[str, Any]] = [
        {"role": str(m.get("role")), "content": _clip(m.get("content") or "")}
        for m in request.messages
    ]
    if request.tools:
        names = [str(t.get("function", {}).get("name")) for t in request.tools]
        turns.insert(0, {"role": "tools", "content": ", ".join(names)})
    if response is not None:
        reply: dict[str, Any] = {"role": "assistant", "content": _clip(response.content)}
        if response.tool_calls:
            reply["tool_calls"] = [
                {"name": c.name, "arguments": _clip(c.arguments)} for c in response.tool_calls
            ]
        turns.append(reply)
    return tuple(turns)


def _clip(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


@dataclass(slots=True)
class _State:
    seed: str
    path: Path | None = None
    results: dict[str, AttemptResult] = field(default_factory=dict)
    handle: Any = None

    @classmethod
    def open(cls, path: Path | None, config: ClientConfig) -> _State:
        if path is None or not path.exists() or path.stat().st_size == 0:
            state = cls(seed=secrets.token_hex(16), path=path)
            if path is not None:
                state.handle = path.open("a", encoding="utf-8")
                header = {"kind": "header", "seed": state.seed, "target": config.base_url,
                          "model": config.model}  # fmt: skip
                state._write(header)
            return state
        return cls._resume(path, config)

    @classmethod
    def _resume(cls, path: Path, config: ClientConfig) -> _State:
        lines = path.read_text(encoding="utf-8").splitlines()
        try:
            header = json.loads(lines[0])
            seed = str(header["seed"])
        except (ValueError, KeyError, TypeError, IndexError):
            raise UsageError(f"{path} is not a red-team state file") from None
        if (header.get("target"), header.get("model")) != (config.base_url, config.model):
            raise UsageError(
                f"{path} belongs to a run against {header.get('target')} "
                f"({header.get('model')}); use another state file"
            )
        state = cls(seed=seed, path=path)
        for line in lines[1:]:
            try:
                result = AttemptResult.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short when the previous run was killed
            state.results[result.id] = result
        state.handle = path.open("a", encoding="utf-8")
        return state

    @property
    def done(self) -> set[str]:
        return {k for k, v in self.results.items() if v.status != "error"}

    def latest(self) -> dict[str, AttemptResult]:
        return self.results

    def record(self, result: AttemptResult) -> None:
        self.results[result.id] = result
        if self.handle is not None:
            self._write(result.to_dict())

    def _write(self, data: dict[str, Any]) -> None:
        self.handle.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.handle.flush()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


@contextmanager
def _progress(enabled: bool, total: int, done: int) -> Iterator[Callable[[], None]]:
    """Yield a callback that advances a rich progress bar on stderr (a no-op when disabled)."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("red team"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("red team", total=total, completed=done)
    bar.start()
    try:
        yield lambda: bar.advance(task)
    finally:
        bar.stop()
