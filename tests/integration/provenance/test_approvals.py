"""`garrison models approve/list/revoke` and `require_approved` in the policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import update

from garrison.store import open_store
from garrison.store.models import ModelApproval
from tests.integration.provenance.conftest import Invoke


def _require_approved(directory: Path) -> None:
    (directory / "garrison.toml").write_text("require_approved = true\n")


def _approve(cli: Invoke, model: Path, *extra: str) -> None:
    result = cli(
        "models", "approve", model, "--owner", "ml-platform", "--risk-tier", "limited", *extra
    )
    assert result.exit_code == 0, result.output


def test_an_approved_model_passes_and_an_unapproved_one_is_refused(
    cli: Invoke, model: Path, hostile_model: Path, tmp_path: Path
) -> None:
    _require_approved(tmp_path)
    refused = cli("scan", model, "--format", "json")
    assert refused.exit_code == 1
    assert [f["rule"] for f in json.loads(refused.stdout)["findings"]] == ["GA-PROV-001"]
    _approve(cli, model)
    assert cli("scan", model).exit_code == 0


def test_a_changed_model_is_no_longer_approved(cli: Invoke, model: Path, tmp_path: Path) -> None:
    _approve(cli, model)
    _require_approved(tmp_path)
    (model / "tokenizer" / "vocab.txt").write_text("[PAD]\n[UNK]\nhijacked\n")
    result = cli("scan", model)
    assert result.exit_code == 1
    assert "GA-PROV-001" in result.output


def test_approval_is_refused_for_high_findings_unless_overridden(
    cli: Invoke, hostile_model: Path, audit_actions: Callable[[], list[str]]
) -> None:
    refused = cli("models", "approve", hostile_model, "--owner", "a", "--risk-tier", "high")
    assert refused.exit_code == 2
    assert "worst critical" in refused.output and "--override" in refused.output
    assert audit_actions() == ["model.approve.refused"]
    _approve(cli, hostile_model, "--override", "sandboxed research use only")
    assert audit_actions() == ["model.approve.refused", "model.approve.override"]
    listed = cli("models", "list", "--json")
    (approval,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert approval["override_reason"] == "sandboxed research use only"
    assert approval["scan_verdict"]["max_severity"] == "critical"


def test_revoked_and_expired_approvals_are_refused(
    cli: Invoke, model: Path, tmp_path: Path, store_url: str, audit_actions: Callable[[], list[str]]
) -> None:
    _approve(cli, model, "--expires", "2099-12-31")
    _require_approved(tmp_path)
    store = open_store(store_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(update(ModelApproval).values(expires_at="2020-01-01T23:59:59.999999Z"))
    finally:
        store.close()
    expired = cli("scan", model)
    assert expired.exit_code == 1 and "GA-PROV-002" in expired.output
    _approve(cli, model)
    assert cli("scan", model).exit_code == 0
    revoked = cli("models", "revoke", model, "--reason", "licence withdrawn")
    assert revoked.exit_code == 0, revoked.output
    result = cli("scan", model)
    assert result.exit_code == 1 and "GA-PROV-003" in result.output
    assert "licence withdrawn" in result.output
    # Revoking a model revokes every approval of its digests, the expired one included.
    assert audit_actions() == ["model.approve"] * 2 + ["model.revoke"] * 2
    listed = cli("models", "list", "--all", "--json")
    statuses = [json.loads(line)["status"] for line in listed.stdout.splitlines()]
    assert statuses == ["revoked", "revoked"]
    assert cli("models", "list", "--json").stdout == ""


def test_bad_approval_input_gets_one_line_errors(cli: Invoke, model: Path) -> None:
    cases = [
        (("--owner", "a", "--risk-tier", "unacceptable"), "risk tier must be one of"),
        (("--owner", "a", "--risk-tier", "high", "--expires", "31/12/2030"), "YYYY-MM-DD"),
        (("--owner", "a", "--risk-tier", "high", "--expires", "2001-01-01"), "in the past"),
        (("--owner", " ", "--risk-tier", "high"), "needs an owner"),
    ]
    for args, message in cases:
        result = cli("models", "approve", model, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
    assert cli("models", "revoke", "12", "--reason", "x").exit_code == 2
    assert "no active approval" in cli("models", "revoke", "12", "--reason", "x").output
