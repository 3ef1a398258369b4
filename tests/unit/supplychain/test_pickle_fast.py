"""The C first pass over pickles agrees with the Python machine wherever it answers.

The C pass may only say "complete" when the Python machine would run the same program to
STOP with the same imports and nothing to report; everything else falls back. These tests
compare the two on real pickles, generated opcode programs, mutations and random bytes.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import io
import os
import pickle
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.policy import Policy
from garrison.supplychain import pickle_fast, pickle_vm
from garrison.supplychain.pickle_vm import CallResult, GlobalRef, VMLimits, analyse
from garrison.supplychain.scan import scan_path

from .helpers import Payload

pytestmark = pytest.mark.skipif(
    not pickle_fast.AVAILABLE and not os.environ.get("CI"),
    reason="C pickle walker not built (no compiler at install time)",
)


def test_the_c_walker_is_built_where_ci_runs() -> None:
    # CI installs with a compiler, so a missing extension there is a build regression.
    assert pickle_fast.AVAILABLE


@contextlib.contextmanager
def pure_python() -> Iterator[None]:
    saved = pickle_fast._NATIVE, pickle_fast.AVAILABLE
    pickle_fast._NATIVE, pickle_fast.AVAILABLE = None, False
    try:
        yield
    finally:
        pickle_fast._NATIVE, pickle_fast.AVAILABLE = saved


def c_walk(
    data: bytes, budget: int = -1, sniff: bool = False
) -> tuple[int, int, int, list[tuple[str, str]]]:
    assert pickle_fast._NATIVE is not None
    return pickle_fast._NATIVE.walk(data, 1000, budget, sniff)


def python_program(data: bytes, sniff: bool = False) -> pickle_vm.Program:
    limits = VMLimits(len(data), 1000, lambda n: None, joblib=not sniff, sniff=sniff)
    return analyse(io.BytesIO(data), 0, limits)


def assert_agrees(data: bytes, sniff: bool = False) -> None:
    """When C completes, Python completes the same program with nothing to report."""
    status, opcodes, end, imports = c_walk(data, sniff=sniff)
    if status != pickle_fast.COMPLETE:
        return
    program = python_program(data, sniff)
    assert program.error is None and program.complete
    assert (program.opcodes, program.end) == (opcodes, end)
    assert [(g.module, g.name) for g in program.globals] == imports
    assert {a.kind for a in program.anomalies} <= {"method"}
    assert all(isinstance(call.func, GlobalRef) for call in program.calls)
    assert not program.inline


def scan_outcome(tmp_path: Path, data: bytes) -> tuple[list[tuple[object, ...]], list[object]]:
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    report = scan_path(path, Policy())
    findings = [(f.rule, f.severity, f.location, f.evidence) for f in report.findings]
    return findings, [(i.format, i.status, i.detail) for i in report.items]


# --------------------------------------------------------------------------- real pickles

REAL = [
    {"step": 3, "lr": 0.001, "betas": [0.9, 0.999], "name": "run"},
    collections.OrderedDict(a=1, b=[1, 2]),
    {frozenset({1, 2}), (1, 2)},
    [datetime.date(2024, 1, 2), complex(1, 2), b"bytes", bytearray(b"ba"), "é ü 日本"],
    {"nested": {"deep": [[[]]]}, "none": None, "bools": (True, False)},
    collections.Counter("hello"),
]


@pytest.mark.parametrize("protocol", range(2, 6))
@pytest.mark.parametrize("index", range(len(REAL)))
def test_real_pickles_walk_like_python(protocol: int, index: int) -> None:
    data = pickle.dumps(REAL[index], protocol=protocol)
    status, *_ = c_walk(data)
    assert status == pickle_fast.COMPLETE
    assert_agrees(data)
    assert pickle_fast.proves_pickle(data[:4096], 256)


def test_numpy_and_sklearn_pickles_are_modelled() -> None:
    np = pytest.importorskip("numpy")
    linear = pytest.importorskip("sklearn.linear_model")
    model = linear.LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])
    for obj in (np.arange(5, dtype="float32"), np.int64(3), model):
        data = pickle.dumps(obj, protocol=4)
        assert c_walk(data)[0] == pickle_fast.COMPLETE
        assert_agrees(data)


# --------------------------------------------------------------------------- what it refuses


def s(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


@pytest.mark.parametrize(
    "data",
    [
        # STACK_GLOBAL whose name is computed at load time
        b"\x80\x04" + s("builtins") + s("getattr") + b"\x93" + s("os") + b"\x85R" + s("x")
        + b"\x93.",
        # BUILD on a global
        b"\x80\x04" + s("os") + s("path") + b"\x93}b.",
        # a call of a call's result
        b"\x80\x04" + s("m") + s("f") + b"\x93)R)R.",
        # extension registry, text opcodes, out-of-band buffers
        b"\x80\x04\x82\x01.",
        b"I12\n.",
        b"\x80\x05\x97.",
        # STACK_GLOBAL with a bytes module name
        b"\x80\x04C\x02os" + s("system") + b"\x93.",
    ],
)  # fmt: skip
def test_what_it_does_not_model_goes_to_python(data: bytes) -> None:
    assert c_walk(data)[0] == pickle_fast.UNSUPPORTED


def test_memo_resolved_names_and_limits() -> None:
    memo = b"\x80\x04" + s("os") + b"\x94" + s("system") + b"\x94" + b"h\x00h\x01\x93)R."
    status, _, _, imports = c_walk(memo)
    assert status == pickle_fast.COMPLETE and imports == [("os", "system")]
    deep = b"\x80\x04" + b"(" * 2000 + b"."
    assert c_walk(deep)[0] == pickle_fast.UNSUPPORTED  # mark depth over max_stack
    assert c_walk(b"\x80\x04" + b"N" * 50 + b".", budget=10)[0] == pickle_fast.BUDGET
    assert c_walk(b"\x80\x04" + b"X\xff\xff\xff\xff" + b".")[0] == pickle_fast.ERROR
    assert c_walk(b"\x80\x04" + b"B\xff\xff\xff\x7f" + b".")[0] == pickle_fast.TRUNCATED


def test_scan_results_are_identical_with_and_without_the_c_pass(tmp_path: Path) -> None:
    payload = pickle.dumps(Payload(), protocol=4)
    unknown = b"\x80\x04" + s("mylib.models") + s("Net") + b"\x93)\x81."
    trailing = pickle.dumps({"a": 1}, protocol=4) + b"junk after the pickle"
    two = pickle.dumps([1], protocol=4) + pickle.dumps(Payload(), protocol=2)
    for data in (payload, unknown, trailing, two, *(pickle.dumps(o, 4) for o in REAL)):
        fast = scan_outcome(tmp_path, data)
        with pure_python():
            assert scan_outcome(tmp_path, data) == fast


# --------------------------------------------------------------------------- generated input

_NAMES = ["os", "system", "builtins", "eval", "collections", "OrderedDict", "a.b", "é", "1x", ""]
_OPS = [
    b"N", b"\x88", b"K\x07", b"J\x01\x00\x00\x00", b"G" + struct.pack(">d", 1.5), b"]",
    b"}", b")", b"\x8f", b"(", b"t", b"l", b"d", b"\x91", b"\x85", b"\x86", b"\x87", b"a",
    b"e", b"\x90", b"s", b"u", b"0", b"1", b"2", b"\x94", b"q\x00", b"q\x01", b"h\x00",
    b"h\x01", b"r\x02\x00\x00\x00", b"j\x02\x00\x00\x00", b"\x93", b"R", b"\x81", b"\x92",
    b"b", b"o", b"Q", b"\x98", b"\x95\x10\x00\x00\x00\x00\x00\x00\x00", b"\x80\x04",
    b".", b"C\x01x", b"U\x02ab", b"\x8a\x01\x05", b"X\x02\x00\x00\x00hi",
]  # fmt: skip
_TOKENS = st.one_of(
    st.sampled_from(_OPS),
    st.sampled_from(_NAMES).map(s),
    st.tuples(st.sampled_from(_NAMES), st.sampled_from(_NAMES)).map(
        lambda p: b"c" + p[0].encode() + b"\n" + p[1].encode() + b"\n"
    ),
    st.tuples(st.sampled_from(_NAMES), st.sampled_from(_NAMES)).map(
        lambda p: b"i" + p[0].encode() + b"\n" + p[1].encode() + b"\n"
    ),
)
_PROGRAMS = st.lists(_TOKENS, max_size=40).map(lambda parts: b"\x80\x04" + b"".join(parts) + b".")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PROGRAMS, st.booleans())
def test_generated_programs_agree(data: bytes, sniff: bool) -> None:
    assert_agrees(data, sniff)


@settings(max_examples=500, deadline=None)
@given(_PROGRAMS)
def test_c_sniff_never_accepts_what_python_rejects(data: bytes) -> None:
    if pickle_fast.proves_pickle(data, 24):
        with pure_python():
            assert pickle_vm._sniff(data, minimum=2, budget=24)


_SEEDS = [pickle.dumps(obj, protocol=4) for obj in REAL] + [pickle.dumps(Payload(), 2)]


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from(_SEEDS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
)
def test_mutated_pickles_agree(seed: bytes, edits: list[tuple[int, int]]) -> None:
    data = bytearray(seed)
    for index, value in edits:
        data[index % len(data)] = value
    assert_agrees(bytes(data))
    assert_agrees(bytes(data), sniff=True)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_walker(data: bytes) -> None:
    status, _, end, imports = c_walk(data)
    assert 0 <= status <= 4 and 0 <= end <= len(data) and isinstance(imports, list)
    assert_agrees(data)


def test_calls_of_safe_globals_are_calls_in_python_too() -> None:
    data = pickle.dumps(collections.OrderedDict(a=1), protocol=2)
    program = python_program(data)
    assert any(isinstance(v, CallResult) for v in [program.result])
    assert c_walk(data)[3] == [("collections", "OrderedDict")]
