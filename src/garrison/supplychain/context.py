"""Per-file scan state: the policy, where we are inside nested members, and shared budgets."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from garrison.assets import Asset
from garrison.errors import LimitExceeded
from garrison.findings import Finding, Location, Severity
from garrison.policy import Limits, Policy
from garrison.report.model import ScannedItem
from garrison.rules import Rule

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Budget:
    """Counters shared by everything read out of one top-level file."""

    limits: Limits
    decompressed: int = 0
    opcodes: int = 0
    members: int = 0

    def spend_decompressed(self, n: int) -> None:
        self.decompressed += n
        if self.decompressed > self.limits.max_decompressed_bytes:
            raise LimitExceeded(
                "decompressed bytes", self.decompressed, self.limits.max_decompressed_bytes
            )

    def spend_opcodes(self, n: int) -> None:
        self.opcodes += n
        if self.opcodes > self.limits.max_opcodes:
            raise LimitExceeded("pickle opcodes", self.opcodes, self.limits.max_opcodes)

    def spend_members(self, n: int = 1) -> None:
        self.members += n
        if self.members > self.limits.max_archive_members:
            raise LimitExceeded("archive members", self.members, self.limits.max_archive_members)


@dataclass(slots=True)
class ScanContext:
    """What a format scanner gets besides the bytes.

    Scanners report through `add`; they never raise for hostile input except
    ParseError / LimitExceeded, which the dispatcher turns into findings.
    """

    policy: Policy
    asset: Asset
    path: Path  # the top-level file on disk
    budget: Budget
    findings: list[Finding] = field(default_factory=list)
    items: list[ScannedItem] = field(default_factory=list)
    members: tuple[str, ...] = ()
    depth: int = 0
    # Speculative: bytes that may or may not be the format (raw tensor data that happens to
    # start like a pickle). Parse errors are then expected and not reported.
    speculative: bool = False
    debug: bool = False

    @classmethod
    def for_file(
        cls, path: Path, policy: Policy, debug: bool = False, asset: Asset | None = None
    ) -> ScanContext:
        return cls(
            policy=policy,
            asset=asset or Asset.from_path(path),
            path=path,
            budget=Budget(policy.limits),
            debug=debug,
        )

    @property
    def limits(self) -> Limits:
        return self.policy.limits

    @property
    def member(self) -> str | None:
        return "!".join(self.members) if self.members else None

    @property
    def display_name(self) -> str:
        return str(self.path) + (f"!{self.member}" if self.members else "")

    def location(self, **fields: Any) -> Location:
        return Location(path=str(self.path), member=self.member, **fields)

    def add(
        self,
        rule: Rule,
        evidence: str = "",
        *,
        severity: Severity | None = None,
        title: str | None = None,
        **location: Any,
    ) -> Finding | None:
        """Record a finding for `rule` at the current member; honours the policy."""
        if rule.id in self.policy.disabled_rules:
            return None
        severity = self.policy.severity_overrides.get(rule.id, severity)
        finding = rule.finding(
            self.asset, self.location(**location), evidence, severity=severity, title=title
        )
        self.findings.append(finding)
        return finding

    def record(self, fmt: str, status: str, size: int | None = None, detail: str = "") -> None:
        self.items.append(ScannedItem(self.display_name, fmt, status, size, detail))

    def child(self, member: str, speculative: bool = False) -> ScanContext:
        """Context for a member inside this one (archive entry, embedded payload)."""
        depth = self.depth + 1
        if depth > self.limits.max_archive_depth:
            raise LimitExceeded("nesting depth", depth, self.limits.max_archive_depth)
        return replace(
            self,
            members=(*self.members, member),
            depth=depth,
            speculative=speculative or self.speculative,
        )
