"""What the dashboard reads from the store: counts and groupings, never writes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from garrison.store.models import GatewayRequest

if TYPE_CHECKING:
    from garrison.posture.inventory import InventoryEntry
    from garrison.store.db import Store

SEVERITIES = ("critical", "high", "medium", "low", "info")
# Decisions that served the request; anything else (block, error) was refused.
SERVED = ("allow", "redact")


@dataclass(frozen=True, slots=True)
class FindingCounts:
    """Findings as the inventory keeps them: one latest verdict per asset and area."""

    by_severity: dict[str, int]  # assets whose worst finding in an area has this severity
    by_area: dict[str, int]  # findings per area
    failing: int  # asset-area verdicts that did not pass
    by_rule: dict[str, int]  # findings per rule id, from the verdicts that name their rules
    unattributed: int  # findings of verdicts recorded before the store kept rule ids


@dataclass(frozen=True, slots=True)
class HourBucket:
    hour: str  # "YYYY-MM-DDTHH"
    served: int
    refused: int


@dataclass(frozen=True, slots=True)
class Traffic:
    hours: list[HourBucket]
    by_decision: dict[str, int]
    by_reason: list[tuple[str, str, int]]  # decision, reason, count; most frequent first


@dataclass(frozen=True, slots=True)
class Coverage:
    framework: str
    title: str
    covered: int
    items: int


@dataclass(frozen=True, slots=True)
class FrameworkFindings:
    framework: str
    title: str
    findings: int  # current findings whose rule maps to at least one item of the framework
    by_item: dict[str, int]  # item id -> findings, only items that have some


def finding_counts(entries: list[InventoryEntry]) -> FindingCounts:
    severity: Counter[str] = Counter()
    area: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    failing = unattributed = 0
    for entry in entries:
        for verdict in entry.verdicts.values():
            area[verdict.area] += verdict.findings
            rules.update(verdict.rules)
            unattributed += max(0, verdict.findings - sum(verdict.rules.values()))
            if verdict.max_severity:
                severity[verdict.max_severity] += 1
            failing += not verdict.passed
    return FindingCounts(
        by_severity={s: severity[s] for s in SEVERITIES},
        by_area=dict(sorted(area.items())),
        failing=failing,
        by_rule=dict(sorted(rules.items())),
        unattributed=unattributed,
    )


def traffic(store: Store, days: int, now: datetime | None = None) -> Traffic:
    """Requests per hour over the last `days` days, served against refused, and why."""
    end = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days) + timedelta(hours=1)
    # ts is ISO text, so the first 13 characters name the hour on every backend.
    hour = func.substr(GatewayRequest.ts, 1, 13)
    since = GatewayRequest.ts >= start.strftime("%Y-%m-%dT%H")
    with store.engine.connect() as conn:
        per_hour = conn.execute(
            select(hour, GatewayRequest.decision, func.count())
            .where(since)
            .group_by(hour, GatewayRequest.decision)
        ).all()
        reasons = conn.execute(
            select(GatewayRequest.decision, GatewayRequest.reason, func.count())
            .where(since)
            .group_by(GatewayRequest.decision, GatewayRequest.reason)
        ).all()
    served: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    decisions: Counter[str] = Counter()
    for bucket, decision, count in per_hour:
        (served if decision in SERVED else refused)[bucket] += count
        decisions[decision] += count
    hours = [start + timedelta(hours=h) for h in range(days * 24)]
    keys = [h.strftime("%Y-%m-%dT%H") for h in hours]
    return Traffic(
        hours=[HourBucket(k, served[k], refused[k]) for k in keys],
        by_decision=dict(decisions.most_common()),
        by_reason=sorted(((d, r, c) for d, r, c in reasons), key=lambda t: (-t[2], t[0], t[1])),
    )


def framework_coverage() -> list[Coverage]:
    """How many items of each framework at least one rule gives evidence for."""
    from garrison.frameworks import FRAMEWORKS, covering_rules, load
    from garrison.rules import all_rules

    rules = list(all_rules().values())
    out = []
    for name in FRAMEWORKS:
        framework = load(name)
        covered = sum(bool(covering_rules(item, rules)) for item in framework.items)
        out.append(Coverage(name, framework.title, covered, len(framework.items)))
    return out


def findings_by_framework(by_rule: dict[str, int]) -> list[FrameworkFindings]:
    """Each framework's share of the current findings, through the rules' references.

    A finding counts once per framework however many of its items the rule maps to; rules
    this version does not know map to nothing.
    """
    from garrison.frameworks import FRAMEWORKS, covering_rules, load
    from garrison.rules import all_rules

    rules = list(all_rules().values())
    out = []
    for name in FRAMEWORKS:
        framework = load(name)
        mapped: set[str] = set()
        by_item: dict[str, int] = {}
        for item in framework.items:
            fired = [r for r in covering_rules(item, rules) if by_rule.get(r)]
            if fired:
                by_item[item.id] = sum(by_rule[r] for r in fired)
                mapped.update(fired)
        total = sum(by_rule[r] for r in mapped)
        out.append(FrameworkFindings(name, framework.title, total, by_item))
    return out
