"""`scan_path`: the library call behind `garrison scan`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from garrison.assets import Asset
from garrison.errors import LimitExceeded
from garrison.policy import Policy
from garrison.registry import RunContext, discover_checks
from garrison.report.model import Report
from garrison.supplychain.rules import LIMIT_REACHED
from garrison.supplychain.walk import expand

ProgressCallback = Callable[[int, int, str], None]


def scan_path(
    paths: str | Path | Sequence[str | Path],
    policy: Policy | None = None,
    *,
    progress: ProgressCallback | None = None,
    debug: bool = False,
) -> Report:
    """Scan model files, archives and directories without executing them.

    `progress(done, total, path)` is called before each asset when given.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    targets = [Path(p) for p in paths]
    policy = policy or Policy()
    report = Report(command="scan", targets=[str(p) for p in targets], fail_on=policy.fail_on)
    started = time.perf_counter()
    checks = discover_checks(area="supplychain")
    run = RunContext(policy=policy, debug=debug)
    try:
        assets = list(expand(targets, policy.follow_symlinks, policy.limits.max_files))
    except LimitExceeded as exc:
        asset = Asset.from_path(targets[0], kind="directory")
        report.findings.append(LIMIT_REACHED.finding(asset, _loc(targets[0]), str(exc)))
        assets = []
    for done, asset in enumerate(assets):
        if progress is not None:
            progress(done, len(assets), asset.path or asset.uri)
        for check in checks:
            if check.applies_to(asset):
                report.findings.extend(check.run(asset, run))
    if progress is not None and assets:
        progress(len(assets), len(assets), "")
    report.items = run.items
    report.duration_s = time.perf_counter() - started
    return report


def _loc(path: Path):  # type: ignore[no-untyped-def]
    from garrison.findings import Location

    return Location(path=str(path))
