"""The tamper-evident audit log: a SHA-256 hash chain with Ed25519-signed checkpoints."""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, func, insert, select

from garrison.errors import UsageError
from garrison.store.db import Store
from garrison.store.models import AuditCheckpoint, AuditRecord
from garrison.store.signing import parse_public_key, public_key_pem

GENESIS_HASH = "0" * 64
_RECORD_FIELDS = ("seq", "ts", "actor", "action", "subject", "details", "prev_hash")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: the same value always hashes to the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(fields: Mapping[str, Any]) -> str:
    payload = canonical_json({name: fields[name] for name in _RECORD_FIELDS})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def checkpoint_message(record_seq: int, head_hash: str, ts: str) -> bytes:
    return canonical_json({"head_hash": head_hash, "record_seq": record_seq, "ts": ts}).encode()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without /etc/passwd entries
        return "unknown"


def _details_json(details: Mapping[str, Any] | None) -> str:
    try:
        return canonical_json(dict(details or {}))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"audit details must be JSON-serialisable: {exc}") from None


class ProblemKind(StrEnum):
    GAP = "gap"
    EDITED = "edited"
    BROKEN_LINK = "broken-link"
    BAD_SIGNATURE = "bad-signature"
    WRONG_KEY = "wrong-key"
    TRUNCATED = "truncated"
    CHECKPOINT_MISMATCH = "checkpoint-mismatch"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    seq: int
    message: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    records: int
    checkpoints: int
    head_seq: int
    head_hash: str
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class AuditLog:
    """Append, checkpoint and verify the audit log of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def append(
        self,
        action: str,
        subject: str = "",
        details: Mapping[str, Any] | None = None,
        actor: str | None = None,
    ) -> AuditRecord:
        with self.store.locked_transaction() as conn:
            return append_in(conn, action, subject, details, actor)

    def checkpoint(self, private_key: Ed25519PrivateKey) -> AuditCheckpoint:
        """Sign the current head, so a later rewrite or truncation of it is detectable."""
        with self.store.locked_transaction() as conn:
            record_seq, head_hash = _head(conn)
            if record_seq == 0:
                raise UsageError("the audit log is empty: nothing to checkpoint")
            last = conn.scalar(select(func.max(AuditCheckpoint.seq))) or 0
            ts = now_iso()
            signature = private_key.sign(checkpoint_message(record_seq, head_hash, ts))
            fields: dict[str, Any] = {
                "seq": last + 1,
                "record_seq": record_seq,
                "head_hash": head_hash,
                "public_key": public_key_pem(private_key).decode("ascii"),
                "signature": base64.b64encode(signature).decode("ascii"),
                "ts": ts,
            }
            conn.execute(insert(AuditCheckpoint).values(**fields))
        return AuditCheckpoint(**fields)

    def records(self, action: str | None = None, limit: int | None = None) -> list[AuditRecord]:
        """The latest `limit` records (all when None), oldest first."""
        query = select(AuditRecord).order_by(AuditRecord.seq.desc())
        if action is not None:
            query = query.where(AuditRecord.action == action)
        if limit is not None:
            query = query.limit(limit)
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [AuditRecord(**row._asdict()) for row in reversed(rows)]

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """Every record in seq order, streamed in batches."""
        with self.store.engine.connect() as conn:
            result = conn.execution_options(yield_per=1000).execute(
                select(*AuditRecord.__table__.columns).order_by(AuditRecord.seq)
            )
            for row in result:
                yield dict(row._mapping)

    def checkpoints(self) -> list[dict[str, Any]]:
        query = select(*AuditCheckpoint.__table__.columns).order_by(AuditCheckpoint.seq)
        with self.store.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def verify(self, public_key: Ed25519PublicKey | None = None) -> VerifyResult:
        """Walk the chain and the checkpoints; report the first problem found."""
        checkpoints = self.checkpoints()
        wanted = {cp["record_seq"] for cp in checkpoints}
        walk = _ChainWalk(wanted)
        problem = walk.run(self.iter_records())
        if problem is None:
            problem = _check_checkpoints(checkpoints, walk, public_key)
        return VerifyResult(walk.count, len(checkpoints), walk.seq, walk.hash, problem)


def append_in(
    conn: Connection,
    action: str,
    subject: str = "",
    details: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> AuditRecord:
    """Append inside a transaction the caller holds from `Store.locked_transaction()`,
    so an act and its audit record commit together or not at all."""
    fields: dict[str, Any] = {
        "ts": now_iso(),
        "actor": actor if actor is not None else default_actor(),
        "action": action,
        "subject": subject,
        "details": _details_json(details),
    }
    seq, prev_hash = _head(conn)
    fields.update(seq=seq + 1, prev_hash=prev_hash)
    fields["hash"] = record_hash(fields)
    conn.execute(insert(AuditRecord).values(**fields))
    return AuditRecord(**fields)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One record to append with `append_many_in`; the arguments of `append_in`."""

    action: str
    subject: str = ""
    details: Mapping[str, Any] | None = None
    actor: str | None = None


