"""Start, probe, pin and stop the servers of the gateway benchmark; read their CPU time."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("gateway")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Server:
    """One server process (and whatever it forks) listening on loopback."""

    name: str
    proc: subprocess.Popen[bytes]
    base_url: str  # ends in /v1
    key: str
    log_path: Path

    @property
    def chat_url(self) -> str:
        return self.base_url + "/chat/completions"

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.strip().splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(
    name: str,
    cmd: list[str],
    *,
    port: int,
    key: str,
    log_path: Path,
    cpus: set[int] | None,
    env: dict[str, str] | None = None,
) -> Server:
    """Start `cmd` in its own session (so stop() reaches its workers), pinned to `cpus`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pin: Callable[[], None] | None = None
    if cpus:
        pinned = set(cpus)

        def pin() -> None:  # in the child before exec, so every worker it forks inherits it
            os.sched_setaffinity(0, pinned)

    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=pin,  # the benchmark runs no threads, so preexec_fn is safe here
        )
    return Server(name, proc, f"http://127.0.0.1:{port}/v1", key, log_path)


def wait_ready(server: Server, body: bytes, timeout: float) -> None:
    """Poll with a real chat request until the whole chain answers 200."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}"
            )
        status, text = post(server.chat_url, body, server.key)
        if status == 200:
            return
        last = f"HTTP {status}: {text[:300]}" if status else text
        time.sleep(0.25)
    raise RuntimeError(
        f"{server.name} not ready after {timeout:.0f} s ({last}):\n{server.log_tail()}"
    )


def post(url: str, body: bytes, key: str) -> tuple[int, str]:
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (OSError, ValueError) as exc:  # refused while starting, reset, timed out
        return 0, f"{type(exc).__name__}: {exc}"


def first_json(text: str) -> dict[str, object]:
    """The first JSON object printed by a command (ignoring log lines around it)."""
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        with contextlib.suppress(ValueError):
            value, _ = decoder.raw_decode(text, start)
            if isinstance(value, dict):
                return value
    raise ValueError("no JSON object in the output")


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU time of a process and all its live descendants."""
    return sum(_cpu_of(pid) for pid in _tree(root))


def _tree(root: int) -> list[int]:
    """`root` and its live descendants, from /proc (Linux; psutil is not a dependency)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents.setdefault(int(stat[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _cpu_of(pid: int) -> float:
    stat = _stat(pid)
    return 0.0 if stat is None else (int(stat[11]) + int(stat[12])) / CLOCK_TICKS


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name: [state, ppid, ...]."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:  # it ended meanwhile
        return None
    return raw[raw.rindex(")") + 2 :].split()
