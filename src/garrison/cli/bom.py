"""`garrison bom`: a CycloneDX 1.6 ML-BOM of models, datasets and Python packages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.files import check_output, write_output
from garrison.cli.provenance import DebugOption


@handle_errors
def bom_command(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH", help="Model files or directories, datasets.")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the BOM to FILE.")
    ] = None,
    requirements: Annotated[
        Path | None,
        typer.Option(help="List the packages of this requirements file, not of this environment."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", "-k", help="Public key: verify signatures for the BOM.")
    ] = None,
    scan: Annotated[bool, typer.Option(help="Scan each PATH and record the verdict.")] = True,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy for the scan.")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Write a CycloneDX 1.6 bill of materials (JSON), validated against the schema."""
    from garrison.errors import UsageError
    from garrison.supplychain.provenance.bom import bom_json, build_bom, validate_bom_json

    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or directory: {path}")
    output = None if output == Path("-") else output
    check_output(output)
    verdicts = _verdicts(paths, policy_file) if scan else None
    states = {path: _signature_state(path, key) for path in paths}
    text = bom_json(build_bom(paths, requirements, verdicts, states))
    validate_bom_json(text)
    if write_output(output, text):
        print(f"wrote {output} (CycloneDX 1.6, {len(paths)} asset(s))", file=sys.stderr)


def _verdicts(paths: list[Path], policy_file: Path | None) -> dict[Path, dict[str, Any]]:
    from garrison.policy import load_policy
    from garrison.supplychain import scan_path
    from garrison.supplychain.provenance.attest import findings_for
    from garrison.supplychain.provenance.verdict import rules_version, verdict

    policy = load_policy(policy_file)
    report = scan_path(paths, policy)
    out = {}
    for path in paths:
        v = verdict(findings_for(report, path))
        out[path] = {
            "verdict": "pass" if v["passed"] else "fail",
            "max_severity": v["max_severity"] or "none",
            "findings": v["findings"],
            "rules": rules_version(),
        }
    return out


def _signature_state(path: Path, key: Path | None) -> str:
    from garrison import keys
    from garrison.supplychain.provenance.bundle import SignatureError
    from garrison.supplychain.provenance.signature import default_signature_path, verify_model

    if not default_signature_path(path).is_file():
        return "unsigned"
    if key is None:
        return "signed (not verified: no --key given)"
    try:
        result = verify_model(path, keys.load_public_key(key))
    except SignatureError as exc:
        return f"invalid: {exc}"
    return f"verified (key {result.signer[:16]})"