def append_many_in(conn: Connection, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
    """Append several records in the caller's locked transaction, as `append_in` would one by
    one, but reading the head once and inserting them all in one statement."""
    seq, prev_hash = _head(conn)
    fallback_actor = default_actor()
    rows: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        fields: dict[str, Any] = {
            "ts": now_iso(),
            "actor": entry.actor if entry.actor is not None else fallback_actor,
            "action": entry.action,
            "subject": entry.subject,
            "details": _details_json(entry.details),
            "seq": seq,
            "prev_hash": prev_hash,
        }
        fields["hash"] = prev_hash = record_hash(fields)
        rows.append(fields)
    if rows:
        conn.execute(insert(AuditRecord), rows)
    return [AuditRecord(**fields) for fields in rows]


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS_HASH) if row is None else (row.seq, row.hash)


class _ChainWalk:
    """State of a walk over records in seq order; remembers hashes checkpoints refer to."""

    def __init__(self, wanted: set[int]) -> None:
        self.wanted = wanted
        self.seen: dict[int, str] = {}
        self.count = 0
        self.seq = 0
        self.hash = GENESIS_HASH

    def run(self, records: Iterator[dict[str, Any]]) -> Problem | None:
        for record in records:
            problem = self._check(record)
            if problem is not None:
                return problem
            self.count += 1
            self.seq, self.hash = record["seq"], record["hash"]
            if self.seq in self.wanted:
                self.seen[self.seq] = self.hash
        return None

    def _check(self, record: dict[str, Any]) -> Problem | None:
        seq = record["seq"]
        if seq != self.seq + 1:
            return Problem(
                ProblemKind.GAP,
                self.seq + 1,
                f"record {self.seq + 1} is missing: the sequence jumps from {self.seq} to {seq}",
            )
        if record_hash(record) != record["hash"]:
            return Problem(
                ProblemKind.EDITED, seq, f"record {seq} was edited: its hash does not match"
            )
        if record["prev_hash"] != self.hash:
            return Problem(
                ProblemKind.BROKEN_LINK,
                seq,
                f"record {seq} does not link to record {self.seq}: "
                "records were inserted, deleted or reordered",
            )
        return None


def _check_checkpoints(
    checkpoints: list[dict[str, Any]], walk: _ChainWalk, public_key: Ed25519PublicKey | None
) -> Problem | None:
    for cp in checkpoints:
        problem = _check_checkpoint(cp, walk, public_key)
        if problem is not None:
            return problem
    return None


def _check_checkpoint(
    cp: dict[str, Any], walk: _ChainWalk, public_key: Ed25519PublicKey | None
) -> Problem | None:
    seq, record_seq = cp["seq"], cp["record_seq"]
    signer = parse_public_key(cp["public_key"].encode("ascii"), f"checkpoint {seq}")
    if public_key is not None and public_key_pem(signer) != public_key_pem(public_key):
        return Problem(
            ProblemKind.WRONG_KEY,
            record_seq,
            f"checkpoint {seq} (record {record_seq}) was not signed by the given key",
        )
    try:
        signature = base64.b64decode(cp["signature"], validate=True)
        signer.verify(signature, checkpoint_message(record_seq, cp["head_hash"], cp["ts"]))
    except (InvalidSignature, ValueError):
        return Problem(
            ProblemKind.BAD_SIGNATURE,
            record_seq,
            f"checkpoint {seq} (record {record_seq}) has an invalid signature",
        )
    if record_seq not in walk.seen:
        return Problem(
            ProblemKind.TRUNCATED,
            record_seq,
            f"the log was truncated: checkpoint {seq} covers record {record_seq} "
            f"but the log ends at record {walk.seq}",
        )
    if walk.seen[record_seq] != cp["head_hash"]:
        return Problem(
            ProblemKind.CHECKPOINT_MISMATCH,
            record_seq,
            f"record {record_seq} differs from the head signed by checkpoint {seq}: "
            "history was rewritten",
        )
    return None
