"""Links and images in model output that send data away, and URLs outside an allowlist.

An image (markdown inline or reference-style, or an HTML tag that loads a resource) is
fetched by the client with no click, so one to a host outside the allowlist blocks; with no
allowlist set, it blocks when its URL carries data (a query, a fragment, or a long path
segment). A link blocks when it carries data to a host outside the allowlist: a query of
64+ characters, a 32-character encoded-looking run, or a vault placeholder. Any other
URL outside a set allowlist is replaced by "[link removed]". javascript:/vbscript: URLs
always block. Hosts match exactly or as a parent domain ("example.com" allows
"docs.example.com", never "example.com.evil.test").
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from garrison.findings import Finding, Location
from garrison.llm.rules import (
    IMAGE_EXFILTRATION,
    LINK_EXFILTRATION,
    SCRIPT_URL,
    URL_NOT_ALLOWED,
)
from garrison.llm.scanner import (
    MAX_FINDINGS,
    MAX_SCAN_CHARS,
    GuardContext,
    ScanResult,
    Verdict,
    over_limit,
)
from garrison.rules import Rule

# Every pattern is bounded or followed by nothing that can fail, so matching stays linear.
_MD_TARGET = r"\]\(\s{0,8}<?(?P<url>[^)\s>]{1,4096})"
# No length caps that a long alt text or attribute could hide behind: labels stop at the
# next bracket and tags at the next "<" or ">", so the stretches scanned never overlap.
_MD_IMAGE = re.compile(r"!\[[^\[\]]*+" + _MD_TARGET)
_MD_LINK = re.compile(r"(?<!!)\[[^\[\]]*+" + _MD_TARGET)
_REF_DEF = re.compile(
    r"(?m)^[ \t]{0,3}\[(?P<ref>[^\]\n]{1,999})\]:[ \t]{0,8}<?(?P<url>[^\s>]{1,4096})"
)
_REF_IMAGE = re.compile(r"!\[(?P<alt>[^\[\]]*+)\](?:\[(?P<ref>[^\[\]]*+)\])?")
_HTML_TAG = re.compile(r"<(?P<tag>[A-Za-z]{1,10})\b[^<>]*", re.IGNORECASE)
_HTML_ATTR = re.compile(
    r"\b(?:src|href|data|poster|srcset|background|action|formaction)\s{0,8}=\s{0,8}"
    r"[\"']?(?P<url>[^\"'\s>]{1,4096})",
    re.IGNORECASE,
)
_BARE_URL = re.compile(r"(?i)\b(?:https?|ftp|wss?)://[^\s<>\"'`)\]]{1,4096}")
_SCRIPT = re.compile(r"(?i)^\s*(?:javascript|vbscript|livescript)\s*:")
_LOADING_TAGS = frozenset(
    {"img", "image", "iframe", "frame", "video", "audio", "source", "script", "embed",
     "object", "link", "input", "body", "table", "track", "svg", "use"}
)  # fmt: skip
LONG_SEGMENT = 24  # an image path segment this long can carry data
LONG_QUERY = 64  # a link's query this long carries data (search links stay shorter)
_DATA_RUN = re.compile(r"[A-Za-z0-9+/=_%-]{32,}")  # an encoded or copied value in a query
_SLUG = re.compile(r"[a-z]+(?:-[a-z]+)*")  # "#annotating-class-methods" is an anchor, not data


@dataclass(frozen=True, slots=True)
class Url:
    url: str
    start: int
    end: int
    image: bool  # fetched without a click


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """`host` is an allowed host or a subdomain of one (case- and trailing-dot-insensitive)."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().strip().rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def url_host(url: str) -> str | None:
    """The host `url` reaches, None for relative URLs; backslashes read as browsers do."""
    url = url.strip().replace("\\", "/")
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "invalid"
    if parts.scheme and not host:
        return "" if parts.scheme.lower() in ("data", "mailto", "tel") else "invalid"
    return host


def carries_data(url: str, image: bool) -> bool:
    """Whether `url` can smuggle data out: anything beyond a plain path for an image;
    a long query, an encoded-looking run, or a vault placeholder for a link."""
    try:
        parts = urlsplit(url.strip().replace("\\", "/"))
    except ValueError:
        return image  # unparseable: an image still loads something, a link needs a click
    if "<" in url or "%3C" in url.upper():
        return True  # a vault placeholder such as <EMAIL_1>
    if image:
        segments = parts.path.split("/")
        return bool(parts.query or parts.fragment) or any(len(s) >= LONG_SEGMENT for s in segments)
    query = parts.query + parts.fragment
    runs = _DATA_RUN.findall(query)
    return len(query) >= LONG_QUERY or any(not _SLUG.fullmatch(run) for run in runs)


