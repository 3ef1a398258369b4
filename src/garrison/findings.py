"""The one result type shared by every check in every area."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from garrison.assets import Asset


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            from garrison.errors import UsageError

            raise UsageError(f"unknown severity {value!r}; use one of: {names}") from None


_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


@dataclass(frozen=True, slots=True)
class Location:
    """Where in an asset a finding is; every field is optional."""

    path: str | None = None
    member: str | None = None  # archive member chain, outermost first, joined by "!"
    offset: int | None = None  # byte offset inside the member (or file)
    opcode_index: int | None = None  # index of the pickle opcode
    line: int | None = None
    row: int | None = None  # 0-based row or sample index of a dataset
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    def __str__(self) -> str:
        parts = [self.path or ""]
        if self.member:
            parts.append(f"!{self.member}")
        if self.line is not None:
            parts.append(f":{self.line}")
        if self.opcode_index is not None:
            parts.append(f" @op{self.opcode_index}")
        elif self.offset is not None:
            parts.append(f" @{self.offset}")
        if self.row is not None:
            parts.append(f" row {self.row}")
        if self.column is not None:
            parts.append(f" [{self.column}]")
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    title: str
    severity: Severity
    asset: Asset
    location: Location = field(default_factory=Location)
    evidence: str = ""
    remediation: str = ""
    refs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity.value,
            "asset": self.asset.to_dict(),
            "location": self.location.to_dict(),
            "evidence": self.evidence,
            "remediation": self.remediation,
            "refs": list(self.refs),
        }


def max_severity(findings: list[Finding]) -> Severity | None:
    return max((f.severity for f in findings), key=lambda s: s.rank, default=None)
