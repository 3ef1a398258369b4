"""The pickle scanner end to end: payload techniques, benign real-library files, nesting, joblib.

Payload fixtures are built by hand or with harmless __reduce__ methods and are never loaded.
"""

from __future__ import annotations

import base64
import io
import pickle
import zlib
from pathlib import Path

import pytest

from garrison.errors import ParseError
from garrison.findings import Finding, Severity
from garrison.policy import Policy
from garrison.supplychain import scan_path
from garrison.supplychain.context import ScanContext
from garrison.supplychain.pickle_scan import scan_pickle, scan_pickle_from

from .helpers import Payload

CMD = "echo garrison-test"


class NestedPayload:
    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        return pickle.loads, (pickle.dumps(Payload(), protocol=4),)


class Holder:
    """A user class, as whole-model pickles contain (pickled by reference to this module)."""

    def __init__(self) -> None:
        self.weights = [1.0, 2.0]


def s(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def u(text: str) -> bytes:
    raw = text.encode()
    return b"X" + len(raw).to_bytes(4, "little") + raw


def scan_bytes(tmp_path: Path, data: bytes, policy: Policy | None = None) -> list[Finding]:
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    return scan_path(path, policy).findings


def worst(findings: list[Finding]) -> Severity | None:
    return max((f.severity for f in findings), key=lambda s: s.rank, default=None)


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


# --------------------------------------------------------------------------- techniques


@pytest.mark.parametrize("protocol", range(6))
def test_reduce_payload_is_critical_with_reconstructed_call(tmp_path: Path, protocol: int) -> None:
    findings = scan_bytes(tmp_path, pickle.dumps({"w": [1, Payload()]}, protocol=protocol))
    critical = [f for f in findings if f.severity is Severity.CRITICAL]
    assert len(critical) == 1
    assert critical[0].rule == "GA-PKL-001"
    assert f"system('{CMD}')" in critical[0].evidence
    assert critical[0].location.opcode_index is not None
    assert critical[0].location.offset is not None


def test_getattr_import_module_chain_resolves(tmp_path: Path) -> None:
    data = (
        b"\x80\x04cbuiltins\ngetattr\n"
        b"cimportlib\nimport_module\n" + u("os") + b"\x85R" + u("system") + b"\x86R"
        + u(CMD) + b"\x85R."
    )  # fmt: skip
    findings = scan_bytes(tmp_path, data)
    assert any(f"os.system('{CMD}')" in f.evidence for f in findings)
    assert worst(findings) is Severity.CRITICAL


def test_attrgetter_methodcaller_partial(tmp_path: Path) -> None:
    attr = (
        b"\x80\x04coperator\nattrgetter\n" + u("system") + b"\x85R"
        b"cimportlib\nimport_module\n" + u("os") + b"\x85R\x85R" + u(CMD) + b"\x85R."
    )
    method = (
        b"\x80\x04coperator\nmethodcaller\n" + u("system") + u(CMD) + b"\x86R"
        b"cimportlib\nimport_module\n" + u("os") + b"\x85R\x85R."
    )
    partial = b"\x80\x04cfunctools\npartial\ncos\nsystem\n" + u(CMD) + b"\x86R)R."
    for data in (attr, method, partial):
        findings = scan_bytes(tmp_path, data)
        assert any(f"os.system('{CMD}')" in f.evidence for f in findings), findings
        assert worst(findings) is Severity.CRITICAL


def test_memo_confusion_bypass(tmp_path: Path) -> None:
    data = (
        b"\x80\x04" + s("os") + b"q\x00" + s("system") + b"q\x01"
        + s("torch._utils") + b"\x94" + s("_rebuild_tensor_v2") + b"\x94"
        + b"h\x00h\x01\x93" + s(CMD) + b"\x85R."
    )  # fmt: skip
    assert worst(scan_bytes(tmp_path, data)) is Severity.CRITICAL


def test_dotted_names_through_safe_modules(tmp_path: Path) -> None:
    runstring = b"\x80\x04" + s("numpy") + s("testing._private.utils.runstring") + b"\x93"
    runstring += u("print(1)") + b"}\x86R."
    prod_os = b"\x80\x04cnumpy\nprod.os.system\n" + u(CMD) + b"\x85R."
    internal_sys = b"\x80\x04cnumpy.core._internal\nsys.modules\n."
    builtins_dict = (
        b"\x80\x04cbuiltins\ndict.get\ncnumpy\n__builtins__\n" + u("exec") + b"\x86R"
        + u("print(1)") + b"\x85R."
    )  # fmt: skip
    for data in (runstring, prod_os, internal_sys, builtins_dict):
        assert worst(scan_bytes(tmp_path, data)) is Severity.CRITICAL, data


def test_build_rewiring_a_global_then_stack_global(tmp_path: Path) -> None:
    # modelscan #85: BUILD sets numpy.prod.a/b, then STACK_GLOBAL reads them from the memo.
    data = (
        b"\x80\x04cnumpy\nprod\nN(Va\nVos\nVb\nVsystem\nd\x86b0"
        b"cnumpy\nprod.a\np0\n0cnumpy\nprod.b\np1\n0g0\ng1\n\x93" + u(CMD) + b"\x85R."
    )
    findings = scan_bytes(tmp_path, data)
    assert {"GA-PKL-008", "GA-PKL-009", "GA-PKL-004"} <= rules(findings)
    assert worst(findings) is Severity.HIGH


def test_published_gadget_modules_are_critical(tmp_path: Path) -> None:
    gadgets = [
        ("asyncio.unix_events", "_UnixSubprocessTransport"),
        ("pkgutil", "resolve_name"),
        ("_pickle", "loads"),
        ("pip", "main"),
        ("ensurepip", "_run_pip"),
        ("timeit", "timeit"),
        ("cProfile", "run"),
        ("pdb", "run"),
        ("runpy", "_run_code"),
        ("marshal", "loads"),
        ("torch.hub", "load"),
        ("torch.jit", "load"),
        ("numpy.f2py.crackfortran", "getlincoef"),
        ("distutils.file_util", "write_file"),
        ("_io", "FileIO"),
        ("shutil", "rmtree"),
        ("webbrowser", "open"),
        ("uuid", "_get_command_stdout"),
        ("_osx_support", "_read_output"),
        ("mailcap", "findmatch"),
        ("_xxsubinterpreters", "run_string"),
        ("subprocess", "Popen"),
        ("__builtin__", "eval"),
        ("posix", "system"),
        ("nt", "system"),
        ("ctypes", "CDLL"),
        ("socket", "create_connection"),
        ("sklearn.datasets", "fetch_openml"),
    ]
    for module, name in gadgets:
        data = f"c{module}\n{name}\n(S'x'\ntR.".encode()
        findings = scan_bytes(tmp_path, data)
        assert worst(findings) is Severity.CRITICAL, (module, name, findings)


def test_unknown_function_class_and_indirect_call(tmp_path: Path) -> None:
    call = scan_bytes(tmp_path, b"\x80\x02cmylib.tools\nrun_job\nX\x01\x00\x00\x00a\x85R.")
    assert [(f.rule, f.severity) for f in call] == [("GA-PKL-002", Severity.MEDIUM)]
    assert "mylib.tools.run_job('a')" in call[0].evidence
    cls = scan_bytes(tmp_path, b"\x80\x02c__main__\nNet\n)\x81}b.")
    assert [(f.rule, f.severity) for f in cls] == [("GA-PKL-003", Severity.LOW)]
    chained = scan_bytes(tmp_path, b"\x80\x02cmylib\nfactory\n)R)R.")
    assert "GA-PKL-004" in rules(chained) and worst(chained) is Severity.HIGH


def test_extension_codes_are_flagged(tmp_path: Path) -> None:
    findings = scan_bytes(tmp_path, b"\x80\x02\x82\x07)R.")
    assert "GA-PKL-006" in rules(findings)


def test_concatenated_pickles_are_all_scanned(tmp_path: Path) -> None:
    data = pickle.dumps([1, 2], protocol=2) + pickle.dumps(Payload(), protocol=2)
    assert worst(scan_bytes(tmp_path, data)) is Severity.CRITICAL


def test_trailing_bytes_are_info(tmp_path: Path) -> None:
    findings = scan_bytes(tmp_path, pickle.dumps([1, 2], protocol=2) + b"\x00\xffjunk")
    assert [(f.rule, f.severity) for f in findings] == [("GA-PKL-007", Severity.INFO)]


def test_truncated_after_payload_still_reports_it(tmp_path: Path) -> None:
    data = pickle.dumps(Payload(), protocol=2)[:-1] + b"\xff"
    findings = scan_bytes(tmp_path, data)
    assert {"GA-PKL-001", "GA-PKL-005", "GA-SCAN-002"} <= rules(findings)


@pytest.mark.parametrize("wrap", ["plain", "base64", "zlib"])
def test_nested_pickle_payload_is_scanned(tmp_path: Path, wrap: str) -> None:
    inner = pickle.dumps(Payload(), protocol=2)
    if wrap == "plain":
        arg = b"C" + bytes([len(inner)]) + inner
    elif wrap == "base64":
        arg = b"cbase64\nb64decode\n" + u(base64.b64encode(inner).decode()) + b"\x85R"
    else:
        packed = zlib.compress(inner)
        arg = b"czlib\ndecompress\nC" + bytes([len(packed)]) + packed + b"\x85R"
    data = b"\x80\x03cpickle\nloads\n" + arg + b"\x85R."
    findings = scan_bytes(tmp_path, data)
    nested = [f for f in findings if f.location.member and "pickle.loads" in f.location.member]
    assert nested and nested[0].severity is Severity.CRITICAL
    assert f"system('{CMD}')" in nested[0].evidence


def test_nested_payload_from_reduce(tmp_path: Path) -> None:
    findings = scan_bytes(tmp_path, pickle.dumps(NestedPayload(), protocol=0))
    assert any(f.location.member and f"system('{CMD}')" in f.evidence for f in findings)


# --------------------------------------------------------------------------- benign files


def _benign_objects() -> list[object]:
    import collections
    import datetime
    import decimal
    import fractions
    import uuid

    import numpy as np
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]
    from sklearn.tree import DecisionTreeClassifier  # type: ignore[import-untyped]

    x = np.random.default_rng(0).random((30, 3))
    y = np.arange(30) % 2
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)
    return [
        pipe,
        DecisionTreeClassifier(max_depth=2).fit(x, y),
        [np.float64(1.5), np.int32(3), np.bool_(True), np.array(["a", "bc"]), 1 + 2j],
        np.zeros((2, 2), dtype=[("a", "<f4"), ("b", "<i8")]),
        [datetime.datetime(2024, 1, 2), datetime.date(2024, 1, 1), datetime.timedelta(3)],
        [decimal.Decimal("1.1"), fractions.Fraction(1, 3), uuid.UUID(int=5)],
        collections.OrderedDict(a=collections.Counter("ab"), b=collections.deque([1])),
        {1, 2, frozenset([3])},
    ]


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_benign_sklearn_and_stdlib_pickles_have_nothing_at_medium(
    tmp_path: Path, protocol: int
) -> None:
    for obj in _benign_objects():
        findings = scan_bytes(tmp_path, pickle.dumps(obj, protocol=protocol))
        assert all(f.severity < Severity.MEDIUM for f in findings), (obj, findings)


