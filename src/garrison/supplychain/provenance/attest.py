"""Signed scan verdicts: an in-toto statement saying what was scanned, by which rules, with
what result, bound to the same digests as the model's signature manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from garrison import keys
from garrison.findings import Severity
from garrison.report.model import Report
from garrison.supplychain.provenance import bundle
from garrison.supplychain.provenance.bundle import SignatureError
from garrison.supplychain.provenance.manifest import Manifest
from garrison.supplychain.provenance.signature import manifest_statement
from garrison.supplychain.provenance.verdict import rules_version, verdict

if TYPE_CHECKING:
    from garrison.policy import Policy

PREDICATE_TYPE = "https://garrison.dev/attestation/scan/v1"
MAX_LISTED_FINDINGS = 1000


def findings_for(report: Report, model: Path) -> Report:
    """The part of a multi-target report that concerns one model path."""
    root = str(model)
    prefix = root.rstrip("/") + "/"
    mine = [
        f
        for f in report.findings
        if (f.location.path or f.asset.path or "") in (root,)
        or (f.location.path or f.asset.path or "").startswith(prefix)
    ]
    part = Report(command=report.command, targets=[root], fail_on=report.fail_on, findings=mine)
    part.started_at = report.started_at
    return part


def scan_statement(manifest: Manifest, report: Report, model: Path) -> dict[str, Any]:
    signed = manifest_statement(manifest)
    listed = report.sorted_findings()[:MAX_LISTED_FINDINGS]
    return {
        "_type": bundle.STATEMENT_TYPE,
        "subject": signed["subject"],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "scanner": {
                "name": "garrison",
                "version": report.tool_version,
                "rules": rules_version(),
            },
            "scannedAt": report.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "verdict": verdict(report),
            "findings": [
                {
                    "rule": f.rule,
                    "severity": f.severity.value,
                    "title": f.title,
                    "file": _relative(f.location.path or f.asset.path, model),
                    "member": f.location.member,
                }
                for f in listed
            ],
            "serialization": signed["predicate"]["serialization"],
            "resources": signed["predicate"]["resources"],
        },
    }


def _relative(path: str | None, model: Path) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).relative_to(model).as_posix() or model.name
    except ValueError:
        return Path(path).name


def write_attestation(
    manifest: Manifest, report: Report, model: Path, key: keys.PrivateKey, out: Path
) -> dict[str, Any]:
    statement = scan_statement(manifest, report, model)
    bundle.write_bundle(out, bundle.sign_statement(statement, key))
    return statement


@dataclass(frozen=True, slots=True)
class AttestedVerdict:
    passed: bool
    max_severity: str | None
    findings: int
    scanner_version: str
    rules: str
    scanned_at: str

    def describe(self) -> str:
        result = "passed" if self.passed else "failed"
        worst = f", worst {self.max_severity}" if self.max_severity else ""
        return (
            f"scan {result} ({self.findings} finding(s){worst}) by garrison "
            f"{self.scanner_version}, rules {self.rules}, at {self.scanned_at}"
        )


def check_attestation(
    path: Path,
    public_key: keys.PublicKey,
    manifest: Manifest,
    fail_on: Severity = Severity.HIGH,
) -> AttestedVerdict:
    """Verify a scan attestation against the verified signature manifest of the same model.

    Raises SignatureError when it is missing, forged, about other digests, or failed.
    """
    if not path.exists():
        raise SignatureError(
            f"no scan attestation at {path}; write one with `garrison scan --attest`"
        )
    envelope = bundle.read_bundle(path)
    statement = bundle.verify_envelope(envelope, public_key, str(path))
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise SignatureError(f"{path} is not a Garrison scan attestation")
    try:
        subject_digest = str(statement["subject"][0]["digest"]["sha256"]).lower()
        predicate = statement["predicate"]
        listed = {str(r["name"]): str(r["digest"]).lower() for r in predicate["resources"]}
        result = predicate["verdict"]
        scanner = predicate["scanner"]
        attested = AttestedVerdict(
            passed=bool(result["passed"]),
            max_severity=result.get("max_severity"),
            findings=int(result["findings"]),
            scanner_version=str(scanner["version"]),
            rules=str(scanner["rules"]),
            scanned_at=str(predicate["scannedAt"]),
        )
        worst = Severity(attested.max_severity) if attested.max_severity else None
    except (KeyError, IndexError, TypeError, ValueError):
        raise SignatureError(f"{path}: the attestation is malformed") from None
    if subject_digest != manifest.root_digest or listed != manifest.digests():
        raise SignatureError(
            f"{path} attests other files than the signature covers "
            f"(attested {subject_digest[:12]}…, signed {manifest.root_digest[:12]}…)"
        )
    if not attested.passed or (worst is not None and worst >= fail_on):
        raise SignatureError(f"{path}: {attested.describe()}")
    return attested


def manifests_of(paths: list[Path], policy: Policy) -> dict[Path, Manifest]:
    """Hash each scanned path once, for the attestations and the audit records alike."""
    from garrison.supplychain.provenance.manifest import build_manifest

    return {p: build_manifest(p, max_files=policy.limits.max_files) for p in paths}


def attest_paths(
    paths: list[Path],
    report: Report,
    key: keys.PrivateKey,
    policy: Policy,
    manifests: dict[Path, Manifest] | None = None,
) -> list[Path]:
    """Attest each scanned path; each attestation covers the same digests `sign` would.

    The audit log gets one record per attestation."""
    from garrison.store import AuditLog, database_url, open_store
    from garrison.supplychain.provenance.signature import default_attestation_path

    manifests = manifests or manifests_of(paths, policy)
    written = []
    store = open_store(database_url(policy))
    try:
        for model in paths:
            manifest = manifests[model]
            part = findings_for(report, model)
            out = default_attestation_path(model)
            write_attestation(manifest, part, model, key, out)
            AuditLog(store).append(
                "scan.attest",
                str(model),
                {
                    "root_digest": manifest.root_digest,
                    "verdict": verdict(part),
                    "key": keys.key_hint(key),
                },
            )
            written.append(out)
    finally:
        store.close()
    return written


def record_verdict(
    paths: list[Path],
    report: Report,
    policy: Policy,
    manifests: dict[Path, Manifest] | None = None,
) -> None:
    """`scan --record`: one audit record with the verdict of each scanned path."""
    from garrison.store import AuditLog, database_url, open_store

    manifests = manifests or manifests_of(paths, policy)
    store = open_store(database_url(policy))
    try:
        log = AuditLog(store)
        for model in paths:
            manifest = manifests[model]
            log.append(
                "scan.verdict",
                str(model),
                {
                    "root_digest": manifest.root_digest,
                    "files": len(manifest.resources),
                    "rules": rules_version(),
                    "verdict": verdict(findings_for(report, model)),
                },
            )
    finally:
        store.close()
