"""The approved-model registry: which model digests may be used, by whom approved, until when."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from garrison.errors import UsageError
from garrison.findings import Severity
from garrison.store.audit import append_in, default_actor, now_iso
from garrison.store.db import Store
from garrison.store.models import ModelApproval
from garrison.supplychain.provenance.manifest import Manifest

# The EU AI Act's tiers; "unacceptable" is prohibited use, so it cannot be approved.
RISK_TIERS = ("minimal", "limited", "high")
REFUSE_AT = Severity.HIGH


class ApprovalRefused(UsageError):
    """The model's scan has findings at or above high and no override was given."""


class Status(StrEnum):
    APPROVED = "approved"
    NOT_APPROVED = "not-approved"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Approval:
    id: int
    model_name: str
    root_digest: str
    owner: str
    risk_tier: str
    approved_by: str
    approved_at: str
    expires_at: str | None
    scan_verdict: dict[str, Any]
    override_reason: str | None
    revoked_at: str | None
    revoked_by: str | None
    revoke_reason: str | None
    files: int

    def status(self, now: str | None = None) -> Status:
        if self.revoked_at is not None:
            return Status.REVOKED
        if self.expires_at is not None and self.expires_at <= (now or now_iso()):
            return Status.EXPIRED
        return Status.APPROVED

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["status"] = self.status().value
        return out


@dataclass(frozen=True, slots=True)
class ApprovalCheck:
    status: Status
    approval: Approval | None

    @property
    def ok(self) -> bool:
        return self.status is Status.APPROVED

    def describe(self) -> str:
        a = self.approval
        if a is None:
            return "no approval for this model's digests"
        if self.status is Status.REVOKED:
            when = (a.revoked_at or "")[:10]
            return f"approval #{a.id} was revoked by {a.revoked_by} on {when}: {a.revoke_reason}"
        if self.status is Status.EXPIRED:
            return f"approval #{a.id} expired on {(a.expires_at or '')[:10]}"
        return f"approved as #{a.id} by {a.approved_by} (owner {a.owner}, risk tier {a.risk_tier})"