def test_user_classes_are_low(tmp_path: Path) -> None:
    findings = scan_bytes(tmp_path, pickle.dumps(Holder(), protocol=4))
    assert [f.severity for f in findings] == [Severity.LOW]
    assert "Holder" in findings[0].evidence


def test_plain_pickled_tensor_is_low_and_nested_scanned(tmp_path: Path) -> None:
    import torch

    findings = scan_bytes(tmp_path, pickle.dumps(torch.nn.Linear(2, 2).state_dict()))
    assert findings and all(f.severity is Severity.LOW for f in findings)
    assert rules(findings) == {"GA-PKL-011"}


# --------------------------------------------------------------------------- joblib


def test_joblib_benign_files(tmp_path: Path) -> None:
    import joblib  # type: ignore[import-untyped]
    import numpy as np

    obj = {
        "model": _benign_objects()[0],
        "array": np.arange(100, dtype=np.float32).reshape(10, 10),
        "fortran": np.asfortranarray(np.ones((3, 4))),
        "objects": np.array([1, "x", None, (2, 3)], dtype=object),
        "empty": np.zeros((0, 3)),
    }
    for name, compress in (("a.joblib", 0), ("b.joblib.z", 3)):
        path = tmp_path / name
        joblib.dump(obj, path, compress=compress)
        report = scan_path(path)
        assert all(f.severity < Severity.MEDIUM for f in report.findings), report.findings
        assert any(item.format == "pickle" and item.status == "scanned" for item in report.items)