def find_urls(text: str) -> list[Url]:
    """Every image, link and bare URL in markdown or HTML `text`, without duplicates."""
    found: dict[int, Url] = {}
    refs = {m.group("ref").lower(): m for m in _REF_DEF.finditer(text)}
    image_refs = set()
    for m in _REF_IMAGE.finditer(text):
        ref = (m.group("ref") or m.group("alt") or "").lower()
        image_refs.add(ref)
    for ref, m in refs.items():
        found[m.start("url")] = Url(m.group("url"), m.start("url"), m.end("url"), ref in image_refs)
    for pattern, image in ((_MD_IMAGE, True), (_MD_LINK, False)):
        for m in pattern.finditer(text):
            found[m.start("url")] = Url(m.group("url"), m.start("url"), m.end("url"), image)
    for tag in _HTML_TAG.finditer(text):
        image = tag.group("tag").lower() in _LOADING_TAGS
        for m in _HTML_ATTR.finditer(tag.group()):
            start = tag.start() + m.start("url")
            found[start] = Url(m.group("url"), start, start + len(m.group("url")), image)
    spans = sorted((u.start, u.end) for u in found.values())
    starts = [start for start, _ in spans]
    reach = list(itertools.accumulate((end for _, end in spans), max))
    for m in _BARE_URL.finditer(text):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i < 0 or reach[i] <= m.start():  # not inside a markdown or HTML URL
            url = m.group().rstrip(".,;:!?")
            found[m.start()] = Url(url, m.start(), m.start() + len(url), False)
    return sorted(found.values(), key=lambda u: u.start)


class LinkGuard:
    """Blocks exfiltrating images and links; removes URLs to hosts outside `allowed_hosts`."""

    name = "links"

    def __init__(
        self, allowed_hosts: Iterable[str] | None = None, max_chars: int = MAX_SCAN_CHARS
    ) -> None:
        self.allowed_hosts = None if allowed_hosts is None else tuple(allowed_hosts)
        self.max_chars = max_chars

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        ctx = context or GuardContext()
        too_long = over_limit(self.name, text, self.max_chars, ctx)
        if too_long:
            return too_long
        findings: list[Finding] = []
        removed: list[Url] = []
        blocked = False
        for url in find_urls(text):
            rule = self._judge(url)
            if rule is None:
                continue
            if len(findings) < MAX_FINDINGS:
                where = Location(offset=url.start)
                findings.append(rule.finding(ctx.asset, where, url.url[:200]))
            if rule is URL_NOT_ALLOWED:
                removed.append(url)
            else:
                blocked = True
        clean = _remove(text, removed)
        if blocked:
            return ScanResult(Verdict.BLOCK, 1.0, tuple(findings), clean, {}, self.name)
        verdict = Verdict.REDACT if removed else Verdict.ALLOW
        return ScanResult(verdict, 0.6 if removed else 0.0, tuple(findings), clean, {}, self.name)

    def _judge(self, url: Url) -> Rule | None:
        if _SCRIPT.match(url.url):
            return SCRIPT_URL
        host = url_host(url.url)
        if host == "":
            return None  # data:, mailto:, tel: reach no server by themselves
        if host is None:
            return None  # relative: the application's own origin
        allowed = self.allowed_hosts is not None and host_allowed(host, self.allowed_hosts)
        if allowed:
            return None
        if url.image and (self.allowed_hosts is not None or carries_data(url.url, True)):
            return IMAGE_EXFILTRATION
        if carries_data(url.url, False):
            return LINK_EXFILTRATION
        return URL_NOT_ALLOWED if self.allowed_hosts is not None else None


def _remove(text: str, urls: list[Url]) -> str:
    if not urls:
        return text
    parts: list[str] = []
    last = 0
    for url in sorted(urls, key=lambda u: u.start):
        if url.start < last:
            continue
        parts += [text[last : url.start], "[link removed]"]
        last = url.end
    parts.append(text[last:])
    return "".join(parts)
