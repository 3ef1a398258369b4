"""Run one command in a subprocess with a timeout; report wall time and peak RSS."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True, slots=True)
class Measured:
    returncode: int  # -9 after a timeout
    timed_out: bool
    seconds: float
    peak_rss_mb: float  # of the process tree's largest process (ru_maxrss from wait4)
    stdout: str
    stderr: str


def measure(
    cmd: list[str], timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Measured:
    """Run `cmd`, killing its whole process group after `timeout` seconds.

    wait4 gives the rusage of exactly this child (and the descendants it reaped), so
    concurrent or earlier runs never leak into the figure, unlike RUSAGE_CHILDREN deltas.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True
        )
        timed_out = threading.Event()
        timer = threading.Timer(timeout, _kill_group, (proc.pid, timed_out))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # keeps Popen from reaping again
        return Measured(
            returncode=proc.returncode,
            timed_out=timed_out.is_set(),
            seconds=seconds,
            peak_rss_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
            stdout=_read(out),
            stderr=_read(err),
        )


def _kill_group(pid: int, flag: threading.Event) -> None:
    flag.set()
    with contextlib.suppress(ProcessLookupError):  # it ended just before the timer fired
        os.killpg(pid, signal.SIGKILL)


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")
