"""Rule metadata: stable ids, titles, default severities and framework references."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from garrison.assets import Asset
from garrison.findings import Finding, Location, Severity

# Modules that define rule catalogs (a module-level RULES tuple). Imported on demand.
CATALOG_MODULES: tuple[str, ...] = ("garrison.supplychain.rules",)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    refs: tuple[str, ...] = ()

    def finding(
        self,
        asset: Asset,
        location: Location,
        evidence: str = "",
        severity: Severity | None = None,
        title: str | None = None,
    ) -> Finding:
        return Finding(
            rule=self.id,
            title=title or self.title,
            severity=severity or self.severity,
            asset=asset,
            location=location,
            evidence=_clip(evidence),
            remediation=self.remediation,
            refs=self.refs,
        )


def _clip(text: str, limit: int = 400) -> str:
    """Evidence is printed to terminals and reports: keep it short and printable."""
    safe = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def all_rules() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for name in CATALOG_MODULES:
        module = importlib.import_module(name)
        for rule in module.RULES:
            rules[rule.id] = rule
    return rules
