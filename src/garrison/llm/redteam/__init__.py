"""The red-team harness: attack an OpenAI-compatible chat endpoint with self-describing probes."""

from garrison.llm.redteam.client import (
    API_KEY_ENV,
    AuthError,
    ChatClient,
    ClientConfig,
    TargetError,
)
from garrison.llm.redteam.probes import (
    BUILTIN_PROBES,
    FAMILIES,
    ChatRequest,
    ChatResponse,
    Hit,
    Probe,
    ProbeContext,
    ToolCall,
    discover_probes,
)
from garrison.llm.redteam.report import build_report, findings
from garrison.llm.redteam.runner import AttemptResult, RedteamResult, run, run_async

__all__ = [
    "API_KEY_ENV",
    "BUILTIN_PROBES",
    "FAMILIES",
    "AttemptResult",
    "AuthError",
    "ChatClient",
    "ChatRequest",
    "ChatResponse",
    "ClientConfig",
    "Hit",
    "Probe",
    "ProbeContext",
    "RedteamResult",
    "TargetError",
    "ToolCall",
    "build_report",
    "discover_probes",
    "findings",
    "run",
    "run_async",
]
