"""`discover` and `garrison discover`: the walk, its limits, the report and the CLI."""

from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.cli.main import app
from garrison.policy import Policy
from garrison.posture import PosturePolicy, discover
from garrison.report import render

runner = CliRunner()


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "chat.py").write_text("from openai import OpenAI\nclient = OpenAI()\n")
    (repo / "src" / "names.py").write_text("openai_model = 'gpt-4'  # openai\n")
    header = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    (repo / "weights.dat").write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    (repo / "model.bin").write_text("placeholder, not a model\n")
    (repo / ".env").write_text("HF_TOKEN=hf_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3h" + "\n")
    return repo


def labels(found: object) -> set[str]:
    d = found  # a Discovery
    out = {f"{f.rule}:{Path(f.location.path or '').name}" for f in d.report.findings}  # type: ignore[attr-defined]
    out |= {f"{a.category}:{a.name}:{Path(a.asset.path or '').name}" for a in d.assets}  # type: ignore[attr-defined]
    return out


def test_discovers_assets_and_findings(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    policy = Policy(posture=PosturePolicy(gateway_urls=("https://gw.internal/v1",)))
    found = discover(repo, policy)
    assert labels(found) == {
        "ai-service:openai:chat.py",
        "GA-POST-011:chat.py",
        "model:safetensors:weights.dat",
        "GA-POST-001:.env",
    }
    assert found.files == 5
    assert found.report.metrics["discovery"]["assets"]["model"] == 1


def test_fake_keys_in_test_fixtures_are_not_findings(tmp_path: Path) -> None:
    (tmp_path / "fixtures.py").write_text(
        'OPENAI_API_KEY = "sk-" + "x" * 48\nAWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n'
        'HF_TOKEN = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"\nKEY = "sk-ant-api03-REPLACE_ME"\n'
    )
    assert discover(tmp_path).report.findings == []


def test_without_a_gateway_url_there_is_no_bypass_finding(tmp_path: Path) -> None:
    found = discover(make_repo(tmp_path))
    assert "GA-POST-011:chat.py" not in labels(found)


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "html", "console"])
def test_every_report_format_renders_findings(tmp_path: Path, fmt: str) -> None:
    report = discover(make_repo(tmp_path)).report
    text = render(report, fmt)
    assert "GA-POST-001" in text
    assert "hf_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3h" not in text  # keys are masked
    if fmt == "json":
        data = json.loads(text)
        assert data["command"] == "discover"
        assert data["metrics"]["discovery"]["inventory"]


def test_links_out_of_the_roots_are_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("import anthropic\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "ext").symlink_to(outside)
    (repo / "self").symlink_to(repo)
    found = discover(repo)
    assert [f.rule for f in found.report.findings] == ["GA-POST-016"]
    assert found.assets == []
    followed = discover(repo, Policy(follow_symlinks=True))
    assert {a.name for a in followed.assets} == {"anthropic"}
    assert "GA-POST-016" in {f.rule for f in followed.report.findings}  # the loop


def test_unreadable_paths_are_reported_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    (repo / "locked").mkdir()
    real_scandir, real_open = os.scandir, open

    def scandir(path: str) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    def guarded_open(path: str, *args: object, **kwargs: object) -> object:
        if str(path).endswith("names.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr("garrison.posture.analyse.open", guarded_open, raising=False)
    found = discover(repo)
    unreadable = sorted(
        Path(f.location.path or "").name for f in found.report.findings if f.rule == "GA-POST-014"
    )
    assert unreadable == ["locked", "names.py"]
    assert any(a.name == "safetensors" for a in found.assets)  # the rest was still walked


def test_huge_source_files_are_reported_and_skipped(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_text("import openai\n" + "x = 1\n" * 2000)
    found = discover(big, Policy(posture=PosturePolicy(max_text_bytes=1024)))
    assert [f.rule for f in found.report.findings] == ["GA-POST-015"]
    assert found.assets == []


def test_file_count_limit_is_a_finding(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.txt").write_text("x")
    limits = Policy().limits.model_copy(update={"max_files": 3})
    found = discover(tmp_path, Policy(limits=limits))
    assert [f.rule for f in found.report.findings] == ["GA-SCAN-001"]


def test_disabled_rules_and_severity_overrides_apply(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    policy = Policy(disabled_rules=("GA-POST-001",))
    assert "GA-POST-001:.env" not in labels(discover(repo, policy))
    found = discover(repo, Policy(severity_overrides={"GA-POST-001": "low"}))
    assert {f.severity.value for f in found.report.findings} == {"low"}


def test_excluded_directories_are_not_walked(tmp_path: Path) -> None:
    (tmp_path / "node_modules" / "openai").mkdir(parents=True)
    (tmp_path / "node_modules" / "openai" / "index.js").write_text('import x from "openai";\n')
    assert discover(tmp_path).files == 0


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = runner.invoke(app, ["discover", str(repo), "--no-progress"])
    assert result.exit_code == 1, result.output  # a critical key
    assert "GA-POST-001" in result.output and "inventory:" in result.output
    out = tmp_path / "r.json"
    args = ["discover", str(repo), "-f", "json", "-o", str(out), "--fail-on", "critical"]
    result = runner.invoke(app, [*args, "--gateway-url", "https://gw/v1", "--no-progress"])
    assert result.exit_code == 1
    rules = {f["rule"] for f in json.loads(out.read_text())["findings"]}
    assert rules == {"GA-POST-001", "GA-POST-011"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["discover", "/no/such/dir"], "no such file"),
        (["discover", ".", "--gateway-url", "ftp://x"], "--gateway-url"),
        (["discover", ".", "--bom", "/no/bom.json"], "BOM file not found"),
    ],
)
def test_cli_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, [*args, "--no-progress"])
    assert result.exit_code == 2
    assert message in result.output


def test_missing_pyyaml_is_reported_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "compose.yml").write_text("services:\n  a: {image: ollama/ollama}\n")
    monkeypatch.setitem(sys.modules, "yaml", None)
    found = discover(tmp_path)
    [item] = found.report.items
    assert item.status == "unscanned" and "garrison-ml[posture]" in item.detail
