"""Enforce `require_approved`: a model is usable only while an approval covers its digests."""

from __future__ import annotations

from pathlib import Path

from garrison.assets import Asset
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.supplychain.provenance.approvals import ApprovalCheck, Registry, Status
from garrison.supplychain.provenance.manifest import build_manifest
from garrison.supplychain.provenance.rules import EXPIRED, NOT_APPROVED, REVOKED

_RULE = {Status.NOT_APPROVED: NOT_APPROVED, Status.EXPIRED: EXPIRED, Status.REVOKED: REVOKED}


def check_model(model: Path, registry: Registry, max_files: int = 1_000_000) -> ApprovalCheck:
    return registry.check(build_manifest(model, max_files=max_files).root_digest)


def approval_findings(targets: list[Path], policy: Policy) -> list[Finding]:
    """One finding per target whose digests are not covered by an active approval."""
    from garrison.store import database_url, open_store

    store = open_store(database_url(policy))
    registry = Registry(store)
    findings = []
    try:
        for target in targets:
            manifest = build_manifest(target, max_files=policy.limits.max_files)
            check = registry.check(manifest.root_digest)
            rule = _RULE.get(check.status)
            if rule is None or rule.id in policy.disabled_rules:
                continue
            kind = "directory" if target.is_dir() else "file"
            findings.append(
                rule.finding(
                    Asset.from_path(target, kind=kind),
                    Location(path=str(target)),
                    f"{check.describe()}; digest {manifest.root_digest}",
                    severity=policy.severity_overrides.get(rule.id),
                )
            )
    finally:
        store.close()
    return findings
