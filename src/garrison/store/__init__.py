"""The store: SQLAlchemy over SQLite or PostgreSQL, and the hash-chained audit log."""

from __future__ import annotations

from garrison.store.audit import AuditLog, Problem, ProblemKind, VerifyResult
from garrison.store.db import Store, StoreError, database_url, open_store
from garrison.store.models import AuditCheckpoint, AuditRecord
from garrison.store.signing import (
    generate_signing_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
)

__all__ = [
    "AuditCheckpoint",
    "AuditLog",
    "AuditRecord",
    "Problem",
    "ProblemKind",
    "Store",
    "StoreError",
    "VerifyResult",
    "database_url",
    "generate_signing_key",
    "load_private_key",
    "load_public_key",
    "open_store",
    "private_key_pem",
    "public_key_pem",
]
