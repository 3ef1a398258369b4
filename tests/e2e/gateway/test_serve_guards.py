"""Content guards of `garrison gateway serve`, seen through the official openai client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import openai
import pytest

from tests.e2e.gateway.harness import create_key, gateway_serve, wait_for_row
from tests.e2e.gateway.upstreams import LEAKED_KEY, echo_upstream
from tests.unit.gateway.fakes import Seen, serving

# Guards at their defaults (redact requests and answers), streamed text released once checked.
POLICY = "[gateway.guards]\nstream_holdback = true\n"
EMAIL = "alice.smith@example.com"


@dataclass
class Served:
    base_url: str
    db: str
    seen: Seen
    keys: dict[str, str]  # guard mode -> secret

    def client(self, mode: str = "redact") -> openai.OpenAI:
        key = self.keys[mode]
        return openai.OpenAI(base_url=self.base_url, api_key=key, max_retries=0, timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("guards")
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    keys = {
        "redact": create_key(db),
        "block": create_key(db, guard_mode="block"),
        "log": create_key(db, guard_mode="log"),
    }
    seen = Seen()
    with (
        serving(echo_upstream(seen)) as upstream,
        gateway_serve(tmp_path, f"{upstream}/v1", db=db, policy=POLICY) as gateway,
    ):
        yield Served(f"{gateway.base}/v1", db, seen, keys)


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_personal_data_and_secrets_are_redacted_upstream_and_restored(served: Served) -> None:
    prompt = f"Mail {EMAIL} the key {LEAKED_KEY}"
    raw = served.client().chat.completions.with_raw_response.create(
        model="echo", messages=ask(prompt)
    )
    upstream_saw = served.seen.last_body["messages"][0]["content"]
    assert upstream_saw == "Mail <EMAIL_1> the key <AWS_ACCESS_KEY_1>"
    assert raw.parse().choices[0].message.content == f"You said: {prompt}"
    row = wait_for_row(served.db, raw.headers["x-request-id"])
    assert row["decision"] == "redact"
    verdicts = {(g["name"], g["stage"]): g["verdict"] for g in json.loads(row["guards"])}
    assert verdicts[("pii", "input")] == verdicts[("secrets", "input")] == "redact"


def test_block_mode_refuses_with_an_openai_error_and_a_request_id(served: Served) -> None:
    before = len(served.seen.requests)
    with pytest.raises(openai.BadRequestError) as raised:
        served.client("block").chat.completions.create(model="echo", messages=ask(EMAIL))
    error = raised.value
    assert error.status_code == 400
    assert error.code == "content_policy_violation"
    assert "pii" in error.message and EMAIL not in error.message
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert len(served.seen.requests) == before  # the upstream never saw it
    row = wait_for_row(served.db, error.request_id)
    assert (row["decision"], row["reason"], row["status"]) == ("block", "guard.input", 400)


def test_a_streamed_secret_is_cut_before_it_reaches_the_client(served: Served) -> None:
    stream = served.client().chat.completions.create(
        model="leak", messages=ask("the deploy key?"), stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert LEAKED_KEY not in text
    assert LEAKED_KEY[:8] not in text  # not even its start: held back until checked
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    row = wait_for_row(served.db, stream.response.headers["x-request-id"])
    assert (row["decision"], row["reason"]) == ("block", "guard.output")


def test_log_mode_lets_the_request_through_and_records_the_verdict(served: Served) -> None:
    raw = served.client("log").chat.completions.with_raw_response.create(
        model="echo", messages=ask(f"write to {EMAIL}")
    )
    assert served.seen.last_body["messages"][0]["content"] == f"write to {EMAIL}"
    assert raw.parse().choices[0].message.content == f"You said: write to {EMAIL}"
    row = wait_for_row(served.db, raw.headers["x-request-id"])
    assert row["decision"] == "allow"
    verdicts = {(g["name"], g["stage"]): g["verdict"] for g in json.loads(row["guards"])}
    assert verdicts[("pii", "input")] == "flag"
