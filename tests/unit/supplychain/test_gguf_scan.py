"""GGUF scanner: real files pass; malicious chat templates and broken headers are caught."""

from __future__ import annotations

import contextlib
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError, LimitExceeded, ParseError
from garrison.findings import Finding, Severity
from garrison.policy import Policy
from garrison.supplychain import scan_path
from garrison.supplychain.context import ScanContext
from garrison.supplychain.gguf_scan import RULES, scan_gguf
from tests.corpus.chat_templates import GEMMA_3, LLAMA_3_1, QWEN_2_5, REAL_TEMPLATES

from .helpers import RCE_PAYLOAD, scan_handler

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")


def write_gguf(path: Path, template: Any = None, big_endian: bool = False, vocab: int = 64) -> Path:
    endian = gguf.GGUFEndian.BIG if big_endian else gguf.GGUFEndian.LITTLE
    writer = gguf.GGUFWriter(str(path), "llama", endianess=endian)
    writer.add_name("garrison-tiny")
    writer.add_tokenizer_model("llama")
    writer.add_token_list([f"tok{i}".encode() for i in range(vocab)])
    writer.add_token_scores([0.0] * vocab)
    if template is not None:
        writer.add_chat_template(template)
    writer.add_tensor("token_embd.weight", np.ones((vocab, 8), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones((8,), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def scan_bytes(data: bytes, policy: Policy | None = None) -> list[Finding]:
    return scan_handler(scan_gguf, data, "model.gguf", policy)


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


# -- hand-built GGUF bytes for the malformed cases -------------------------------------------


def _string(text: str | bytes, endian: str = "<") -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack(endian + "Q", len(raw)) + raw


def _kv_string(key: str, value: str, endian: str = "<") -> bytes:
    return _string(key, endian) + struct.pack(endian + "I", 8) + _string(value, endian)


def _tensor(name: str, dims: list[int], ggml_type: int, offset: int) -> bytes:
    info = _string(name) + struct.pack("<I", len(dims))
    info += b"".join(struct.pack("<Q", d) for d in dims)
    return info + struct.pack("<IQ", ggml_type, offset)


def build(kvs: list[bytes], tensors: list[bytes], data: bytes = b"", version: int = 3) -> bytes:
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    body = head + b"".join(kvs) + b"".join(tensors)
    body += b"\x00" * (-len(body) % 32)
    return body + data


# -- benign ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_TEMPLATES))
def test_real_gguf_with_real_chat_template_has_no_finding(tmp_path: Path, name: str) -> None:
    path = write_gguf(tmp_path / "model.gguf", REAL_TEMPLATES[name])
    report = scan_path(path)
    assert report.findings == []
    assert [i.status for i in report.items] == ["scanned"]


def test_named_chat_templates_are_all_clean(tmp_path: Path) -> None:
    templates = [
        {"name": "default", "template": QWEN_2_5},
        {"name": "tool_use", "template": LLAMA_3_1},
    ]
    assert scan_path(write_gguf(tmp_path / "m.gguf", templates)).findings == []


def test_big_endian_gguf_is_parsed(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "be.gguf", GEMMA_3, big_endian=True)
    assert scan_path(path).findings == []


def test_no_template_and_no_tensors(tmp_path: Path) -> None:
    writer = gguf.GGUFWriter(str(tmp_path / "e.gguf"), "llama")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert scan_path(tmp_path / "e.gguf").findings == []


# -- malicious chat templates ----------------------------------------------------------------


@pytest.mark.parametrize("big_endian", [False, True])
def test_rce_chat_template_is_critical_with_key_and_offset(
    tmp_path: Path, big_endian: bool
) -> None:
    path = write_gguf(tmp_path / "evil.gguf", RCE_PAYLOAD, big_endian=big_endian)
    findings = scan_path(path).findings
    critical = [f for f in findings if f.rule == "GA-JINJA-001"]
    assert len(critical) == 1
    finding = critical[0]
    assert finding.severity is Severity.CRITICAL
    assert "tokenizer.chat_template" in finding.evidence
    assert "__globals__" in finding.evidence
    assert finding.location.offset is not None and finding.location.offset > 24
    assert finding.location.line == 1


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''|attr('__class__')|attr('__mro__') }}",
        "{{ messages|attr('__cla' ~ 'ss__') }}",
        "{% set u = '_' * 2 %}{{ messages|attr(u ~ 'init' ~ u) }}",
    ],
)
def test_disguised_gadgets_in_gguf_are_critical(tmp_path: Path, template: str) -> None:
    findings = scan_path(write_gguf(tmp_path / "evil.gguf", template)).findings
    assert max(f.severity for f in findings) is Severity.CRITICAL


