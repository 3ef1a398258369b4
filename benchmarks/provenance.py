"""Provenance benchmark: Garrison's hashing against sha256sum, signing against model-signing.

One run hashes a 2 GB file with sha256sum and with Garrison's hash_file, then signs and
verifies a directory of 1,000 files with Garrison (Ed25519 and ECDSA P-256) and with the
OpenSSF model-signing library (ECDSA P-256), each command in its own subprocess, and writes
benchmarks/results/provenance.json. Usage:

    .venv/bin/python benchmarks/provenance.py [--quick] [--repeats N]
    .venv/bin/python benchmarks/provenance.py --tables   # markdown tables from the JSON
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import _provenance_inputs as inputs
import _provenance_tables as tables
from _measure import Measured, measure
from _peer_install import installed_version

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "provenance"
RESULTS = ROOT / "benchmarks" / "results" / "provenance.json"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))
TIMEOUT = 600.0  # seconds one command may take
GNU_TIME = Path("/usr/bin/time")
GOAL_RATIO = 0.90  # Garrison's hashing throughput over sha256sum's, from the issue

log = logging.getLogger("provenance")

_KEYS = """
import sys
from pathlib import Path
from garrison import keys
for algorithm in ("ed25519", "ecdsa-p256"):
    path = Path(sys.argv[1]) / algorithm
    if not path.exists():
        keys.write_key_pair(path, keys.generate_key(algorithm))
