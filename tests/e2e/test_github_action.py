"""The composite GitHub Action: its inputs and steps agree, and its scan step really works.

The scan step's `run:` script is executed with bash the way the runner does
(`bash --noprofile --norc -eo pipefail`), with its `env:` expressions filled in with test
values and `$GITHUB_OUTPUT` pointing at a file, over generated malicious and benign files.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = ROOT / "tests" / "data" / "schemas" / "sarif-schema-2.1.0.json"
BIN = Path(sys.executable).parent
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
INPUTS = {"path", "fail-on", "sarif-file", "python-version", "upload"}


class _Payload:
    """Pickles as a call to os.system; the test writes it and never loads it."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo garrison-test",))


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = action["runs"]["steps"]
    return result


def step(action: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in steps(action) if s.get("name") == name)


def expressions(node: object) -> list[str]:
    """Every `${{ ... }}` body anywhere in a YAML node (`if:` values are expressions too)."""
    if isinstance(node, dict):
        found = [str(node["if"])] if "if" in node else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in expressions(value)]
    return EXPRESSION.findall(node) if isinstance(node, str) else []


def test_metadata_and_inputs(action: dict[str, Any]) -> None:
    assert action["name"] and action["description"]
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == INPUTS
    for spec in action["inputs"].values():
        assert spec["description"]
        assert "default" in spec and spec.get("required", False) is False
    assert action["inputs"]["fail-on"]["default"] == "high"
    assert action["inputs"]["upload"]["default"] == "true"


def test_every_expression_names_a_real_input_step_or_context(action: dict[str, Any]) -> None:
    ids = {s["id"] for s in steps(action) if "id" in s}
    used = set()
    for body in expressions(action):
        for name in re.findall(r"inputs\.([A-Za-z0-9_-]+)", body):
            assert name in INPUTS, body
            used.add(name)
        for step_id in re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs", body):
            assert step_id in ids, body
    assert used == INPUTS, "every input is used"


def test_steps_in_order_setup_install_scan_upload_fail(action: dict[str, Any]) -> None:
    names = [s["name"] for s in steps(action)]
    assert names == [
        "Set up Python",
        "Install Garrison",
        "Scan",
        "Upload SARIF to code scanning",
        "Fail on findings",
    ]
    setup = step(action, "Set up Python")
    assert setup["uses"].startswith("actions/setup-python@")
    assert "inputs.python-version" in setup["with"]["python-version"]
    install = step(action, "Install Garrison")
    assert "github.action_path" in install["env"]["GARRISON_ACTION_PATH"]
    assert "pip install" in install["run"] and '"$GARRISON_ACTION_PATH"' in install["run"]
    upload = step(action, "Upload SARIF to code scanning")
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert "inputs.sarif-file" in upload["with"]["sarif_file"]
    assert "inputs.upload == 'true'" in upload["if"]
    assert "steps.scan.outputs.sarif-written == 'true'" in upload["if"]
    fail = step(action, "Fail on findings")
    assert "steps.scan.outputs.exit-code != '0'" in fail["if"]
    for s in steps(action):
        if "run" in s:
            assert s["shell"] == "bash"  # composite actions require an explicit shell


def test_inputs_never_spliced_into_scripts(action: dict[str, Any]) -> None:
    # `${{ inputs.path }}` inside `run:` would let a crafted input inject shell.
    for s in steps(action):
        assert not EXPRESSION.search(s.get("run", "")), s["name"]


def test_outputs_come_from_the_scan_step(action: dict[str, Any]) -> None:
    outputs = action["outputs"]
    assert "steps.scan.outputs.sarif-file" in outputs["sarif-file"]["value"]
    assert "steps.scan.outputs.exit-code" in outputs["exit-code"]["value"]


