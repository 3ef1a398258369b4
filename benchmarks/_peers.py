"""How each scanner is run on a path and how its output maps to one verdict on our scale.

Severity scale (Garrison's): critical > high > medium > low > info. A malicious file counts
as detected at high or above; a benign file counts as a false positive at medium or above.
Each tool's own levels are mapped onto that scale in its `verdict` function below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _measure import Measured

RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
DETECT_AT = RANK["high"]
FLAG_AT = RANK["medium"]

# ModelAudit phones home by default; unreachable telemetry costs seconds of retries per run.
QUIET_ENV = {"PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_ANALYTICS": "1", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True, slots=True)
class Verdict:
    severity: str | None  # worst finding on our scale; None when the tool found nothing
    error: str = ""  # non-empty when the tool could not give a complete verdict
    unsupported: bool = False  # the tool skipped the file as a format it does not read

    @property
    def detected(self) -> bool:
        return self.severity is not None and RANK[self.severity] >= DETECT_AT

    @property
    def flagged(self) -> bool:
        return self.severity is not None and RANK[self.severity] >= FLAG_AT


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    # (target, report file) -> argv; the report file is where the tool writes JSON, if it can.
    command: Callable[[Path, Path], list[str]]
    verdict: Callable[[Measured, Path], Verdict]
    by_directory: bool = True  # whether the tool scans a directory in one process


def worst(levels: list[str]) -> str | None:
    return max(levels, key=RANK.__getitem__, default=None)


def _load_json(report: Path) -> object:
    try:
        return json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# Garrison: `garrison scan PATH --format json`; exit 0/1 are verdicts, 2/3 are failures.
def garrison_tool(bin_dir: Path) -> Tool:
    def command(target: Path, report: Path) -> list[str]:
        exe = str(bin_dir / "garrison")
        return [exe, "scan", str(target), "--format", "json", "--no-progress", "-o", str(report)]

    def verdict(run: Measured, report: Path) -> Verdict:
        data = _load_json(report)
        if run.returncode not in (0, 1) or not isinstance(data, dict):
            return Verdict(None, _failure(run))
        findings = data.get("findings", [])
        levels = [str(f["severity"]) for f in findings if f.get("severity") in RANK]
        failed = [f["rule"] for f in findings if f.get("rule") in ("GA-SCAN-004", "GA-SCAN-005")]
        return Verdict(worst(levels), f"{failed[0]} reported" if failed else "")

    return Tool("garrison", command, verdict)


# modelscan: JSON report; its levels are already CRITICAL/HIGH/MEDIUM/LOW. Exit 3 means
# "no supported files", which is a skip, not a failure.
def modelscan_tool(venv: Path) -> Tool:
    def command(target: Path, report: Path) -> list[str]:
        exe = str(venv / "bin" / "modelscan")
        return [exe, "scan", "-p", str(target), "-r", "json", "-o", str(report)]

    def verdict(run: Measured, report: Path) -> Verdict:
        if run.returncode == 3:
            return Verdict(None, unsupported=True)
        data = _load_json(report)
        if run.returncode not in (0, 1, 2) or not isinstance(data, dict):
            return Verdict(None, _failure(run))
        levels = [str(i["severity"]).lower() for i in data.get("issues", [])]
        errors = data.get("errors", [])
        error = str(errors[0].get("description", errors[0]))[:200] if errors else ""
        return Verdict(worst([lv for lv in levels if lv in RANK]), error)

    return Tool("modelscan", command, verdict)


# picklescan: no JSON; per-file lines "PATH: dangerous import 'mod name' FOUND" and a summary
# counting suspicious globals (imports outside its allowlist that are not on its denylist).
# dangerous -> high, suspicious -> medium (as the team measured it), exit 2 -> error.
_PICKLESCAN_SUSPICIOUS = re.compile(r"Suspicious globals: (\d+)")


def picklescan_tool(venv: Path) -> Tool:
    def command(target: Path, report: Path) -> list[str]:
        return [str(venv / "bin" / "picklescan"), "-p", str(target)]

    def verdict(run: Measured, report: Path) -> Verdict:
        out = run.stdout + run.stderr
        if "SCAN SUMMARY" not in out:
            return Verdict(None, _failure(run))
        levels = []
        if "dangerous import" in out:
            levels.append("high")
        match = _PICKLESCAN_SUSPICIOUS.search(out)
        if match and int(match.group(1)) > 0:
            levels.append("medium")
        error = "parse error reported" if run.returncode == 2 or "ERROR:" in out else ""
        return Verdict(worst(levels), error)

    return Tool("picklescan", command, verdict)


# fickling: see _fickling_driver.py. OVERTLY_MALICIOUS -> critical, LIKELY_OVERTLY_MALICIOUS
# and LIKELY_UNSAFE -> high, SUSPICIOUS -> medium, POSSIBLY_UNSAFE -> low.
_FICKLING_LEVELS = {
    "OVERTLY_MALICIOUS": "critical",
    "LIKELY_OVERTLY_MALICIOUS": "high",
    "LIKELY_UNSAFE": "high",
    "SUSPICIOUS": "medium",
    "POSSIBLY_UNSAFE": "low",
}


def fickling_tool(venv: Path, driver: Path) -> Tool:
    def command(target: Path, report: Path) -> list[str]:
        return [str(venv / "bin" / "python"), str(driver), str(target)]

    def verdict(run: Measured, report: Path) -> Verdict:
        rows = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
        if run.returncode != 0 or not rows:
            return Verdict(None, _failure(run))
        levels = [
            _FICKLING_LEVELS[r["severity"]] for r in rows if r["severity"] in _FICKLING_LEVELS
        ]
        errors = [r["error"] for r in rows if r["error"]]
        return Verdict(worst(levels), errors[0] if errors else "")

    return Tool("fickling", command, verdict)


# ModelAudit: JSON report; levels critical/warning/info/debug -> critical/medium/low/info.
_MODELAUDIT_LEVELS = {"critical": "critical", "warning": "medium", "info": "low", "debug": "info"}


def modelaudit_tool(venv: Path) -> Tool:
    def command(target: Path, report: Path) -> list[str]:
        exe = str(venv / "bin" / "modelaudit")
        return [exe, "scan", str(target), "--format", "json", "--no-cache", "-o", str(report)]

    def verdict(run: Measured, report: Path) -> Verdict:
        data = _load_json(report)
        if not isinstance(data, dict):
            return Verdict(None, _failure(run))
        levels = [_MODELAUDIT_LEVELS.get(str(i.get("severity")), "") for i in data["issues"]]
        failed = run.returncode == 2 or data.get("has_errors")
        error = f"exit {run.returncode}, has_errors reported" if failed else ""
        return Verdict(worst([lv for lv in levels if lv]), error)

    return Tool("modelaudit", command, verdict)


def _failure(run: Measured) -> str:
    if run.timed_out:
        return "timed out"
    tail = (run.stderr or run.stdout).strip().splitlines()
    return f"exit {run.returncode}: {tail[-1][:200] if tail else 'no output'}"