"""
_BASELINE = "import garrison.supplychain.provenance.manifest"
_HASH = """
import sys, time
from pathlib import Path
from garrison.supplychain.provenance.manifest import hash_file
start = time.perf_counter()
digest, size = hash_file(Path(sys.argv[1]))
print(digest, size, time.perf_counter() - start)
"""
_GARRISON_SIGN = """
import sys
from pathlib import Path
from garrison import keys
from garrison.supplychain.provenance import signature
key = keys.load_private_key(Path(sys.argv[3]))
signature.sign_model(Path(sys.argv[1]), key, Path(sys.argv[2]))
"""
_GARRISON_VERIFY = """
import sys
from pathlib import Path
from garrison import keys
from garrison.supplychain.provenance import signature
public = keys.load_public_key(Path(sys.argv[3]))
signature.verify_model(Path(sys.argv[1]), public, Path(sys.argv[2]))
"""
_MS_SIGN = """
import sys
from model_signing import signing
signing.Config().use_elliptic_key_signer(private_key=sys.argv[3]).sign(sys.argv[1], sys.argv[2])
"""
_MS_VERIFY = """
import sys
from model_signing import verifying
verifying.Config().use_elliptic_key_verifier(public_key=sys.argv[3]).verify(
    sys.argv[1], sys.argv[2]
)
"""


@dataclass(frozen=True, slots=True)
class Sizes:
    large_bytes: int
    files: int


FULL = Sizes(large_bytes=2 * inputs.GIB, files=1000)
QUICK = Sizes(large_bytes=64 * inputs.MIB, files=100)


@dataclass(frozen=True, slots=True)
class Signer:
    """One tool with one key type: how to sign and verify a directory."""

    name: str
    key: str  # file name of the private key under the keys folder
    sign: str
    verify: str

    def command(self, verb: str, model: Path, sig: Path, keys_dir: Path) -> list[str]:
        key = keys_dir / (self.key if verb == "sign" else self.key + ".pub")
        code = self.sign if verb == "sign" else self.verify
        return [PYTHON, "-c", code, str(model), str(sig), str(key)]


SIGNERS = (
    Signer("garrison ed25519", "ed25519", _GARRISON_SIGN, _GARRISON_VERIFY),
    Signer("garrison ecdsa-p256", "ecdsa-p256", _GARRISON_SIGN, _GARRISON_VERIFY),
    Signer("model-signing ecdsa-p256", "ecdsa-p256", _MS_SIGN, _MS_VERIFY),
)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    out = Path(args.output)
    if args.tables:
        sys.stdout.write(tables.markdown(json.loads(out.read_text(encoding="utf-8"))))
        return 0
    sizes = QUICK if args.quick else FULL
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": _machine(), "meta": _meta(args)}
    results["hash_2gb"] = _run_hash(work, sizes.large_bytes, args.repeats)
    results["directory_1000"] = _run_directory(work, sizes.files, args.repeats)
    results["claims"] = tables.claims(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(tables.markdown(results))
    log.info("wrote %s", out)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a 64 MB file and 100 files")
    parser.add_argument("--repeats", type=int, default=3, help="runs per command (median)")
    parser.add_argument("--tables", action="store_true", help="print markdown from the JSON")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the JSON")
    parser.add_argument("--work", default=str(WORK), help="where inputs and keys are kept")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def _run_hash(work: Path, size: int, repeats: int) -> dict[str, Any]:
    """sha256sum and Garrison on the same file, alternating, both reading from the page cache."""
    target = inputs.large_file(work / f"random_{size}.bin", size)
    subprocess.run(["cat", str(target)], stdout=subprocess.DEVNULL, check=True)  # warm cache
    commands = {
        "sha256sum": ["sha256sum", str(target)],
        "garrison": [PYTHON, "-c", _HASH, str(target)],
    }
    if shutil.which("openssl"):
        commands["openssl"] = ["openssl", "dgst", "-sha256", "-r", str(target)]
    runs = _alternate(commands, repeats)
    baseline = _alternate({"baseline": [PYTHON, "-c", _BASELINE]}, repeats)["baseline"]
    tools = {name: _summary(rs) | _throughput(rs, size) for name, rs in runs.items()}
    ours = tools["garrison"]
    inside = [float(r.stdout.split()[2]) for r in runs["garrison"] if r.returncode == 0]
    if inside:
        ours["in_process_seconds"] = round(statistics.median(inside), 3)
        ours["in_process_mb_per_s"] = round(size / 1e6 / statistics.median(inside), 1)
    ours["baseline_rss_mb"] = _summary(baseline)["peak_rss_mb"]
    ours["rss_over_baseline_mb"] = round(ours["peak_rss_mb"] - ours["baseline_rss_mb"], 1)
    digests = {name: rs[0].stdout.split()[0] for name, rs in runs.items() if rs[0].stdout}
    result = {
        "target": _shown(target),
        "bytes": size,
        "page_cache": "warm (one untimed cat first)",
        "tools": tools,
        "digests_match": len(set(digests.values())) == 1 and len(digests) == len(runs),
        "goal_ratio": GOAL_RATIO,
        "ratio": _ratio(tools["sha256sum"], ours, "seconds"),
    }
    log.info("hash %s", tables.hash_line(result))
    return result


def _run_directory(work: Path, count: int, repeats: int) -> dict[str, Any]:
    model = inputs.many_files(work / f"files_{count}", count)
    keys_dir = work / "keys"
    keys_dir.mkdir(exist_ok=True)
    subprocess.run([PYTHON, "-c", _KEYS, str(keys_dir)], check=True)
    sigs = work / "signatures"  # outside the model, so no tool has to skip its own output
    sigs.mkdir(exist_ok=True)
    available = [s for s in SIGNERS if not s.name.startswith("model-signing") or _has_peer()]

    def sig_of(signer: Signer) -> Path:
        return sigs / (signer.name.replace(" ", "-") + ".sig")

    def commands(verb: str) -> dict[str, list[str]]:
        return {s.name: s.command(verb, model, sig_of(s), keys_dir) for s in available}

    signed = _alternate(commands("sign"), repeats, warm_up=True)
    verified = _alternate(commands("verify"), repeats)
    rows: dict[str, Any] = {
        s.name: {"sign": _summary(signed[s.name]), "verify": _summary(verified[s.name])}
        for s in available
    }
    floor = 'find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null'
    hashed = _alternate({"sha256sum": ["bash", "-c", floor, "bash", str(model)]}, repeats)
    rows["sha256sum"] = {"hash": _summary(hashed["sha256sum"])}
    files, total = inputs.tree_size(model)
    result = {
        "target": _shown(model),
        "files": files,
        "bytes": total,
        "tools": rows,
        "interop": _interop(available, model, keys_dir, sig_of),
    }
    for name, row in rows.items():
        log.info("directory %-26s %s", name, tables.dir_cells(row))
    return result


def _interop(
    available: list[Signer], model: Path, keys_dir: Path, sig_of: Callable[[Signer], Path]
) -> dict[str, bool]:
    """Each ECDSA verifier checks the other tool's signature of the same directory."""
    by_name = {s.name: s for s in available}
    ours, peer = by_name.get("garrison ecdsa-p256"), by_name.get("model-signing ecdsa-p256")
    if ours is None or peer is None:
        return {}
    pairs = {
        "model_signing_verifies_garrison": (peer, sig_of(ours)),
        "garrison_verifies_model_signing": (ours, sig_of(peer)),
    }
    result = {}
    for name, (verifier, sig) in pairs.items():
        run = _measure(verifier.command("verify", model, sig, keys_dir))
        result[name] = run.returncode == 0
    return result


