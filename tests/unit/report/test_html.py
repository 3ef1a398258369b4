"""The HTML report: self-contained, escaped, charts embedded, no script can run."""

from __future__ import annotations

import base64
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

from garrison.report import render
from garrison.report.model import Artifact
from tests.unit.report import HOSTILE, empty_report, sample_report


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")


def parse(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


def test_findings_are_listed_and_hostile_text_is_escaped(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    text = render(report, "html")
    assert "GA-TST-001" in text and "FAIL" in text
    tags = parse(text).tags
    assert "script" not in tags and "tag" not in tags
    assert "<tag>" not in text and "&lt;tag&gt;" in text
    assert HOSTILE not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_raster_charts_are_embedded_and_svg_is_not(tmp_path: Path) -> None:
    report = empty_report(tmp_path)
    png = tiny_png()
    report.artifacts.append(Artifact("curve.png", "image/png", png, "accuracy against epsilon"))
    report.artifacts.append(Artifact("x.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"))
    report.metrics["evasion"] = {"epsilons": [0, 0.1], "accuracy": [0.97, 0.04]}
    text = render(report, "html")
    images = parse(text).images
    assert images == ["data:image/png;base64," + base64.b64encode(png).decode()]
    assert "alert(1)" not in text
    assert "accuracy against epsilon" in text and "0.97" in text
    assert "No findings." in text and "PASS" in text
