"""The AI asset inventory in the store: what discovery found, who owns it, its EU AI Act risk
tier, and the latest verdict of each area on it. Every change is audited in its transaction."""

from __future__ import annotations

import builtins
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from garrison.errors import UsageError
from garrison.posture.eu_ai_act import TIERS, Assessment, assess
from garrison.posture.observations import MODEL_SERVER, DiscoveredAsset
from garrison.store.audit import append_in, default_actor, now_iso
from garrison.store.db import Store
from garrison.store.models import InventoryAsset, InventoryVerdict

if TYPE_CHECKING:
    from garrison.posture.discovery import Discovery
    from garrison.report.model import Report

POSTURE = "posture"
_ASSETS = select(*InventoryAsset.__table__.columns)
_VERDICTS = select(*InventoryVerdict.__table__.columns)
_CHUNK = 500  # bound the size of IN (...) lists


@dataclass(frozen=True, slots=True)
class AreaVerdict:
    area: str
    passed: bool
    max_severity: str | None
    findings: int
    ts: str
    rules: dict[str, int] = field(default_factory=dict)  # rule id -> findings of it

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["rules"] = dict(sorted(self.rules.items()))
        return out


@dataclass(frozen=True, slots=True)
class InventoryEntry:
    id: int
    uri: str
    category: str
    name: str
    path: str
    location: str
    detail: str
    digest: str | None
    first_seen: str
    last_seen: str
    owner: str | None
    risk_tier: str | None
    classification: dict[str, Any] | None
    classified_by: str | None
    classified_at: str | None
    verdicts: dict[str, AreaVerdict] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["verdicts"] = {area: v.to_dict() for area, v in sorted(self.verdicts.items())}
        return out


@dataclass(frozen=True, slots=True)
class RecordCounts:
    added: int
    seen_again: int
    by_category: dict[str, int]
    failed: int  # assets whose posture verdict failed

    @property
    def total(self) -> int:
        return self.added + self.seen_again

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "seen_again": self.seen_again,
            "by_category": dict(self.by_category),
            "failed": self.failed,
        }


def inventory_uri(found: DiscoveredAsset) -> str:
    """The file's URI for a file that is the asset; a fragment names what lives inside a file."""
    if found.asset.kind == found.category:
        return found.asset.uri
    parts = [found.category, found.name]
    if found.category == MODEL_SERVER and found.detail:
        parts.append(found.detail)
    return f"{found.asset.uri}#" + "/".join(quote(p, safe="") for p in parts)


def verdict_of(findings: Iterable[Any], fail_on: Any, area: str, ts: str) -> AreaVerdict:
    """passed unless a finding is at or above the report's fail threshold."""
    found = builtins.list(findings)
    severities = [f.severity for f in found]
    worst = max(severities, key=lambda s: s.rank) if severities else None
    return AreaVerdict(
        area=area,
        passed=not any(s >= fail_on for s in severities),
        max_severity=worst.value if worst else None,
        findings=len(severities),
        ts=ts,
        rules=dict(sorted(Counter(str(f.rule) for f in found).items())),
    )


