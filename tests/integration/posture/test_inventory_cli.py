"""`garrison discover --record` and `garrison inventory` as a user runs them (SQLite store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.cli.main import app
from garrison.posture.eu_ai_act import QUESTIONS, SECTIONS
from tests.integration.posture.test_inventory_store import make_repo

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'garrison.db'}"
    result = runner.invoke(
        app, ["discover", str(make_repo(tmp_path)), "--record", "--db", url, "-f", "json"]
    )
    assert result.exit_code == 1, result.output  # the leaked key is critical
    assert "inventory: recorded 3 asset(s), 3 new, 2 failing posture" in result.stderr
    json.loads(result.stdout)  # the report stays clean JSON on stdout
    return url


def listing(db: str, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["inventory", "--db", db, "-f", "json", *args])
    assert result.exit_code == 0, result.output
    entries: list[dict[str, object]] = json.loads(result.stdout)
    return entries


def test_inventory_lists_recorded_assets_with_their_posture_verdicts(db: str) -> None:
    entries = listing(db)
    assert [(e["category"], e["name"]) for e in entries] == [
        ("ai-service", "anthropic"),
        ("ai-service", "openai"),
        ("model", "safetensors"),
    ]
    verdicts = [e["verdicts"]["posture"]["passed"] for e in entries]  # type: ignore[index]
    assert verdicts == [False, False, True]
    rules = [e["verdicts"]["posture"]["rules"] for e in entries]  # type: ignore[index]
    assert rules == [{"GA-POST-001": 1}, {"GA-POST-001": 1}, {"GA-POST-013": 1}]
    assert [e["name"] for e in listing(db, "--kind", "model")] == ["safetensors"]
    table = runner.invoke(app, ["inventory", "--db", db])
    assert table.exit_code == 0
    assert "3 asset(s)" in table.stdout and "unclassified" in table.stdout
    assert "fail (critical, 1)" in table.stdout


def test_classify_with_an_answers_file_records_tier_and_actor(db: str, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({q.id: q.id == "interacts_with_people" for q in QUESTIONS}))
    args = ["classify", "openai", "--answers", str(answers), "--actor", "alice", "--db", db]
    result = runner.invoke(app, ["inventory", *args])
    assert result.exit_code == 0, result.output
    assert "risk tier limited (Art. 50(1): interacts_with_people)" in result.stdout
    [entry] = listing(db, "--tier", "limited")
    assert (entry["name"], entry["classified_by"]) == ("openai", "alice")
    audit = runner.invoke(app, ["audit", "verify", "--db", db])
    assert audit.exit_code == 0, audit.output


def test_classify_asks_the_questions_when_no_answers_file_is_given(db: str) -> None:
    # "No" to every prohibited practice, "yes" to the first high-risk question, "no" after.
    replies = ["n"] * len(SECTIONS[0]) + ["y"] + ["n"] * (len(SECTIONS[1]) - 1)
    result = runner.invoke(
        app, ["inventory", "classify", "safetensors", "--db", db], input="\n".join(replies) + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "risk tier high (Art. 6(1), Annex I: product_safety_component)" in result.stdout
    assert "Art. 50" not in result.output  # decided before the transparency questions


def test_owner_is_recorded(db: str) -> None:
    result = runner.invoke(
        app, ["inventory", "owner", "weights.safetensors", "team-ml", "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert [e["owner"] for e in listing(db, "--kind", "model")] == ["team-ml"]


@pytest.mark.parametrize(
    ("args", "answers", "message"),
    [
        (["classify", "app.py"], None, "'app.py' matches 2 assets"),
        (["classify", "nothing-like-it"], None, "no inventory asset matches 'nothing-like-it'"),
        (["classify", "openai"], "{not json", "is not valid JSON"),
        (["classify", "openai"], "[true]", "must hold a JSON object"),
        (["classify", "openai"], '{"manipulation": false}', "no answer to 'exploits_vuln"),
        (["classify", "openai"], '{"bogus": true}', "unknown question id(s): bogus"),
        (["owner", "openai", " "], None, "an owner cannot be empty"),
        (["--kind", "spaceship"], None, "--kind must be one of model"),
        (["--tier", "extreme"], None, "risk tier must be one of prohibited"),
    ],
)
def test_mistakes_are_one_line_errors_with_exit_2(
    db: str, tmp_path: Path, args: list[str], answers: str | None, message: str
) -> None:
    extra: list[str] = []
    if answers is not None:
        (tmp_path / "answers.json").write_text(answers)
        extra = ["--answers", str(tmp_path / "answers.json")]
    result = runner.invoke(app, ["inventory", *args, *extra, "--db", db])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_missing_answers_file_is_a_usage_error(db: str, tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    result = runner.invoke(
        app, ["inventory", "classify", "openai", "--answers", str(missing), "--db", db]
    )
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_scan_record_puts_the_scan_verdict_on_inventoried_model_files(
    db: str, tmp_path: Path
) -> None:
    payload = tmp_path / "repo" / "extra.pkl"  # scanned but not in the inventory: left alone
    payload.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.")
    result = runner.invoke(app, ["scan", str(tmp_path / "repo"), "--record", "--db", db])
    assert result.exit_code in (0, 1), result.output
    assert "inventory: supplychain verdict on 1 asset(s)" in result.stderr
    [model] = listing(db, "--kind", "model")
    verdict = model["verdicts"]["supplychain"]  # type: ignore[index]
    assert verdict["passed"] is True and verdict["findings"] == 0
    assert "supplychain" not in listing(db)[0]["verdicts"]  # type: ignore[operator]
    verify = runner.invoke(app, ["audit", "verify", "--db", db])
    assert verify.exit_code == 0, verify.output
