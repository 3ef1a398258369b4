"""Keras model configs (v3 .keras config.json, legacy HDF5, model.json): code hidden in layers.

Keras rebuilds a model from its JSON config, and two parts of that config are code:
serialized Python functions (Lambda layers and `__lambda__` objects, marshal bytecode in
base64) and objects named by module path, which older Keras imports on load. The whole
config is walked, not only the layer list, so a function hidden in a preprocessing
layer's option or a custom activation is found too. Nothing is unmarshalled or imported.
"""

from __future__ import annotations

import binascii
import builtins
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from garrison.errors import GarrisonError, LimitExceeded, ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import CODE_EXECUTION_REFS

LAMBDA_LAYER = Rule(
    "GA-KERAS-001",
    "Keras Lambda layer with serialized Python code",
    Severity.CRITICAL,
    "A Lambda layer stores its function as marshalled Python bytecode; loading the model "
    "with safe_mode off (or with old Keras versions) runs that code.",
    "Do not load this model unless you trust its author; replace the Lambda with a "
    "registered custom layer whose code you can review.",
    CODE_EXECUTION_REFS,
)
SERIALIZED_FUNCTION = Rule(
    "GA-KERAS-002",
    "Serialized Python function inside a Keras config",
    Severity.CRITICAL,
    "A `__lambda__` object (or a legacy `*_type: lambda` entry) embeds Python bytecode in "
    "an option of a layer, loss, metric or preprocessing step; Keras rebuilds and calls it "
    "when the model is loaded without safe mode. Scanners that only inspect Lambda layers "
    "miss these.",
    "Treat the model as code from its author; re-create the option with a named, "
    "registered function.",
    CODE_EXECUTION_REFS,
)
FOREIGN_MODULE = Rule(
    "GA-KERAS-003",
    "Keras config references a module outside Keras",
    Severity.HIGH,
    "The config names a class or function by its Python module. Keras versions before "
    "3.9 import such modules on load (CVE-2025-1550), so a config can reach os, "
    "subprocess or any installed package; a custom module also means the model needs "
    "code from outside the file.",
    "Check that the module is yours and installed from a trusted source; for standard "
    "modules such as os or builtins, do not load the model.",
    CODE_EXECUTION_REFS,
)
EMBEDDED_BYTECODE = Rule(
    "GA-KERAS-004",
    "Python bytecode embedded in a Keras config",
    Severity.HIGH,
    "A config string is base64-encoded marshal data of a Python code object. Keras only "
    "needs that for serialized functions, so it is a payload for custom loading code.",
    "Find which component reads this value before loading the model.",
    CODE_EXECUTION_REFS,
)

RULES = (LAMBDA_LAYER, SERIALIZED_FUNCTION, FOREIGN_MODULE, EMBEDDED_BYTECODE)

# Top-level packages whose objects Keras deserializes as part of a normal model.
KERAS_PACKAGES = frozenset(
    {"keras", "keras_hub", "keras_cv", "keras_nlp", "keras_rs", "tf_keras", "tensorflow"}
)
# Modules that give a config direct access to the system: CRITICAL, not just unknown.
DANGEROUS_MODULES = frozenset(
    {
        "os", "posix", "nt", "subprocess", "sys", "builtins", "__builtin__", "shutil",
        "socket", "importlib", "runpy", "pty", "code", "codeop", "ctypes", "pickle",
        "marshal", "webbrowser", "multiprocessing", "signal", "operator", "urllib",
        "http", "requests", "commands", "platform", "asyncio", "tempfile", "pathlib", "io",
    }
)  # fmt: skip
DANGEROUS_BUILTINS = frozenset(
    {
        "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr",
        "globals", "locals", "vars", "input", "breakpoint", "exit", "quit", "help",
        "memoryview", "__loader__", "__build_class__",
    }
)  # fmt: skip
_PYTHON_BUILTINS = frozenset(dir(builtins))
_MARKERS = (b"class_name", b"\\u")  # a config without these has nothing to walk
_BYTECODE_PREFIX = re.compile(r"^[4Y][w-z0-9+/]")  # base64 of 0xe3 / 0x63 ('c' code type)
_MIN_BYTECODE_CHARS = 40
_MARSHAL_STRING = re.compile(rb"[\x5a\x7a\xda\xfa]([\x02-\x7f])|[\x61\x41\x74\x75\xe1\xc1\xf4\xf5]")


