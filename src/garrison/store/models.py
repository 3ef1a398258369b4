"""Tables of the store: the audit log and the approved-model registry."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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


class GatewayRequest(Base):
    """One request the gateway decided on; `audit_seq` is its record in the audit chain.

    `prompt` and `completion` hold "sha256:<hex>" of the text unless the policy stores text.
    """

    __tablename__ = "gateway_requests"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    request_id: Mapped[str] = mapped_column(String(160), unique=True, index=True)
    ts: Mapped[str] = mapped_column(String(32), index=True)
    key_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    owner: Mapped[str | None] = mapped_column(Text, nullable=True)
    route: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(Text, nullable=True)  # as the client sent it
    status: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    upstream_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    guards: Mapped[str] = mapped_column(Text)  # JSON list of {name, stage, verdict, score}
    prompt: Mapped[str] = mapped_column(Text)
    completion: Mapped[str] = mapped_column(Text)
    audit_seq: Mapped[int] = mapped_column(Integer)


class GatewayKey(Base):
    """One gateway API key; only the SHA-256 of its secret is kept.

    List columns hold JSON arrays; timestamps are ISO 8601 UTC text like the other tables.
    """

    __tablename__ = "gateway_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(200))
    models: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)
    tools: Mapped[str | None] = mapped_column(Text, nullable=True)  # null: the policy's default
    guard_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rpm: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tpm: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    daily_tokens: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expires_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class InventoryAsset(Base):
    """One AI asset discovery has seen, with its owner and EU AI Act risk tier.

    `uri` is the file's URI, plus `#category/name` for what lives inside a file (an SDK use,
    a configured server), so one file can hold several assets.
    """

    __tablename__ = "inventory_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(Text, unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text)  # where discovery found it, as the user gave it
    location: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_seen: Mapped[str] = mapped_column(String(32))
    last_seen: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    risk_tier: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    classification: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON assessment
    classified_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    classified_at: Mapped[str | None] = mapped_column(String(32), nullable=True)


class InventoryVerdict(Base):
    """The latest verdict of one area (posture, supply chain, ...) on one inventory asset."""

    __tablename__ = "inventory_verdicts"
    __table_args__ = (UniqueConstraint("asset_id", "area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("inventory_assets.id", ondelete="CASCADE"))
    area: Mapped[str] = mapped_column(String(32))
    passed: Mapped[bool] = mapped_column(Boolean)
    max_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    findings: Mapped[int] = mapped_column(Integer)
    ts: Mapped[str] = mapped_column(String(32))
    rules: Mapped[str] = mapped_column(Text, server_default="{}")  # JSON {rule id: count}
