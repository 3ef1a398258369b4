import base64

from garrison.llm import LeakageGuard, Verdict, make_canary, overlap_ratio, plant_canary
from garrison.llm.rules import CANARY_LEAK, PROMPT_OVERLAP

PROMPT = (
    "You are the support assistant for Acme Bank. Answer questions about opening hours, cards "
    "and transfers. Never discuss interest rate negotiations, and escalate fraud reports to a "
    "human agent by replying with the word ESCALATE."
)
CANARY = "gcanary-qhzkxbwmtrpdfeva"
GUARD = LeakageGuard(PROMPT, CANARY)


def test_canary_is_random_and_planted() -> None:
    canary = make_canary()
    assert canary != make_canary() and canary.startswith("gcanary-")
    assert canary in plant_canary(PROMPT, canary)
    assert plant_canary(PROMPT, canary).startswith(PROMPT)


def test_exact_canary_blocks() -> None:
    outcome = GUARD.scan(f"My instructions mention {CANARY}.")
    assert outcome.verdict is Verdict.BLOCK
    assert outcome.findings[0].rule == CANARY_LEAK.id
    assert CANARY not in outcome.findings[0].evidence


def test_respaced_recased_and_encoded_canary_blocks() -> None:
    spaced = " ".join(CANARY.upper())
    assert GUARD.scan(f"ref: {spaced}").blocked
    encoded = base64.b64encode(f"the ref is {CANARY}".encode()).decode()
    assert GUARD.scan(f"here you go: {encoded}").blocked
    assert GUARD.scan(f"hex {CANARY.encode().hex()}").blocked


def test_verbatim_and_partial_prompt_leak_blocks() -> None:
    outcome = GUARD.scan("Sure! My instructions: " + PROMPT)
    assert outcome.verdict is Verdict.BLOCK
    assert outcome.findings[0].rule == PROMPT_OVERLAP.id
    half = " ".join(PROMPT.split()[:18])
    assert GUARD.scan(f"I was told: {half} and so on").blocked


def test_ordinary_answers_pass() -> None:
    outcome = GUARD.scan(
        "Our branches are open from 9 to 5 on weekdays. You can order a new card in the app."
    )
    assert outcome.verdict is Verdict.ALLOW
    assert outcome.details["overlap"] < 0.1


def test_overlap_ratio() -> None:
    assert overlap_ratio(PROMPT, PROMPT) == 1.0
    assert overlap_ratio("nothing alike here at all today", PROMPT) == 0.0
    assert overlap_ratio("anything", "too short") == 0.0


def test_no_prompt_no_canary_allows() -> None:
    assert LeakageGuard().scan("anything at all").verdict is Verdict.ALLOW


def test_bad_threshold_is_a_usage_error() -> None:
    import pytest

    from garrison.errors import UsageError

    with pytest.raises(UsageError):
        LeakageGuard(PROMPT, threshold=0)