def scan_json(stream: BinaryIO, ctx: ScanContext) -> None:
    """A JSON file or member: a Keras config gets walked; any other JSON is ignored."""
    size = stream.seek(0, 2)
    stream.seek(0)
    limit = ctx.limits.max_header_bytes
    if size > limit:
        if _stream_contains(stream, _MARKERS):
            raise LimitExceeded("JSON config bytes", size, limit)
        return
    scan_config_bytes(stream.read(size), ctx, "JSON config")


def scan_hdf5(stream: BinaryIO, ctx: ScanContext) -> None:
    """Legacy Keras .h5: the JSON configs in the root attributes (weights are not read)."""
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a core dependency
        from garrison.errors import MissingExtraError

        raise MissingExtraError("h5py", "keras") from None
    try:
        with h5py.File(stream, "r") as h5:
            configs = [(name, _read_attr(h5, name, ctx)) for name in _CONFIG_ATTRS]
    except GarrisonError:
        raise
    except Exception as exc:  # h5py raises many types on hostile files; all mean malformed
        raise ParseError(f"HDF5 file cannot be read: {type(exc).__name__}: {exc}") from None
    for name, data in configs:
        if data is not None:
            scan_config_bytes(data, ctx, f"HDF5 attribute {name}")


_CONFIG_ATTRS = ("model_config", "training_config")


def _read_attr(h5: Any, name: str, ctx: ScanContext) -> bytes | None:
    """A root attribute as bytes, refusing values larger than the header limit."""
    if name not in h5.attrs:
        return None
    attr_id = h5.attrs.get_id(name)
    limit = ctx.limits.max_header_bytes
    if attr_id.get_storage_size() > limit:
        raise LimitExceeded(f"HDF5 attribute {name} bytes", attr_id.get_storage_size(), limit)
    if attr_id.shape not in ((), (1,)):
        raise ParseError(f"HDF5 attribute {name} has shape {attr_id.shape}, not a string")
    value = h5.attrs[name]
    if hasattr(value, "shape") and value.shape == (1,):
        value = value[0]
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
    if not isinstance(value, bytes):
        raise ParseError(f"HDF5 attribute {name} is {type(value).__name__}, not a string")
    if len(value) > limit:
        raise LimitExceeded(f"HDF5 attribute {name} bytes", len(value), limit)
    return value


def scan_config_bytes(data: bytes | str, ctx: ScanContext, where: str) -> None:
    """Walk one Keras JSON config (also used for configs embedded in other formats)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not any(marker in raw for marker in _MARKERS):
        return
    for document in _parse_documents(raw):
        _Walker(ctx, where).walk(document)


def _parse_documents(raw: bytes) -> list[Any]:
    """One JSON document, or the documents of a JSON Lines file."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"JSON is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        return [_loads(text)]
    except json.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if exc.msg.startswith("Extra data") and len(lines) > 1:
            try:
                return [_loads(line) for line in lines]
            except json.JSONDecodeError:
                pass
        raise ParseError(f"invalid JSON: {exc.msg} at line {exc.lineno}") from None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise LimitExceeded("JSON nesting depth", 1000, 1000) from None


def _stream_contains(stream: BinaryIO, needles: tuple[bytes, ...]) -> bool:
    """Search a large stream in chunks (overlapping so a needle is never split)."""
    overlap = max(len(n) for n in needles)
    tail = b""
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        window = tail + chunk
        if any(n in window for n in needles):
            return True
        tail = window[-overlap:]
    return False


@dataclass(slots=True)
class _Frame:
    value: Any
    path: str
    depth: int
    layer: str


