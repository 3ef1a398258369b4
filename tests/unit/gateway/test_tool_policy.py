import json
from typing import Any

import pytest
from pydantic import ValidationError

from garrison.gateway.keys import ApiKey
from garrison.gateway.tool_policy import (
    ARGUMENTS,
    DOMAIN,
    MALFORMED,
    NOT_ALLOWED,
    NOT_OFFERED,
    PATTERN,
    SCHEMA,
    TOO_MANY,
    ToolCall,
    ToolPolicy,
    ToolRule,
    domain_allowed,
    offered_tools,
    url_problem,
)

KEY = ApiKey(id="gk_test", owner="alice")
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 40}, "days": {"type": "integer"}},
    "required": ["city"],
    "additionalProperties": False,
}
RULES = {
    "weather": ToolRule(parameters_schema=WEATHER_SCHEMA),
    "lookup": ToolRule(patterns={"order_id": r"ORD-\d{6}"}),
    "fetch": ToolRule(url_args=("url",), allowed_domains=("api.example.com", ".docs.example.org")),
}


def tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}


def call(name: str, args: Any, call_id: str = "c1") -> dict[str, Any]:
    text = args if isinstance(args, str) else json.dumps(args)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}


def answer(*calls: dict[str, Any]) -> dict[str, Any]:
    message = {"role": "assistant", "content": None, "tool_calls": list(calls)}
    return {"id": "x", "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}


def rules_of(violations: list[Any]) -> list[str]:
    return [v.rule for v in violations]


# -- tools a request may offer --------------------------------------------------------------


def test_any_tool_may_be_offered_without_allowlists() -> None:
    body = {"messages": [], "tools": [tool("shell"), tool("weather")]}
    assert ToolPolicy().check_offered(body, KEY) == []


def test_key_allowlist_wins_over_policy_default() -> None:
    policy = ToolPolicy(default_tools=("weather",))
    body = {"tools": [tool("weather"), tool("shell")], "functions": [{"name": "lookup"}]}
    found = policy.check_offered(body, KEY)
    assert rules_of(found) == [NOT_ALLOWED, NOT_ALLOWED]
    assert {v.tool for v in found} == {"shell", "lookup"}
    assert "may not offer tool 'shell'" in found[0].message
    key = ApiKey(id="gk_2", owner="bob", tools=("weather", "shell", "lookup"))
    assert policy.check_offered(body, key) == []
    assert ToolPolicy(default_tools=()).check_offered({"tools": [tool("weather")]}, None)


def test_malformed_tools_are_violations() -> None:
    body = {"tools": [{"type": "function", "function": {}}, "shell"]}
    assert rules_of(ToolPolicy().check_offered(body, KEY)) == [MALFORMED, MALFORMED]
    assert rules_of(ToolPolicy().check_offered({"tools": "shell"}, KEY)) == [MALFORMED]


def test_strip_offered_removes_forbidden_tools_and_their_choice() -> None:
    policy = ToolPolicy(mode="strip", default_tools=("weather",))
    body = {
        "tools": [tool("weather"), tool("shell")],
        "tool_choice": {"type": "function", "function": {"name": "shell"}},
    }
    stripped = policy.strip_offered(body, KEY)
    assert [t["function"]["name"] for t in stripped["tools"]] == ["weather"]
    assert "tool_choice" not in stripped
    assert len(body["tools"]) == 2  # the caller's body is not changed
    only_bad = {"tools": [tool("shell")], "tool_choice": "required", "parallel_tool_calls": True}
    assert policy.strip_offered(only_bad, KEY) == {}


def test_offered_tools_names_tools_and_functions() -> None:
    body = {"tools": [tool("a"), {"type": "web_search"}], "functions": [{"name": "b"}]}
    assert offered_tools(body) == {"a", "web_search", "b"}


# -- calls an answer may carry --------------------------------------------------------------


def test_valid_calls_pass_and_body_is_unchanged() -> None:
    policy = ToolPolicy(rules=RULES)
    body = answer(
        call("weather", {"city": "Oslo", "days": 3}),
        call("lookup", {"order_id": "ORD-123456"}),
        call("fetch", {"url": "https://api.example.com/v1/items?q=1"}),
        call("fetch", {"url": "https://a.b.docs.example.org/page"}),
    )
    found, out = policy.check_response(body, KEY, {"weather", "lookup", "fetch"})
    assert found == []
    assert out is body


def test_schema_violations_name_the_argument_not_the_value() -> None:
    policy = ToolPolicy(rules=RULES)
    found, _ = policy.check_response(
        answer(call("weather", {"city": "x" * 41, "extra": "SECRET-VALUE"})), KEY
    )
    assert set(rules_of(found)) == {SCHEMA}
    assert any("city" in v.message and "maxLength" in v.message for v in found)
    assert not any("SECRET-VALUE" in v.message or "xxxx" in v.message for v in found)
    found, _ = policy.check_response(answer(call("weather", {"days": "3"})), KEY)
    assert len(found) == 2  # required city, days not an integer


def test_pattern_must_match_whole_value() -> None:
    policy = ToolPolicy(rules=RULES)
    for bad in ("ORD-123456; DROP TABLE", "xORD-123456", 123456, ["ORD-123456", "nope"]):
        found, _ = policy.check_response(answer(call("lookup", {"order_id": bad})), KEY)
        assert rules_of(found) == [PATTERN], bad
    found, _ = policy.check_response(answer(call("lookup", {"order_id": ["ORD-000001"]})), KEY)
    assert found == []


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/",
        "https://api.example.com.evil.org/",  # allowed name as a prefix
        "https://evil-api.example.com/",
        "https://x.api.example.com/",  # subdomains of an exact entry are not allowed
        "https://api.example.com@evil.com/",  # userinfo: the host is evil.com
        "https://user:pw@api.example.com/",  # credentials at all
        "https://evil.com\\@api.example.com/",  # browsers read the backslash as a slash
        "https://evil.com#@api.example.com",
        "http://api.example.com:99999/",
        "ftp://api.example.com/file",
        "javascript:alert(1)//api.example.com",
        "//api.example.com/no-scheme",
        "api.example.com/no-scheme",
        "https://api.exаmple.com/",  # Cyrillic a
        "https://docs.example.org.evil.com/",
        " https://api.example.com/\nHost: evil.com",
        "https://[::1]/",
        "https://127.0.0.1/",
    ],
)
def test_urls_outside_the_allowlist_are_refused(url: str) -> None:
    found, _ = ToolPolicy(rules=RULES).check_response(answer(call("fetch", {"url": url})), KEY)
    assert rules_of(found) == [DOMAIN], url


