"""Personal data and secrets in text: recognisers, redaction and a vectorised column scan.

Shared by the data checks, the LLM guards and the gateway; it imports no data-area code,
and numpy/pyarrow only when a column is scanned.
"""

from garrison.sensitive.pii import (
    PII_KINDS,
    Match,
    find_pii,
    mask,
    redact,
    restore,
    scan_values,
)
from garrison.sensitive.secrets import SECRET_KINDS, find_secrets

__all__ = [
    "PII_KINDS",
    "SECRET_KINDS",
    "Match",
    "find_pii",
    "find_secrets",
    "mask",
    "redact",
    "restore",
    "scan_values",
]
