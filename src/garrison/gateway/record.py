"""What the gateway decided about one request: the record audit, monitors and metrics share."""

from __future__ import annotations

from dataclasses import dataclass, field

# Values of RequestRecord.decision.
ALLOW = "allow"
BLOCK = "block"
REDACT = "redact"
ERROR = "error"


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    name: str  # e.g. "injection", "pii", "tool_policy"
    stage: str  # "input" | "output"
    verdict: str  # "pass" | "flag" | "block" | "redact" | "error"
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class RequestRecord:
    request_id: str
    ts: str  # ISO-8601 UTC, when the request arrived
    route: str  # "chat" | "completions" | "embeddings" | "models" | "infer"
    status: int  # HTTP status returned to the client
    decision: str  # ALLOW | BLOCK | REDACT | ERROR
    reason: str = ""  # e.g. "auth", "quota.rpm", "guard.input", "tool_policy", "upstream"
    key_id: str | None = None
    owner: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    upstream_ms: float | None = None
    guards: tuple[GuardVerdict, ...] = ()
    # Transient: monitors read them; the recorder stores a SHA-256 unless the policy asks for text.
    prompt_text: str = field(default="", repr=False)
    completion_text: str = field(default="", repr=False)
