"""The symbolic pickle machine: opcode coverage, memo resolution, bounds, sniffing."""

from __future__ import annotations

import io
import pickle
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError, LimitExceeded, ParseError
from garrison.supplychain.pickle_vm import (
    CallResult,
    Const,
    Container,
    GlobalRef,
    Program,
    VMLimits,
    analyse,
    looks_like_pickle,
)

from .helpers import Payload


def run(data: bytes, max_stack: int = 1000, max_opcodes: int = 10_000) -> Program:
    spent = [0]

    def spend(n: int) -> None:
        spent[0] += n
        if spent[0] > max_opcodes:
            raise LimitExceeded("pickle opcodes", spent[0], max_opcodes)

    return analyse(io.BytesIO(data), 0, VMLimits(1 << 30, max_stack, spend))


def s(text: str) -> bytes:
    """SHORT_BINUNICODE."""
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


@pytest.mark.parametrize("protocol", range(6))
def test_every_protocol_records_the_reduce_call(protocol: int) -> None:
    program = run(pickle.dumps({"k": [1, 2.5, "x", b"y", Payload()]}, protocol=protocol))
    assert program.complete and program.error is None
    system = [c for c in program.calls if isinstance(c.func, GlobalRef) and c.func.name == "system"]
    assert len(system) == 1
    args = system[0].args
    assert isinstance(args, Container) and isinstance(args.items[0], Const)
    assert args.items[0].value == "echo garrison-test"


def test_memo_confusion_resolves_to_the_real_slot() -> None:
    # picklescan #14: PUT/BINPUT and MEMOIZE mixed so a naive memo names a safe global.
    data = (
        b"\x80\x04" + s("os") + b"q\x00" + s("system") + b"q\x01"
        + s("torch._utils") + b"\x94" + s("_rebuild_tensor_v2") + b"\x94"
        + b"h\x00h\x01\x93" + s("echo garrison-test") + b"\x85R."
    )  # fmt: skip
    program = run(data)
    assert [g.full for g in program.globals] == ["os.system"]
    assert program.complete


def test_stack_global_with_dotted_name() -> None:
    data = b"\x80\x04" + s("numpy") + s("testing._private.utils.runstring") + b"\x93)R."
    program = run(data)
    assert program.globals[0].module == "numpy"
    assert program.globals[0].name == "testing._private.utils.runstring"


def test_stack_global_from_computed_values_is_an_anomaly() -> None:
    data = b"\x80\x04cbuiltins\nstr\n)R" + s("system") + b"\x93N."
    program = run(data)
    assert [a.kind for a in program.anomalies] == ["dynamic-global"]


def test_build_on_a_global_is_an_anomaly() -> None:
    data = b"\x80\x02cnumpy\nprod\nN}" + b"X\x01\x00\x00\x00aX\x02\x00\x00\x00os" + b"s\x86b."
    program = run(data)
    assert [a.kind for a in program.anomalies] == ["build-on-global"]


def test_inst_obj_newobj_ex_are_calls() -> None:
    data = (
        b"(S'echo'\nios\nsystem\n"  # INST
        b"(cos\npopen\nS'x'\no"  # OBJ
        b"\x80\x04cmod\nK\n)}\x92"  # NEWOBJ_EX
        b"\x87."
    )
    program = run(data)
    assert [c.kind for c in program.calls] == ["inst", "obj", "newobj_ex"]


def test_concatenated_and_truncated_programs() -> None:
    first = pickle.dumps([1, 2], protocol=2)
    second = pickle.dumps(Payload(), protocol=4)
    program = run(first + second)
    assert program.complete and program.end == len(first)
    truncated = second[:-1]  # drop STOP: the call already happened
    broken = run(truncated)
    assert isinstance(broken.error, ParseError) and len(broken.calls) == 1


def test_frames_bytearrays_buffers_and_extensions() -> None:
    data = pickle.dumps([bytearray(b"abc"), b"x" * 100_000], protocol=5)
    program = run(data)
    assert program.complete
    result = program.result
    assert isinstance(result, Container)
    big = result.items[1]
    assert isinstance(big, Const) and big.truncated and big.origin is not None
    assert big.origin[1] == 100_000
    ext = run(b"\x80\x02\x82\x05.")
    assert [a.kind for a in ext.anomalies] == ["ext-code"]
    buffers = run(b"\x80\x05\x97\x98.")
    assert buffers.complete


def test_persistent_ids_are_values() -> None:
    program = run(b"\x80\x02(X\x07\x00\x00\x00storagetQ.")
    assert program.complete and program.result is not None


def test_call_result_keeps_state() -> None:
    program = run(pickle.dumps(__import__("collections").OrderedDict(a=1), protocol=2))
    assert isinstance(program.result, CallResult)


def test_stack_and_opcode_limits() -> None:
    deep = run(b"(" * 50 + b".", max_stack=10)
    assert isinstance(deep.error, LimitExceeded)
    long = run(b"N0" * 100 + b"N.", max_opcodes=50)
    assert isinstance(long.error, LimitExceeded)


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x06N.",  # protocol too new
        b"\xffN.",  # bad opcode
        b"0.",  # underflow
        b"h\x05.",  # memo miss
        b"X\xff\xff\xff\x7fabc",  # length past the end
        b"S'unterminated\n.",
        b"cos\n",  # missing name line
    ],
)
def test_malformed_input_is_a_parse_error(data: bytes) -> None:
    assert isinstance(run(data).error, ParseError)


@pytest.mark.parametrize("protocol", range(6))
def test_looks_like_pickle_accepts_real_pickles(protocol: int) -> None:
    data = pickle.dumps({"a": [1, 2.0, "three"], "b": (None, True)}, protocol=protocol)
    assert looks_like_pickle(data[:4096])


@pytest.mark.parametrize(
    "head",
    [
        b"hello world, this is a text file\n" * 20,
        b'{"architectures": ["Bert"], "hidden_size": 768}',
        b"a,b,c\n1,2,3\n4,5,6\n",
        b"Id,Label\n1,cat\n",
        struct.pack("<1000f", *[i * 0.37 for i in range(1000)]),
        bytes(range(256)) * 16,
        b"",
    ],
)
def test_looks_like_pickle_rejects_other_data(head: bytes) -> None:
    assert not looks_like_pickle(head[:4096])


def test_looks_like_pickle_rejects_random_floats() -> None:
    import random

    rng = random.Random(7)
    hits = 0
    for _ in range(300):
        values = [rng.uniform(-3, 3) for _ in range(1024)]
        hits += looks_like_pickle(struct.pack("<1024f", *values))
    assert hits == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes_only_raise_garrison_errors(data: bytes) -> None:
    program = run(data)
    assert program.error is None or isinstance(program.error, GarrisonError)
    looks_like_pickle(data)


_SEED = pickle.dumps({"a": [Payload(), 1.5, "x" * 300, b"y"], "b": (1, 2)}, protocol=4)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_SEED) - 1), st.integers(0, 255)), max_size=8))
def test_mutated_pickles_only_raise_garrison_errors(edits: list[tuple[int, int]]) -> None:
    data = bytearray(_SEED)
    for index, value in edits:
        data[index] = value
    program = run(bytes(data))
    assert program.error is None or isinstance(program.error, GarrisonError)
