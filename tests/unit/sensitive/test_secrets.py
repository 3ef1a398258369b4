"""Secret recognisers: provider formats, JWTs, PEM keys and assignments, validated."""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from garrison.sensitive import find_secrets, redact, restore
from garrison.sensitive.secrets import entropy

RNG = random.Random(7)
ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


JWT = f"{b64url({'alg': 'HS256', 'typ': 'JWT'})}.{b64url({'sub': '42'})}.{rand(43)}"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA"
    + rand(64)
    + "\n-----END RSA PRIVATE KEY-----"
)
CASES = [
    ("aws_access_key", "AKIA" + rand(16, string.ascii_uppercase + string.digits)),
    ("github_token", "ghp_" + rand(36)),
    ("github_token", "gho_" + rand(36)),
    ("github_token", "github_pat_" + rand(22) + "_" + rand(59)),
    ("slack_token", "xoxb-123456789012-1234567890123-" + rand(24)),
    ("stripe_key", "sk_live_" + rand(24)),
    ("openai_key", "sk-" + rand(48)),
    ("openai_key", "sk-proj-" + rand(64, ALNUM + "-_")),
    ("google_api_key", "AIza" + rand(35)),
    ("jwt", JWT),
    ("private_key", PEM),
]


@pytest.mark.parametrize(("kind", "secret"), CASES)
def test_each_kind_is_found_in_text(kind: str, secret: str) -> None:
    text = f"config: {secret}\nend"
    found = find_secrets(text)
    assert [(m.kind, m.text) for m in found] == [(kind, secret)]


def test_aws_secret_key_needs_its_name() -> None:
    key = rand(40, ALNUM + "/+")
    found = find_secrets(f"aws_secret_access_key = {key}")
    assert [(m.kind, m.text) for m in found] == [("aws_secret_key", key)]
    assert find_secrets(f"checksum {key}") == []


@pytest.mark.parametrize(
    "line",
    [
        "password=Hunter2!xyzQ9",
        "api_key: 'a8f5f167f44f4964e6c998dee827110c'",
        'TOKEN="Zx9_kQ2mLp0vWs"',
    ],
)
def test_assignments_of_random_values_are_secrets(line: str) -> None:
    found = find_secrets(line)
    assert [m.kind for m in found] == ["generic_secret"]
    assert found[0].text in line and "=" not in found[0].text and ":" not in found[0].text


@pytest.mark.parametrize(
    "text",
    [
        "password=changeme",
        "password: ********",
        "api_key = ${API_KEY}",
        "token: your_token_here",
        "reset your password please",
        "AKIAAAAAAAAAAAAAAAAA",  # one repeated character
        "eyJub3QiOiAiand0In0.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlX2hlcmU",  # header has no alg
        "eyJhbGciOiJIUzI1NiJ9",  # one part only
        "sk-learn-compatible-estimators-are-documented-here",
        "-----BEGIN PRIVATE KEY-----",  # no body
        "ghp_short",
    ],
)
def test_look_alikes_are_not_secrets(text: str) -> None:
    assert find_secrets(text) == []


def test_redacting_secrets_round_trips() -> None:
    text = "key=" + CASES[1][1] + " and " + CASES[0][1]
    redacted, mapping = redact(text, find_secrets(text))
    assert CASES[1][1] not in redacted and CASES[0][1] not in redacted
    assert restore(redacted, mapping) == text


def test_entropy() -> None:
    assert entropy("") == 0 and entropy("aaaa") == 0
    assert entropy("abcd") == pytest.approx(2.0)