@dataclass(slots=True)
class _Walker:
    """One pass over a config; `claimed` holds code strings already reported."""

    ctx: ScanContext
    where: str
    claimed: set[int] = field(default_factory=set)
    depth_reported: bool = False

    def walk(self, document: Any) -> None:
        stack = [_Frame(document, "", 0, "")]
        while stack:
            frame = stack.pop()
            if frame.depth > self.ctx.limits.max_json_depth:
                self._too_deep(frame)
                continue
            if isinstance(frame.value, dict):
                self._visit(frame.value, frame)
            stack.extend(reversed(list(self._children(frame))))

    def _children(self, frame: _Frame) -> Iterator[_Frame]:
        value = frame.value
        if not isinstance(value, (dict, list)):
            return
        items = value.items() if isinstance(value, dict) else enumerate(value)
        layer = _layer_label(value) if isinstance(value, dict) else None
        for key, child in items:
            path = f"{frame.path}.{key}" if isinstance(key, str) else f"{frame.path}[{key}]"
            if isinstance(child, (dict, list)):
                yield _Frame(child, path, frame.depth + 1, layer or frame.layer)
            elif isinstance(child, str) and len(child) >= _MIN_BYTECODE_CHARS:
                self._check_string(child, path, layer or frame.layer)

    def _visit(self, node: dict[str, Any], frame: _Frame) -> None:
        frame = _Frame(node, frame.path, frame.depth, _layer_label(node) or frame.layer)
        class_name = node.get("class_name")
        if class_name == "Lambda" and isinstance(node.get("config"), dict):
            self._lambda_layer(node["config"], frame)
        elif class_name == "__lambda__":
            self._function(node, frame, "serialized function")
        self._legacy_lambda_options(node, frame)
        if isinstance(class_name, str) and isinstance(node.get("module"), str):
            self._module(node["module"], class_name, node.get("config"), frame)

    def _lambda_layer(self, config: dict[str, Any], frame: _Frame) -> None:
        for option in ("function", "output_shape", "mask"):
            value = _untuple(config.get(option))
            code = _code_of(value)
            legacy = config.get(f"{option}_type") == "lambda"
            if code is not None or legacy:
                self._report_code(LAMBDA_LAYER, value, frame, option, code)
            elif option == "function" and isinstance(value, str):
                module = config.get("module")
                if isinstance(module, str) and config.get("function_type") == "function":
                    self._module(module, "function", value, frame)

    def _function(self, node: dict[str, Any], frame: _Frame, what: str) -> None:
        if id(node) in self.claimed:
            return
        self._report_code(SERIALIZED_FUNCTION, node, frame, what, _code_of(node))

    def _legacy_lambda_options(self, node: dict[str, Any], frame: _Frame) -> None:
        if node.get("class_name") == "Lambda":
            return
        for key, value in node.items():
            if key.endswith("_type") and value == "lambda" and key[:-5] in node:
                target = _untuple(node[key[:-5]])
                if id(target) in self.claimed:
                    continue
                self._report_code(SERIALIZED_FUNCTION, target, frame, key[:-5], _code_of(target))

    def _report_code(
        self, rule: Rule, value: Any, frame: _Frame, option: str, code: str | None
    ) -> None:
        self.claimed.add(id(value))
        if code is not None:
            self.claimed.add(id(code))
        preview = describe_code(code) if code is not None else "code not decodable"
        where = _describe_location(frame, self.where)
        self.ctx.add(rule, f"{where}: {option} is Python bytecode ({preview})")

    def _module(self, module: str, class_name: str, config: Any, frame: _Frame) -> None:
        severity = module_severity(module, class_name, config)
        if severity is None:
            return
        name = config if class_name == "function" and isinstance(config, str) else class_name
        where = _describe_location(frame, self.where)
        self.ctx.add(
            FOREIGN_MODULE, f"{where}: loads {name!r} from module {module!r}", severity=severity
        )

    def _check_string(self, value: str, path: str, layer: str) -> None:
        if id(value) in self.claimed or not _BYTECODE_PREFIX.match(value):
            return
        raw = _b64decode(value)
        if raw is None or not _looks_like_code_object(raw):
            return
        frame = _Frame(value, path, 0, layer)
        where = _describe_location(frame, self.where)
        self.ctx.add(EMBEDDED_BYTECODE, f"{where}: {describe_code(value)}")

    def _too_deep(self, frame: _Frame) -> None:
        if not self.depth_reported:
            from garrison.supplychain.rules import LIMIT_REACHED

            self.depth_reported = True
            limit = self.ctx.limits.max_json_depth
            self.ctx.add(LIMIT_REACHED, f"{self.where}: {frame.path} is nested deeper than {limit}")


def module_severity(module: str, class_name: str, config: Any) -> Severity | None:
    """None for Keras' own modules; CRITICAL for system modules; HIGH for other code."""
    package = module.split(".", 1)[0]
    if package in KERAS_PACKAGES:
        name = config if class_name == "function" and isinstance(config, str) else class_name
        return Severity.HIGH if _is_keras_gadget(module, name) else None
    if package in ("builtins", "__builtin__"):
        name = config if class_name == "function" and isinstance(config, str) else class_name
        if class_name == "function" and name not in _PYTHON_BUILTINS:
            return None  # Keras writes its own built-in functions ("relu") this way
        return Severity.CRITICAL if name in DANGEROUS_BUILTINS else Severity.HIGH
    return Severity.CRITICAL if package in DANGEROUS_MODULES else Severity.HIGH