def expiry_iso(day: date) -> str:
    """An approval is valid through the given day (UTC)."""
    end = datetime.combine(day, time.max, tzinfo=UTC)
    return end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ROWS = select(*ModelApproval.__table__.columns)


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store

    def approve(
        self,
        manifest: Manifest,
        owner: str,
        risk_tier: str,
        scan_verdict: dict[str, Any],
        expires: date | None = None,
        override: str | None = None,
        actor: str | None = None,
    ) -> Approval:
        """Record an approval and its audit record in one transaction."""
        if risk_tier not in RISK_TIERS:
            raise UsageError(f"risk tier must be one of {', '.join(RISK_TIERS)}; got {risk_tier!r}")
        if not owner.strip():
            raise UsageError("an approval needs an owner")
        if expires is not None and expires < datetime.now(UTC).date():
            raise UsageError(f"expiry date {expires} is in the past")
        worst = scan_verdict.get("max_severity")
        blocked = worst is not None and Severity(worst) >= REFUSE_AT
        who = actor or default_actor()
        if blocked and not (override and override.strip()):
            # A refused attempt is itself worth an auditor's attention.
            with self.store.locked_transaction() as conn:
                append_in(
                    conn,
                    "model.approve.refused",
                    manifest.model_name,
                    {"root_digest": manifest.root_digest, "scan": scan_verdict},
                    who,
                )
            raise ApprovalRefused(
                f"{manifest.model_name}: the scan found {scan_verdict.get('findings')} finding(s), "
                f"worst {worst}; fix them or approve with --override REASON"
            )
        row: dict[str, Any] = {
            "model_name": manifest.model_name,
            "root_digest": manifest.root_digest,
            "manifest": json.dumps(
                [{"name": r.name, "digest": r.digest, "size": r.size} for r in manifest.resources]
            ),
            "owner": owner.strip(),
            "risk_tier": risk_tier,
            "approved_by": who,
            "approved_at": now_iso(),
            "expires_at": expiry_iso(expires) if expires else None,
            "scan_verdict": json.dumps(scan_verdict, sort_keys=True),
            "override_reason": override.strip() if blocked and override else None,
        }
        with self.store.locked_transaction() as conn:
            new_id = conn.execute(insert(ModelApproval).values(**row)).inserted_primary_key
            approval_id = int(new_id[0]) if new_id else 0
            details = {
                "id": approval_id,
                "root_digest": manifest.root_digest,
                "files": len(manifest.resources),
                "owner": row["owner"],
                "risk_tier": risk_tier,
                "expires_at": row["expires_at"],
                "scan": scan_verdict,
            }
            if row["override_reason"]:
                details["override"] = row["override_reason"]
            action = "model.approve.override" if row["override_reason"] else "model.approve"
            append_in(conn, action, manifest.model_name, details, who)
            return self._get(conn, approval_id)

    def revoke(self, selector: str, reason: str, actor: str | None = None) -> list[Approval]:
        """Revoke by approval id or by root digest (a unique prefix of 12+ characters)."""
        if not reason.strip():
            raise UsageError("a revocation needs a reason")
        who = actor or default_actor()
        with self.store.locked_transaction() as conn:
            ids = self._select(conn, selector)
            stamp = now_iso()
            conn.execute(
                update(ModelApproval)
                .where(ModelApproval.id.in_(ids))
                .values(revoked_at=stamp, revoked_by=who, revoke_reason=reason.strip())
            )
            revoked = [self._get(conn, i) for i in ids]
            for a in revoked:
                append_in(
                    conn,
                    "model.revoke",
                    a.model_name,
                    {"id": a.id, "root_digest": a.root_digest, "reason": reason.strip()},
                    who,
                )
        return revoked

    def _select(self, conn: Connection, selector: str) -> list[int]:
        active = ModelApproval.revoked_at.is_(None)
        text = selector.strip().lower()
        if text.isdigit():
            query = select(ModelApproval.id).where(ModelApproval.id == int(text), active)
        elif len(text) >= 12 and all(c in "0123456789abcdef" for c in text):
            query = select(ModelApproval.id).where(
                ModelApproval.root_digest.startswith(text), active
            )
        else:
            raise UsageError(
                f"give an approval id or a digest (12+ hex characters), not {selector!r}"
            )
        ids = list(conn.scalars(query))
        if not ids:
            raise UsageError(f"no active approval matches {selector}")
        digests = set(
            conn.scalars(select(ModelApproval.root_digest).where(ModelApproval.id.in_(ids)))
        )
        if len(digests) > 1:
            raise UsageError(f"{selector} matches several models; give more of the digest")
        return ids

    def list(self, include_inactive: bool = False) -> list[Approval]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(_ROWS.order_by(ModelApproval.id)).all()
        approvals = [_approval(row._mapping) for row in rows]
        if include_inactive:
            return approvals
        return [a for a in approvals if a.status() is Status.APPROVED]

    def check(self, root_digest: str) -> ApprovalCheck:
        """The latest approval of these digests decides; an active one wins over older ones."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                _ROWS.where(ModelApproval.root_digest == root_digest).order_by(
                    ModelApproval.id.desc()
                )
            ).all()
        approvals = [_approval(row._mapping) for row in rows]
        for a in approvals:
            if a.status() is Status.APPROVED:
                return ApprovalCheck(Status.APPROVED, a)
        if not approvals:
            return ApprovalCheck(Status.NOT_APPROVED, None)
        return ApprovalCheck(approvals[0].status(), approvals[0])

    def _get(self, conn: Connection, approval_id: int) -> Approval:
        row = conn.execute(_ROWS.where(ModelApproval.id == approval_id)).one()
        return _approval(row._mapping)


def _approval(row: Any) -> Approval:
    return Approval(
        id=row["id"],
        model_name=row["model_name"],
        root_digest=row["root_digest"],
        owner=row["owner"],
        risk_tier=row["risk_tier"],
        approved_by=row["approved_by"],
        approved_at=row["approved_at"],
        expires_at=row["expires_at"],
        scan_verdict=json.loads(row["scan_verdict"]),
        override_reason=row["override_reason"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
        revoke_reason=row["revoke_reason"],
        files=len(json.loads(row["manifest"])),
    )
