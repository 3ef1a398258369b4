"""Admission: with `require_approved`, only models whose digests are approved are served.

The approvals of the configured digests are read into memory and re-read by a daemon thread,
so the event loop never waits on the store and a revocation takes effect within `refresh_s`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from garrison.gateway.refresh import Refreshed

if TYPE_CHECKING:
    from garrison.supplychain.provenance.approvals import Registry


class ApprovalCache(Refreshed):
    """Answers `is_approved(digest)` from the approved-model registry, cached."""

    what = "model approvals"

    def __init__(self, registry: Registry, digests: Iterable[str], refresh_s: float = 5.0) -> None:
        super().__init__(refresh_s)
        self._registry = registry
        self._digests = tuple(dict.fromkeys(digests))
        self._approved: frozenset[str] = frozenset()
        self.refresh()  # a broken store fails at startup, not on the first request

    def is_approved(self, digest: str) -> bool:
        self._ensure_started()
        return digest in self._approved

    def refresh(self) -> None:
        self._approved = frozenset(d for d in self._digests if self._registry.check(d).ok)
