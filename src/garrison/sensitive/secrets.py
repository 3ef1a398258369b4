"""Credentials in text: provider key formats, JWTs, PEM private keys, secret assignments.

Every candidate is validated: fixed-format keys must not be a run of one repeated character,
free-form values (OpenAI-style keys, AWS secret keys, ``password=...``) must look random
(Shannon entropy and a mix of character classes), JWT headers must decode to JSON with an
``alg``, and a PEM block needs its END line or at least 64 characters of base64 body.
AWS secret access keys are only recognised next to a name that says so, and so are the AI
provider keys that have no prefix (Azure OpenAI, Cohere, Mistral, Together); prefixed AI
keys (Anthropic, Hugging Face, Groq, Replicate, xAI, Perplexity) must look random.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter

from garrison.sensitive.pii import Match, Validator, run_recognisers

_AWS_ACCESS = re.compile(
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])"
)
_AWS_SECRET = re.compile(
    r"(?i)aws.{0,20}?(?:secret|private).{0,20}?(?:key)?[\"']?\s*[:=>]+\s*[\"']?"
    r"(?-i:(?P<value>[A-Za-z0-9/+]{40}))(?![A-Za-z0-9/+=])"
)
_GITHUB = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})"
    r"(?![A-Za-z0-9_])"
)
_SLACK = re.compile(r"(?<![A-Za-z0-9])xox[baprs]-\d{6,}-[A-Za-z0-9-]{8,}(?![A-Za-z0-9-])")
_STRIPE = re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}(?![A-Za-z0-9])")
_OPENAI = re.compile(
    r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])"
)
_GOOGLE = re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])")
# AI providers whose keys carry a fixed prefix.
_ANTHROPIC = re.compile(
    r"(?<![A-Za-z0-9_-])sk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_-]{80,120}(?![A-Za-z0-9_-])"
)
_HUGGINGFACE = re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34}(?![A-Za-z0-9_])")
_GROQ = re.compile(r"(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{52}(?![A-Za-z0-9_])")
_REPLICATE = re.compile(r"(?<![A-Za-z0-9_])r8_[A-Za-z0-9]{37}(?![A-Za-z0-9_])")
_XAI = re.compile(r"(?<![A-Za-z0-9_-])xai-[A-Za-z0-9]{80}(?![A-Za-z0-9_-])")
_PERPLEXITY = re.compile(r"(?<![A-Za-z0-9_-])pplx-[A-Za-z0-9]{48}(?![A-Za-z0-9_-])")
# AI providers whose keys are bare random strings: only next to a name that says whose.
# Either `MISTRAL_API_KEY = "..."` or the provider's client given the key: `Mistral(api_key="...")`.
_CONTEXT_KEY = (
    r"(?i)\b{names}(?:\w{{0,24}}?(?:api|access|subscription)?[_-]?key[\"']?\s*(?::|=|=>|:=)"
    r"|[\w.]{{0,24}}\(\s*(?:api_key|key|subscription_key)\s*=)"
    r"\s*[\"']?(?-i:(?P<value>[A-Za-z0-9]{{{lengths}}}))(?![A-Za-z0-9])"
)
_AZURE_OPENAI = re.compile(
    _CONTEXT_KEY.format(names=r"(?:azure|aoai)[_-]?(?:openai|oai|ai)?", lengths="32,84")
)
_COHERE = re.compile(_CONTEXT_KEY.format(names="(?:cohere|co)", lengths="40"))
_MISTRAL = re.compile(_CONTEXT_KEY.format(names="mistral", lengths="32"))
_TOGETHER = re.compile(_CONTEXT_KEY.format(names="together", lengths="64"))
_JWT = re.compile(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![A-Za-z0-9_-])"
)
_PEM = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----"
    r"([A-Za-z0-9+/=\s:,-]*?)(?:-----END \1-----|$|(?=-----))"
)
_ASSIGNMENT = re.compile(
    r"(?i)\b(?:password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey|"
    r"access[_-]?key|access[_-]?token|auth[_-]?token|token|private[_-]?key)[\"']?"
    r"\s*(?::|=|=>|:=)\s*[\"']?(?P<value>[^\s\"'`,;<>{}()\[\]]{8,128})"
)
_PLACEHOLDERS = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|changeme|password\d*|secret\d*|example\w*|your\w*|test\w*|"
    r"dummy\w*|placeholder\w*|redacted|none|null|true|false|undefined|\$\w+|%\w+%?)$"
)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _classes(value: str) -> int:
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )


def _looks_random(value: str, min_entropy: float = 3.0) -> bool:
    return entropy(value) >= min_entropy and _classes(value) >= 2


def _not_repetitive(m: re.Match[str]) -> bool:
    tail = m.group()[-16:]
    return len(set(tail)) >= 6


def _valid_openai(m: re.Match[str]) -> bool:
    key = m.group()[3:]
    return _looks_random(key, 3.5) and any(c.isdigit() for c in key) and _classes(key) >= 3


def _valid_prefixed(m: re.Match[str]) -> bool:
    body = re.split(r"[-_]", m.group(), maxsplit=1)[1]
    return _looks_random(body, 3.5) and _classes(body) >= 2 and _not_repetitive(m)


def _valid_context_key(m: re.Match[str]) -> bool:
    value = m.group("value")
    return _looks_random(value, 3.3) and any(c.isdigit() for c in value)


def _valid_aws_secret(m: re.Match[str]) -> bool:
    return _looks_random(m.group("value"), 4.0)


def _b64json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        return None


def _valid_jwt(m: re.Match[str]) -> bool:
    header = _b64json(m.group().split(".", 1)[0])
    return isinstance(header, dict) and "alg" in header


def _valid_pem(m: re.Match[str]) -> bool:
    if "-----END" in m.group():
        return True
    return len(re.sub(r"\s", "", m.group(2))) >= 64


def _valid_assignment(m: re.Match[str]) -> bool:
    value = m.group("value")
    return not _PLACEHOLDERS.match(value) and _looks_random(value, 3.0)


SECRET_RECOGNISERS: tuple[tuple[str, re.Pattern[str], Validator], ...] = (
    ("private_key", _PEM, _valid_pem),
    ("jwt", _JWT, _valid_jwt),
    ("aws_access_key", _AWS_ACCESS, _not_repetitive),
    ("aws_secret_key", _AWS_SECRET, _valid_aws_secret),
    ("github_token", _GITHUB, _not_repetitive),
    ("slack_token", _SLACK, _not_repetitive),
    ("stripe_key", _STRIPE, _not_repetitive),
    ("google_api_key", _GOOGLE, _not_repetitive),
    ("anthropic_key", _ANTHROPIC, _valid_openai),
    ("huggingface_token", _HUGGINGFACE, _valid_prefixed),
    ("groq_key", _GROQ, _valid_prefixed),
    ("replicate_token", _REPLICATE, _valid_prefixed),
    ("xai_key", _XAI, _valid_prefixed),
    ("perplexity_key", _PERPLEXITY, _valid_prefixed),
    ("openai_key", _OPENAI, _valid_openai),
    ("azure_openai_key", _AZURE_OPENAI, _valid_context_key),
    ("cohere_key", _COHERE, _valid_context_key),
    ("mistral_key", _MISTRAL, _valid_context_key),
    ("together_key", _TOGETHER, _valid_context_key),
    ("generic_secret", _ASSIGNMENT, _valid_assignment),
)

SECRET_KINDS = tuple(dict.fromkeys(kind for kind, _, _ in SECRET_RECOGNISERS))
# Credentials that buy access to an AI model or service (AWS keys reach Bedrock).
AI_PROVIDER_KINDS = frozenset(
    {
        "openai_key",
        "anthropic_key",
        "huggingface_token",
        "google_api_key",
        "aws_access_key",
        "aws_secret_key",
        "azure_openai_key",
        "cohere_key",
        "mistral_key",
        "together_key",
        "groq_key",
        "replicate_token",
        "xai_key",
        "perplexity_key",
    }
)


def find_secrets(text: str) -> list[Match]:
    """Credentials in `text`, validated, sorted by position, never overlapping.

    For AWS secret keys and ``name = value`` assignments the match covers the value only,
    so redaction keeps the name readable.
    """
    return run_recognisers(text, SECRET_RECOGNISERS)
