"""Guards for LLM applications: input and output scanners composed into pipelines.

Two lines wrap a model call::

    guard = Guard(system_prompt=SYSTEM, allowed_hosts=["example.com"])
    answer = guard.wrap(call_model)(user_text)
"""

from __future__ import annotations

import importlib
from typing import Any

# Re-exports are resolved on first use, so importing a submodule (the rule catalog, the red
# team) does not pull in every guard and numpy.
_EXPORTS = {
    "Blocked": "garrison.llm.guard",
    "Guard": "garrison.llm.guard",
    "GuardContext": "garrison.llm.scanner",
    "InjectionScanner": "garrison.llm.injection",
    "LeakageGuard": "garrison.llm.leakage",
    "LengthLimit": "garrison.llm.limits",
    "LinkGuard": "garrison.llm.links",
    "Pipeline": "garrison.llm.scanner",
    "ScanResult": "garrison.llm.scanner",
    "Scanner": "garrison.llm.scanner",
    "SensitiveGuard": "garrison.llm.sensitive_guard",
    "SmugglingGuard": "garrison.llm.smuggling",
    "StructuredOutputGuard": "garrison.llm.structured",
    "Vault": "garrison.llm.sensitive_guard",
    "Verdict": "garrison.llm.scanner",
    "count_tokens": "garrison.llm.limits",
    "find_payloads": "garrison.llm.smuggling",
    "find_urls": "garrison.llm.links",
    "host_allowed": "garrison.llm.links",
    "make_canary": "garrison.llm.leakage",
    "overlap_ratio": "garrison.llm.leakage",
    "plant_canary": "garrison.llm.leakage",
    "truncate_tokens": "garrison.llm.limits",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'garrison.llm' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
