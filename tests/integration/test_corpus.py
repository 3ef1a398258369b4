"""The scanner against the self-generated corpus: the project's acceptance bar.

Every malicious file must get a finding at HIGH or above; no benign file written by a real
library may get one at MEDIUM or above. Tests are parametrised by corpus id so a failure
names the technique (or the benign file) that broke the bar.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from garrison.findings import Finding, Severity
from tests.corpus import benign, malicious
from tests.corpus.build import CorpusEntry, build_corpus
from tests.corpus.registry import Sample

REQUIRED_MALICIOUS_FORMATS = {
    "pickle", "pytorch", "numpy", "joblib", "zip", "tar", "keras", "savedmodel", "onnx", "gguf",
    "safetensors", "hf-directory",
}  # fmt: skip
REQUIRED_BENIGN_FORMATS = {
    "pytorch", "pickle", "joblib", "numpy", "safetensors", "onnx", "keras", "gguf", "hf-directory",
}  # fmt: skip
MAX_FILE_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="session")
def corpus(corpus_root: Path) -> dict[str, CorpusEntry]:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return {entry.id: entry for entry in build_corpus(corpus_root)}


def _scan(path: Path) -> list[Finding]:
    from garrison.supplychain import scan_path

    return scan_path(path).findings


def _describe(findings: list[Finding]) -> str:
    lines = [f"  {f.severity.value:8} {f.rule} {f.location} :: {f.evidence}" for f in findings]
    return "\n".join(lines) or "  (no findings)"


@pytest.mark.parametrize("sample", malicious.SAMPLES, ids=lambda s: s.id)
def test_malicious_file_is_high_or_above(corpus: dict[str, CorpusEntry], sample: Sample) -> None:
    entry = corpus[sample.id]
    findings = _scan(entry.path)
    assert any(f.severity >= Severity.HIGH for f in findings), (
        f"{entry.id} [{entry.format}] missed: {entry.technique}\n"
        f"source: {entry.source}\nfindings:\n{_describe(findings)}"
    )


@pytest.mark.parametrize("sample", benign.SAMPLES, ids=lambda s: s.id)
def test_benign_file_is_below_medium(corpus: dict[str, CorpusEntry], sample: Sample) -> None:
    entry = corpus[sample.id]
    noisy = [f for f in _scan(entry.path) if f.severity >= Severity.MEDIUM]
    assert not noisy, f"{entry.id} [{entry.format}] false positive:\n{_describe(noisy)}"


def test_corpus_is_large_and_covers_every_format(corpus: dict[str, CorpusEntry]) -> None:
    bad = [e for e in corpus.values() if e.malicious]
    good = [e for e in corpus.values() if not e.malicious]
    assert len(bad) >= 50
    assert len(good) >= 30
    assert {e.format for e in bad} >= REQUIRED_MALICIOUS_FORMATS
    assert {e.format for e in good} >= REQUIRED_BENIGN_FORMATS


def test_corpus_entries_are_documented_and_small(corpus: dict[str, CorpusEntry]) -> None:
    for entry in corpus.values():
        assert entry.path.exists() or entry.path.is_symlink(), entry.id
        assert entry.technique and entry.source, entry.id
        assert entry.source == "garrison" or entry.source.startswith("https://"), entry.id
        files = [entry.path] if entry.path.is_file() else list(entry.path.rglob("*"))
        for file in files:
            if file.is_file() and not file.is_symlink():
                assert file.stat().st_size < MAX_FILE_BYTES, f"{entry.id}: {file} too large"


def _garrison_cli() -> list[str]:
    script = Path(sys.executable).with_name("garrison")
    return [str(script)] if script.exists() else [sys.executable, "-m", "garrison"]


@pytest.mark.parametrize(("folder", "expected_exit"), [("malicious", 1), ("benign", 0)])
def test_cli_scan_of_whole_corpus(
    corpus: dict[str, CorpusEntry], corpus_root: Path, folder: str, expected_exit: int
) -> None:
    del corpus  # built by the fixture; the CLI scans the folder it wrote
    result = subprocess.run(
        [*_garrison_cli(), "scan", str(corpus_root / folder), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == expected_exit, result.stderr[-2000:] + result.stdout[-2000:]
    json.loads(result.stdout)


def test_the_c_first_pass_changes_no_report(corpus: dict[str, CorpusEntry]) -> None:
    """Every corpus file reports the same findings and items with and without `_walk.c`."""
    from garrison.supplychain import pickle_fast, scan_path

    if not pickle_fast.AVAILABLE:
        if os.environ.get("CI"):
            pytest.fail("C pickle walker not built in CI")
        pytest.skip("C pickle walker not built")
    walk = pickle_fast.one_clean_walk
    answered: list[bool] = []

    def counted(data: bytes, max_stack: int) -> tuple[int, list[tuple[str, str]]] | None:
        result = walk(data, max_stack)
        answered.append(result is not None)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pickle_fast, "one_clean_walk", counted)
        fast = {i: scan_path(e.path) for i, e in corpus.items()}
    assert sum(answered) >= 10  # the C pass really answered for many benign pickles
    saved = pickle_fast._NATIVE, pickle_fast.AVAILABLE
    pickle_fast._NATIVE, pickle_fast.AVAILABLE = None, False
    try:
        pure = {i: scan_path(e.path) for i, e in corpus.items()}
    finally:
        pickle_fast._NATIVE, pickle_fast.AVAILABLE = saved
    for i in corpus:
        assert [f.to_dict() for f in fast[i].findings] == [f.to_dict() for f in pure[i].findings], i
        assert fast[i].items == pure[i].items, i
