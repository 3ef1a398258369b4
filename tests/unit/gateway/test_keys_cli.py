"""`garrison keys create/list/revoke` as a user runs them, mistakes included."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from garrison.cli.main import app
from garrison.gateway.keys import KeyCache
from garrison.store import AuditLog, open_store

Invoke = Callable[..., Result]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'garrison.db'}"


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    monkeypatch.setenv("GARRISON_DB_URL", db_url)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["keys", *args])

    return invoke


def _create(cli: Invoke, *args: str) -> dict[str, object]:
    result = cli("create", "--owner", "team-a", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    created: dict[str, object] = json.loads(result.stdout)
    return created


def test_create_prints_the_secret_once_with_a_warning(cli: Invoke, db_url: str) -> None:
    result = cli("create", "--owner", "team-a", "--models", "gpt-4o, llama-3", "--rpm", "60")
    assert result.exit_code == 0, result.output
    summary, secret = result.stdout.splitlines()
    assert summary.startswith("created gk_") and "team-a" in summary
    assert secret.startswith("gk-")
    assert "cannot be shown again" in result.stderr
    store = open_store(db_url)
    try:
        key = KeyCache(store).authenticate(secret)
        assert key is not None and key.models == ("gpt-4o", "llama-3") and key.rpm == 60
    finally:
        store.close()


def test_create_takes_every_field(cli: Invoke) -> None:
    created = _create(
        cli,
        "--scopes=chat,embeddings",
        "--tools=search",
        "--guard-mode=redact",
        "--tpm=1000",
        "--daily-tokens=50000",
        "--expires=2099-06-30",
    )
    key = created["key"]
    assert isinstance(key, dict)
    assert key["scopes"] == ["chat", "embeddings"] and key["tools"] == ["search"]
    assert key["guard_mode"] == "redact" and (key["tpm"], key["daily_tokens"]) == (1000, 50000)
    assert str(key["expires"]).startswith("2099-06-30T23:59")
    assert _create(cli, "--tools=")["key"]["tools"] == []  # type: ignore[index]


def test_list_shows_keys_but_never_secrets(cli: Invoke) -> None:
    first, second = _create(cli), _create(cli, "--rpm=5")
    secrets = [str(first["secret"]), str(second["secret"])]
    table = cli("list")
    assert table.exit_code == 0 and "2 key(s)" in table.stdout
    listed = cli("list", "--format", "json")
    assert [k["rpm"] for k in json.loads(listed.stdout)] == [None, 5]
    for output in (table.stdout, listed.stdout):
        assert not any(s in output or s.split("-", 2)[2] in output for s in secrets)


def test_revoke_hides_the_key_from_list_but_not_from_list_all(cli: Invoke, db_url: str) -> None:
    key_id = _create(cli)["key"]["id"]  # type: ignore[index]
    result = cli("revoke", key_id, "--reason", "left the company")
    assert result.exit_code == 0 and f"revoked {key_id}" in result.stdout
    assert json.loads(cli("list", "-f", "json").stdout) == []
    everything = json.loads(cli("list", "--all", "-f", "json").stdout)
    assert [k["status"] for k in everything] == ["revoked"]
    assert "revoked" in cli("list", "--all").stdout
    store = open_store(db_url)
    try:
        actions = [r.action for r in AuditLog(store).records()]
    finally:
        store.close()
    assert actions == ["gateway.key.create", "gateway.key.revoke"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "--owner", " "), "a key needs an owner"),
        (("create", "--owner", "a", "--scopes", "chat,sudo"), "got sudo"),
        (("create", "--owner", "a", "--scopes", ""), "got none"),
        (("create", "--owner", "a", "--rpm", "0"), "rpm must be a positive"),
        (("create", "--owner", "a", "--guard-mode", "off"), "guard mode must be one of"),
        (("create", "--owner", "a", "--expires", "2001-01-01"), "is in the past"),
        (("create", "--owner", "a", "--expires", "next week"), "YYYY-MM-DD"),
        (("create", "--owner", "a", "--expires", "2099-01-01T00:00"), "YYYY-MM-DD"),
        (("revoke", "gk_000000000000", "--reason", "x"), "no gateway key 'gk_000000000000'"),
        (("revoke", "gk_000000000000", "--reason", ""), "needs a reason"),
    ],
)
def test_mistakes_exit_2_with_one_line(cli: Invoke, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stderr.startswith("garrison: error: ") and result.stdout == ""


def test_revoking_twice_is_a_mistake(cli: Invoke) -> None:
    key_id = _create(cli)["key"]["id"]  # type: ignore[index]
    assert cli("revoke", key_id, "--reason", "x").exit_code == 0
    again = cli("revoke", key_id, "--reason", "x")
    assert again.exit_code == 2 and "already revoked" in again.stderr


def test_a_bad_store_url_is_a_mistake(cli: Invoke) -> None:
    result = cli("list", "--db", "nosuchdb://x")
    assert result.exit_code == 2 and result.stderr.startswith("garrison: error: ")


def test_an_empty_model_list_is_refused_not_read_as_all(cli: Invoke) -> None:
    result = cli("create", "--owner", "team-a", "--models", " , ")
    assert result.exit_code == 2
    assert "--models '' names no model" in result.output
    assert "team-a" not in cli("list").output  # no key was made


def test_a_mistyped_store_path_is_refused_not_listed_as_empty(cli: Invoke, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'typo.db'}"
    result = cli("list", "--db", missing)
    assert result.exit_code == 2 and "no store at" in result.output
    assert not (tmp_path / "typo.db").exists()
