"""Reconcile discovery with what Garrison governs: the gateway, its keys, approvals, the BOM."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.findings import Finding, Location
from garrison.posture import rules
from garrison.posture.config import PosturePolicy
from garrison.posture.observations import MODEL, AICall, DiscoveredAsset, ModelReference

# Owners that name nobody accountable.
_NO_OWNER = frozenset(
    {"", "-", "?", "n/a", "na", "none", "null", "unknown", "tbd", "todo", "nobody"}
)


@dataclass(slots=True)
class Governed:
    """What is approved: model names and digests from the registry, the BOM and the policy."""

    names: set[str] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)

    def covers_name(self, name: str) -> bool:
        return name in self.names or name.rsplit("/", 1)[-1] in self.names


def gateway_bypass(calls: Iterable[AICall], posture: PosturePolicy) -> list[Finding]:
    """GA-POST-011 for each AI client whose base URL is not one of the gateway's."""
    if not posture.gateway_urls:
        return []
    findings = []
    seen: set[tuple[str | None, int | None, str]] = set()
    for call in calls:
        key = (call.location.path, call.location.line, call.provider)
        if call.dynamic or key in seen or _through_gateway(call.base_url, posture.gateway_urls):
            continue
        seen.add(key)
        target = call.base_url or f"{call.provider}'s default endpoint"
        findings.append(
            rules.GATEWAY_BYPASS.finding(
                call.asset, call.location, f"{call.provider} client -> {target}"
            )
        )
    return findings


def _through_gateway(url: str | None, gateways: tuple[str, ...]) -> bool:
    if url is None:
        return False
    parts = urlsplit(url.rstrip("/"))
    for gateway in gateways:
        g = urlsplit(gateway)
        if (parts.scheme, parts.netloc) == (g.scheme, g.netloc) and parts.path.startswith(g.path):
            return True
    return False


def keys_without_owner(store: Any) -> list[Finding]:
    """GA-POST-012 for each active gateway key whose owner names nobody."""
    from garrison.gateway.keys import KeyStore

    findings = []
    for key in KeyStore(store).list():
        if key.owner.strip().lower() in _NO_OWNER:
            asset = Asset(uri=f"garrison:gateway-key/{key.id}", kind="gateway-key")
            evidence = f"key {key.id} has owner {key.owner!r}"
            findings.append(rules.KEY_WITHOUT_OWNER.finding(asset, Location(), evidence))
    return findings


def governed_models(store: Any | None, bom: Path | None, posture: PosturePolicy) -> Governed:
    governed = Governed(names=set(posture.approved_models))
    if store is not None:
        _from_registry(store, governed)
    if bom is not None:
        _from_bom(bom, governed)
    return governed


def _from_registry(store: Any, governed: Governed) -> None:
    from sqlalchemy import select

    from garrison.store.models import ModelApproval
    from garrison.supplychain.provenance.approvals import Registry

    active = Registry(store).list()
    governed.names.update(a.model_name for a in active)
    governed.digests.update(a.root_digest for a in active)
    ids = [a.id for a in active]
    if not ids:
        return
    query = select(ModelApproval.manifest).where(ModelApproval.id.in_(ids))
    with store.engine.connect() as conn:
        for manifest in conn.scalars(query):
            governed.digests.update(r["digest"] for r in json.loads(manifest) if "digest" in r)


def _from_bom(path: Path, governed: Governed) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read the BOM {path}: {exc}") from None
    stack = list(data.get("components", [])) if isinstance(data, dict) else []
    while stack:
        component = stack.pop()
        if not isinstance(component, dict):
            continue
        if isinstance(component.get("name"), str):
            governed.names.add(component["name"])
        for digest in component.get("hashes", []) or []:
            if isinstance(digest, dict) and str(digest.get("alg", "")).upper() == "SHA-256":
                governed.digests.add(str(digest.get("content", "")).lower())
        stack.extend(component.get("components", []) or [])


def unapproved_models(
    assets: Iterable[DiscoveredAsset],
    references: Iterable[ModelReference],
    gateway_models: dict[str, str],
    governed: Governed,
) -> list[Finding]:
    """GA-POST-013 for model files, referenced and served models nobody approved."""
    from garrison.supplychain.provenance.manifest import Resource, hash_file, root_digest

    findings = []
    for found in assets:
        if found.category != MODEL or found.asset.path is None:
            continue
        try:
            digest, size = hash_file(Path(found.asset.path))
        except (OSError, UsageError):
            continue
        single = root_digest([Resource(Path(found.asset.path).name, digest, size)])
        if digest not in governed.digests and single not in governed.digests:
            evidence = f"{found.name} file, sha256 {digest[:16]}…: no approval or BOM entry"
            findings.append(rules.UNAPPROVED_MODEL.finding(found.asset, found.location, evidence))
    seen: set[tuple[str, str | None]] = set()
    for ref in references:
        key = (ref.name, ref.location.path)
        if key in seen or ref.name in gateway_models or governed.covers_name(ref.name):
            continue
        seen.add(key)
        verb = "served" if ref.served else "referenced"
        findings.append(
            rules.UNAPPROVED_MODEL.finding(
                ref.asset, ref.location, f"model {ref.name!r} {verb}: no approval or BOM entry"
            )
        )
    for name, digest in gateway_models.items():
        if digest.lower().removeprefix("sha256:") not in governed.digests:
            asset = Asset(uri=f"garrison:gateway-model/{name}", kind="endpoint")
            evidence = f"gateway serves {name!r} (digest {digest[:16]}…) without an active approval"
            findings.append(rules.UNAPPROVED_MODEL.finding(asset, Location(), evidence))
    return findings
