"""AI provider keys are found when real-looking and left alone when fake or placeholder."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from garrison.sensitive.secrets import AI_PROVIDER_KINDS, find_secrets

RNG = random.Random(3)
ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n - 2)) + "a7"


@pytest.mark.parametrize(
    ("kind", "text", "secret"),
    [
        ("anthropic_key", "k = '{s}'", "sk-ant-api03-" + rand(93) + "AA"),
        ("huggingface_token", "HF_TOKEN={s}", "hf_" + rand(34)),
        ("groq_key", "{s}", "gsk_" + rand(52)),
        ("replicate_token", "{s}", "r8_" + rand(37)),
        ("xai_key", "{s}", "xai-" + rand(80)),
        ("perplexity_key", "{s}", "pplx-" + rand(48)),
        ("azure_openai_key", "AZURE_OPENAI_API_KEY = '{s}'", rand(32, "0123456789abcdef")),
        ("cohere_key", "cohere_api_key: {s}", rand(40)),
        ("mistral_key", "MISTRAL_API_KEY={s}", rand(32)),
        ("mistral_key", 'client = Mistral(api_key="{s}")', rand(32)),
        ("cohere_key", 'co = cohere.ClientV2(api_key="{s}")', rand(40)),
        ("together_key", "TOGETHER_API_KEY={s}", rand(64, "0123456789abcdef")),
        ("openai_key", "{s}", "sk-proj-" + rand(64)),
    ],
)
def test_ai_keys_are_found(kind: str, text: str, secret: str) -> None:
    found = find_secrets(text.format(s=secret))
    assert [(m.kind, m.text) for m in found] == [(kind, secret)]
    assert kind in AI_PROVIDER_KINDS


@pytest.mark.parametrize(
    "text",
    [
        "hf_hub_download('org/m')",
        "HF_TOKEN=hf_" + "x" * 34,
        "ANTHROPIC_API_KEY=sk-ant-api03-REPLACE_ME",
        "azure_key = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'",
        "MISTRAL_MODEL=mistral-large-latest-2407-instruct-v1",
        "r8_is_not_a_token",
    ],
)
def test_placeholders_and_names_are_not_keys(text: str) -> None:
    assert find_secrets(text) == []


def test_aws_documentation_keys_are_not_reported(tmp_path: Path) -> None:
    from garrison.posture.analyse import analyse_file

    path = tmp_path / "env.sh"
    path.write_text(
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
        "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )
    assert analyse_file(str(path), path.stat().st_size, 1 << 20).observations.findings == []


def test_a_key_in_a_notebook_is_located_by_cell(tmp_path: Path) -> None:
    import json

    from garrison.posture.analyse import analyse_file

    key = "sk-proj-" + rand(64)
    cells = [
        {"cell_type": "markdown", "source": ["# Setup\n"]},
        {"cell_type": "code", "source": ["import openai\n", f"openai.api_key = '{key}'\n"]},
    ]
    path = tmp_path / "demo.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4}, indent=1))
    result = analyse_file(str(path), path.stat().st_size, 1 << 20)
    found = [f for f in result.observations.findings if f.rule == "GA-POST-001"]
    assert [(f.location.member, f.location.line) for f in found] == [("cell 1", 2)]