def _alternate(
    commands: dict[str, list[str]], repeats: int, warm_up: bool = False
) -> dict[str, list[Measured]]:
    """Run each command `repeats` times, taking turns, so drift hits every tool alike."""
    if warm_up:  # bytecode caches and the first import of each library
        for cmd in commands.values():
            _measure(cmd)
    runs: dict[str, list[Measured]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, cmd in commands.items():
            runs[name].append(_measure(cmd))
    return runs


def _measure(cmd: list[str]) -> Measured:
    """Time `cmd`; take its peak RSS from GNU time where there is one.

    wait4 from this process reports at least this process's own peak RSS, because the
    child inherits it through vfork and exec; GNU time forks from a process of about 2 MB.
    """
    if not GNU_TIME.exists():
        return measure(cmd, TIMEOUT, env=_env())
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        run = measure([str(GNU_TIME), "-f", "%M", "-o", rss.name, *cmd], TIMEOUT, env=_env())
        lines = rss.read().split()
    peak = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else run.peak_rss_mb
    return replace(run, peak_rss_mb=peak)


def _env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    return env


def _summary(runs: list[Measured]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "seconds": round(statistics.median(r.seconds for r in runs), 3),
        "runs": [round(r.seconds, 3) for r in runs],
        "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1),
    }
    failed = next((r for r in runs if r.returncode != 0), None)
    if failed is not None:
        lines = failed.stderr.strip().splitlines() or [f"exit {failed.returncode}"]
        row["error"] = lines[-1][:300]
    return row


def _throughput(runs: list[Measured], size: int) -> dict[str, float]:
    return {"mb_per_s": round(size / 1e6 / statistics.median(r.seconds for r in runs), 1)}


def _ratio(reference: dict[str, Any], ours: dict[str, Any], key: str) -> float:
    """Our throughput over the reference's: their time over ours."""
    return round(reference[key] / ours[key], 3) if ours[key] else 0.0


def _has_peer() -> bool:
    return installed_version(Path(PYTHON), "model-signing") is not None


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo")
    text = cpuinfo.read_text(encoding="utf-8") if cpuinfo.exists() else ""
    model = next(
        (ln.split(":", 1)[1].strip() for ln in text.splitlines() if "model name" in ln), ""
    )
    return {
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "sha_extensions": " sha_ni " in text.replace("\n", " "),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "python": platform.python_version(),
    }


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    sha256sum = subprocess.run(["sha256sum", "--version"], capture_output=True, text=True)
    openssl = shutil.which("openssl")
    versions = {
        "garrison": installed_version(Path(PYTHON), "garrison-ml") or "unknown",
        "model-signing": installed_version(Path(PYTHON), "model-signing") or "not installed",
        "sha256sum": _words(sha256sum.stdout, 1, 4) or "unknown",
    }
    if openssl:
        out = subprocess.run([openssl, "version"], capture_output=True, text=True).stdout
        versions["openssl"] = _words(out, 1, 2) or "unknown"
    return {
        "versions": versions,
        "quick": args.quick,
        "repeats": args.repeats,
        "statistic": "median seconds of the repeats; peak RSS is the largest run's",
        "peak_rss_from": "GNU time" if GNU_TIME.exists() else "wait4 (an upper bound)",
        "command": "python benchmarks/provenance.py" + (" --quick" if args.quick else ""),
    }


def _words(text: str, start: int, stop: int) -> str:
    """`sha256sum (GNU coreutils) 9.1` -> `GNU coreutils 9.1`."""
    return " ".join(text.split()[start:stop]).replace("(", "").replace(")", "")


if __name__ == "__main__":
    sys.exit(main())
