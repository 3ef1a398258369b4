"""Guards for LLM applications: input and output scanners composed into pipelines.

Two lines wrap a model call::

    guard = Guard(system_prompt=SYSTEM, allowed_hosts=["example.com"])
    answer = guard.wrap(call_model)(user_text)
"""

from garrison.llm.guard import Blocked, Guard
from garrison.llm.injection import InjectionScanner
from garrison.llm.leakage import LeakageGuard, make_canary, overlap_ratio, plant_canary
from garrison.llm.limits import LengthLimit, count_tokens, truncate_tokens
from garrison.llm.links import LinkGuard, find_urls, host_allowed
from garrison.llm.scanner import GuardContext, Pipeline, Scanner, ScanResult, Verdict
from garrison.llm.sensitive_guard import SensitiveGuard, Vault
from garrison.llm.smuggling import SmugglingGuard, find_payloads
from garrison.llm.structured import StructuredOutputGuard

__all__ = [
    "Blocked",
    "Guard",
    "GuardContext",
    "InjectionScanner",
    "LeakageGuard",
    "LengthLimit",
    "LinkGuard",
    "Pipeline",
    "ScanResult",
    "Scanner",
    "SensitiveGuard",
    "SmugglingGuard",
    "StructuredOutputGuard",
    "Vault",
    "Verdict",
    "count_tokens",
    "find_payloads",
    "find_urls",
    "host_allowed",
    "make_canary",
    "overlap_ratio",
    "plant_canary",
    "truncate_tokens",
]