def test_joblib_malicious_attribute_and_object_array(tmp_path: Path) -> None:
    import joblib
    import numpy as np

    model = _benign_objects()[0]
    model.evil = Payload()  # type: ignore[attr-defined]
    joblib.dump(model, tmp_path / "m.joblib")
    joblib.dump({"a": np.array([Payload(), 1], dtype=object), "b": np.ones(5)},
                tmp_path / "o.joblib")  # fmt: skip
    for name in ("m.joblib", "o.joblib"):
        findings = scan_path(tmp_path / name).findings
        assert worst(findings) is Severity.CRITICAL, name
        assert any(f"system('{CMD}')" in f.evidence for f in findings)


# --------------------------------------------------------------------------- API and policy


def _ctx(tmp_path: Path, policy: Policy | None = None) -> ScanContext:
    return ScanContext.for_file(tmp_path / "x.bin", policy or Policy.model_validate({}))


def test_scan_pickle_from_an_offset(tmp_path: Path) -> None:
    header = b"HEADER--"
    stream = io.BytesIO(header + pickle.dumps(Payload(), protocol=2))
    ctx = _ctx(tmp_path)
    end = scan_pickle_from(stream, ctx, len(header))
    assert end == len(stream.getvalue())
    assert any(f.severity is Severity.CRITICAL for f in ctx.findings)


