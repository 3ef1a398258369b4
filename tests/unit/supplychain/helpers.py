"""Shared pieces of the supply-chain unit tests: harmless payloads and small scan wrappers.

Payloads here are only ever written, never loaded or rendered.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
from pathlib import Path
from typing import BinaryIO

from garrison.errors import GarrisonError
from garrison.findings import Finding, Severity
from garrison.policy import Policy
from garrison.report.model import Report
from garrison.supplychain.context import ScanContext
from garrison.supplychain.dispatch import Handler


class Payload:
    """Pickles to a call of os.system; the tests write it and never load it."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo garrison-test",))


EVIL = pickle.dumps(Payload(), protocol=2)

# The classic payload from public llama-cpp-python / Jinja2 SSTI advisories, with a harmless
# command.
RCE_PAYLOAD = "{{ cycler.__init__.__globals__.os.popen('echo garrison-test').read() }}"


def scan_handler(
    handler: Handler, data: bytes, name: str | Path, policy: Policy | None = None
) -> list[Finding]:
    """Run one format handler on in-memory bytes as if they were the file `name`."""
    ctx = ScanContext.for_file(Path(name), policy or Policy.model_validate({}))
    handler(io.BytesIO(data), ctx)
    return ctx.findings


def scan_hostile(
    handler: Handler, data: bytes | BinaryIO, name: str | Path, policy: Policy | None = None
) -> list[Finding]:
    """Run a handler on bytes that may be malformed: only a GarrisonError may escape it."""
    ctx = ScanContext.for_file(Path(name), policy or Policy.model_validate({}))
    with contextlib.suppress(GarrisonError):
        handler(io.BytesIO(data) if isinstance(data, bytes) else data, ctx)
    return ctx.findings


def worst_by_rule(report: Report) -> dict[str, Severity]:
    """Highest severity per rule id."""
    out: dict[str, Severity] = {}
    for f in report.findings:
        if f.rule not in out or f.severity > out[f.rule]:
            out[f.rule] = f.severity
    return out


def serious(report: Report) -> list[Finding]:
    """Findings at MEDIUM or above: what a benign file must never get."""
    return [f for f in report.findings if f.severity >= Severity.MEDIUM]


def critical(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.severity == Severity.CRITICAL]
