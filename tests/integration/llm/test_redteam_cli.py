"""`garrison redteam` as a user runs it, against the deliberately vulnerable local app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from garrison.cli.main import app
from tests.unit.llm.redteam.vulnerable_app import VulnerableApp, serve

runner = CliRunner()


def test_redteam_reports_the_vulnerable_families_and_exits_1(tmp_path: Path) -> None:
    vulnerable = {"system-prompt-extraction", "markdown-exfiltration"}
    with serve(VulnerableApp(vulnerable=vulnerable, api_key="sk-test")) as url:
        out = tmp_path / "redteam.sarif"
        result = runner.invoke(
            app,
            [
                "redteam",
                "--target",
                url,
                "--model",
                "m",
                "--api-key",
                "sk-test",
                "--rate",
                "50",
                "--state",
                str(tmp_path / "state.jsonl"),
                "-f",
                "sarif",
                "-o",
                str(out),
            ],
        )
        assert result.exit_code == 1, result.output
        sarif = json.loads(out.read_text())
        rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
        assert rules == {"GA-RT-003", "GA-RT-007"}
        rerun = runner.invoke(
            app,
            [
                "redteam",
                "--target",
                url,
                "--model",
                "m",
                "--api-key",
                "sk-test",
                "--state",
                str(tmp_path / "state.jsonl"),
                "-f",
                "json",
            ],
        )
        assert rerun.exit_code == 1
        assert json.loads(rerun.stdout)["metrics"]["redteam"]["requests_sent"] == 0


def test_a_wrong_key_stops_the_run_with_a_clear_message() -> None:
    with serve(VulnerableApp(api_key="right")) as url:
        result = runner.invoke(
            app, ["redteam", "--target", url, "--model", "m", "--api-key", "wrong"]
        )
    assert "run stopped" in result.output and "GARRISON_REDTEAM_API_KEY" in result.output
    assert "Traceback" not in result.output
    assert result.exit_code == 2  # nothing was tested: never a pass
    assert "answered none of" in result.output


def test_a_leaked_system_prompt_alone_fails_the_run() -> None:
    with serve(VulnerableApp(vulnerable={"system-prompt-extraction"})) as url:
        args = ["redteam", "--target", url, "--model", "m", "--rate", "50", "-f", "json"]
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output  # GA-RT-003 is medium: still a success
        assert {f["rule"] for f in json.loads(result.stdout)["findings"]} == {"GA-RT-003"}
        lenient = runner.invoke(app, [*args, "--fail-on", "high"])
        assert lenient.exit_code == 0, lenient.output


def test_listing_probes_needs_no_target() -> None:
    result = runner.invoke(app, ["redteam", "--list"])
    assert result.exit_code == 0, result.output
    assert "system-prompt-extraction" in result.output


def test_a_state_file_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path) -> None:
    args = ["redteam", "--target", "http://127.0.0.1:9/v1", "--model", "m"]
    result = runner.invoke(app, [*args, "--state", str(tmp_path / "missing" / "s.jsonl")])
    assert result.exit_code == 2 and "output directory does not exist" in result.output
    result = runner.invoke(app, [*args, "--state", str(tmp_path)])
    assert result.exit_code == 2 and "--state" in result.output
    missing = runner.invoke(app, ["redteam", "--model", "m"])
    assert missing.exit_code == 2 and "--target and --model are required" in missing.output