def test_payload_in_named_template_is_found(tmp_path: Path) -> None:
    templates = [
        {"name": "default", "template": QWEN_2_5},
        {"name": "rag", "template": RCE_PAYLOAD},
    ]
    findings = scan_path(write_gguf(tmp_path / "evil.gguf", templates)).findings
    assert [f.rule for f in findings if f.severity is Severity.CRITICAL] == ["GA-JINJA-001"]
    assert "tokenizer.chat_template.rag" in findings[0].evidence


def test_unparseable_template_is_medium(tmp_path: Path) -> None:
    findings = scan_path(write_gguf(tmp_path / "m.gguf", "{% for m in messages %}")).findings
    assert rules(findings) == {"GA-JINJA-003"}


def test_duplicate_template_key_both_copies_are_analysed() -> None:
    data = build([_kv_string("tokenizer.chat_template", "{{ x }}"),
                  _kv_string("tokenizer.chat_template", RCE_PAYLOAD)], [])  # fmt: skip
    found = rules(scan_bytes(data))
    assert {"GA-JINJA-001", "GA-GGUF-002"} <= found


def test_non_string_chat_template_is_invalid() -> None:
    kv = _string("tokenizer.chat_template") + struct.pack("<II", 4, 7)
    assert rules(scan_bytes(build([kv], []))) == {"GA-GGUF-004"}


# -- layout ----------------------------------------------------------------------------------


def test_overlapping_tensors_are_high() -> None:
    tensors = [_tensor("a", [8], 0, 0), _tensor("b", [8], 0, 0)]
    findings = scan_bytes(build([], tensors, b"\x00" * 32))
    overlap = [f for f in findings if f.rule == "GA-GGUF-001"]
    assert overlap and overlap[0].severity is Severity.HIGH
    assert "'b'" in overlap[0].evidence or "'a'" in overlap[0].evidence
    assert "GA-GGUF-002" not in rules(findings)


def test_duplicate_tensor_names_are_reported() -> None:
    tensors = [_tensor("a", [8], 0, 0), _tensor("a", [8], 0, 32)]
    findings = scan_bytes(build([], tensors, b"\x00" * 64))
    assert rules(findings) == {"GA-GGUF-002"}
    assert "tensor 'a'" in findings[0].evidence


def test_trailing_bytes_are_low() -> None:
    findings = scan_bytes(build([], [_tensor("a", [8], 0, 0)], b"\x00" * 32 + b"PAYLOAD!" * 8))
    assert rules(findings) == {"GA-GGUF-003"}
    assert findings[0].severity is Severity.LOW
    assert "64 bytes after the last tensor" in findings[0].evidence


def test_tensor_past_end_of_file_is_invalid() -> None:
    findings = scan_bytes(build([], [_tensor("a", [1024], 0, 0)], b"\x00" * 32))
    assert "GA-GGUF-004" in rules(findings)
    assert "past the file" in findings[0].evidence


def test_unaligned_offset_and_bad_alignment_are_invalid() -> None:
    align = _string("general.alignment") + struct.pack("<II", 4, 3)
    findings = scan_bytes(build([align], [_tensor("a", [8], 0, 4)], b"\x00" * 64))
    evidence = " ".join(f.evidence for f in findings if f.rule == "GA-GGUF-004")
    assert "not a power of two" in evidence and "unaligned" in evidence


