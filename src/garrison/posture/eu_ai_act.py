"""The EU AI Act risk-tier questionnaire (Regulation (EU) 2024/1689) as data, and its walk.

Questions are asked section by section, strictest first; the first section with a "yes"
decides the tier, so a prohibited practice wins over a high-risk area and the walk stops there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from garrison.errors import UsageError

QUESTIONNAIRE_VERSION = "2024/1689-1"

PROHIBITED = "prohibited"
HIGH = "high"
LIMITED = "limited"
MINIMAL = "minimal"
TIERS = (PROHIBITED, HIGH, LIMITED, MINIMAL)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    tier: str  # the tier a "yes" puts the system in
    ref: str  # the article or annex point the question asks about
    text: str


@dataclass(frozen=True, slots=True)
class Assessment:
    tier: str
    reasons: tuple[Question, ...]  # the questions answered "yes" that decided the tier
    answers: dict[str, bool]  # only the questions the walk asked

    def reason(self) -> str:
        if not self.reasons:
            return "no prohibited practice, high-risk area or transparency duty applies"
        return "; ".join(f"{q.ref}: {q.id}" for q in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "questionnaire": QUESTIONNAIRE_VERSION,
            "tier": self.tier,
            "reasons": [{"id": q.id, "ref": q.ref} for q in self.reasons],
            "answers": dict(self.answers),
        }


def _q(id: str, tier: str, ref: str, text: str) -> Question:
    return Question(id, tier, ref, text)


QUESTIONS: tuple[Question, ...] = (
    _q(
        "manipulation",
        PROHIBITED,
        "Art. 5(1)(a)",
        "Does it use subliminal, manipulative or deceptive techniques that materially distort "
        "people's behaviour in a way likely to cause significant harm?",
    ),
    _q(
        "exploits_vulnerabilities",
        PROHIBITED,
        "Art. 5(1)(b)",
        "Does it exploit vulnerabilities due to age, disability or social or economic situation "
        "to distort behaviour in a way likely to cause significant harm?",
    ),
    _q(
        "social_scoring",
        PROHIBITED,
        "Art. 5(1)(c)",
        "Does it score people on their social behaviour or personal traits, leading to "
        "detrimental or unfavourable treatment (social scoring)?",
    ),
    _q(
        "crime_prediction_profiling",
        PROHIBITED,
        "Art. 5(1)(d)",
        "Does it predict that a person will commit a crime based solely on profiling or "
        "personality traits?",
    ),
    _q(
        "facial_scraping",
        PROHIBITED,
        "Art. 5(1)(e)",
        "Does it build or expand a facial recognition database by untargeted scraping of facial "
        "images from the internet or CCTV footage?",
    ),
    _q(
        "emotion_recognition_work_school",
        PROHIBITED,
        "Art. 5(1)(f)",
        "Does it infer emotions of people at the workplace or in education (other than for "
        "medical or safety reasons)?",
    ),
    _q(
        "sensitive_biometric_categorisation",
        PROHIBITED,
        "Art. 5(1)(g)",
        "Does it categorise people by their biometric data to infer race, political opinions, "
        "trade union membership, religious beliefs, sex life or sexual orientation?",
    ),
    _q(
        "realtime_remote_biometric_id",
        PROHIBITED,
        "Art. 5(1)(h)",
        "Is it used for real-time remote biometric identification in publicly accessible "
        "spaces for law enforcement?",
    ),
    _q(
        "product_safety_component",
        HIGH,
        "Art. 6(1), Annex I",
        "Is it a safety component of (or itself) a product under EU harmonisation law that needs "
        "third-party conformity assessment (machinery, medical devices, toys, vehicles, lifts)?",
    ),
    _q(
        "biometrics",
        HIGH,
        "Annex III point 1",
        "Is it used for remote biometric identification, biometric categorisation by sensitive "
        "attributes, or emotion recognition?",
    ),
    _q(
        "critical_infrastructure",
        HIGH,
        "Annex III point 2",
        "Is it a safety component in managing critical digital infrastructure, road traffic, or "
        "the supply of water, gas, heating or electricity?",
    ),
    _q(
        "education",
        HIGH,
        "Annex III point 3",
        "Does it decide admission to education, evaluate learning outcomes, assign the level of "
        "education, or monitor students during tests?",
    ),
    _q(
        "employment",
        HIGH,
        "Annex III point 4",
        "Is it used to recruit or select people, or to decide on promotion, termination, task "
        "allocation or to monitor and evaluate workers?",
    ),
    _q(
        "essential_services",
        HIGH,
        "Annex III point 5",
        "Does it decide eligibility for public benefits, assess creditworthiness or credit "
        "scores, price life or health insurance, or triage emergency calls?",
    ),
    _q(
        "law_enforcement",
        HIGH,
        "Annex III point 6",
        "Is it used by or for law enforcement to assess victims or offenders, evaluate evidence, "
        "or profile people in investigations?",
    ),
    _q(
        "migration_border",
        HIGH,
        "Annex III point 7",
        "Is it used in migration, asylum or border control to assess risks, examine "
        "applications, or detect and identify people?",
    ),
    _q(
        "justice_democracy",
        HIGH,
        "Annex III point 8",
        "Does it assist a judicial authority in applying the law to facts, or is it meant to "
        "influence the outcome of an election or referendum or voting behaviour?",
    ),
    _q(
        "interacts_with_people",
        LIMITED,
        "Art. 50(1)",
        "Does it interact directly with people (a chatbot or assistant) who may not know it is "
        "an AI system?",
    ),
    _q(
        "generates_content",
        LIMITED,
        "Art. 50(2)",
        "Does it generate synthetic audio, image, video or text content?",
    ),
    _q(
        "emotion_or_biometric_categorisation",
        LIMITED,
        "Art. 50(3)",
        "Does it recognise emotions or categorise people by biometric data (outside the cases "
        "above)?",
    ),
    _q(
        "deepfakes",
        LIMITED,
        "Art. 50(4)",
        "Does it produce deep fakes, or text published to inform the public on matters of public "
        "interest?",
    ),
)
QUESTIONS_BY_ID = {q.id: q for q in QUESTIONS}
# Sections in the order they are asked; minimal has no questions, it is what remains.
SECTIONS = tuple(tuple(q for q in QUESTIONS if q.tier == tier) for tier in TIERS[:-1])


def next_question(answers: Mapping[str, bool]) -> Question | None:
    """The next question to ask given the answers so far; None when the tier is decided."""
    for section in SECTIONS:
        for question in section:
            if question.id not in answers:
                return question
        if any(answers[q.id] for q in section):
            return None
    return None


def assess(answers: Mapping[str, bool]) -> Assessment:
    """The tier the answers put a system in, and the questions that decided it.

    Every question the walk reaches must be answered; answers past the deciding section
    are ignored (not stored), since they could not change the tier.
    """
    unknown = sorted(set(answers) - set(QUESTIONS_BY_ID))
    if unknown:
        raise UsageError(f"unknown question id(s): {', '.join(unknown)}")
    for key, value in answers.items():
        if not isinstance(value, bool):
            raise UsageError(f"answer to {key!r} must be true or false, not {value!r}")
    asked: dict[str, bool] = {}
    for tier, section in zip(TIERS, SECTIONS, strict=False):
        for question in section:
            if question.id not in answers:
                raise UsageError(f"no answer to {question.id!r} ({question.ref}): {question.text}")
            asked[question.id] = answers[question.id]
        yes = tuple(q for q in section if asked[q.id])
        if yes:
            return Assessment(tier, yes, asked)
    return Assessment(MINIMAL, (), asked)
