"""TorchScript sources and TorchServe handlers: real models stay quiet, escapes are found."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.errors import GarrisonError
from garrison.findings import Finding, Severity
from garrison.policy import Policy
from garrison.supplychain import scan_path
from garrison.supplychain.context import ScanContext
from garrison.supplychain.torchscript import (
    is_code_member,
    is_tensor_storage,
    scan_code,
    scan_handler_code,
)


def check(source: str) -> list[Finding]:
    ctx = ScanContext.for_file(Path("model.pt"), Policy())
    data = source.encode()
    scan_code(io.BytesIO(data), ctx, len(data))
    return ctx.findings


def by_rule(findings: list[Finding]) -> dict[str, Severity]:
    return {f.rule: f.severity for f in findings}


def _scripted_models(tmp_path: Path) -> list[Path]:
    torch = pytest.importorskip("torch")

    class Branchy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:
                return torch.relu(x * self.w)
            return torch.sigmoid(x) + self.w.sum()

    seq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))
    paths = []
    # torch.jit is deprecated in favour of torch.export, but models saved with it abound.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name, module in (
            ("scripted.pt", torch.jit.script(seq)),
            ("traced.pt", torch.jit.trace(seq, torch.randn(1, 3))),
            ("branchy.pt", torch.jit.script(Branchy())),
        ):
            path = tmp_path / name
            torch.jit.save(module, path)
            paths.append(path)
    return paths


def test_real_torchscript_models_get_no_torchscript_findings(tmp_path: Path) -> None:
    for path in _scripted_models(tmp_path):
        report = scan_path(path)
        ours = [f for f in report.findings if f.rule.startswith(("GA-TORCH", "GA-ZIP"))]
        assert ours == [], path.name
        assert "zip:torchscript" in {i.format for i in report.items}
        assert any(i.format == "python" and i.status == "scanned" for i in report.items)


def test_real_torchscript_models_get_nothing_medium_or_above(tmp_path: Path) -> None:
    # End to end, including the pickle members (data.pkl, constants.pkl, *.debug_pkl).
    for path in _scripted_models(tmp_path):
        report = scan_path(path)
        assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == [], path.name


def _tamper_code(src: Path, dst: Path, code: str) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if is_code_member(info.filename) and "container" in info.filename:
                data = code.encode()
            zout.writestr(info.filename, data)
    return dst


EVIL_FORWARD = """
class Sequential(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
  def forward(self: __torch__.torch.nn.modules.container.Sequential,
    input: Tensor) -> Tensor:
    _0 = torch.ops.aten.from_file("/etc/passwd", False, 4096)
    torch.ops.aten.save(input, "/home/user/.bashrc")
    return input
"""


def test_tampered_torchscript_archive_is_reported(tmp_path: Path) -> None:
    scripted = _scripted_models(tmp_path)[0]
    evil = _tamper_code(scripted, tmp_path / "evil.pt", EVIL_FORWARD)
    report = scan_path(evil)
    escapes = [f for f in report.findings if f.rule == "GA-TORCH-001"]
    assert {f.severity for f in escapes} == {Severity.HIGH}
    evidence = " ".join(f.evidence for f in escapes)
    assert "torch.ops.aten.from_file" in evidence and "torch.ops.aten.save" in evidence
    assert all(f.location.member and f.location.member.endswith(".py") for f in escapes)
    assert escapes[0].location.line == 8


@pytest.mark.parametrize(
    ("source", "severity"),
    [
        ("import os\nos.system('echo garrison-test')\n", Severity.CRITICAL),
        ("def f(x):\n  return __import__('os').system('id')\n", Severity.CRITICAL),
        ("def f(x):\n  return eval('1')\n", Severity.CRITICAL),
        ("def f(x):\n  return open('/etc/passwd')\n", Severity.HIGH),
        ("def f(x):\n  return torch.from_file('/etc/shadow', False, 10)\n", Severity.HIGH),
        ("def f(x):\n  torch.save(x, '/tmp/y')\n", Severity.HIGH),
        ("def f(x):\n  return ops.aten.save.default(x, 'p')\n", Severity.HIGH),
        ("def f(x):\n  return torch.ops.load_library('/tmp/x.so')\n", Severity.HIGH),
        ("def f(x):\n  return getattr(x, '__class__')\n", Severity.HIGH),
        ("def f(x):\n  return subprocess.check_output(['id'])\n", Severity.CRITICAL),
    ],
)
def test_sandbox_escapes(source: str, severity: Severity) -> None:
    assert by_rule(check(source))["GA-TORCH-001"] == severity


def test_memory_primitives_are_medium() -> None:
    source = "def f(x, s):\n  return torch.ops.aten.set_.source_Storage_storage_offset(x, s, 0)\n"
    assert by_rule(check(source)) == {"GA-TORCH-002": Severity.MEDIUM}


def test_custom_operator_namespace_is_low() -> None:
    assert by_rule(check("def f(x):\n  return ops.my_ext.fused(x)\n")) == {
        "GA-TORCH-004": Severity.LOW
    }
    assert check("def f(x):\n  return ops.torchvision.nms(x, x, 0.5)\n") == []


def test_ordinary_code_is_quiet() -> None:
    source = (
        "def f(self, input: Tensor, code: Tensor) -> Tensor:\n"
        "  io = code.sum()\n"
        "  _0 = getattr(self, '0')\n"
        "  _1 = ops.prim.NumToTensor(torch.size(input, 0))\n"
        "  print(io.item())\n"
        "  return torch.linear(input, code, annotate(Optional[Tensor], None))\n"
    )
    assert check(source) == []


def test_unparseable_source_is_medium() -> None:
    found = check("def broken(:\n")
    assert by_rule(found) == {"GA-TORCH-003": Severity.MEDIUM}


def test_member_classifiers() -> None:
    assert is_code_member("m/code/__torch__/torch/nn/modules/linear.py")
    assert not is_code_member("m/code/__torch__.py.debug_pkl")
    assert is_tensor_storage("archive/data/0")
    assert not is_tensor_storage("archive/data.pkl")
    assert not is_tensor_storage("data/0")


def _mar(tmp_path: Path, handler: str) -> Path:
    path = tmp_path / "model.mar"
    manifest = {"model": {"modelName": "m", "handler": "handler.py"}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("MAR-INF/MANIFEST.json", json.dumps(manifest))
        zf.writestr("handler.py", handler)
    return path


def test_torchserve_handler_is_reported_low(tmp_path: Path) -> None:
    handler = "import os\nimport torch\n\ndef handle(data, ctx):\n  return os.path.join('a', 'b')\n"
    report = scan_path(_mar(tmp_path, handler))
    assert {f.rule: f.severity for f in report.findings} == {"GA-TORCH-005": Severity.LOW}
    assert "zip:torchserve" in {i.format for i in report.items}


def test_torchserve_handler_running_commands_is_high(tmp_path: Path) -> None:
    handler = "import subprocess\n\ndef handle(data, ctx):\n  subprocess.run(['id'])\n"
    report = scan_path(_mar(tmp_path, handler))
    finding = next(f for f in report.findings if f.rule == "GA-TORCH-006")
    assert finding.severity == Severity.HIGH
    assert finding.location.member == "handler.py"
    assert finding.location.line == 4


def test_handler_os_system_is_critical() -> None:
    ctx = ScanContext.for_file(Path("h.py"), Policy())
    data = b"import os\nos.system('echo garrison-test')\n"
    scan_handler_code(io.BytesIO(data), ctx, len(data))
    assert [(f.rule, f.severity) for f in ctx.findings] == [("GA-TORCH-006", Severity.CRITICAL)]


@settings(max_examples=200, deadline=None)
@given(source=st.text(max_size=400))
def test_any_source_text_is_handled(source: str) -> None:
    with contextlib.suppress(GarrisonError):
        check(source)
