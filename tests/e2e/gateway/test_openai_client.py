"""The official `openai` client against the gateway, both served by uvicorn on real sockets."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from garrison.gateway.app import create_app
from garrison.gateway.config import GatewayConfig
from tests.unit.gateway.fakes import KEYS, DictKeys, Records, Seen, fake_upstream, serving


@pytest.fixture(scope="module")
def records() -> Records:
    return Records()


@pytest.fixture(scope="module")
def base_url(records: Records) -> Iterator[str]:
    seen = Seen()
    with serving(fake_upstream(seen)) as upstream:
        config = GatewayConfig(upstream=f"{upstream}/v1", read_timeout_s=10)
        app = create_app(config, keys=DictKeys(KEYS), recorder=records)
        with serving(app) as gateway:
            yield f"{gateway}/v1"


def client(base_url: str, key: str = "sk-alice") -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=10)


def test_chat_completion(base_url: str) -> None:
    answer = client(base_url).chat.completions.create(
        model="llama-3-8b", messages=[{"role": "user", "content": "Say hello"}]
    )
    assert answer.choices[0].message.content == "Hello world"
    assert answer.usage is not None and answer.usage.total_tokens == 13


def test_streamed_chat_completion(base_url: str, records: Records) -> None:
    stream = client(base_url).chat.completions.create(
        model="llama-3-8b", messages=[{"role": "user", "content": "Say hello"}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello world"
    assert all(c.usage is None for c in chunks)  # the client did not ask for usage
    assert (records.items[-1].prompt_tokens, records.items[-1].completion_tokens) == (11, 2)


def test_streamed_chat_with_usage(base_url: str) -> None:
    stream = client(base_url).chat.completions.create(
        model="llama-3-8b",
        messages=[{"role": "user", "content": "Say hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = [c.usage for c in stream if c.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens == 2


def test_embeddings(base_url: str) -> None:
    result = client(base_url).embeddings.create(model="llama-3-8b", input=["a", "b"])
    assert len(result.data) == 2
    assert len(result.data[0].embedding) == 64


def test_models_list_is_filtered(base_url: str) -> None:
    assert len(list(client(base_url).models.list())) == 3
    assert [m.id for m in client(base_url, "sk-bob").models.list()] == ["llama-3-8b"]


def test_bad_key_is_an_authentication_error(base_url: str) -> None:
    with pytest.raises(openai.AuthenticationError) as raised:
        client(base_url, "sk-wrong").chat.completions.create(model="llama-3-8b", messages=[])
    assert raised.value.code == "invalid_api_key"
    assert raised.value.request_id is not None and raised.value.request_id.startswith("req_")


def test_model_not_allowed_is_permission_denied(base_url: str) -> None:
    with pytest.raises(openai.PermissionDeniedError):
        client(base_url, "sk-bob").chat.completions.create(model="secret-model", messages=[])


def test_upstream_failure_is_an_api_status_error_with_request_id(base_url: str) -> None:
    with pytest.raises(openai.APIStatusError) as raised:
        client(base_url).chat.completions.create(model="fail-500", messages=[])
    error = raised.value
    assert error.status_code == 502
    assert error.request_id is not None
    assert error.request_id in error.message
    assert "hunter2" not in error.message


def test_upstream_failure_on_a_streamed_request(base_url: str) -> None:
    with pytest.raises(openai.InternalServerError) as raised:
        client(base_url).chat.completions.create(model="fail-500", messages=[], stream=True)
    assert raised.value.status_code == 502
