"""The exception hierarchy: every error a user can act on is a GarrisonError."""

from __future__ import annotations


class GarrisonError(Exception):
    """Base class; the message is one line a user can act on."""


class UsageError(GarrisonError):
    """The user asked for something that cannot be done (bad path, bad option)."""


class PolicyError(GarrisonError):
    """The policy file is missing, unreadable or invalid."""


class MissingExtraError(GarrisonError):
    """An optional dependency is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f"this needs the '{module}' package: pip install 'garrison-ml[{extra}]'")
        self.module = module
        self.extra = extra


class ParseError(GarrisonError):
    """Untrusted bytes are malformed; scanners turn this into a finding."""


class LimitExceeded(GarrisonError):
    """A policy limit was reached while reading untrusted input."""

    def __init__(self, limit: str, value: int, maximum: int) -> None:
        super().__init__(f"{limit} limit reached: {value} > {maximum}")
        self.limit = limit
        self.value = value
        self.maximum = maximum