# Functions inside Keras/TF that a config can name and that touch files, the network or the
# deserialisation switch: published safe_mode bypasses (CVE-2025-8747, CVE-2025-1550).
KERAS_GADGETS = frozenset(
    {
        "get_file", "load_model", "load_weights", "load_img", "image_dataset_from_directory",
        "text_dataset_from_directory", "audio_dataset_from_directory",
        "enable_unsafe_deserialization",
        "set_floatx", "model_from_json", "deserialize_keras_object", "register_keras_serializable",
        "py_function", "numpy_function", "py_func", "read_file", "write_file",
    }
)  # fmt: skip
_KERAS_GADGET_MODULES = (
    "tensorflow.io",
    "tensorflow.python.ops.script_ops",
    "keras.src.utils.file_utils",
)


def _is_keras_gadget(module: str, name: str) -> bool:
    leaf = name.rsplit(".", 1)[-1]
    return leaf in KERAS_GADGETS or module.startswith(_KERAS_GADGET_MODULES)


def describe_code(code: str) -> str:
    """Length, hash and the names/strings inside base64 marshal bytecode (not executed)."""
    raw = _b64decode(code)
    if raw is None:
        raw = code.encode("utf-8", "replace")
    digest = hashlib.sha256(raw).hexdigest()[:16]
    strings = marshal_strings(raw)
    shown = ", ".join(repr(s) for s in strings) if strings else "none readable"
    return f"{len(raw)} bytes, sha256 {digest}…; strings: {shown}"


def marshal_strings(raw: bytes, limit: int = 10) -> list[str]:
    """Printable strings stored in marshal data (names, constants, file names), in order."""
    found: list[str] = []
    for match in _MARSHAL_STRING.finditer(raw):
        text = _marshal_string_at(raw, match)
        if text is not None and text not in found:
            found.append(text[:60])
            if len(found) >= limit:
                break
    return found


def _marshal_string_at(raw: bytes, match: re.Match[bytes]) -> str | None:
    """The string of a marshal string record: short (1-byte length) or long (4-byte)."""
    if match.group(1) is not None:
        start, length = match.end(), match.group(1)[0]
    else:
        start = match.end() + 4
        length = int.from_bytes(raw[match.end() : start], "little")
        if not 2 <= length <= 200:
            return None
    text = raw[start : start + length]
    if len(text) != length or length < 2 or not all(32 <= b < 127 for b in text):
        return None
    return text.decode("ascii")


def _b64decode(text: str) -> bytes | None:
    try:
        return binascii.a2b_base64(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        return None


def _looks_like_code_object(raw: bytes) -> bool:
    # marshal TYPE_CODE ('c', with or without FLAG_REF) then a small argcount
    return len(raw) >= 24 and raw[0] in (0x63, 0xE3) and int.from_bytes(raw[1:5], "little") < 256


def _untuple(value: Any) -> Any:
    """tf.keras json_utils writes tuples as {"class_name": "__tuple__", "items": [...]}."""
    if isinstance(value, dict) and value.get("class_name") == "__tuple__":
        return value.get("items")
    return value


def _code_of(value: Any) -> str | None:
    """The base64 code string of a serialized function, in any of Keras' layouts."""
    if isinstance(value, dict):
        config = value.get("config")
        if value.get("class_name") != "__lambda__" or not isinstance(config, dict):
            return None
        if isinstance(config.get("code"), str):  # Keras 3 Lambda layer
            code: str = config["code"]
            return code
        return _code_of(_untuple(config.get("value")))  # serialization_lib
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
        first: str = value[0]  # legacy (code, defaults, closure)
        return first
    if isinstance(value, str) and _BYTECODE_PREFIX.match(value):
        return value
    return None


def _layer_label(node: dict[str, Any]) -> str | None:
    """'name (ClassName)' for a serialized Keras object that has a name."""
    class_name = node.get("class_name")
    config = node.get("config")
    if not isinstance(class_name, str) or not isinstance(config, dict):
        return None
    name = config.get("name")
    return f"{name[:80]!r} ({class_name[:80]})" if isinstance(name, str) else None


def _describe_location(frame: _Frame, where: str) -> str:
    layer = f"layer {frame.layer} " if frame.layer else ""
    return f"{layer}at {frame.path.lstrip('.') or '(top level)'} ({where})"