def test_domain_entries_exact_or_dotted() -> None:
    assert domain_allowed("API.Example.com.", ["api.example.com"])
    assert domain_allowed("docs.example.org", [".docs.example.org"])
    assert domain_allowed("a.docs.example.org", [".docs.example.org"])
    assert not domain_allowed("evildocs.example.org", [".docs.example.org"])
    assert url_problem("https://api.example.com:8443/x", ["api.example.com"]) == ""
    assert "not a URL" in url_problem(7, ["api.example.com"])


def test_urls_in_unnamed_arguments_are_checked_too() -> None:
    policy = ToolPolicy(rules=RULES)
    args = {"url": "https://api.example.com/", "options": {"callback": "https://evil.com/hook"}}
    found, _ = policy.check_response(answer(call("fetch", args)), KEY)
    assert rules_of(found) == [DOMAIN]
    assert "options.callback" in found[0].message
    plain = {"url": "https://api.example.com/", "note": "see evil.com later"}
    assert policy.check_response(answer(call("fetch", plain)), KEY)[0] == []


@pytest.mark.parametrize(
    "arguments",
    [
        "{not json",
        "[1, 2]",
        '"just a string"',
        '{"city": "Oslo", "city": "https://evil.com"}',  # duplicate keys
        '{"days": NaN}',
        "[" * 40 + "]" * 40,
        json.dumps({"city": "x" * 70_000}),
    ],
)
def test_malformed_or_unbounded_arguments_are_refused(arguments: str) -> None:
    found, _ = ToolPolicy().check_response(answer(call("weather", arguments)), KEY)
    assert rules_of(found) == [ARGUMENTS]