def test_unknown_tensor_type_is_invalid_not_fatal() -> None:
    findings = scan_bytes(build([], [_tensor("a", [8], 200, 0)], b"\x00" * 32))
    assert rules(findings) == {"GA-GGUF-004"}


def test_version_1_header_is_parsed() -> None:
    key = b"tokenizer.chat_template"
    kv = struct.pack("<I", len(key)) + key + struct.pack("<II", 8, len(RCE_PAYLOAD))
    kv += RCE_PAYLOAD.encode()
    data = b"GGUF" + struct.pack("<III", 1, 0, 1) + kv
    assert "GA-JINJA-001" in rules(scan_bytes(data))


# -- failure paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (b"GGUF", "bad magic or truncated"),
        (b"GGUF" + struct.pack("<I", 7) + b"\x00" * 16, "version 7"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 10**12), "more than the file can hold"),
        (b"GGUF" + struct.pack("<IQQ", 3, 10**9, 0), "more than the file can hold"),
        (build([_string("k") + struct.pack("<I", 99)], []), "unknown value type 99"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _string("k") + struct.pack("<IQ", 8, 50)
         + b"abc", "past the end"),
        (build([_string("k") + struct.pack("<IIQ", 9, 8, 2**40)], []), "claims"),
        (build([_string("k") + struct.pack("<IIQ", 9, 0, 2**40)], []), "past the end"),
        (build([], [_string("t") + struct.pack("<I", 9)]), "9 dimensions"),
        (build([_string("x" * 10, ) + struct.pack("<I", 8) + struct.pack("<Q", 2**62)], []),
         "past the end"),
    ],
)  # fmt: skip
def test_malformed_headers_raise_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        scan_bytes(data)


def test_malformed_file_becomes_a_finding_through_dispatch(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", QWEN_2_5)
    path.write_bytes(path.read_bytes()[:200])
    findings = scan_path(path).findings
    assert rules(findings) == {"GA-SCAN-002"}
    assert "gguf:" in findings[0].evidence


def test_header_over_the_limit_raises_limit_exceeded(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", QWEN_2_5, vocab=2000)
    policy = Policy.model_validate({"limits": {"max_header_bytes": 4096}})
    with pytest.raises(LimitExceeded), path.open("rb") as stream:
        scan_gguf(stream, ScanContext.for_file(path, policy))
    assert rules(scan_path(path, policy).findings) == {"GA-SCAN-001"}


def test_nested_arrays_are_bounded() -> None:
    nested = struct.pack("<IQ", 9, 1) * 20 + struct.pack("<IQ", 0, 0)
    kv = _string("k") + struct.pack("<I", 9) + nested
    with pytest.raises(LimitExceeded):
        scan_bytes(build([kv], []))


def test_large_vocabulary_scans_quickly(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "big.gguf", LLAMA_3_1, vocab=150_000)
    start = time.perf_counter()
    assert scan_path(path).findings == []
    assert time.perf_counter() - start < 30  # a hang guard; speed is measured in benchmarks/


def test_rules_are_exported() -> None:
    ids = {r.id for r in RULES}
    assert {"GA-GGUF-001", "GA-GGUF-002", "GA-GGUF-003", "GA-GGUF-004", "GA-JINJA-001"} <= ids


# -- properties ------------------------------------------------------------------------------


def _seed() -> bytes:
    kvs = [_kv_string("general.name", "x"), _kv_string("tokenizer.chat_template", "{{ x }}")]
    return build(kvs, [_tensor("a", [8], 0, 0)], b"\x00" * 32)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 400),
)
def test_mutated_gguf_never_raises_anything_but_garrison_errors(
    flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(_seed())
    for index, value in flips:
        if index < len(data):
            data[index] = value
    start = time.perf_counter()
    with contextlib.suppress(GarrisonError):
        scan_bytes(bytes(data[: max(cut, 8)]))
    assert time.perf_counter() - start < 30  # a hang guard; speed is measured in benchmarks/


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_after_magic(body: bytes) -> None:
    with contextlib.suppress(GarrisonError):
        scan_bytes(b"GGUF" + body)
