"""What a client sees when things fail behind or in front of `garrison gateway serve`: an
OpenAI-shaped error with a request id, never an exception, a traceback or an upstream body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import openai
import pytest

from tests.e2e.gateway.harness import GUARDS_OFF, create_key, gateway_serve, wait_for_row
from tests.e2e.gateway.upstreams import failing_upstream

POLICY = (
    """
[gateway]
read_timeout_s = 0.5
max_body_bytes = 4096
max_header_bytes = 2048
max_json_depth = 16
"""
    + GUARDS_OFF
)
LEAKS = ("Traceback", "hunter2", "engine.py", "Error:", "httpx", "httpcore", "asyncio")


@dataclass
class Served:
    base: str
    db: str
    secret: str

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=f"{self.base}/v1", api_key=self.secret, max_retries=0, timeout=10
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("errors")
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    secret = create_key(db)
    with (
        failing_upstream(hang_s=3) as upstream,
        gateway_serve(tmp_path, f"{upstream}/v1", db=db, policy=POLICY) as gateway,
    ):
        yield Served(gateway.base, db, secret)


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("crash", 502, "upstream_error"),  # a 500 whose body is a traceback
        ("close", 502, "upstream_unavailable"),  # hangs up without answering
        ("truncate", 502, "upstream_unavailable"),  # hangs up half way through
        ("hang", 504, "upstream_timeout"),  # slower than read_timeout_s
    ],
)
def test_upstream_failures_are_generic_with_a_request_id(
    served: Served, model: str, status: int, code: str
) -> None:
    with pytest.raises(openai.APIStatusError) as raised:
        served.client().chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}]
        )
    error = raised.value
    assert (error.status_code, error.code) == (status, code)
    assert error.request_id is not None and error.request_id in error.message
    assert not any(leak in json.dumps(error.body) for leak in LEAKS)
    row = wait_for_row(served.db, error.request_id)
    assert (row["decision"], row["reason"], row["status"]) == ("error", "upstream", status)


def test_the_gateway_still_serves_after_upstream_failures(served: Served) -> None:
    answer = served.client().chat.completions.create(
        model="fine", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "Hello world"


def _post(served: Served, content: bytes, **headers: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {served.secret}", **headers}
    headers["content-type"] = "application/json"
    return httpx.post(
        f"{served.base}/v1/chat/completions", content=content, headers=headers, timeout=10
    )


@pytest.mark.parametrize(
    ("case", "status", "code", "says"),
    [
        ("large_body", 413, "request_too_large", "larger than 4096 bytes"),
        ("deep_json", 400, "invalid_json", "nested deeper than 16 levels"),
        ("huge_header", 431, "headers_too_large", "larger than 2048 bytes"),
        ("not_json", 400, "invalid_json", "not valid UTF-8 JSON"),
    ],
)
def test_requests_over_the_limits_are_refused(
    served: Served, case: str, status: int, code: str, says: str
) -> None:
    body = {"model": "fine", "messages": [{"role": "user", "content": "hi"}]}
    if case == "large_body":
        response = _post(served, json.dumps({**body, "pad": "x" * 8192}).encode())
    elif case == "deep_json":
        deep = "[" * 20 + "]" * 20  # deeper than max_json_depth = 16
        response = _post(served, json.dumps(body)[:-1].encode() + f', "deep": {deep}}}'.encode())
    elif case == "huge_header":
        response = _post(served, json.dumps(body).encode(), **{"x-padding": "y" * 4096})
    else:
        response = _post(served, b'{"model": "fine", "messages": [')
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert says in error["message"]
    assert set(error) == {"message", "type", "param", "code"}
    assert response.headers["x-request-id"].startswith("req_")
    assert not any(leak in response.text for leak in LEAKS)
