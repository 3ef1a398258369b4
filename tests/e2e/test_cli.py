"""The CLI as a user runs it: exit codes, one-line errors, reports on disk."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo garrison-test",))


def garrison(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "garrison", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    clean = tmp_path / "clean.pkl"
    clean.write_bytes(pickle.dumps({"weights": [0.1, 0.2], "step": 3}, protocol=4))
    bad = tmp_path / "bad.bin"
    bad.write_bytes(pickle.dumps(_Payload(), protocol=4))
    return {"clean": clean, "bad": bad}


def assert_one_line_error(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert any(needle in line for line in lines), proc.stderr


def test_clean_file_exits_0(files: dict[str, Path]) -> None:
    proc = garrison("scan", str(files["clean"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_malicious_file_exits_1_with_reconstructed_call(files: dict[str, Path]) -> None:
    proc = garrison("scan", str(files["bad"]))
    assert proc.returncode == 1
    assert "system(" in proc.stdout  # os.system pickles as posix.system
    assert "echo garrison-test" in proc.stdout


def test_fail_on_critical_only_still_fails_on_critical(files: dict[str, Path]) -> None:
    assert garrison("scan", str(files["bad"]), "--fail-on", "critical").returncode == 1


def test_json_report_to_file(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = garrison("scan", str(files["bad"]), str(files["clean"]), "-f", "json", "-o", str(out))
    assert proc.returncode == 1
    report = json.loads(out.read_text())
    rules = {f["rule"] for f in report["findings"]}
    assert rules and all(r.startswith("GA-") for r in rules)
    paths = {f["asset"]["path"] for f in report["findings"]}
    assert paths == {str(files["bad"])}


def test_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    assert_one_line_error(garrison("scan", str(tmp_path / "nope.pt")), "no such file")


def test_bad_fail_on_is_a_one_line_error(files: dict[str, Path]) -> None:
    assert_one_line_error(garrison("scan", str(files["clean"]), "--fail-on", "severe"), "severity")


def test_bad_format_is_a_usage_error(files: dict[str, Path]) -> None:
    proc = garrison("scan", str(files["clean"]), "--format", "pdf")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_invalid_policy_is_a_one_line_error(files: dict[str, Path], tmp_path: Path) -> None:
    policy = tmp_path / "garrison.toml"
    policy.write_text("fail_on = 'whenever'\n")
    proc = garrison("scan", str(files["clean"]), "--policy", str(policy))
    assert_one_line_error(proc, "fail_on")


def test_policy_in_working_directory_is_used(files: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "garrison.toml").write_text('disabled_rules = ["GA-PKL-001"]\n')
    proc = garrison("scan", str(files["bad"]), "-f", "json", cwd=tmp_path)
    rules = {f["rule"] for f in json.loads(proc.stdout)["findings"]}
    assert "GA-PKL-001" not in rules


def test_output_into_missing_directory_is_a_one_line_error(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "no" / "such" / "dir" / "r.json"
    assert_one_line_error(
        garrison("scan", str(files["clean"]), "-f", "json", "-o", str(out)), "does not exist"
    )


def test_internal_error_exits_3_with_debug_pointer(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import garrison.supplychain as supplychain
    from garrison.cli.main import app

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(supplychain, "scan_path", broken)
    result = CliRunner().invoke(app, ["scan", str(files["clean"])])
    assert result.exit_code == 3
    assert "--debug" in result.output


@pytest.mark.parametrize(("module", "extra"), [("torch", "robustness"), ("httpx", "llm")])
def test_a_missing_optional_module_names_its_extra(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, module: str, extra: str
) -> None:
    import garrison.supplychain as supplychain
    from garrison.cli.main import app

    def missing(*args: object, **kwargs: object) -> None:
        raise ModuleNotFoundError(f"No module named '{module}'", name=module)

    monkeypatch.setattr(supplychain, "scan_path", missing)
    result = CliRunner().invoke(app, ["scan", str(files["clean"])])
    assert result.exit_code == 2
    assert f"pip install 'garrison-ml[{extra}]'" in result.output
    assert "Traceback" not in result.output


def test_demo_samples_are_judged_correctly(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_samples.py"), str(tmp_path / "s")],
        check=True,
        capture_output=True,
    )
    proc = garrison("scan", str(tmp_path / "s"), "-f", "json")
    report = json.loads(proc.stdout)
    worst: dict[str, str] = {}
    order = ["info", "low", "medium", "high", "critical"]
    for f in report["findings"]:
        path = f["location"]["path"]
        if order.index(f["severity"]) > order.index(worst.get(path, "info")):
            worst[path] = f["severity"]
    malicious = sorted((tmp_path / "s" / "malicious").iterdir())
    benign = sorted((tmp_path / "s" / "benign").iterdir())
    for path in malicious:
        assert worst.get(str(path)) in ("high", "critical"), path.name
    for path in benign:
        assert worst.get(str(path), "info") in ("info", "low"), path.name
    assert proc.returncode == 1


def test_output_onto_a_directory_is_refused_before_the_scan(
    files: dict[str, Path], tmp_path: Path
) -> None:
    proc = garrison("scan", str(files["bad"]), "--format", "json", "--output", str(tmp_path))
    assert_one_line_error(proc, "is a directory")
    assert proc.stdout == ""  # refused before scanning, so nothing was half-written


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path: Path) -> None:
    proc = garrison("scan", str(tmp_path / "missing.pkl"), "--debug")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "no such file or directory" in proc.stderr


def test_keygen_into_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    proc = garrison("keygen", str(tmp_path))
    assert_one_line_error(proc, "is a directory; give the key a file name")
    assert list(tmp_path.iterdir()) == []


def test_a_path_given_twice_is_scanned_once(files: dict[str, Path], tmp_path: Path) -> None:
    bad = str(files["bad"])
    proc = garrison("scan", str(tmp_path), bad, str(tmp_path), "--format", "json")
    report = json.loads(proc.stdout)
    assert [f["rule"] for f in report["findings"]].count("GA-PKL-001") == 1
    assert sorted(Path(i["path"]).name for i in report["items"]) == ["bad.bin", "clean.pkl"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["scan", ".", "--format", "xml"], "Invalid value for '--format'"),
        (["scan"], "Missing argument 'PATH'"),
        (["scan", ".", "--jobs", "many"], "Invalid value for '--jobs'"),
        (["nosuch"], "No such command 'nosuch'"),
    ],
)
def test_command_line_mistakes_are_one_line(args: list[str], needle: str) -> None:
    proc = garrison(*args)
    assert_one_line_error(proc, needle)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "garrison" in proc.stderr.split("(see '")[1]  # names the help to read
    assert "Value error" not in proc.stderr


def test_a_bad_store_url_for_record_is_refused_before_the_scan(files: dict[str, Path]) -> None:
    proc = garrison("scan", str(files["clean"]), "--record", "--db", "bogus://x")
    assert_one_line_error(proc, "unsupported store URL bogus://x")
    assert proc.stdout == ""