def test_empty_arguments_are_an_empty_object() -> None:
    policy = ToolPolicy(rules=RULES)
    assert policy.check_response(answer(call("fetch", "")), KEY)[0] == []
    found, _ = policy.check_response(answer(call("weather", " ")), KEY)
    assert rules_of(found) == [SCHEMA]  # city is required


def test_forbidden_and_unoffered_calls() -> None:
    policy = ToolPolicy(default_tools=("weather",))
    found, _ = policy.check_response(answer(call("shell", {"cmd": "id"})), KEY)
    assert rules_of(found) == [NOT_ALLOWED]
    found, _ = policy.check_response(answer(call("weather", {})), KEY, offered=frozenset())
    assert rules_of(found) == [NOT_OFFERED]
    nameless = {"id": "c", "type": "function", "function": {"arguments": "{}"}}
    assert rules_of(policy.check_response(answer(nameless), KEY)[0]) == [MALFORMED]


def test_cap_on_calls_per_message() -> None:
    policy = ToolPolicy(max_calls=2)
    body = answer(*(call("weather", {"city": c}, f"c{i}") for i, c in enumerate("ABCD")))
    found, out = policy.check_response(body, KEY)
    assert rules_of(found) == [TOO_MANY, TOO_MANY]
    assert out is body
    strip = ToolPolicy(max_calls=2, mode="strip")
    _, out = strip.check_response(body, KEY)
    assert [c["id"] for c in out["choices"][0]["message"]["tool_calls"]] == ["c0", "c1"]


def test_strip_keeps_good_calls_and_block_keeps_body() -> None:
    body = answer(
        call("fetch", {"url": "https://evil.com/"}, "bad"),
        call("fetch", {"url": "https://api.example.com/"}, "good"),
    )
    found, out = ToolPolicy(rules=RULES).check_response(body, KEY)
    assert len(found) == 1 and found[0].call == 0 and out is body
    found, out = ToolPolicy(rules=RULES, mode="strip").check_response(body, KEY)
    choice = out["choices"][0]
    assert [c["id"] for c in choice["message"]["tool_calls"]] == ["good"]
    assert choice["finish_reason"] == "tool_calls"
    assert len(body["choices"][0]["message"]["tool_calls"]) == 2  # input left alone


def test_strip_of_every_call_finishes_with_stop() -> None:
    policy = ToolPolicy(rules=RULES, mode="strip")
    _, out = policy.check_response(answer(call("fetch", {"url": "https://evil.com/"})), KEY)
    choice = out["choices"][0]
    assert "tool_calls" not in choice["message"]
    assert choice["finish_reason"] == "stop"
    legacy = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "function_call": {"name": "fetch", "arguments": '{"url": "https://x.evil"}'},
                },
                "finish_reason": "function_call",
            }
        ]
    }
    found, out = policy.check_response(legacy, KEY)
    assert rules_of(found) == [DOMAIN]
    assert "function_call" not in out["choices"][0]["message"]
    assert out["choices"][0]["finish_reason"] == "stop"


def test_non_function_calls_with_rules_are_refused() -> None:
    policy = ToolPolicy(rules={"fetch": ToolRule(allowed_domains=("api.example.com",))})
    calls = [ToolCall("fetch", None, "custom"), ToolCall("other", None, "custom")]
    per_call = policy.check_calls(calls, KEY)
    assert rules_of(per_call[0]) == [ARGUMENTS] and per_call[1] == []


def test_bad_configuration_is_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="parameters_schema"):
        ToolRule(parameters_schema={"type": "no-such-type"})
    with pytest.raises(ValidationError, match="does not compile"):
        ToolRule(patterns={"a": "("})
    with pytest.raises(ValidationError, match="not a host name"):
        ToolRule(allowed_domains=("https://example.com/",))
    with pytest.raises(ValidationError):
        ToolPolicy(mode="warn")
    with pytest.raises(ValidationError, match="names another tool"):
        ToolPolicy(rules={"a": ToolRule(name="b")})
    policy = ToolPolicy.model_validate({"rules": {"fetch": {"url_args": ["url"]}}})
    assert policy.rules["fetch"].url_args == ("url",)
