"""Load generator of the gateway benchmark, run in its own process on loopback.

    python benchmarks/_gateway_load.py URL --body JSON [--key K] (--requests N | --duration S)
        [--concurrency C] [--warmup W] [--client raw|httpx] [--cpus 0]

Each of C connections sends POSTs one after another over HTTP/1.1 keep-alive; with
--requests it stops after N measured requests in all, with --duration after S seconds. Prints
one JSON object: completed requests, errors, wall seconds, requests/s, latency percentiles in
ms, the generator's own CPU time per request and, with --watch PID, that of the server's
process tree over the measured window (read from /proc at its start and end).

The default client writes pre-built request bytes on asyncio streams over uvloop and parses
only the status line and the framing headers: it costs a fraction of what an HTTP library
does per request, so it keeps ahead of the servers it loads on a machine it shares with them.
`--client httpx` (a pooled AsyncClient) exists to measure that difference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from _gateway_servers import tree_cpu_seconds
from _gateway_stats import cpu_ms_per_request, summarize, throughput

Call = Callable[[], Awaitable[tuple[int, bytes]]]


@dataclass(slots=True)
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_sample: str = ""

    def failed(self, what: str) -> None:
        self.errors += 1
        self.error_sample = self.error_sample or what[:300]


class RawConnection:
    """One keep-alive HTTP/1.1 connection that replays the same request."""

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        reader = self.reader
        self.writer.write(self.request)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            status, length, chunked, close = _parse_head(head)
            body = await (_read_chunked(reader) if chunked else reader.readexactly(length))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _parse_head(head: bytes) -> tuple[int, int, bool, bool]:
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    return status, length, chunked, close


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent to us
            return b"".join(parts)
        parts.append((await reader.readexactly(size + 2))[:-2])


def raw_request(url: str, body: bytes, key: str) -> bytes:
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Content-Length: {len(body)}",
    ]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _calls(args: argparse.Namespace) -> tuple[list[Call], Callable[[], Awaitable[None]]]:
    """One call per connection, and how to close them all."""
    body = args.body.encode()
    if args.client == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=args.concurrency)
        client = httpx.AsyncClient(limits=limits, timeout=30.0)
        headers = {"content-type": "application/json"}
        if args.key:
            headers["authorization"] = f"Bearer {args.key}"

        async def post() -> tuple[int, bytes]:
            response = await client.post(args.url, content=body, headers=headers)
            return response.status_code, response.content

        return [post] * args.concurrency, client.aclose

    parts = urlsplit(args.url)
    request = raw_request(args.url, body, args.key)
    conns = [
        RawConnection(parts.hostname or "127.0.0.1", parts.port or 80, request)
        for _ in range(args.concurrency)
    ]

    async def close_all() -> None:
        for conn in conns:
            conn.close()

    return [conn.call for conn in conns], close_all


async def _one(call: Call, tally: Tally | None) -> None:
    started = time.perf_counter()
    try:
        status, body = await call()
    except Exception as exc:  # counted, so one bad response does not end the run
        if tally is not None:
            tally.failed(f"{type(exc).__name__}: {exc}")
        return
    if tally is None:
        return
    if status == 200:
        tally.latencies_ms.append(1000 * (time.perf_counter() - started))
    else:
        tally.failed(f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")


async def _worker(
    call: Call, tally: Tally, warmup: int, ready: asyncio.Barrier, stop: Callable[[], bool]
) -> None:
    for _ in range(warmup):
        await _one(call, None)
    await ready.wait()
    while not stop():
        await _one(call, tally)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    calls, close = await _calls(args)
    tally = Tally()
    ready = asyncio.Barrier(len(calls) + 1)
    deadline = float("inf")

    wanted: int = args.requests

    def stop() -> bool:
        if wanted:
            return len(tally.latencies_ms) + tally.errors >= wanted
        return time.perf_counter() >= deadline

    warmup = -(-args.warmup // len(calls))  # per connection, rounded up
    tasks = [asyncio.create_task(_worker(c, tally, warmup, ready, stop)) for c in calls]
    await ready.wait()
    watched0 = tree_cpu_seconds(args.watch) if args.watch else 0.0
    cpu0, started = _cpu_seconds(), time.perf_counter()
    deadline = started + args.duration
    await asyncio.gather(*tasks)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu0
    watched = tree_cpu_seconds(args.watch) - watched0 if args.watch else 0.0
    await close()
    done = len(tally.latencies_ms)
    result: dict[str, Any] = {
        "client": args.client,
        "concurrency": args.concurrency,
        "requests": done,
        "errors": tally.errors,
        "seconds": round(seconds, 3),
        "requests_per_s": throughput(done, seconds),
        "client_cpu_ms_per_request": cpu_ms_per_request(cpu, done),
    }
    if args.watch:  # the server's CPU over the measured window only, warm-up excluded
        result["server_cpu_ms_per_request"] = cpu_ms_per_request(watched, done + tally.errors)
    if tally.error_sample:
        result["error_sample"] = tally.error_sample
    return result | (summarize(tally.latencies_ms) if done else {})


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url")
    parser.add_argument("--body", required=True, help="the JSON request body")
    parser.add_argument("--key", default="", help="sent as a Bearer token")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--requests", type=int, default=0, help="measured requests in all")
    mode.add_argument("--duration", type=float, default=0.0, help="measured seconds")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured requests first")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--cpus", default="", help="comma-separated CPUs to pin to")
    parser.add_argument("--watch", type=int, default=0, help="report this process tree's CPU")
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.cpus:
        os.sched_setaffinity(0, {int(c) for c in args.cpus.split(",")})
    import uvloop

    result = uvloop.run(run(args))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
