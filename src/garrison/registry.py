"""Checks are discovered through the `garrison.checks` entry-point group."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Protocol

from garrison.assets import Asset
from garrison.errors import GarrisonError
from garrison.findings import Finding
from garrison.policy import Policy
from garrison.report.model import ScannedItem

log = logging.getLogger(__name__)

GROUP = "garrison.checks"


@dataclass(slots=True)
class RunContext:
    """What every check gets: the policy, and where to note what it looked at."""

    policy: Policy
    debug: bool = False
    items: list[ScannedItem] = field(default_factory=list)


class Check(Protocol):
    id: str
    area: str

    def applies_to(self, asset: Asset) -> bool: ...

    def run(self, asset: Asset, run: RunContext) -> Iterable[Finding]: ...


def discover_checks(area: str | None = None) -> list[Check]:
    """Instantiate every registered check (of one area, when given)."""
    checks: list[Check] = []
    for ep in entry_points(group=GROUP):
        try:
            check = ep.load()()
        except Exception as exc:
            raise GarrisonError(f"cannot load check {ep.name!r} ({ep.value}): {exc}") from exc
        if area is None or getattr(check, "area", None) == area:
            checks.append(check)
    if not checks:
        raise GarrisonError("no checks are registered; is Garrison installed (pip install -e .)?")
    return checks