class Inventory:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record_discovery(
        self, discovery: Discovery, actor: str | None = None, area: str = POSTURE
    ) -> RecordCounts:
        """Add new assets, move `last_seen` of known ones, and record each one's verdict.

        One transaction and one audit record for the whole run, however many assets.
        """
        stamp = now_iso()
        rows = {inventory_uri(a): _row(a, stamp) for a in discovery.assets}
        by_file = _findings_by_file(discovery.report)
        with self.store.locked_transaction() as conn:
            known = _ids(conn, builtins.list(rows))
            fresh = [row for uri, row in rows.items() if uri not in known]
            if fresh:
                conn.execute(insert(InventoryAsset), fresh)
            if known:
                conn.execute(
                    update(InventoryAsset)
                    .where(InventoryAsset.id == bindparam("_id"))
                    .values(
                        last_seen=bindparam("last_seen"),
                        path=bindparam("path"),
                        location=bindparam("location"),
                        detail=bindparam("detail"),
                        digest=bindparam("digest"),
                    ),
                    # Only the bound keys: any other column name would be SET too.
                    [{**_moved(rows[uri]), "_id": known[uri]} for uri in known],
                )
            ids = _ids(conn, builtins.list(rows)) if fresh else known
            verdicts = {
                ids[uri]: verdict_of(
                    by_file.get(uri.split("#", 1)[0], ()), discovery.report.fail_on, area, stamp
                )
                for uri in rows
            }
            _store_verdicts(conn, verdicts)
            counts = RecordCounts(
                added=len(fresh),
                seen_again=len(known),
                by_category=dict(sorted(Counter(r["category"] for r in rows.values()).items())),
                failed=sum(not v.passed for v in verdicts.values()),
            )
            subject = ", ".join(discovery.report.targets)
            append_in(conn, "inventory.discover", subject, counts.to_dict(), actor)
        return counts

    def record_verdict(
        self, uri: str, area: str, report: Report, actor: str | None = None
    ) -> AreaVerdict:
        """The hook for any area: keep `report`'s verdict on this asset's file as its latest."""
        file_uri = uri.split("#", 1)[0]
        with self.store.locked_transaction() as conn:
            entry = self._get(conn, uri)
            findings = _findings_by_file(report).get(file_uri, [])
            verdict = verdict_of(findings, report.fail_on, area, now_iso())
            _store_verdicts(conn, {entry.id: verdict})
            append_in(conn, "inventory.verdict", uri, verdict.to_dict(), actor)
        return verdict

    def record_scan(self, report: Report, area: str, actor: str | None = None) -> int:
        """The verdict of `report` on each inventory asset among the files it scanned.

        Files the inventory does not know are left alone: `garrison discover --record` adds
        them. One transaction and one audit record; returns how many assets got a verdict.
        """
        by_path: dict[str, builtins.list[Any]] = defaultdict(builtins.list)
        for finding in report.findings:
            if finding.asset.path:
                by_path[str(Path(finding.asset.path).absolute())].append(finding)
        scanned = {str(Path(i.path).absolute()) for i in report.items if i.status == "scanned"}
        paths = builtins.list(scanned | set(by_path))
        stamp = now_iso()
        with self.store.locked_transaction() as conn:
            verdicts: dict[int, AreaVerdict] = {}
            for chunk in _chunks(paths):
                query = select(InventoryAsset.id, InventoryAsset.path).where(
                    InventoryAsset.path.in_(chunk)
                )
                for row in conn.execute(query):
                    found = by_path.get(row.path, [])
                    verdicts[row.id] = verdict_of(found, report.fail_on, area, stamp)
            _store_verdicts(conn, verdicts)
            if verdicts:
                failed = sum(not v.passed for v in verdicts.values())
                details = {"area": area, "assets": len(verdicts), "failed": failed}
                append_in(conn, "inventory.verdicts", report.command, details, actor)
        return len(verdicts)

    def set_owner(self, uri: str, owner: str, actor: str | None = None) -> InventoryEntry:
        owner = owner.strip()
        if not owner:
            raise UsageError("an owner cannot be empty")
        with self.store.locked_transaction() as conn:
            before = self._get(conn, uri)
            conn.execute(
                update(InventoryAsset).where(InventoryAsset.id == before.id).values(owner=owner)
            )
            details = {"owner": owner, "previous": before.owner}
            append_in(conn, "inventory.owner", uri, details, actor)
            return self._get(conn, uri)

    def classify(
        self, uri: str, answers: Mapping[str, bool], actor: str | None = None
    ) -> Assessment:
        """Record the questionnaire's answers, the tier they give, and who gave them."""
        assessment = assess(answers)
        who = actor or default_actor()
        with self.store.locked_transaction() as conn:
            before = self._get(conn, uri)
            conn.execute(
                update(InventoryAsset)
                .where(InventoryAsset.id == before.id)
                .values(
                    risk_tier=assessment.tier,
                    classification=json.dumps(assessment.to_dict(), sort_keys=True),
                    classified_by=who,
                    classified_at=now_iso(),
                )
            )
            details = {**assessment.to_dict(), "previous": before.risk_tier}
            append_in(conn, "inventory.classify", uri, details, who)
        return assessment

    def find(self, selector: str) -> InventoryEntry:
        """An asset by its URI, or by a piece of its path, URI or name that only it has."""
        text = selector.strip()
        if not text:
            raise UsageError("name an asset by its URI or part of its path")
        entries = self.list()
        exact = [e for e in entries if text in (e.uri, e.path)]
        matches = exact or [e for e in entries if text in e.uri or text in e.path or text == e.name]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UsageError(
                f"no inventory asset matches {text!r}; run `garrison discover PATH --record` first"
            )
        shown = ", ".join(e.uri for e in matches[:3]) + (", ..." if len(matches) > 3 else "")
        raise UsageError(
            f"{text!r} matches {len(matches)} assets ({shown}); "
            "give the full URI (shown) or more of the path"
        )

    def _get(self, conn: Connection, uri: str) -> InventoryEntry:
        row = conn.execute(_ASSETS.where(InventoryAsset.uri == uri)).first()
        if row is None:
            raise UsageError(f"{uri} is not in the inventory; run `garrison discover --record`")
        return _entry(row._mapping, _verdicts(conn, [row.id]).get(row.id, {}))

    def list(
        self, category: str | None = None, tier: str | None = None
    ) -> builtins.list[InventoryEntry]:
        """Assets by path; `tier` "unclassified" selects those without a tier yet."""
        if tier is not None and tier not in (*TIERS, "unclassified"):
            raise UsageError(f"risk tier must be one of {', '.join(TIERS)} or unclassified")
        query = _ASSETS.order_by(InventoryAsset.path, InventoryAsset.uri)
        if category is not None:
            query = query.where(InventoryAsset.category == category)
        if tier == "unclassified":
            query = query.where(InventoryAsset.risk_tier.is_(None))
        elif tier is not None:
            query = query.where(InventoryAsset.risk_tier == tier)
        with self.store.engine.connect() as conn:
            rows = [r._mapping for r in conn.execute(query)]
            verdicts = _verdicts(conn, [r["id"] for r in rows])
        return [_entry(r, verdicts.get(r["id"], {})) for r in rows]


