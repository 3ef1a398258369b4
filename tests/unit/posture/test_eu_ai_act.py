"""The EU AI Act questionnaire: every tier reachable, strictest first, reasons name the article."""

from __future__ import annotations

import pytest

from garrison.errors import UsageError
from garrison.posture.eu_ai_act import (
    QUESTIONS,
    QUESTIONS_BY_ID,
    SECTIONS,
    TIERS,
    assess,
    next_question,
)


def all_no() -> dict[str, bool]:
    return {q.id: False for q in QUESTIONS}


def walk(yes: set[str]) -> dict[str, bool]:
    """Answer as an interactive user would: only the questions the walk asks."""
    answers: dict[str, bool] = {}
    while (question := next_question(answers)) is not None:
        answers[question.id] = question.id in yes
    return answers


def test_question_ids_are_unique_and_each_refers_to_the_act() -> None:
    assert len(QUESTIONS_BY_ID) == len(QUESTIONS)
    assert all(q.ref.startswith(("Art. ", "Annex ")) and q.text.endswith("?") for q in QUESTIONS)
    annex_iii = sorted(q.ref for q in QUESTIONS if q.ref.startswith("Annex III"))
    assert annex_iii == [f"Annex III point {n}" for n in range(1, 9)]
    assert sum(q.ref.startswith("Art. 5(1)") for q in QUESTIONS) == 8


@pytest.mark.parametrize(
    ("yes", "tier", "ref"),
    [
        ({"social_scoring"}, "prohibited", "Art. 5(1)(c)"),
        ({"facial_scraping"}, "prohibited", "Art. 5(1)(e)"),
        ({"emotion_recognition_work_school"}, "prohibited", "Art. 5(1)(f)"),
        ({"realtime_remote_biometric_id"}, "prohibited", "Art. 5(1)(h)"),
        ({"essential_services"}, "high", "Annex III point 5"),
        ({"employment"}, "high", "Annex III point 4"),
        ({"product_safety_component"}, "high", "Art. 6(1), Annex I"),
        ({"interacts_with_people"}, "limited", "Art. 50(1)"),
        ({"deepfakes"}, "limited", "Art. 50(4)"),
        (set(), "minimal", None),
    ],
)
def test_each_tier_is_reachable_and_names_its_article(
    yes: set[str], tier: str, ref: str | None
) -> None:
    result = assess({**all_no(), **dict.fromkeys(yes, True)})
    assert result.tier == tier
    assert [q.ref for q in result.reasons] == ([ref] if ref else [])
    assert (ref or "no prohibited practice") in result.reason()
    assert assess(walk(yes)).tier == tier


def test_prohibited_wins_over_high_risk_and_transparency() -> None:
    answers = walk({"social_scoring", "employment", "interacts_with_people"})
    result = assess(answers)
    assert result.tier == "prohibited"
    assert [q.id for q in result.reasons] == ["social_scoring"]
    # The walk stopped after the prohibited section: later sections were never asked.
    assert set(answers) == {q.id for q in SECTIONS[0]}


def test_high_risk_lists_every_annex_iii_area_that_applies() -> None:
    result = assess(walk({"education", "employment", "generates_content"}))
    assert result.tier == "high"
    assert result.reason() == "Annex III point 3: education; Annex III point 4: employment"
    assert "generates_content" not in result.answers


def test_the_walk_is_deterministic_and_asks_every_question_for_a_minimal_system() -> None:
    asked = []
    answers: dict[str, bool] = {}
    while (question := next_question(answers)) is not None:
        asked.append(question.id)
        answers[question.id] = False
    assert asked == [q.id for q in QUESTIONS]
    assert assess(answers).to_dict() == {
        "questionnaire": "2024/1689-1",
        "tier": "minimal",
        "reasons": [],
        "answers": answers,
    }
    assert TIERS[-1] == "minimal"


def test_answers_past_the_deciding_section_are_not_kept() -> None:
    result = assess({**all_no(), "manipulation": True, "deepfakes": True})
    assert set(result.answers) == {q.id for q in SECTIONS[0]}


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"no_such_question": True}, "unknown question id(s): no_such_question"),
        ({"manipulation": "yes"}, "must be true or false"),
        ({"manipulation": False}, "no answer to 'exploits_vulnerabilities' (Art. 5(1)(b))"),
    ],
)
def test_bad_or_missing_answers_are_usage_errors(answers: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        assess(answers)  # type: ignore[arg-type]
