"""Install each peer scanner in its own virtual environment under the benchmark's work dir."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# A torch spec other than this one would pull gigabytes of CUDA wheels; 2.13.0 resolves to the
# local CPU wheel. Peers that read PyTorch files through torch get it installed first.
CPU_TORCH = "torch==2.13.0"


@dataclass(frozen=True, slots=True)
class PeerSpec:
    name: str  # also the venv folder name
    dist: str  # distribution whose version is recorded
    requirements: tuple[str, ...]
    needs_torch: bool = False


PEERS: tuple[PeerSpec, ...] = (
    # modelscan 0.8.8 calls numpy.lib.format._check_version, which NumPy 2 removed: without
    # this pin it fails on every .npy file.
    PeerSpec("modelscan", "modelscan", ("modelscan[h5py]==0.8.8", "numpy==1.26.4")),
    # picklescan reads .npy headers through NumPy but does not declare it; [7z] adds py7zr,
    # without which it aborts a whole directory scan at the first 7z archive.
    PeerSpec("picklescan", "picklescan", ("picklescan[7z]==1.0.5", "numpy")),
    # fickling reads PyTorch zip checkpoints through torch, so it gets the CPU wheel.
    PeerSpec("fickling", "fickling", ("fickling==0.1.12", "numpy"), needs_torch=True),
    # Every ModelAudit extra that installs offline without CUDA wheels; tensorflow, xgboost
    # (which pulls NCCL) and mlflow are left out.
    PeerSpec(
        "modelaudit",
        "modelaudit",
        ("modelaudit[h5,onnx,pytorch,safetensors,joblib,dill,flax,sevenzip,tflite]==0.2.54",),
        needs_torch=True,
    ),
)


def venv_python(venvs: Path, name: str) -> Path:
    return venvs / name / "bin" / "python"


def ensure_peer(venvs: Path, spec: PeerSpec, skip_install: bool) -> str:
    """Create the peer's venv unless it already holds this spec; return the installed version."""
    python = venv_python(venvs, spec.name)
    marker = venvs / spec.name / "garrison-bench-spec.txt"
    wanted = "\n".join([CPU_TORCH] * spec.needs_torch + list(spec.requirements))
    installed = marker.read_text() if marker.exists() else None
    if skip_install or installed == wanted:
        return installed_version(python, spec.dist) or "not installed"
    log.info("installing %s into %s", spec.name, python.parent.parent)
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(python.parent.parent)])
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if spec.needs_torch:
        _run([*pip, CPU_TORCH])
    _run([*pip, *spec.requirements])
    marker.write_text(wanted)
    return installed_version(python, spec.dist) or "install failed"


def installed_version(python: Path, dist: str) -> str | None:
    if not python.exists():
        return None
    code = (
        "import importlib.metadata as m, json, sys\n"
        "try: print(json.dumps(m.version(sys.argv[1])))\n"
        "except m.PackageNotFoundError: print('null')\n"
    )
    out = subprocess.run(
        [str(python), "-c", code, dist], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return None
    value: str | None = json.loads(out.stdout or "null")
    return value


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])}... failed:\n{done.stderr[-2000:]}")
