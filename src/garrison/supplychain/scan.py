"""`scan_path`: the library call behind `garrison scan`."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from garrison.assets import Asset
from garrison.errors import LimitExceeded
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.registry import Check, RunContext, discover_checks
from garrison.report.model import Report, ScannedItem
from garrison.supplychain.rules import LIMIT_REACHED
from garrison.supplychain.walk import expand

ProgressCallback = Callable[[int, int, str], None]
AssetResult = tuple[list[Finding], list[ScannedItem]]

# Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 200
# A pool starts only once the files left would take longer than this in one process:
# starting workers and shipping results back costs more than it saves on small clean files,
# which the C pass answers in microseconds, and pays off on slow ones (archives, unknown pickles).
SERIAL_BUDGET_S = 0.3
_CHUNK = 64


def scan_path(
    paths: str | Path | Sequence[str | Path],
    policy: Policy | None = None,
    *,
    progress: ProgressCallback | None = None,
    debug: bool = False,
    jobs: int = 1,
) -> Report:
    """Scan model files, archives and directories without executing them.

    `progress(done, total, path)` is called as assets are scanned. `jobs` > 1 spreads the
    files of a large scan over that many processes; 0 means one per CPU.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    targets = [Path(p) for p in paths]
    policy = policy or Policy()
    report = Report(command="scan", targets=[str(p) for p in targets], fail_on=policy.fail_on)
    started = time.perf_counter()
    checks = discover_checks(area="supplychain")
    links: list[Path] = []
    try:
        assets = list(expand(targets, policy.follow_symlinks, policy.limits.max_files, links))
    except LimitExceeded as exc:
        asset = Asset.from_path(targets[0], kind="directory")
        report.findings.append(
            LIMIT_REACHED.finding(asset, Location(path=str(targets[0])), str(exc))
        )
        assets = []
    workers = _workers(jobs, len(assets), debug)
    results = _results(assets, checks, RunContext(policy=policy, debug=debug), workers)
    for done, (asset, (findings, items)) in enumerate(zip(assets, results, strict=True)):
        report.findings.extend(findings)
        report.items.extend(items)
        if progress is not None:
            progress(done + 1, len(assets), asset.path or asset.uri)
    _report_links(report, links, targets, policy)
    if policy.require_approved:
        from garrison.supplychain.provenance.gate import approval_findings

        report.findings.extend(approval_findings([t for t in targets if t.exists()], policy))
    report.duration_s = time.perf_counter() - started
    return report


def _report_links(report: Report, links: list[Path], targets: list[Path], policy: Policy) -> None:
    """Symlinks the walk did not follow: listed, and reported when they lead out of the scan.

    A link to a file the scan reaches anyway (a Hugging Face cache's snapshot links into its
    blobs) is covered; one that leaves the scanned folders, or leads nowhere, is content a
    loader would read and Garrison did not.
    """
    if not links:
        return
    from garrison.supplychain.formats import model_suffix
    from garrison.supplychain.rules import UNSCANNED

    roots = [t.resolve() for t in targets if t.is_dir()]
    for link in links:
        try:
            real: Path | None = link.resolve(strict=True)
        except (OSError, RuntimeError):
            real = None
        inside = real is not None and any(real.is_relative_to(r) for r in roots)
        where = f"to {os.readlink(link)}" if real is not None else "that leads nowhere"
        detail = f"symbolic link {where}, not followed (follow_symlinks is off)"
        report.items.append(ScannedItem(str(link), "symlink", "skipped", None, detail))
        if not inside and (real is None or real.is_file()) and model_suffix(link.name):
            report.findings.append(
                UNSCANNED.finding(
                    Asset.from_path(link),
                    Location(path=str(link)),
                    detail
                    if real is None
                    else f"{detail}; it leads out of the scanned "
                    "folders, so a loader reads what this scan did not",
                    severity=policy.unscanned_severity,
                    title="Model file behind a symbolic link that was not followed",
                )
            )


def _workers(jobs: int, n_assets: int, debug: bool) -> int:
    if debug or n_assets < PARALLEL_MIN_FILES:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = (cpus or 1) if jobs == 0 else jobs
    return max(1, min(wanted, n_assets // _CHUNK or 1))


def _results(
    assets: list[Asset], checks: list[Check], run: RunContext, workers: int
) -> Iterator[AssetResult]:
    """Results in asset order: serial first, then a pool for the rest if the rest is long."""
    started = time.perf_counter()
    for done, asset in enumerate(assets):
        checkpoint = workers > 1 and done and done % _CHUNK == 0
        if checkpoint and pool_pays(done, len(assets) - done, time.perf_counter() - started):
            yield from _scan_parallel(assets[done:], run.policy, workers)
            return
        yield _scan_one(asset, checks, run)


def pool_pays(done: int, remaining: int, elapsed: float) -> bool:
    """Whether the files left, at the rate so far, are worth a process pool."""
    return remaining >= PARALLEL_MIN_FILES and elapsed / done * remaining > SERIAL_BUDGET_S


def _scan_one(asset: Asset, checks: list[Check], run: RunContext) -> AssetResult:
    findings: list[Finding] = []
    run.items = []
    for check in checks:
        if check.applies_to(asset):
            findings.extend(check.run(asset, run))
    return findings, run.items


def _scan_parallel(assets: list[Asset], policy: Policy, workers: int) -> Iterator[AssetResult]:
    # fork keeps start-up cheap (modules are already imported); elsewhere spawn is the safe one.
    method = "fork" if sys.platform == "linux" else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(policy,)
    ) as pool:
        yield from pool.map(_scan_in_worker, assets, chunksize=_CHUNK)


# Per-worker-process state, set once by the pool's initializer (never used in the parent).
_WORKER: tuple[list[Check], RunContext] | None = None


def _init_worker(policy: Policy) -> None:
    global _WORKER
    _WORKER = (discover_checks(area="supplychain"), RunContext(policy=policy))


def _scan_in_worker(asset: Asset) -> AssetResult:
    assert _WORKER is not None
    checks, run = _WORKER
    return _scan_one(asset, checks, run)
