"""Bodies whose texts sit where no guard reads them are refused before any guard or upstream."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.gateway.fakes import ALICE, chat, gateway


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"messages": "hi"}, "messages"),
        ({"messages": [1, 2]}, "messages[0]"),
        (
            {"messages": [{"role": "user", "content": {"text": "a@b.example"}}]},
            "messages[0].content",
        ),
        ({"messages": [{"role": "user", "content": [{"text": "x"}]}]}, "messages[0].content[0]"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
            "messages[0].content[0].text",
        ),
        ({"stream": "yes"}, "stream"),
        ({"max_tokens": "5000"}, "max_tokens"),
        ({"max_tokens": 5000.0}, "max_tokens"),
        ({"max_completion_tokens": -1}, "max_completion_tokens"),
    ],
)
def test_a_malformed_chat_body_is_a_400_naming_the_field(
    change: dict[str, Any], param: str
) -> None:
    with gateway() as (client, seen):
        response = client.post("/v1/chat/completions", json={**chat(), **change}, headers=ALICE)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert not seen.requests  # nothing reached the upstream


def test_ordinary_bodies_pass_the_shape_check() -> None:
    parts = [
        {"type": "text", "text": "Describe this"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": parts},
        {"role": "assistant", "content": None, "tool_calls": []},
    ]
    with gateway() as (client, seen):
        response = client.post(
            "/v1/chat/completions",
            json={**chat(), "messages": messages, "max_tokens": 50, "stream": False},
            headers=ALICE,
        )
    assert response.status_code == 200, response.text
    assert len(seen.requests) == 1
