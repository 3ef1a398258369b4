import pytest

from garrison.errors import LimitExceeded, UsageError
from garrison.llm import GuardContext, SensitiveGuard, Vault, Verdict
from garrison.llm.rules import PERSONAL_DATA, SECRET
from garrison.sensitive import Match

KEY = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def test_pii_is_replaced_by_placeholders_and_restored() -> None:
    vault = Vault()
    text = "Mail jane.doe@example.org or call +44 20 7946 0958."
    outcome = SensitiveGuard(vault).scan(text)
    assert outcome.verdict is Verdict.REDACT
    assert outcome.text == "Mail <EMAIL_1> or call <PHONE_1>."
    assert {f.rule for f in outcome.findings} == {PERSONAL_DATA.id}
    assert "jane.doe@example.org" not in " ".join(f.evidence for f in outcome.findings)
    assert vault.restore("Wrote to <EMAIL_1>.") == "Wrote to jane.doe@example.org."


def test_secrets_are_found_and_rated_higher() -> None:
    outcome = SensitiveGuard().scan(f"my token is {KEY}")
    assert outcome.text == "my token is <GITHUB_TOKEN_1>"
    assert outcome.findings[0].rule == SECRET.id
    assert outcome.score > 0.8


def test_same_value_keeps_its_placeholder_across_calls() -> None:
    guard = SensitiveGuard(Vault())
    first = guard.scan("a@example.org").text
    second = guard.scan("again a@example.org and b@example.org").text
    assert first == "<EMAIL_1>"
    assert second == "again <EMAIL_1> and <EMAIL_2>"


def test_placeholders_never_collide_with_text_already_there() -> None:
    outcome = SensitiveGuard(Vault()).scan("literal <EMAIL_1> then x@example.org")
    assert outcome.text == "literal <EMAIL_1> then <EMAIL_2>"


def test_clean_text_is_allowed() -> None:
    outcome = SensitiveGuard().scan("The meeting is at 10:30 in room 4.")
    assert outcome.verdict is Verdict.ALLOW and outcome.findings == ()


def test_block_mode_and_kinds_switch() -> None:
    assert SensitiveGuard(block=True).scan("x@example.org").verdict is Verdict.BLOCK
    assert SensitiveGuard(pii=False).scan("x@example.org").verdict is Verdict.ALLOW


def test_recheck_leaves_the_vault_alone() -> None:
    vault = Vault()
    SensitiveGuard(vault).scan("x@example.org", GuardContext(recheck=True))
    assert len(vault) == 0


def test_vault_is_bounded() -> None:
    vault = Vault(max_entries=1)
    vault.redact("a@example.org", [Match("email", 0, 13, "a@example.org")])
    with pytest.raises(LimitExceeded):
        vault.redact("b@example.org", [Match("email", 0, 13, "b@example.org")])


def test_vault_clear_forgets_values() -> None:
    vault = Vault()
    guard = SensitiveGuard(vault)
    guard.scan("a@example.org")
    vault.clear()
    assert len(vault) == 0 and vault.restore("<EMAIL_1>") == "<EMAIL_1>"


def test_template_sets_the_placeholder_form() -> None:
    outcome = SensitiveGuard(template="[{kind} {n} REDACTED]").scan("mail x@example.org")
    assert outcome.text == "mail [EMAIL 1 REDACTED]"
    with pytest.raises(UsageError):
        Vault(template="<{kind}>")