def run_step(
    action: dict[str, Any], name: str, workspace: Path, values: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run one `run:` step as the runner would; return the process and its step outputs."""
    spec = step(action, name)
    output_file = workspace.parent / f"github_output_{name.replace(' ', '_')}"
    output_file.write_text("")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_WORKSPACE": str(workspace),
        "NO_COLOR": "1",
    }
    for key, value in spec.get("env", {}).items():
        env[key] = EXPRESSION.sub(lambda m: values[m.group(1)], str(value))
    script = workspace.parent / "step.sh"
    script.write_text(spec["run"])
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outputs = dict(
        line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line
    )
    return proc, outputs


def inputs(
    path: str, fail_on: str = "high", sarif: str = "results/garrison.sarif"
) -> dict[str, str]:
    return {"inputs.path": path, "inputs.fail-on": fail_on, "inputs.sarif-file": sarif}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "workspace"
    (ws / "results").mkdir(parents=True)
    (ws / "bad").mkdir()
    (ws / "bad" / "model.pkl").write_bytes(pickle.dumps(_Payload(), protocol=4))
    (ws / "good").mkdir()
    (ws / "good" / "model.pkl").write_bytes(pickle.dumps({"w": [0.5, 1.5]}, protocol=4))
    (ws / "odd").mkdir()
    (ws / "odd" / "weights.rar").write_bytes(b"Rar!\x1a\x07\x01\x00" + b"\x00" * 32)
    return ws


def validated_sarif(path: Path) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    return log


def test_scan_step_on_malicious_file_writes_sarif_and_defers_failure(
    action: dict[str, Any], workspace: Path
) -> None:
    proc, outputs = run_step(action, "Scan", workspace, inputs("bad"))
    assert proc.returncode == 0, proc.stderr  # the step itself succeeds: upload comes first
    assert outputs["exit-code"] == "1"
    assert outputs["sarif-written"] == "true"
    assert outputs["sarif-file"] == "results/garrison.sarif"
    log = validated_sarif(workspace / "results" / "garrison.sarif")
    results = log["runs"][0]["results"]
    assert any(r["ruleId"] == "GA-PKL-001" and r["level"] == "error" for r in results)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"bad/model.pkl"}  # relative to the workspace, as code scanning needs


def test_scan_step_on_benign_file_passes(action: dict[str, Any], workspace: Path) -> None:
    proc, outputs = run_step(action, "Scan", workspace, inputs("good"))
    assert proc.returncode == 0, proc.stderr
    assert outputs["exit-code"] == "0"
    log = validated_sarif(workspace / "results" / "garrison.sarif")
    assert log["runs"][0]["results"] == []


@pytest.mark.parametrize(("fail_on", "expected"), [("high", "0"), ("low", "1")])
def test_exit_code_follows_fail_on(
    action: dict[str, Any], workspace: Path, fail_on: str, expected: str
) -> None:
    # A RAR archive is recognised but not scanned: a low finding.
    proc, outputs = run_step(action, "Scan", workspace, inputs("odd", fail_on))
    assert proc.returncode == 0, proc.stderr
    assert outputs["exit-code"] == expected
    log = validated_sarif(workspace / "results" / "garrison.sarif")
    assert {r["level"] for r in log["runs"][0]["results"]} == {"note"}


def test_usage_error_skips_upload_and_reports(action: dict[str, Any], workspace: Path) -> None:
    proc, outputs = run_step(action, "Scan", workspace, inputs("no/such/dir"))
    assert proc.returncode == 0
    assert outputs["exit-code"] == "2"
    assert outputs["sarif-written"] == "false"
    assert "::error title=Garrison::" in proc.stdout


def test_hostile_path_input_is_not_executed(action: dict[str, Any], workspace: Path) -> None:
    marker = workspace / "pwned"
    _, outputs = run_step(action, "Scan", workspace, inputs(f'good"; touch {marker}; "'))
    assert not marker.exists()
    assert outputs["exit-code"] == "2"  # treated as a (missing) path, nothing more


@pytest.mark.parametrize("code", ["1", "2", "3"])
def test_fail_step_exits_with_the_scan_code(
    action: dict[str, Any], workspace: Path, code: str
) -> None:
    proc, _ = run_step(
        action, "Fail on findings", workspace, {"steps.scan.outputs.exit-code": code}
    )
    assert proc.returncode == int(code)
    assert ("::error" in proc.stdout) is (code == "1")