def test_parse_error_is_raised_after_findings(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    with pytest.raises(ParseError):
        scan_pickle(io.BytesIO(pickle.dumps(Payload(), protocol=2)[:-3]), ctx)
    assert any(f.rule == "GA-PKL-001" for f in ctx.findings)


def test_policy_safe_and_unsafe_globals(tmp_path: Path) -> None:
    data = b"\x80\x02cmylib.tools\nrun_job\n)R."
    trusted = Policy.model_validate({"safe_globals": ["mylib.*"]})
    assert scan_bytes(tmp_path, data, trusted) == []
    banned = Policy.model_validate({"unsafe_globals": ["collections.OrderedDict"]})
    findings = scan_bytes(tmp_path, pickle.dumps({1: __import__("collections").OrderedDict()}),
                          banned)  # fmt: skip
    assert worst(findings) is Severity.CRITICAL


def test_limits_become_findings(tmp_path: Path) -> None:
    policy = Policy.model_validate({"limits": {"max_opcodes": 20}})
    findings = scan_bytes(tmp_path, pickle.dumps(list(range(100)), protocol=2), policy)
    assert "GA-SCAN-001" in rules(findings)


def test_enum_of_an_unknown_package_is_a_low_class_instantiation(tmp_path: Path) -> None:
    """training_args.bin style: Enum('steps') pickles as REDUCE(cls, (literal,))."""
    data = b"\x80\x04" + u("transformers.trainer_utils") + u("IntervalStrategy") + b"\x93"
    findings = scan_bytes(tmp_path, data + u("steps") + b"\x85R.")
    assert worst(findings) is Severity.LOW
    assert rules(findings) == {"GA-PKL-003"}


@pytest.mark.parametrize(
    ("tail", "why"),
    [
        (u("somepkg.tools") + u("run_job") + b"\x93" + u("steps") + b"\x85R.", "function"),
        (
            u("somepkg.tools") + u("Runner") + b"\x93" + u("somepkg.tools") + u("helper")
            + b"\x93\x85R.",
            "class given a global",
        ),
    ],
)  # fmt: skip
def test_unknown_calls_that_are_not_plain_instantiations_stay_medium(
    tmp_path: Path, tail: bytes, why: str
) -> None:
    assert worst(scan_bytes(tmp_path, b"\x80\x04" + tail)) is Severity.MEDIUM, why


def test_stdlib_enum_in_a_denied_module_is_not_flagged(tmp_path: Path) -> None:
    import http

    data = pickle.dumps({"status": http.HTTPStatus.OK}, protocol=4)
    assert scan_bytes(tmp_path, data) == []
