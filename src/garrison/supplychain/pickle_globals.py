"""What a pickle may import: known-dangerous globals (by family) and known-safe ones.

Allowlist first: anything on neither list is "unknown" and reported by how it is used. The
denylist names families so evidence can say why a global is dangerous.

Published scanner bypasses this policy and `pickle_vm` cover (each has a unit test):
- memo confusion: mixing PUT/BINPUT/MEMOIZE so names come from another slot (picklescan #14,
  the ImaginaryCTF "Safe Pickle" memo trick) - the VM keeps a real memo.
- STACK_GLOBAL names from memo'd non-strings or computed values, BUILD rewriting attributes of a
  module-level object (modelscan #85) - dynamic-global / build-on-global anomalies.
- dotted attribute paths through safe modules: `numpy` + `prod.os.system`,
  `numpy.core._internal` + `sys.modules`, `numpy.__builtins__` (modelscan #89) - every suffix of
  the dotted path is checked, and dunder traversal is dangerous.
- submodules of denied modules (JFrog CVE-2025-10157, `asyncio.unix_events`) - prefix match.
- `pkgutil.resolve_name`, `importlib.import_module`, `builtins.__import__`, `getattr`,
  `operator.attrgetter/itemgetter/methodcaller`, `functools.partial` (GHSA-vvpj-8cmc-gx39,
  GHSA-m273-6v24-x4m4, GHSA-955r-x9j8-7rhh) - denied, and resolved to the final callable.
- nested pickles and code loaders: pickle/_pickle/cPickle, dill, cloudpickle, marshal,
  torch.load/_load_from_bytes, numpy.load, joblib.load (GHSA-84r2-jw7c-4r5q) - denied and the
  embedded bytes are scanned.
- pip/ensurepip/venv (CVE-2025-1716, GHSA-xp4f-hrf8-rxw7), profilers and debuggers running
  strings (profile, cProfile, trace, pdb, bdb, timeit, doctest; GHSA-46h3-79wf-xr6c), idlelib,
  lib2to3, code, network modules (GHSA-hgrh-qx5j-jfwx), file writers (distutils.file_util,
  _io.FileIO, shutil; CVE-2025-10155/10156 family), numpy.f2py, mailcap.findmatch,
  uuid/imaplib/_pyrepl/_osx_support/_aix_support command helpers (CVE-2026-56315),
  _interpreters / _xxsubinterpreters run_string (GHSA-6ggj-6f2q-f7mx).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

# Python 2 module names a protocol 0-2 pickle may use; the unpickler maps them.
_PY2_MODULES = {
    "__builtin__": "builtins",
    "copy_reg": "copyreg",
    "cPickle": "pickle",
    "commands": "subprocess",
    "exceptions": "builtins",
    "urllib2": "urllib.request",
    "httplib": "http.client",
    "cStringIO": "io",
    "StringIO": "io",
}

# Dangerous globals by family. An entry denies the path and everything under it
# ("os" covers os.system and os.path.join); entries with "*" are fnmatch patterns.
DENYLIST: dict[str, tuple[str, ...]] = {
    "code execution": (
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.getattr",
        "builtins.setattr", "builtins.delattr", "builtins.globals", "builtins.locals",
        "builtins.vars", "builtins.__import__", "builtins.breakpoint", "builtins.open",
        "builtins.input", "builtins.help", "builtins.execfile", "builtins.apply",
        "builtins.file", "builtins.reload", "builtins.map", "builtins.filter",
        "builtins.dict.get", "builtins.dict.__getitem__", "builtins.type.__call__",
        "code", "codeop", "types.FunctionType", "types.CodeType", "types.LambdaType",
        "types.MethodType", "dataclasses._create_fn", "dataclasses._FuncBuilder",
        "_interpreters", "_xxsubinterpreters", "interpreters", "concurrent.interpreters",
        "numexpr", "pandas.eval", "pandas.core.computation", "sympy.sympify",
        "sympy.parsing", "jinja2", "yaml", "logging.config", "tkinter", "_tkinter",
        "IPython", "ipykernel", "gc", "inspect", "sys", "site", "atexit", "signal",
        "threading", "_thread", "weakref.finalize", "copyreg.add_extension",
    ),
    "process spawning": (
        "os", "posix", "nt", "subprocess", "_posixsubprocess", "_winapi", "pty",
        "platform.popen", "platform._syscmd_file", "popen2", "multiprocessing",
        "concurrent.futures", "asyncio", "uuid._get_command_stdout", "uuid._popen",
        "imaplib.IMAP4_stream", "_pyrepl", "pydoc", "_osx_support", "_aix_support",
        "mailcap", "webbrowser", "ctypes", "_ctypes", "cffi", "fcntl", "termios", "mmap",
    ),
    "file write or delete": (
        "shutil", "tempfile", "io.open", "io.FileIO", "io.open_code", "_io.open",
        "_io.FileIO", "_io.open_code", "codecs.open", "fileinput", "distutils",
        "setuptools", "compileall", "py_compile", "zipfile.ZipFile.extractall",
        "tarfile.TarFile.extractall", "pathlib.*.write_*", "pathlib.*.unlink",
        "pathlib.*.rmdir", "pathlib.*.rename", "pathlib.*.replace", "pathlib.*.touch",
        "pathlib.*.mkdir", "pathlib.*.symlink_to", "pathlib.*.hardlink_to",
        "pathlib.*.chmod", "pathlib.*.open", "numpy.save*", "numpy.tofile",
        "numpy.ndarray.tofile", "numpy.ndarray.dump", "numpy.fromfile", "shelve", "dbm",
        "sqlite3", "_sqlite3",
    ),
    "network access": (
        "socket", "_socket", "ssl", "urllib", "http", "requests", "httpx", "aiohttp",
        "ftplib", "smtplib", "poplib", "imaplib", "nntplib", "telnetlib", "xmlrpc",
        "socketserver", "huggingface_hub", "*.from_pretrained", "sklearn.datasets.fetch_*",
    ),
    "import machinery": (
        "importlib", "imp", "pkgutil", "zipimport", "runpy", "builtins.__loader__",
        "pip", "ensurepip", "venv", "lib2to3", "idlelib",
    ),
    "debugger or profiler": (
        "pdb", "bdb", "cProfile", "profile", "trace", "timeit", "doctest", "cgitb",
    ),
    "nested deserialisation": (
        "pickle", "_pickle", "pickletools", "dill", "cloudpickle", "marshal", "joblib.load",
        "joblib.numpy_pickle.load", "joblib.numpy_pickle._unpickle",
        "joblib.numpy_pickle_compat", "numpy.load", "numpy.lib.npyio.load",
        "numpy.lib._npyio_impl.load", "numpy.lib.format.read_array",
        "numpy.lib.format.open_memmap", "pandas.read_pickle", "pandas.io",
        "torch.load", "torch.serialization.load", "torch.serialization._load",
        "torch.serialization._legacy_load", "torch.storage._load_from_bytes",
        "torch.jit", "torch.hub", "torch.package", "keras.models.load_model",
        "keras.saving", "tensorflow.keras.models.load_model", "sklearn.externals",
    ),
    "known gadget": (
        "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.ctypeslib",
        "torch._C", "torch.fx", "torch._dynamo", "torch._inductor", "torch.compile",
        "torch.utils.cpp_extension", "torch.utils.bottleneck", "torch.utils.collect_env",
        "torch.distributed", "torch.ops", "torch._ops",
        "torch.utils.data.datapipes", "tensorflow.io", "tensorflow.python.ops.script_ops",
        "operator", "_operator", "functools", "itertools", "sklearn.utils._testing",
        "sklearn.utils._show_versions", "fickling", "picklescan", "modelscan",
    ),
}  # fmt: skip

# Known-safe globals real checkpoints use; entries with "*" are fnmatch patterns.
ALLOWLIST: tuple[str, ...] = (
    # builtins and the standard library's plain data types
    "builtins.object", "builtins.dict", "builtins.list", "builtins.tuple", "builtins.set",
    "builtins.frozenset", "builtins.bytes", "builtins.bytearray", "builtins.str",
    "builtins.int", "builtins.float", "builtins.complex", "builtins.bool", "builtins.range",
    "builtins.slice", "builtins.xrange", "builtins.unicode", "builtins.long",
    "builtins.Ellipsis", "builtins.NotImplemented",
    "collections.OrderedDict", "collections.defaultdict", "collections.deque",
    "collections.Counter", "copyreg._reconstructor", "copyreg.__newobj__",
    "copyreg.__newobj_ex__", "_codecs.encode",
    "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
    "datetime.timezone", "zoneinfo.ZoneInfo", "zoneinfo._common.*", "decimal.Decimal",
    "fractions.Fraction", "uuid.UUID", "uuid.SafeUUID", "re._compile", "re.Pattern",
    "pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePath",
    "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "types.SimpleNamespace",
    # numpy
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
    "numpy.ndarray", "numpy.dtype", "numpy.dtypes.*", "numpy.matrix", "numpy.memmap",
    "numpy.recarray", "numpy.record", "numpy.ma.core._mareconstruct",
    "numpy.ma.core.MaskedArray", "numpy.random._pickle.*", "numpy.random._mt19937.MT19937",
    "numpy.random._pcg64.PCG64", "numpy.random._pcg64.PCG64DXSM",
    "numpy.random._philox.Philox", "numpy.random._sfc64.SFC64",
    "numpy.random.mtrand.RandomState", "numpy.random._generator.Generator",
    "numpy.random.bit_generator.SeedSequence",
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
    "numpy.bool_", "numpy.bool", "numpy.int8", "numpy.int16", "numpy.int32", "numpy.int64",
    "numpy.uint8", "numpy.uint16", "numpy.uint32", "numpy.uint64", "numpy.float16",
    "numpy.float32", "numpy.float64", "numpy.longdouble", "numpy.complex64",
    "numpy.complex128", "numpy.clongdouble", "numpy.str_", "numpy.bytes_", "numpy.void",
    "numpy.object_", "numpy.datetime64", "numpy.timedelta64", "numpy.intc", "numpy.uintc",
    "numpy.intp", "numpy.uintp", "numpy.longlong", "numpy.ulonglong", "numpy.half",
    "numpy.single", "numpy.double",
    # torch
    "torch._utils._rebuild_*", "torch._tensor._rebuild_from_type",
    "torch._tensor._rebuild_from_type_v2", "torch.Tensor", "torch.Size", "torch.device",
    "torch.dtype", "torch.nn.parameter.*", "torch.nn.modules.*", "torch.nn.functional.*",
    "torch.nn.utils.parametrizations.*", "torch.nn.utils.parametrize.*",
    "torch.optim.*", "torch.amp.grad_scaler.GradScaler", "torch.cuda.amp.grad_scaler.*",
    "torch.serialization._get_layout", "torch.*Storage", "torch.storage.TypedStorage",
    "torch.storage.UntypedStorage", "torch.float*", "torch.bfloat16", "torch.half",
    "torch.double", "torch.complex*", "torch.cfloat", "torch.cdouble", "torch.int*",
    "torch.uint*", "torch.long", "torch.short", "torch.bool", "torch.quint*", "torch.qint*",
    "torch.bits*", "torch.strided", "torch.sparse_*", "torch._mkldnn", "torch.jagged",
    "torch.contiguous_format", "torch.channels_last", "torch.channels_last_3d",
    "torch.preserve_format", "torch.per_tensor_affine", "torch.per_channel_affine",
    "torch.per_tensor_symmetric", "torch.per_channel_symmetric",
    "torch.per_channel_affine_float_qparams",
    # scientific Python estimators and containers
    "sklearn.*", "scipy.sparse.*", "joblib.numpy_pickle.NumpyArrayWrapper",
    # TorchScript archives name their compiled classes __torch__.*; torch.jit.load binds
    # them to the archive's code/ files, which the TorchScript scanner checks.
    "__torch__.*",
)  # fmt: skip

# Exact names inside denied modules that are plain data helpers (TorchScript's unpickler).
ALLOW_OVERRIDES: frozenset[str] = frozenset(
    {
        "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist",
        "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
        "torch.jit._pickle.build_tensor_from_id", "torch.jit._pickle.restore_type_tag",
        # numpy's own reconstructors for RandomState/Generator (sklearn estimators hold them)
        "numpy.random._pickle.__bit_generator_ctor", "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__generator_ctor",
        # plain enums that live in modules denied as a whole
        "http.HTTPStatus", "http.HTTPMethod",
    }
)  # fmt: skip

# Safe functions that call one of their arguments: (name, index of the callable argument).
APPLY_ARGUMENT: dict[str, int] = {
    "torch._tensor._rebuild_from_type_v2": 0,
    "copyreg._reconstructor": 1,  # base.__new__(cls)
}
# Safe functions that only instantiate the class given as an argument.
CLASS_ARGUMENT: dict[str, int] = {
    "copyreg._reconstructor": 0,
    "copyreg.__newobj__": 0,
    "copyreg.__newobj_ex__": 0,
    "torch._tensor._rebuild_from_type_v2": 1,
    "torch._utils._rebuild_wrapper_subclass": 0,
    "numpy.core.multiarray._reconstruct": 0,
    "numpy._core.multiarray._reconstruct": 0,
}
# Functions that turn strings into objects: the call resolves to the named global.
RESOLVERS: frozenset[str] = frozenset(
    {
        "importlib.import_module", "builtins.__import__", "pkgutil.resolve_name",
        "importlib.__import__", "numpy.core._ufunc_reconstruct",
        "numpy._core._ufunc_reconstruct", "numpy.core._internal._ufunc_reconstruct",
    }
)  # fmt: skip
GETATTR: frozenset[str] = frozenset({"builtins.getattr", "operator.attrgetter"})
# Loaders whose bytes argument is another model file or pickle; scanned as nested payloads.
PICKLE_LOADERS: frozenset[str] = frozenset(
    {
        "pickle.loads", "pickle.load", "pickle._loads", "pickle._load", "_pickle.loads",
        "_pickle.load", "pickle.Unpickler", "_pickle.Unpickler", "dill.loads", "dill.load",
        "dill._dill.loads", "cloudpickle.loads", "cloudpickle.load",
    }
)  # fmt: skip
FILE_LOADERS: frozenset[str] = frozenset(
    {
        "torch.load", "torch.serialization.load", "torch.storage._load_from_bytes",
        "numpy.load", "numpy.lib.npyio.load", "numpy.lib._npyio_impl.load", "joblib.load",
        "joblib.numpy_pickle.load", "pandas.read_pickle",
    }
)  # fmt: skip
# Functions a loader argument may pass through; evaluated statically (bounded).
BYTE_TRANSFORMS: frozenset[str] = frozenset(
    {
        "_codecs.encode", "codecs.encode", "codecs.decode", "_codecs.decode",
        "base64.b64decode", "base64.standard_b64decode", "base64.urlsafe_b64decode",
        "base64.b32decode", "base64.b16decode", "base64.a85decode", "base64.b85decode",
        "base64.decodebytes", "binascii.a2b_base64", "binascii.unhexlify",
        "binascii.a2b_hex", "builtins.bytes.fromhex", "zlib.decompress", "gzip.decompress",
        "bz2.decompress", "lzma.decompress", "io.BytesIO", "_io.BytesIO", "builtins.bytes",
        "builtins.bytearray",
    }
)  # fmt: skip
# Dunder names that are ordinary in real pickles.
_BENIGN_DUNDERS = frozenset({"__newobj__", "__newobj_ex__", "__main__", "__builtin__"})


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # dangerous, safe, unknown
    family: str = ""
    matched: str = ""


SAFE = Verdict("safe")
UNKNOWN = Verdict("unknown")


def canonical(module: str, name: str) -> str:
    """The dotted path a global names, with Python 2 module names mapped."""
    top, _, rest = module.partition(".")
    mapped = _PY2_MODULES.get(top)
    if mapped is not None:
        module = mapped + ("." + rest if rest else "")
    return f"{module}.{name}" if name else module


class GlobalPolicy:
    """Classify dotted global paths; built once per scan from the user's policy."""

    def __init__(self, safe_extra: Iterable[str] = (), unsafe_extra: Iterable[str] = ()) -> None:
        self.safe_extra = tuple(safe_extra)
        self.unsafe_extra = tuple(unsafe_extra)

    def classify(self, path: str, module_parts: int = 1) -> Verdict:
        """Verdict for `path`; attribute suffixes after `module_parts` are checked too."""
        for pattern in self.unsafe_extra:
            if _matches(path, pattern):
                return Verdict("dangerous", "policy unsafe_globals", pattern)
        if path in ALLOW_OVERRIDES:
            return SAFE
        danger = _dangerous(path, module_parts)
        if danger is not None:
            return danger
        for pattern in self.safe_extra:
            if _matches(path, pattern):
                return SAFE
        return SAFE if _allowed(path) else UNKNOWN


@lru_cache(maxsize=4096)
def _dangerous(path: str, module_parts: int) -> Verdict | None:
    parts = path.split(".")
    for index, part in enumerate(parts):
        dunder = part.startswith("__") and part.endswith("__")
        if index and dunder and part not in _BENIGN_DUNDERS:
            return Verdict("dangerous", "attribute traversal", part)
    # The attribute part of a dotted name can walk into another module (numpy.prod.os.system).
    starts = [0, *range(max(module_parts, 1), len(parts) - 1)]
    for start in starts:
        suffix = ".".join(parts[start:])
        for family, entries in DENYLIST.items():
            for entry in entries:
                if _matches(suffix, entry):
                    return Verdict("dangerous", family, entry)
    return None


@lru_cache(maxsize=4096)
def _allowed(path: str) -> bool:
    return any(_matches(path, entry) for entry in ALLOWLIST)


def _matches(path: str, entry: str) -> bool:
    if entry.endswith(".*") and "*" not in entry[:-2]:
        return path.startswith(entry[:-1])
    if "*" in entry:
        return fnmatchcase(path, entry)
    return path == entry or path.startswith(entry + ".")


def family_of(path: str) -> str:
    verdict = _dangerous(path, 1)
    return verdict.family if verdict else ""
