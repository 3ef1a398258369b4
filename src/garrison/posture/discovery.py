"""`discover`: the library call behind `garrison discover` (AI assets and risky configuration)."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.assets import Asset
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.posture import rules, walk
from garrison.posture.analyse import FileResult, analyse_file
from garrison.posture.observations import (
    CATEGORIES,
    AICall,
    DiscoveredAsset,
    ModelReference,
    Observations,
)
from garrison.report.model import Report

ProgressCallback = Callable[[int, int, str], None]

# Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 2000
_CHUNK = 256
_SKIP_RULES = {
    walk.UNREADABLE: rules.UNREADABLE,
    walk.LINK_OUTSIDE: rules.LINK_SKIPPED,
    walk.LINK_LOOP: rules.LINK_SKIPPED,
}


@dataclass(slots=True)
class Discovery:
    """The result of one discovery run: the report (findings) and the inventory (assets)."""

    report: Report
    assets: list[DiscoveredAsset] = field(default_factory=list)
    calls: list[AICall] = field(default_factory=list)
    models: list[ModelReference] = field(default_factory=list)
    files: int = 0

    def counts(self) -> dict[str, int]:
        by_category = Counter(a.category for a in self.assets)
        return {category: by_category.get(category, 0) for category in CATEGORIES}


def discover(
    paths: str | Path | Sequence[str | Path],
    policy: Policy | None = None,
    *,
    store_url: str | None = None,
    bom: Path | None = None,
    progress: ProgressCallback | None = None,
    jobs: int = 1,
) -> Discovery:
    """Find AI assets and risky AI configuration under `paths`, never executing anything.

    With `store_url`, discovered models are checked against the approvals registry and the
    gateway's keys against their owners; with `bom` (a CycloneDX JSON file), against its
    components. `jobs` > 1 spreads a large tree over that many processes (0: one per CPU).
    """
    targets = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    policy = policy or Policy()
    posture = policy.posture
    started = time.perf_counter()
    report = Report(command="discover", targets=[str(t) for t in targets], fail_on=policy.fail_on)
    found = Observations()
    entries: list[walk.FileEntry] = []
    for entry in walk.walk(
        targets,
        follow_symlinks=policy.follow_symlinks,
        excluded_dirs=frozenset(posture.excluded_dirs),
        max_files=policy.limits.max_files,
    ):
        if isinstance(entry, walk.FileEntry):
            entries.append(entry)
        else:
            found.findings.append(_skipped_finding(entry, policy.limits.max_files))
    # Terraform module sources are followed only inside the directories given.
    roots = tuple(os.path.realpath(t if t.is_dir() else t.parent) for t in targets)
    analysed = _analyse_all(entries, posture.max_text_bytes, jobs, roots)
    for done, result in enumerate(analysed, 1):
        found.extend(result.observations)
        if result.item is not None:
            report.items.append(result.item)
        if progress is not None:
            progress(done, len(entries), entries[done - 1].path)
    discovery = Discovery(report, _unique(found.assets), found.calls, found.models, len(entries))
    report.findings.extend(found.findings)
    report.findings.extend(_reconcile(discovery, policy, store_url, bom))
    report.findings[:] = _apply_policy(report.findings, policy)
    report.duration_s = time.perf_counter() - started
    report.metrics["discovery"] = {
        "files": len(entries),
        "assets": discovery.counts(),
        "inventory": [a.to_dict() for a in discovery.assets],
    }
    return discovery


def _skipped_finding(entry: walk.Skipped, max_files: int) -> Finding:
    asset = Asset.from_path(Path(entry.path))
    location = Location(path=entry.path)
    if entry.reason == walk.LIMIT:
        from garrison.supplychain.rules import LIMIT_REACHED

        return LIMIT_REACHED.finding(asset, location, f"files walked: more than {max_files}")
    return _SKIP_RULES[entry.reason].finding(asset, location, f"{entry.reason}: {entry.detail}")


def _unique(assets: list[DiscoveredAsset]) -> list[DiscoveredAsset]:
    seen: dict[tuple[str, str, str, str], DiscoveredAsset] = {}
    for found in assets:
        seen.setdefault(found.key, found)
    return list(seen.values())


def _reconcile(
    discovery: Discovery, policy: Policy, store_url: str | None, bom: Path | None
) -> list[Finding]:
    from garrison.posture import reconcile

    findings = reconcile.gateway_bypass(discovery.calls, policy.posture)
    if store_url is None and bom is None:
        return findings
    store: Any = None
    if store_url is not None:
        from garrison.store import open_store

        store = open_store(store_url, create=False)
    try:
        if store is not None:
            findings += reconcile.keys_without_owner(store)
        governed = reconcile.governed_models(store, bom, policy.posture)
        findings += reconcile.unapproved_models(
            discovery.assets, discovery.models, dict(policy.gateway.models), governed
        )
    finally:
        if store is not None:
            store.close()
    return findings


def _apply_policy(findings: list[Finding], policy: Policy) -> list[Finding]:
    from dataclasses import replace

    out = []
    for finding in findings:
        if finding.rule in policy.disabled_rules:
            continue
        override = policy.severity_overrides.get(finding.rule)
        out.append(replace(finding, severity=override) if override else finding)
    return out


def _analyse_all(
    entries: list[walk.FileEntry], max_text: int, jobs: int, roots: tuple[str, ...]
) -> Iterator[FileResult]:
    workers = _workers(jobs, len(entries))
    if workers <= 1:
        for entry in entries:
            yield analyse_file(entry.path, entry.size, max_text, roots)
        return
    # fork keeps start-up cheap (modules are already imported); elsewhere spawn is the safe one.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        jobs_args = ((e.path, e.size, max_text, roots) for e in entries)
        yield from pool.map(_analyse_args, jobs_args, chunksize=_CHUNK)


def _analyse_args(args: tuple[str, int, int, tuple[str, ...]]) -> FileResult:
    return analyse_file(*args)


def _workers(jobs: int, n_files: int) -> int:
    if n_files < PARALLEL_MIN_FILES:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = (cpus or 1) if jobs == 0 else jobs
    return max(1, min(wanted, n_files // _CHUNK or 1))
