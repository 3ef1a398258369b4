"""Rules of the approved-model registry, reported by `garrison scan` under require_approved."""

from __future__ import annotations

from garrison.findings import Severity
from garrison.rules import Rule

_REFS = ("OWASP-LLM03:2025", "OWASP-ML06:2023", "ATLAS-AML.T0010", "NIST-AI-RMF-GOVERN-6.1")

NOT_APPROVED = Rule(
    "GA-PROV-001",
    "Model is not approved",
    Severity.CRITICAL,
    "The policy sets require_approved, and no approval in the registry covers this model's "
    "digests: it was never approved, or its files changed since the approval.",
    "Review the model and approve it with `garrison models approve`, or use an approved one.",
    _REFS,
)
EXPIRED = Rule(
    "GA-PROV-002",
    "Model approval expired",
    Severity.HIGH,
    "The model's approval has passed its expiry date; approvals expire so that models are "
    "re-reviewed against new findings and rules.",
    "Re-scan and re-approve the model with `garrison models approve`.",
    _REFS,
)
REVOKED = Rule(
    "GA-PROV-003",
    "Model approval revoked",
    Severity.CRITICAL,
    "The model's approval was revoked; it must not be used.",
    "Replace the model; see `garrison models list --all` for the reason of the revocation.",
    _REFS,
)

RULES = (NOT_APPROVED, EXPIRED, REVOKED)
