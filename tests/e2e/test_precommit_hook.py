"""The pre-commit hook as users run it: the manifest, the file filter, and the verdict.

Two levels: the hook's entry run exactly as pre-commit runs it (pre-commit's own manifest
loader, file classifier and command builder, with the installed `garrison`), which is fast
and needs no network; and `pre-commit try-repo` against a copy of this repository, which
builds the hook's virtualenv from PyPI (about 30 s) and is skipped when PyPI is unreachable.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import pytest
from pre_commit.clientlib import load_manifest  # type: ignore[import-untyped]
from pre_commit.commands.run import Classifier, filter_by_include_exclude  # type: ignore[import-untyped]
from pre_commit.hook import Hook  # type: ignore[import-untyped]
from pre_commit.lang_base import hook_cmd  # type: ignore[import-untyped]
from pre_commit.prefix import Prefix  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent
NETWORK_ERRORS = (
    "Could not find a version",
    "No matching distribution",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Failed to establish a new connection",
    "ConnectionError",
    "ProxyError",
)


class _Payload:
    """Pickles as a call to os.system; the test writes it and never loads it."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo garrison-test",))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding one malicious and one benign pickle, and a README."""
    work = tmp_path / "work"
    (work / "models").mkdir(parents=True)
    (work / "models" / "bad.pkl").write_bytes(pickle.dumps(_Payload(), protocol=4))
    (work / "models" / "good.pkl").write_bytes(pickle.dumps({"w": [0.5, 1.5]}, protocol=4))
    (work / "README.md").write_text("not a model\n")
    git(work, "init", "-q")
    return work


def git(cwd: Path, *args: str) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def the_hook() -> Hook:
    (config,) = load_manifest(str(MANIFEST))
    return Hook.create(str(ROOT), Prefix(str(ROOT)), config)


def run_as_pre_commit(cwd: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    """What pre-commit does for a `language: python` hook once its env is installed."""
    hook = the_hook()
    with chdir(cwd):
        selected = list(Classifier(files).filenames_for_hook(hook))
    assert selected, "the hook's filter selected none of the files"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [*hook_cmd(hook.entry, hook.args), *selected],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manifest_is_valid_for_pre_commit() -> None:
    hooks = load_manifest(str(MANIFEST))
    assert [h["id"] for h in hooks] == ["garrison-scan"]
    (hook,) = hooks
    assert hook["language"] == "python"
    assert hook["entry"] == "garrison scan --fail-on high"
    assert hook["pass_filenames"] is True


@pytest.mark.parametrize(
    "name",
    [
        "model.pkl", "a/b/weights.PT", "ckpt/model.ckpt", "clf.joblib", "arr.npz", "m.h5",
        "m.keras", "m.onnx", "llm.gguf", "m.safetensors", "saved_model.pb", "pytorch_model.bin",
        "bundle.tar", "bundle.zip", "x.tar.gz", "x.pickle", "x.pth", "x.npy",
    ],
)  # fmt: skip
def test_filter_selects_model_and_archive_files(name: str) -> None:
    hook = the_hook()
    assert list(filter_by_include_exclude([name], hook.files, hook.exclude)) == [name]


@pytest.mark.parametrize("name", ["README.md", "train.py", "config.json", "model.pkl.txt"])
def test_filter_skips_source_and_text(name: str) -> None:
    hook = the_hook()
    assert list(filter_by_include_exclude([name], hook.files, hook.exclude)) == []


def test_hook_fails_on_malicious_pickle(repo: Path) -> None:
    proc = run_as_pre_commit(repo, ["models/bad.pkl", "models/good.pkl", "README.md"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "GA-PKL-001" in proc.stdout
    assert "echo garrison-test" in proc.stdout
    assert "README.md" not in proc.stdout


def test_hook_passes_benign_pickle(repo: Path) -> None:
    proc = run_as_pre_commit(repo, ["models/good.pkl"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout


def test_user_args_can_raise_the_threshold(repo: Path) -> None:
    hook = the_hook()._replace(args=["--fail-on", "critical"])
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [*hook_cmd(hook.entry, hook.args), "models/bad.pkl"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "fail-on critical" in proc.stdout  # the last --fail-on wins


def hook_repository(tmp_path: Path) -> Path:
    """A committed copy of what a hook user's clone contains (the working tree as it is)."""
    dest = tmp_path / "garrison-hook"
    dest.mkdir()
    for name in (
        "pyproject.toml",
        "hatch_build.py",
        "README.md",
        "LICENSE",
        ".pre-commit-hooks.yaml",
    ):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(
        ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.so")
    )
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "x")
    return dest


def try_repo(
    hook_repo: Path, repo: Path, files: list[str], home: Path
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    cmd = [str(BIN / "pre-commit"), "try-repo", str(hook_repo), "garrison-scan", "--files", *files]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_pre_commit_try_repo_blocks_malicious_and_passes_benign(repo: Path, tmp_path: Path) -> None:
    if not (BIN / "pre-commit").exists():
        pytest.skip("pre-commit is not installed in this environment")
    hook_repo = hook_repository(tmp_path)
    home = tmp_path / "pre-commit-home"
    bad = try_repo(hook_repo, repo, ["models/bad.pkl", "models/good.pkl"], home)
    output = bad.stdout + bad.stderr
    if bad.returncode != 0 and any(err in output for err in NETWORK_ERRORS):
        pytest.skip("pre-commit could not install the hook environment (no PyPI access)")
    assert bad.returncode == 1, output
    assert "garrison scan (model files)" in output and "Failed" in output
    assert "GA-PKL-001" in output
    good = try_repo(hook_repo, repo, ["models/good.pkl"], home)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
