"""The tool-call policy of `garrison gateway serve`, in block and strip mode, through the
official openai client: what a key may offer, and which calls an answer may carry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest

from tests.e2e.gateway.harness import GUARDS_OFF, create_key, gateway_serve, wait_for_row
from tests.e2e.gateway.upstreams import tool_upstream
from tests.unit.gateway.fakes import Seen, serving

TOOLS_POLICY = """
[gateway.tools]
mode = "{mode}"
default_tools = ["get_weather", "fetch_page"]

[gateway.tools.rules.get_weather.parameters_schema]
type = "object"
required = ["city"]
additionalProperties = false
properties = {{ city = {{ type = "string", maxLength = 60 }} }}

[gateway.tools.rules.fetch_page]
url_args = ["url"]
allowed_domains = [".example.com"]
"""
# Each answers with an allowed get_weather call plus one that breaks a rule.
BAD_ANSWERS = ["call-forbidden", "call-bad-schema", "call-bad-domain"]
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


def tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}


OFFERED = [tool("get_weather"), tool("fetch_page")]


@dataclass
class Served:
    client: openai.OpenAI
    db: str
    seen: Seen


def _serve(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp(mode)
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    secret = create_key(db)
    seen = Seen()
    policy = GUARDS_OFF + TOOLS_POLICY.format(mode=mode)
    with (
        serving(tool_upstream(seen)) as upstream,
        gateway_serve(tmp_path, f"{upstream}/v1", db=db, policy=policy) as gateway,
    ):
        client = openai.OpenAI(
            base_url=f"{gateway.base}/v1", api_key=secret, max_retries=0, timeout=10
        )
        yield Served(client, db, seen)


@pytest.fixture(scope="module")
def blocking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory, "block")


@pytest.fixture(scope="module")
def stripping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory, "strip")


def recorded(served: Served, request_id: str | None) -> tuple[str, str]:
    assert request_id is not None
    row = wait_for_row(served.db, request_id)
    return row["decision"], row["reason"]


def streamed_calls(served: Served, model: str) -> tuple[list[str], str | None, str]:
    """The names of the tool calls a streamed answer carried, its finish reason, request id."""
    stream = served.client.chat.completions.create(
        model=model, messages=ASK, tools=OFFERED, stream=True
    )
    names: dict[int, str] = {}
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or ():
                if call.function is not None and call.function.name:
                    names[call.index] = call.function.name
            finish = choice.finish_reason or finish
    return [names[i] for i in sorted(names)], finish, stream.response.headers["x-request-id"]


def test_an_allowed_call_passes_whole_and_streamed(blocking: Served) -> None:
    answer = blocking.client.chat.completions.create(
        model="call-weather", messages=ASK, tools=OFFERED
    )
    calls = answer.choices[0].message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert streamed_calls(blocking, "call-weather")[:2] == (["get_weather"], "tool_calls")


def test_offering_a_forbidden_tool_is_403_in_block_mode(blocking: Served) -> None:
    before = len(blocking.seen.requests)
    with pytest.raises(openai.PermissionDeniedError) as raised:
        blocking.client.chat.completions.create(
            model="call-weather", messages=ASK, tools=[*OFFERED, tool("delete_files")]
        )
    assert raised.value.code == "tool_not_allowed"
    assert "delete_files" in raised.value.message
    assert len(blocking.seen.requests) == before
    assert recorded(blocking, raised.value.request_id) == ("block", "tool_policy")


@pytest.mark.parametrize("model", BAD_ANSWERS)
def test_a_violating_answer_is_refused_in_block_mode(blocking: Served, model: str) -> None:
    with pytest.raises(openai.PermissionDeniedError) as raised:
        blocking.client.chat.completions.create(model=model, messages=ASK, tools=OFFERED)
    assert raised.value.code == "tool_not_allowed"
    assert "hunter2" not in raised.value.message  # names the argument, never its value
    assert recorded(blocking, raised.value.request_id) == ("block", "tool_policy")


@pytest.mark.parametrize("model", BAD_ANSWERS)
def test_a_violating_stream_is_cut_in_block_mode(blocking: Served, model: str) -> None:
    names, finish, request_id = streamed_calls(blocking, model)
    assert names == []  # calls are held until checked: none reached the client
    assert finish == "content_filter"
    assert recorded(blocking, request_id) == ("block", "tool_policy")


def test_a_forbidden_offered_tool_is_removed_in_strip_mode(stripping: Served) -> None:
    answer = stripping.client.chat.completions.create(
        model="call-weather", messages=ASK, tools=[*OFFERED, tool("delete_files")]
    )
    offered = [t["function"]["name"] for t in stripping.seen.last_body["tools"]]
    assert offered == ["get_weather", "fetch_page"]
    assert answer.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("model", BAD_ANSWERS)
def test_violating_calls_are_stripped_in_strip_mode(stripping: Served, model: str) -> None:
    raw = stripping.client.chat.completions.with_raw_response.create(
        model=model, messages=ASK, tools=OFFERED
    )
    calls = raw.parse().choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]
    assert json.loads(calls[0].function.arguments) == {"city": "Paris"}
    assert recorded(stripping, raw.headers["x-request-id"]) == ("redact", "tool_policy")
    names, finish, request_id = streamed_calls(stripping, model)
    assert (names, finish) == (["get_weather"], "tool_calls")
    assert recorded(stripping, request_id) == ("redact", "tool_policy")