def _row(found: DiscoveredAsset, stamp: str) -> dict[str, Any]:
    # Absolute: the inventory outlives the directory discovery ran from.
    path = found.location.path or found.asset.path
    absolute = str(Path(path).absolute()) if path else found.asset.uri
    return {
        "uri": inventory_uri(found),
        "category": found.category,
        "name": found.name[:200],
        "path": absolute,
        "location": str(replace(found.location, path=absolute)),
        "detail": found.detail,
        "digest": found.asset.sha256,
        "first_seen": stamp,
        "last_seen": stamp,
    }


def _moved(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ("last_seen", "path", "location", "detail", "digest")}


def _findings_by_file(report: Report) -> dict[str, builtins.list[Any]]:
    out: dict[str, builtins.list[Any]] = defaultdict(builtins.list)
    for finding in report.findings:
        out[finding.asset.uri].append(finding)
    return out


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _ids(conn: Connection, uris: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(uris):
        query = select(InventoryAsset.uri, InventoryAsset.id).where(InventoryAsset.uri.in_(chunk))
        out.update({row.uri: row.id for row in conn.execute(query)})
    return out


def _store_verdicts(conn: Connection, verdicts: Mapping[int, AreaVerdict]) -> None:
    by_area: dict[str, builtins.list[int]] = defaultdict(builtins.list)
    for asset_id, verdict in verdicts.items():
        by_area[verdict.area].append(asset_id)
    for area, ids in by_area.items():
        for chunk in _chunks(ids):
            conn.execute(
                delete(InventoryVerdict).where(
                    InventoryVerdict.area == area, InventoryVerdict.asset_id.in_(chunk)
                )
            )
    if verdicts:
        conn.execute(
            insert(InventoryVerdict),
            [
                {**v.to_dict(), "asset_id": asset_id, "rules": json.dumps(v.rules, sort_keys=True)}
                for asset_id, v in verdicts.items()
            ],
        )


def _verdicts(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, AreaVerdict]]:
    out: dict[int, dict[str, AreaVerdict]] = defaultdict(dict)
    for chunk in _chunks(ids):
        query = _VERDICTS.where(InventoryVerdict.asset_id.in_(chunk))
        for v in conn.execute(query):
            out[v.asset_id][v.area] = AreaVerdict(
                v.area, bool(v.passed), v.max_severity, v.findings, v.ts, json.loads(v.rules)
            )
    return out


def _entry(row: Any, verdicts: dict[str, AreaVerdict]) -> InventoryEntry:
    fields = {c.name: row[c.name] for c in InventoryAsset.__table__.columns}
    text = fields.pop("classification")
    return InventoryEntry(
        **fields, classification=json.loads(text) if text else None, verdicts=verdicts
    )
