"""Rule metadata: stable ids, titles, default severities and framework references."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from garrison.assets import Asset
from garrison.findings import Finding, Location, Severity

# Modules that define rule catalogs (a module-level RULES tuple). Imported on demand.
CATALOG_MODULES: tuple[str, ...] = (
    "garrison.supplychain.rules",
    "garrison.supplychain.provenance.rules",
    "garrison.robustness.rules",
    "garrison.data.rules",
    "garrison.llm.rules",
    "garrison.llm.redteam.rules",
    "garrison.posture.rules",
)


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


def rules_markdown() -> str:
    """docs/rules.md: every rule with its severity, rationale, remediation and references."""
    lines = [
        "# Rules",
        "",
        "Every finding names one of these rules. Ids are stable; severities are defaults that",
        "a policy can override (`severity_overrides`) or switch off (`disabled_rules`).",
        "Generated from the rule catalog by `make docs`; a test keeps it in sync.",
        "",
        "| id | severity | title |",
        "| --- | --- | --- |",
    ]
    rules = sorted(all_rules().values(), key=lambda r: r.id)
    lines += [f"| [{r.id}](#{r.id.lower()}) | {r.severity.value} | {r.title} |" for r in rules]
    for r in rules:
        lines += [
            "",
            f"## {r.id}",
            "",
            f"**{r.title}** — default severity: {r.severity.value}",
            "",
            r.rationale,
            "",
            f"Remediation: {r.remediation}",
            "",
            f"References: {', '.join(r.refs) if r.refs else 'none'}",
        ]
    return "\n".join(lines) + "\n"
