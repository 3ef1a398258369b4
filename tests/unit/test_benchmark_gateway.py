"""The pure parts of benchmarks/gateway.py: percentiles, added latency, the result file's
schema and claims, the load generator's HTTP framing, and one short load run against the
fake upstream. Nothing here starts LiteLLM or the gateway."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _gateway_load as load  # noqa: E402
import _gateway_proxies as proxies  # noqa: E402
import _gateway_stats as stats  # noqa: E402
import _gateway_tables as tables  # noqa: E402
from _gateway_servers import first_json, free_port  # noqa: E402


def test_percentile_interpolates_like_numpy() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 50) == 3.0
    assert stats.percentile(values, 100) == 5.0
    assert stats.percentile(values, 90) == pytest.approx(4.6)  # numpy.percentile(.., 90)
    assert stats.percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert stats.percentile([7.0], 99) == 7.0


@pytest.mark.parametrize(("values", "p"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_rejects_bad_input(values: list[float], p: float) -> None:
    with pytest.raises(ValueError):
        stats.percentile(values, p)


def test_added_latency_is_per_percentile_difference() -> None:
    direct = stats.summarize([0.1] * 98 + [0.2, 0.3])
    proxied = stats.summarize([1.1] * 98 + [3.0, 9.0])
    delta = stats.added(proxied, direct)
    assert delta["added_p50_ms"] == pytest.approx(1.0)
    assert delta["added_p99_ms"] == pytest.approx(
        stats.percentile([1.1] * 98 + [3.0, 9.0], 99)
        - stats.percentile([0.1] * 98 + [0.2, 0.3], 99),
        abs=1e-3,
    )
    assert stats.cpu_ms_per_request(2.5, 1000) == 2.5
    assert stats.cpu_ms_per_request(1.0, 0) is None
    assert stats.throughput(2000, 2.0) == 1000.0


def _run(p50: float, p99: float, rps: float, errors: int = 0) -> dict[str, Any]:
    return {
        "requests": 100,
        "errors": errors,
        "seconds": 1.0,
        "concurrency": 32,
        "p50_ms": p50,
        "p90_ms": p50,
        "p99_ms": p99,
        "requests_per_s": rps,
        "server_cpu_ms_per_request": 0.5,
    }


def _proxy(p50: float, p99: float, rps: float, probe: int = 200) -> dict[str, Any]:
    direct = _run(0.1, 0.2, 0)
    latency = _run(p50, p99, 0)
    return {
        "latency": latency,
        "direct_before": direct,
        "added": stats.added(latency, direct),
        "throughput": _run(p50, p99, rps),
        "injection_probe_status": probe,
    }


@pytest.fixture()
def results() -> dict[str, Any]:
    out: dict[str, Any] = {
        "machine": {
            "platform": "Linux x86_64",
            "cpu": "test",
            "cpus": 2,
            "memory_gb": 1.0,
            "python": "3.11",
            "load_average_before": [0.1, 0.1, 0.1],
        },
        "meta": {
            "versions": {"garrison-ml": "0", "litellm": "1.108.7"},
            "quick": True,
            "pinning": "not pinned",
            "latency_requests": 100,
            "warmup_requests": 10,
            "concurrency": 32,
            "throughput_seconds": 1.0,
        },
        "load_generator": {"client": "raw", "ceiling_requests_per_s": 20_000.0},
        "arms": {
            "direct": {"latency": _run(0.1, 0.2, 0), "throughput": _run(1, 2, 20_000)},
            "litellm": _proxy(8.0, 12.0, 110.0) | {"version": "1.108.7"},
            "garrison": _proxy(0.9, 3.0, 1500.0),
            "garrison_guarded": _proxy(2.0, 5.0, 900.0, probe=400),
        },
    }
    out["claims"] = tables.claims(out)
    return out


def test_claims_hold_for_a_fast_gateway(results: dict[str, Any]) -> None:
    tables.validate(results)
    assert all(results["claims"].values()), results["claims"]


def test_claims_fail_when_a_goal_is_missed(results: dict[str, Any]) -> None:
    slow = copy.deepcopy(results)
    slow["arms"]["garrison"] = _proxy(9.0, 30.0, 100.0)
    claims = tables.claims(slow)
    assert claims["garrison_p50_added_under_2ms"] is False
    assert claims["garrison_p99_added_under_10ms"] is False
    assert claims["garrison_at_least_1000_rps"] is False
    assert claims["garrison_p50_added_below_litellm"] is False
    assert claims["garrison_throughput_above_litellm"] is False
    slow["arms"]["garrison_guarded"]["injection_probe_status"] = 200  # the guard did not run
    slow["load_generator"]["ceiling_requests_per_s"] = 150.0
    slow["arms"]["litellm"]["throughput"]["errors"] = 3
    claims = tables.claims(slow)
    assert claims["load_generator_not_the_bottleneck"] is False
    assert claims["guarded_gateway_blocks_an_injection"] is False
    assert claims["no_errors"] is False


def test_skipped_arms_are_not_measured_and_render(results: dict[str, Any]) -> None:
    results["arms"]["garrison"] = {"skipped": "not available"}
    results["arms"]["litellm"] = {"skipped": "--no-litellm given"}
    results["claims"] = tables.claims(results)
    tables.validate(results)
    assert results["claims"]["garrison_p50_added_under_2ms"] is None
    assert results["claims"]["garrison_throughput_above_litellm"] is None
    text = tables.markdown(results)
    assert "not run: not available" in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len({line.count("|") for line in rows}) == 1  # every row has the header's columns


def test_markdown_shows_every_arm(results: dict[str, Any]) -> None:
    text = tables.markdown(results)
    assert "LiteLLM 1.108.7 proxy" in text
    assert "| Garrison gateway, guards off | 0.900 | 3.000 | 0.800 |" in text
    assert "1,500" in text
    assert "garrison_at_least_1000_rps: yes" in text


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("claims"), "claims"),
        (lambda r: r["arms"].pop("garrison_guarded"), "arms must be"),
        (lambda r: r["arms"]["garrison"]["latency"].pop("p99_ms"), "p99_ms"),
        (lambda r: r["arms"]["litellm"].pop("added"), "added"),
        (lambda r: r["load_generator"].clear(), "ceiling"),
    ],
)
def test_validate_rejects_incomplete_results(
    results: dict[str, Any], mutate: Any, message: str
) -> None:
    mutate(results)
    with pytest.raises(ValueError, match=message):
        tables.validate(results)


def test_results_round_trip_through_json(results: dict[str, Any]) -> None:
    again = json.loads(json.dumps(results))
    tables.validate(again)
    assert tables.claims(again) == results["claims"]


def test_http_framing_of_the_load_generator() -> None:
    request = load.raw_request("http://127.0.0.1:9/v1/chat/completions", b"{}", "sk-1")
    head, body = request.split(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:9")
    assert b"Content-Length: 2" in head and b"Authorization: Bearer sk-1" in head
    assert body == b"{}"
    parsed = load._parse_head(
        b"HTTP/1.1 429 Too Many\r\nContent-Length: 12\r\nConnection: close\r\n\r\n"
    )
    assert parsed == (429, 12, False, True)
    assert load._parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")[2] is True

    async def chunked() -> bytes:
        reader = asyncio.StreamReader()
        reader.feed_data(b"4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\n\r\n")
        reader.feed_eof()
        return await load._read_chunked(reader)

    assert asyncio.run(chunked()) == b"Wikipedia "


def test_litellm_config_and_key_parsing() -> None:
    config = proxies.litellm_config("http://127.0.0.1:8000/v1")
    assert "api_base: http://127.0.0.1:8000/v1" in config
    assert f"master_key: {proxies.LITELLM_MASTER_KEY}" in config
    assert "database_url" not in config
    assert proxies.parse_key('log line\n{"key": {"id": "gk_1"}, "secret": "gk-1-abc"}\n') == (
        "gk-1-abc"
    )
    for output in ("nothing here", '{"key": {"id": "gk_1"}}'):
        with pytest.raises(RuntimeError, match="no secret"):
            proxies.parse_key(output)
    assert first_json('x {"a": 1} {"b": 2}') == {"a": 1}


@pytest.fixture()
def upstream() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "_gateway_upstream.py"), "--port", str(port)],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                import urllib.request

                urllib.request.urlopen(url.replace("chat/completions", "models"), timeout=1)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_load_generator_against_the_fake_upstream(upstream: str) -> None:
    body = '{"model": "bench-model", "messages": []}'
    cmd = [sys.executable, str(BENCH / "_gateway_load.py"), upstream, "--body", body]
    done = subprocess.run(
        [*cmd, "--requests", "200", "--warmup", "20", "--concurrency", "4"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    stats.check_latency_run(run)
    assert run["errors"] == 0 and run["requests"] >= 200
    assert 0 < run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]

    missing = upstream.replace("chat/completions", "nowhere")
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "_gateway_load.py"),
            missing,
            "--body",
            body,
            "--requests",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    run = json.loads(done.stdout)
    assert run["requests"] == 0 and run["errors"] == 5
    assert run["error_sample"].startswith("HTTP 404")
