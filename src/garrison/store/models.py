"""Tables of the store: the audit log and the approved-model registry."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AuditRecord(Base):
    """One entry of the hash chain; `hash` covers every other column and `prev_hash`."""

    __tablename__ = "audit_records"

    # Assigned by AuditLog under a lock, never by the database, so the chain stays gap-free.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # ISO 8601 UTC text, hashed exactly as stored: a DateTime column could round-trip
    # differently across backends and break the hash.
    ts: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(200), index=True)
    subject: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """An Ed25519 signature over the chain head at `record_seq`."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # No foreign key: verify must be able to report a deleted checkpointed record as truncation.
    record_seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    ts: Mapped[str] = mapped_column(String(32))


class ModelApproval(Base):
    """One approval of a model, identified by its manifest's root digest.

    Timestamps are ISO 8601 UTC text so they compare the same way on every backend.
    """

    __tablename__ = "model_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(500))
    root_digest: Mapped[str] = mapped_column(String(64), index=True)
    manifest: Mapped[str] = mapped_column(Text)  # JSON list of {name, digest, size}
    owner: Mapped[str] = mapped_column(String(200))
    risk_tier: Mapped[str] = mapped_column(String(32))
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    scan_verdict: Mapped[str] = mapped_column(Text)  # JSON: passed, max_severity, counts
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    revoked_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class DatasetFingerprint(Base):
    """One recorded dataset fingerprint; its row hashes stay in the `.rows` file it names."""

    __tablename__ = "dataset_fingerprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    root: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(500), index=True)
    path: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[str] = mapped_column(String(32))
    manifest: Mapped[str] = mapped_column(Text)  # JSON manifest without the row hashes
    rows_file: Mapped[str] = mapped_column(Text)
