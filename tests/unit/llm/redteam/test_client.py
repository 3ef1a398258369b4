"""The client against a scripted server: retries, Retry-After, the rate limit, error kinds."""

import asyncio
import itertools
import socket
import time
from email.utils import formatdate

import httpx
import pytest

from garrison.errors import UsageError
from garrison.llm.redteam import (
    API_KEY_ENV,
    AuthError,
    ChatClient,
    ClientConfig,
    TargetError,
    build_report,
    discover_probes,
    run,
)
from garrison.llm.redteam.client import parse_completion, retry_after
from garrison.llm.redteam.probes import ChatRequest
from tests.unit.llm.redteam.vulnerable_app import Fault, VulnerableApp, serve

REQUEST = ChatRequest("p/1", "p", "direct-injection", ({"role": "user", "content": "hi"},))
OK_BODY = b'{"choices": [{"message": {"role": "assistant", "content": "ok"}}]}'


def complete_all(config: ClientConfig, n: int = 1) -> list[object]:
    async def go() -> list[object]:
        async with ChatClient(config, seed=0) as client:
            jobs = [client.complete(REQUEST) for _ in range(n)]
            return await asyncio.gather(*jobs, return_exceptions=True)

    return asyncio.run(go())


def fast(url: str, **kw: object) -> ClientConfig:
    return ClientConfig(url, "m", backoff_base_s=0.01, backoff_max_s=0.05, **kw)  # type: ignore[arg-type]


def test_retries_server_errors_with_backoff_then_succeeds() -> None:
    app = VulnerableApp(faults=[Fault(503), Fault(502), Fault(500)])
    with serve(app) as url:
        (answer,) = complete_all(fast(url))
    assert getattr(answer, "content", "").startswith("I can't help")
    assert len(app.times) == 4
    gaps = [b - a for a, b in itertools.pairwise(app.times)]
    assert all(g >= 0.004 for g in gaps)  # backoff waited between tries


def test_gives_up_after_max_retries_with_the_status() -> None:
    app = VulnerableApp(faults=[Fault(503)] * 5)
    with serve(app) as url:
        (error,) = complete_all(fast(url, max_retries=2))
    assert isinstance(error, TargetError) and error.kind == "server"
    assert "HTTP 503" in str(error) and len(app.times) == 3


def test_honours_retry_after_and_refuses_absurd_waits() -> None:
    app = VulnerableApp(faults=[Fault(429, headers={"retry-after": "1"})])
    with serve(app) as url:
        (answer,) = complete_all(fast(url))
        assert not isinstance(answer, Exception)
        assert app.times[1] - app.times[0] >= 0.95
        app.faults = [Fault(429, headers={"retry-after": "3600"})]
        (error,) = complete_all(fast(url, max_retry_after_s=5))
    assert isinstance(error, TargetError) and "resume later" in str(error)
    later = httpx.Headers({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert 25 < (retry_after(later) or 0) <= 31
    assert retry_after(httpx.Headers({"retry-after": "soon"})) is None


def test_never_exceeds_the_rate_even_with_concurrency_and_retries() -> None:
    rate = 25.0
    app = VulnerableApp(faults=[Fault(429), Fault(503), Fault(429)])
    with serve(app) as url:
        answers = complete_all(fast(url, rate=rate, concurrency=8), n=20)
    assert not [a for a in answers if isinstance(a, Exception)]
    times = sorted(app.times)
    assert len(times) == 23
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    # Server-side arrival times carry scheduling noise on a busy machine (one late arrival
    # squeezes the next gap), so judge the spacing (40 ms) by its median and the rate by
    # windows, which one noisy arrival cannot push over by more than one request.
    assert gaps[len(gaps) // 2] >= 0.8 / rate
    assert max(sum(1 for t in times if s <= t < s + 0.5) for s in times) <= rate * 0.5 + 1
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= rate + 1


def test_wrong_key_stops_the_run_with_a_clear_message() -> None:
    app = VulnerableApp(api_key="right")
    with serve(app) as url:
        result = run(discover_probes(), ClientConfig(url, "m", api_key="wrong", concurrency=2))
    assert "refused the API key (HTTP 401)" in result.stopped and API_KEY_ENV in result.stopped
    assert len(app.times) <= 2 < len(discover_probes())
    assert result.errors_by_kind() == {"auth": len(result.attempts)}
    assert build_report(result).findings[-1].rule == "GA-RT-009"
    with serve(app) as url:
        (error,) = complete_all(fast(url, api_key="wrong"))
    assert isinstance(error, AuthError)


def test_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, "right")
    with serve(VulnerableApp(api_key="right")) as url:
        (answer,) = complete_all(fast(url))
    assert not isinstance(answer, Exception)


def test_unreachable_target_is_recorded_and_the_run_goes_on() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probes = discover_probes(["jailbreak"])
    result = run(probes, fast(f"http://127.0.0.1:{port}", max_retries=1))
    assert not result.stopped
    assert result.errors_by_kind() == {"unreachable": len(result.attempts)} and result.attempts
    assert "cannot reach" in result.attempts[0].evidence
    assert result.by_family()["jailbreak"]["success_rate"] is None


def test_malformed_answers_are_classified() -> None:
    for raw in (
        b"not json",
        b"{}",
        b'{"choices": []}',
        b'{"choices": [{"message": {"content": 3}}]}',
    ):
        with pytest.raises(TargetError) as info:
            parse_completion(raw)
        assert info.value.kind == "malformed"
    calls = (
        b'{"choices": [{"message": {"content": null,'
        b' "tool_calls": [{"function": {"name": "f"}}]}}]}'
    )
    answer = parse_completion(calls)
    assert answer.content == "" and answer.tool_calls[0].name == "f"
    assert parse_completion(OK_BODY).content == "ok"
    app = VulnerableApp(faults=[Fault(200, b"<html>")])
    with serve(app) as url:
        (error,) = complete_all(fast(url))
    assert isinstance(error, TargetError) and error.kind == "malformed" and len(app.times) == 1


def test_config_validates_and_builds_the_endpoint() -> None:
    assert ClientConfig("http://h/v1", "m").endpoint == "http://h/v1/chat/completions"
    assert ClientConfig("http://h", "m").endpoint == "http://h/v1/chat/completions"
    assert ClientConfig("http://h/x/chat/completions", "m").endpoint.endswith("x/chat/completions")
    for bad in ({"base_url": "ftp://h"}, {"model": ""}, {"rate": 0}, {"concurrency": 0}):
        with pytest.raises(UsageError):
            ClientConfig(**{"base_url": "http://h", "model": "m", **bad})  # type: ignore[arg-type]
