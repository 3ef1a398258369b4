"""A symbolic pickle machine: runs the opcode program over symbolic values, never Python objects.

Every import (GLOBAL / STACK_GLOBAL / INST) and every call (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ)
is recorded with its symbolic arguments, so the policy in `pickle_globals` can judge what a real
unpickler would run. Names reached through the memo or built on the stack resolve like they do in
CPython. Everything read from the input is bounded by the scan limits.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from garrison.errors import GarrisonError, LimitExceeded, ParseError

KEEP_BYTES = 64 * 1024  # longer strings keep a prefix; the full value is re-read on demand
MAX_GLOBAL_LINE = 4096  # a module or attribute name
MAX_NUMBER_LINE = 8192  # INT / LONG / FLOAT text (CPython rejects ints over 4300 digits)
MAX_LONG_BYTES = 4096  # LONG1 / LONG4 payload kept as a number
CONTAINER_KEEP = 10_000  # items kept per container; calls inside are recorded regardless
HIGHEST_PROTOCOL = 5

# --------------------------------------------------------------------------- values


class Value:
    """A symbolic value on the pickle stack."""

    __slots__ = ()


@dataclass(slots=True, eq=False)
class Const(Value):
    """A literal. Long strings keep a prefix; `origin` locates the full encoded value."""

    value: object
    truncated: bool = False
    origin: tuple[int, int, str] | None = None  # (offset, length, how it is encoded)


@dataclass(slots=True, eq=False)
class GlobalRef(Value):
    module: str
    name: str
    offset: int
    opcode_index: int
    proto: int = 0

    @property
    def full(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(slots=True, eq=False)
class CallResult(Value):
    """The result of calling `func` with `args`: an object built or a function's return."""

    func: Value
    args: Value
    kind: str  # reduce, newobj, newobj_ex, inst, obj
    record: int  # index into Program.calls
    kwargs: Value | None = None
    state: Value | None = None


@dataclass(slots=True, eq=False)
class Container(Value):
    kind: str  # list, tuple, dict, set, frozenset
    items: list[Value] = field(default_factory=list)  # dicts: key, value, key, value...
    length: int = 0

    def add(self, *values: Value) -> None:
        self.length += len(values) // 2 if self.kind == "dict" else len(values)
        if len(self.items) < CONTAINER_KEEP:
            self.items.extend(values)

    def pairs(self) -> list[tuple[Value, Value]]:
        return list(zip(self.items[0::2], self.items[1::2], strict=False))


@dataclass(slots=True, eq=False)
class Persistent(Value):
    pid: Value


@dataclass(slots=True, eq=False)
class Opaque(Value):
    what: str


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class CallRecord:
    func: Value
    args: Value
    kind: str
    offset: int
    opcode_index: int
    kwargs: Value | None = None


@dataclass(slots=True)
class Anomaly:
    kind: str  # dynamic-global, build-on-global, ext-code, joblib, frame...
    message: str
    offset: int
    opcode_index: int


@dataclass(slots=True)
class Program:
    """What one pickle (up to its STOP) does, as far as it parsed."""

    start: int
    end: int = 0
    protocol: int = 0
    opcodes: int = 0
    result: Value | None = None
    complete: bool = False
    globals: list[GlobalRef] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    # joblib: object arrays carry a whole pickle inline; analysed as sub-programs.
    inline: list[Program] = field(default_factory=list)
    error: GarrisonError | None = None


@dataclass(slots=True)
class VMLimits:
    max_bytes: int
    max_stack: int
    spend_opcodes: Callable[[int], None]
    joblib: bool = True
    sniff: bool = False  # looks_like_pickle: stricter names, no joblib emulation
    opcode_batch: int = 256  # opcodes charged to spend_opcodes at a time


# --------------------------------------------------------------------------- reader


class Reader:
    """Bounded reads from a seekable stream; `pos` is absolute."""

    def __init__(self, stream: BinaryIO, start: int, max_bytes: int) -> None:
        self.stream = stream
        stream.seek(0, 2)
        self.size = stream.tell()
        self.pos = start
        self.limit = min(self.size, start + max_bytes)
        self.capped = self.limit < self.size and start + max_bytes < self.size
        self.max_bytes = max_bytes
        stream.seek(start)
        # joblib writes array bytes past the end of the current frame (see _raw_skip)
        self.frame_end: int | None = None
        self.deferred = 0

    def _need(self, n: int) -> None:
        if self.pos + n > self.limit:
            if self.capped and self.pos + n > self.limit:
                raise LimitExceeded("pickle bytes", self.pos + n - self.limit, self.max_bytes)
            raise ParseError(f"pickle truncated at byte {self.pos} (needs {n} more bytes)")

    def _sync(self) -> None:
        if self.frame_end is not None and self.pos >= self.frame_end:
            self.frame_end = None
            if self.deferred:
                self.pos += self.deferred
                self.deferred = 0
                self.stream.seek(self.pos)

    def read(self, n: int) -> bytes:
        # The hot path of every opcode: the checks of _sync and _need inlined.
        frame_end = self.frame_end
        if frame_end is not None and self.pos >= frame_end:
            self._sync()
        if self.pos + n > self.limit:
            self._need(n)
        data = self.stream.read(n)
        if len(data) != n:
            raise ParseError(f"pickle truncated at byte {self.pos}")
        self.pos += n
        return data

    def read_blob(self, n: int) -> tuple[bytes, bool, int, int]:
        """Read n bytes, keeping at most KEEP_BYTES: (kept, truncated, offset, length)."""
        self._sync()
        self._need(n)
        offset = self.pos
        if n <= KEEP_BYTES:
            return self.read(n), False, offset, n
        kept = self.stream.read(KEEP_BYTES)
        self.pos += n
        self.stream.seek(self.pos)
        return kept, True, offset, n

    def readline(self, maximum: int) -> tuple[bytes, bool, int, int]:
        """Read to a newline: (kept prefix without newline, truncated, offset, length)."""
        self._sync()
        offset = self.pos
        kept = bytearray()
        length = 0
        while True:
            chunk = self.stream.read(min(64 * 1024, max(self.limit - self.pos, 0)))
            if not chunk:
                self._need(1)
                raise ParseError(f"pickle line at byte {offset} has no end")
            cut = chunk.find(b"\n")
            part = chunk if cut < 0 else chunk[:cut]
            if len(kept) < maximum:
                kept += part[: maximum - len(kept)]
            length += len(part)
            if cut >= 0:
                self.pos += cut + 1
                self.stream.seek(self.pos)
                return bytes(kept), length > maximum, offset, length
            self.pos += len(chunk)

    def raw_skip(self, n: int) -> int:
        """Skip n bytes of non-pickle data as joblib reads them; returns where they start.

        The pure-Python unpickler joblib uses buffers a whole frame, so raw reads happen at
        the file position after the current frame, and the frame's remaining opcodes follow.
        """
        if self.frame_end is not None and self.pos < self.frame_end:
            where = self.frame_end + self.deferred
            if where + n > self.limit:
                raise ParseError(f"pickle truncated: joblib array data at byte {where}")
            self.deferred += n
            return where
        self._sync()
        where = self.pos
        self._need(n)
        self.pos += n
        self.stream.seek(self.pos)
        return where

    def raw_read(self, n: int) -> bytes:
        where = self.raw_skip(n)
        self.stream.seek(where)
        data = self.stream.read(n)
        self.stream.seek(self.pos)
        return data


# --------------------------------------------------------------------------- opcodes

# opcode byte -> (name, argument kind); names follow pickletools.
OPCODES: dict[int, tuple[str, str]] = {
    ord(k): v
    for k, v in {
        "(": ("MARK", ""), ".": ("STOP", ""), "0": ("POP", ""), "1": ("POP_MARK", ""),
        "2": ("DUP", ""), "F": ("FLOAT", "line"), "I": ("INT", "line"), "J": ("BININT", "i4"),
        "K": ("BININT1", "u1"), "L": ("LONG", "line"), "M": ("BININT2", "u2"),
        "N": ("NONE", ""), "P": ("PERSID", "line"), "Q": ("BINPERSID", ""),
        "R": ("REDUCE", ""), "S": ("STRING", "strline"), "T": ("BINSTRING", "len4"),
        "U": ("SHORT_BINSTRING", "len1"), "V": ("UNICODE", "strline"),
        "X": ("BINUNICODE", "len4"), "a": ("APPEND", ""), "b": ("BUILD", ""),
        "c": ("GLOBAL", "global"), "d": ("DICT", ""), "}": ("EMPTY_DICT", ""),
        "e": ("APPENDS", ""), "g": ("GET", "line"), "h": ("BINGET", "u1"),
        "i": ("INST", "global"), "j": ("LONG_BINGET", "u4"), "l": ("LIST", ""),
        "]": ("EMPTY_LIST", ""), "o": ("OBJ", ""), "p": ("PUT", "line"),
        "q": ("BINPUT", "u1"), "r": ("LONG_BINPUT", "u4"), "s": ("SETITEM", ""),
        "t": ("TUPLE", ""), ")": ("EMPTY_TUPLE", ""), "u": ("SETITEMS", ""),
        "G": ("BINFLOAT", "f8"), "B": ("BINBYTES", "len4"), "C": ("SHORT_BINBYTES", "len1"),
        "\x80": ("PROTO", "u1"), "\x81": ("NEWOBJ", ""), "\x82": ("EXT1", "u1"),
        "\x83": ("EXT2", "u2"), "\x84": ("EXT4", "i4"), "\x85": ("TUPLE1", ""),
        "\x86": ("TUPLE2", ""), "\x87": ("TUPLE3", ""), "\x88": ("NEWTRUE", ""),
        "\x89": ("NEWFALSE", ""), "\x8a": ("LONG1", "len1"), "\x8b": ("LONG4", "len4"),
        "\x8c": ("SHORT_BINUNICODE", "len1"), "\x8d": ("BINUNICODE8", "len8"),
        "\x8e": ("BINBYTES8", "len8"), "\x8f": ("EMPTY_SET", ""), "\x90": ("ADDITEMS", ""),
        "\x91": ("FROZENSET", ""), "\x92": ("NEWOBJ_EX", ""), "\x93": ("STACK_GLOBAL", ""),
        "\x94": ("MEMOIZE", ""), "\x95": ("FRAME", "u8"), "\x96": ("BYTEARRAY8", "len8"),
        "\x97": ("NEXT_BUFFER", ""), "\x98": ("READONLY_BUFFER", ""),
    }.items()
}  # fmt: skip

_FIXED = {
    kind: struct.Struct(fmt)
    for kind, fmt in {
        "u1": "<B",
        "u2": "<H",
        "u4": "<I",
        "i4": "<i",
        "u8": "<Q",
        "f8": ">d",
    }.items()
}
_LEN = {
    kind: struct.Struct(fmt) for kind, fmt in {"len1": "<B", "len4": "<I", "len8": "<Q"}.items()
}
_BYTES_OPS = {"BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"}
_STR8_OPS = {"BINSTRING", "SHORT_BINSTRING"}  # 8-bit strings: latin-1 is lossless
JOBLIB_WRAPPERS = {
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
}


def _identifier_path(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


# --------------------------------------------------------------------------- machine


class Machine:
    """Runs one pickle program symbolically. Use `analyse` rather than this class."""

    def __init__(self, reader: Reader, limits: VMLimits) -> None:
        self.reader = reader
        self.limits = limits
        self.stack: list[Value] = []
        self.metastack: list[list[Value]] = []
        self.memo: dict[int, Value] = {}
        self.program = Program(start=reader.pos)
        self.op_offset = reader.pos
        self.op_index = 0

    # ---- stack helpers
    def push(self, value: Value) -> None:
        if len(self.stack) >= self.limits.max_stack:
            raise LimitExceeded("pickle stack depth", len(self.stack) + 1, self.limits.max_stack)
        self.stack.append(value)

    def pop(self) -> Value:
        if not self.stack:
            raise ParseError(f"pickle stack underflow at byte {self.op_offset}")
        return self.stack.pop()

    def top(self) -> Value:
        if not self.stack:
            raise ParseError(f"pickle stack underflow at byte {self.op_offset}")
        return self.stack[-1]

    def pop_mark(self) -> list[Value]:
        if not self.metastack:
            raise ParseError(f"pickle MARK missing at byte {self.op_offset}")
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def anomaly(self, kind: str, message: str) -> None:
        self.program.anomalies.append(Anomaly(kind, message, self.op_offset, self.op_index))

    def call(self, func: Value, args: Value, kind: str, kwargs: Value | None = None) -> None:
        record = CallRecord(func, args, kind, self.op_offset, self.op_index, kwargs)
        self.program.calls.append(record)
        self.push(CallResult(func, args, kind, len(self.program.calls) - 1, kwargs))

    def global_ref(self, module: str, name: str) -> GlobalRef:
        if self.limits.sniff and not (_identifier_path(module) and _identifier_path(name)):
            raise ParseError("global name is not an identifier")
        ref = GlobalRef(module, name, self.op_offset, self.op_index, self.program.protocol)
        self.program.globals.append(ref)
        return ref

    # ---- main loop
    def run(self) -> Program:
        program = self.program
        reader = self.reader
        unspent = 0
        batch = self.limits.opcode_batch
        try:
            while True:
                frame_end = reader.frame_end
                if frame_end is not None and reader.pos >= frame_end:
                    reader._sync()
                self.op_offset = reader.pos
                code = reader.read(1)[0]
                program.opcodes += 1
                unspent += 1
                if unspent >= batch:
                    self.limits.spend_opcodes(unspent)
                    unspent = 0
                if code == 0x2E:  # STOP
                    program.result = self.pop()
                    program.complete = True
                    break
                entry = _HANDLERS.get(code)
                if entry is None:
                    raise ParseError(f"invalid pickle opcode 0x{code:02x} at byte {self.op_offset}")
                name, argkind, handler = entry
                handler(self, self.read_arg(name, argkind))
                self.op_index += 1
        except (ParseError, LimitExceeded) as exc:
            program.error = exc
        program.end = self.reader.pos
        if unspent and program.error is None:
            try:
                self.limits.spend_opcodes(unspent)
            except LimitExceeded as exc:
                program.error = exc
        return program

    def read_arg(self, name: str, kind: str) -> object:
        reader = self.reader
        if not kind:
            return None
        fixed = _FIXED.get(kind)
        if fixed is not None:
            return fixed.unpack(reader.read(fixed.size))[0]
        length = _LEN.get(kind)
        if length is not None:
            (n,) = length.unpack(reader.read(length.size))
            if name in ("BINSTRING", "BINUNICODE") and n > 0x7FFFFFFF and kind == "len4":
                raise ParseError(f"{name} length is negative at byte {self.op_offset}")
            if name in ("LONG1", "LONG4"):
                return self.read_long(n)
            return reader.read_blob(n)
        if kind == "global":
            return (self.read_name_line(), self.read_name_line())
        if kind == "strline":
            return reader.readline(KEEP_BYTES)
        data, truncated, _, _ = reader.readline(MAX_NUMBER_LINE)
        if truncated:
            raise ParseError(f"{name} argument too long at byte {self.op_offset}")
        return data

    def read_name_line(self) -> str:
        data, truncated, _, _ = self.reader.readline(MAX_GLOBAL_LINE)
        if truncated:
            raise ParseError(f"global name too long at byte {self.op_offset}")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError(f"global name is not UTF-8 at byte {self.op_offset}") from None

    def read_long(self, n: int) -> Const:
        if n > MAX_LONG_BYTES:
            _, _, offset, _ = self.reader.read_blob(n)
            return Const(0, truncated=True, origin=(offset, n, "long"))
        return Const(int.from_bytes(self.reader.read(n), "little", signed=True))

    # ---- literals
    def op_NONE(self, _: object) -> None:
        self.push(Const(None))

    def op_NEWTRUE(self, _: object) -> None:
        self.push(Const(True))

    def op_NEWFALSE(self, _: object) -> None:
        self.push(Const(False))

    def op_BININT(self, arg: object) -> None:
        self.push(Const(arg))

    op_BININT1 = op_BININT2 = op_BINFLOAT = op_BININT

    def op_LONG1(self, arg: object) -> None:
        assert isinstance(arg, Const)
        self.push(arg)

    op_LONG4 = op_LONG1

    def op_INT(self, arg: object) -> None:
        assert isinstance(arg, bytes)
        if arg in (b"00", b"01"):
            self.push(Const(arg == b"01"))
            return
        self.push(Const(_parse_int(arg, self.op_offset)))

    def op_LONG(self, arg: object) -> None:
        assert isinstance(arg, bytes)
        self.push(Const(_parse_int(arg.rstrip(b"L"), self.op_offset)))

    def op_FLOAT(self, arg: object) -> None:
        assert isinstance(arg, bytes)
        try:
            self.push(Const(float(arg)))
        except ValueError:
            raise ParseError(f"bad FLOAT at byte {self.op_offset}") from None

    def blob_const(self, name: str, arg: object) -> Const:
        assert isinstance(arg, tuple)
        data, truncated, offset, length = arg
        if name in _BYTES_OPS:
            return Const(data, truncated, (offset, length, "bytes"))
        if name in _STR8_OPS:
            return Const(data.decode("latin-1"), truncated, (offset, length, "latin-1"))
        try:
            text = data.decode("utf-8", "ignore" if truncated else "surrogatepass")
        except UnicodeDecodeError:
            raise ParseError(f"{name} is not UTF-8 at byte {self.op_offset}") from None
        return Const(text, truncated, (offset, length, "utf-8"))

    def op_BINBYTES(self, arg: object) -> None:
        self.push(self.blob_const("BINBYTES", arg))

    op_SHORT_BINBYTES = op_BINBYTES8 = op_BYTEARRAY8 = op_BINBYTES

    def op_BINSTRING(self, arg: object) -> None:
        self.push(self.blob_const("BINSTRING", arg))

    op_SHORT_BINSTRING = op_BINSTRING

    def op_BINUNICODE(self, arg: object) -> None:
        self.push(self.blob_const("BINUNICODE", arg))

    op_SHORT_BINUNICODE = op_BINUNICODE8 = op_BINUNICODE

    def op_STRING(self, arg: object) -> None:
        assert isinstance(arg, tuple)
        data, truncated, offset, length = arg
        self.push(Const(_decode_string_line(data, truncated, self.op_offset), truncated,
                        (offset, length, "string-line")))  # fmt: skip

    def op_UNICODE(self, arg: object) -> None:
        assert isinstance(arg, tuple)
        data, truncated, offset, length = arg
        try:
            text = codecs.decode(data, "raw-unicode-escape", "ignore" if truncated else "strict")
        except UnicodeDecodeError:
            raise ParseError(f"bad UNICODE at byte {self.op_offset}") from None
        self.push(Const(text, truncated, (offset, length, "unicode-line")))

    # ---- containers
    def op_EMPTY_LIST(self, _: object) -> None:
        self.push(Container("list"))

    def op_EMPTY_DICT(self, _: object) -> None:
        self.push(Container("dict"))

    def op_EMPTY_SET(self, _: object) -> None:
        self.push(Container("set"))

    def op_EMPTY_TUPLE(self, _: object) -> None:
        self.push(Container("tuple"))

    def _collect(self, kind: str, items: list[Value]) -> None:
        box = Container(kind)
        box.add(*items)
        self.push(box)

    def op_TUPLE(self, _: object) -> None:
        self._collect("tuple", self.pop_mark())

    def op_LIST(self, _: object) -> None:
        self._collect("list", self.pop_mark())

    def op_FROZENSET(self, _: object) -> None:
        self._collect("frozenset", self.pop_mark())

    def op_DICT(self, _: object) -> None:
        items = self.pop_mark()
        if len(items) % 2:
            raise ParseError(f"odd number of items for DICT at byte {self.op_offset}")
        self._collect("dict", items)

    def op_TUPLE1(self, _: object) -> None:
        self._collect("tuple", [self.pop()])

    def op_TUPLE2(self, _: object) -> None:
        second = self.pop()
        self._collect("tuple", [self.pop(), second])

    def op_TUPLE3(self, _: object) -> None:
        third, second = self.pop(), self.pop()
        self._collect("tuple", [self.pop(), second, third])

    def _extend(self, target: Value, items: list[Value], method: str) -> None:
        if isinstance(target, Container):
            target.add(*items)
        elif isinstance(target, CallResult):
            # list.append / dict.__setitem__ on an object runs that object's method.
            self.anomaly("method", f"{method} on a constructed object")
        elif not isinstance(target, Opaque | Persistent):
            raise ParseError(f"{method} on a non-container at byte {self.op_offset}")

    def op_APPEND(self, _: object) -> None:
        value = self.pop()
        self._extend(self.top(), [value], "append")

    def op_APPENDS(self, _: object) -> None:
        items = self.pop_mark()
        self._extend(self.top(), items, "extend")

    def op_ADDITEMS(self, _: object) -> None:
        items = self.pop_mark()
        self._extend(self.top(), items, "add")

    def op_SETITEM(self, _: object) -> None:
        value, key = self.pop(), self.pop()
        self._extend(self.top(), [key, value], "__setitem__")

    def op_SETITEMS(self, _: object) -> None:
        items = self.pop_mark()
        if len(items) % 2:
            raise ParseError(f"odd number of items for SETITEMS at byte {self.op_offset}")
        self._extend(self.top(), items, "__setitem__")

    # ---- stack and memo
    def op_MARK(self, _: object) -> None:
        if len(self.metastack) >= self.limits.max_stack:
            raise LimitExceeded("pickle mark depth", len(self.metastack) + 1, self.limits.max_stack)
        self.metastack.append(self.stack)
        self.stack = []

    def op_POP(self, _: object) -> None:
        if self.stack:
            self.stack.pop()
        else:
            self.pop_mark()

    def op_POP_MARK(self, _: object) -> None:
        self.pop_mark()

    def op_DUP(self, _: object) -> None:
        self.push(self.top())

    def _memo_key(self, arg: object) -> int:
        if isinstance(arg, bytes):
            key = _parse_int(arg, self.op_offset)
        else:
            assert isinstance(arg, int)
            key = arg
        if key < 0:
            raise ParseError(f"negative memo key at byte {self.op_offset}")
        return key

    def op_PUT(self, arg: object) -> None:
        self.memo[self._memo_key(arg)] = self.top()

    op_BINPUT = op_LONG_BINPUT = op_PUT

    def op_MEMOIZE(self, _: object) -> None:
        self.memo[len(self.memo)] = self.top()

    def op_GET(self, arg: object) -> None:
        key = self._memo_key(arg)
        if key not in self.memo:
            raise ParseError(f"memo key {key} not found at byte {self.op_offset}")
        self.push(self.memo[key])

    op_BINGET = op_LONG_BINGET = op_GET

    # ---- protocol framing
    def op_PROTO(self, arg: object) -> None:
        assert isinstance(arg, int)
        if arg > HIGHEST_PROTOCOL:
            raise ParseError(f"unsupported pickle protocol {arg}")
        self.program.protocol = arg

    def op_FRAME(self, arg: object) -> None:
        # A frame longer than the data makes CPython fail before running it; parsing on
        # regardless reports what the frame holds, which is the conservative reading.
        assert isinstance(arg, int)
        self.reader.frame_end = self.reader.pos + arg

    # ---- imports and calls
    def op_GLOBAL(self, arg: object) -> None:
        assert isinstance(arg, tuple)
        self.push(self.global_ref(*arg))

    def op_STACK_GLOBAL(self, _: object) -> None:
        name, module = self.pop(), self.pop()
        if isinstance(name, Const) and isinstance(module, Const):
            if isinstance(name.value, str) and isinstance(module.value, str):
                self.push(self.global_ref(module.value, name.value))
                return
            raise ParseError(f"STACK_GLOBAL needs two strings at byte {self.op_offset}")
        # A name computed at load time: whatever it is, the scanner cannot vouch for it.
        self.anomaly("dynamic-global", "STACK_GLOBAL with a module or name computed at load time")
        self.push(Opaque("dynamic global"))

    def op_INST(self, arg: object) -> None:
        assert isinstance(arg, tuple)
        ref = self.global_ref(*arg)
        args = Container("tuple")
        args.add(*self.pop_mark())
        self.call(ref, args, "inst")

    def op_OBJ(self, _: object) -> None:
        items = self.pop_mark()
        if not items:
            raise ParseError(f"OBJ without a class at byte {self.op_offset}")
        args = Container("tuple")
        args.add(*items[1:])
        self.call(items[0], args, "obj")

    def op_REDUCE(self, _: object) -> None:
        args = self.pop()
        self.call(self.pop(), args, "reduce")

    def op_NEWOBJ(self, _: object) -> None:
        args = self.pop()
        self.call(self.pop(), args, "newobj")

    def op_NEWOBJ_EX(self, _: object) -> None:
        kwargs, args = self.pop(), self.pop()
        self.call(self.pop(), args, "newobj_ex", kwargs)

    def op_BUILD(self, _: object) -> None:
        state = self.pop()
        target = self.top()
        if isinstance(target, GlobalRef):
            # setattr on a module-level object: rewires what later imports resolve to.
            self.anomaly("build-on-global", f"BUILD sets attributes of global {target.full}")
        elif isinstance(target, CallResult):
            target.state = state
            if self.limits.joblib and _callable_name(target.func) in JOBLIB_WRAPPERS:
                self.joblib_array(target)
        elif not isinstance(target, Container | Opaque | Persistent):
            raise ParseError(f"BUILD on a literal at byte {self.op_offset}")

    def op_PERSID(self, arg: object) -> None:
        assert isinstance(arg, bytes)
        self.push(Persistent(Const(arg.decode("ascii", "replace"))))

    def op_BINPERSID(self, _: object) -> None:
        self.push(Persistent(self.pop()))

    def op_EXT1(self, arg: object) -> None:
        assert isinstance(arg, int)
        if arg <= 0:
            raise ParseError(f"EXT code {arg} is not positive at byte {self.op_offset}")
        self.anomaly("ext-code", f"extension registry code {arg}")
        self.push(Opaque(f"extension {arg}"))

    op_EXT2 = op_EXT4 = op_EXT1

    def op_NEXT_BUFFER(self, _: object) -> None:
        self.push(Opaque("out-of-band buffer"))

    def op_READONLY_BUFFER(self, _: object) -> None:
        self.top()

    # ---- joblib
    def joblib_array(self, wrapper: CallResult) -> None:
        try:
            layout = array_layout(wrapper.state)
        except ValueError as exc:
            self.anomaly("joblib", f"joblib array wrapper: {exc}")
            return
        if layout.has_object:
            self.joblib_object_array()
            return
        if layout.padded:
            (pad,) = self.reader.raw_read(1)
            if pad:
                self.reader.raw_skip(pad)
        self.reader.raw_skip(layout.nbytes)

    def joblib_object_array(self) -> None:
        reader = self.reader
        start = reader.raw_skip(0)
        sub = Reader(reader.stream, start, reader.limit - start)
        inner = Machine(sub, VMLimits(self.limits.max_bytes, self.limits.max_stack,
                                      self.limits.spend_opcodes, joblib=False))  # fmt: skip
        program = inner.run()
        self.program.inline.append(program)
        reader.stream.seek(reader.pos)
        if program.error is not None:
            raise program.error
        reader.raw_skip(program.end - start)


def _parse_int(data: bytes, offset: int) -> int:
    try:
        return int(data.strip(), 0) if data.strip()[:2].lower() in (b"0x", b"0o") else int(data)
    except ValueError:
        raise ParseError(f"bad integer at byte {offset}") from None


def _decode_string_line(data: bytes, truncated: bool, offset: int) -> str:
    body = data
    if not truncated:
        if len(body) < 2 or body[:1] not in (b"'", b'"') or body[-1:] != body[:1]:
            raise ParseError(f"STRING is not quoted at byte {offset}")
        body = body[1:-1]
    else:
        body = body[1:]
    try:
        raw = codecs.escape_decode(body)[0]
    except ValueError:
        if not truncated:
            raise ParseError(f"bad STRING escape at byte {offset}") from None
        raw = body
    return bytes(raw).decode("latin-1")


@dataclass(frozen=True, slots=True)
class ArrayLayout:
    nbytes: int
    has_object: bool
    padded: bool


def array_layout(state: Value | None) -> ArrayLayout:
    """Size of the raw bytes joblib writes after a NumpyArrayWrapper (see its read_array)."""
    if not isinstance(state, Container) or state.kind != "dict":
        raise ValueError("state is not a dict")
    fields = {k.value: v for k, v in state.pairs() if isinstance(k, Const)}
    dtype = fields.get("dtype")
    shape = fields.get("shape")
    if not isinstance(shape, Container) or not all(
        isinstance(v, Const) and type(v.value) is int and v.value >= 0 for v in shape.items
    ):
        raise ValueError("shape is not a tuple of sizes")
    count = 1
    for dim in shape.items:
        assert isinstance(dim, Const) and isinstance(dim.value, int)
        count *= dim.value
    if _dtype_has_object(dtype, 0):
        return ArrayLayout(0, True, False)
    alignment = fields.get("numpy_array_alignment_bytes")
    padded = alignment is not None and not (
        isinstance(alignment, Const) and alignment.value is None
    )
    return ArrayLayout(count * _itemsize(dtype), False, padded)


def _dtype_parts(dtype: Value | None) -> tuple[str, list[Value]]:
    if not isinstance(dtype, CallResult) or not isinstance(dtype.args, Container):
        raise ValueError("dtype is not a numpy dtype")
    code = dtype.args.items[0] if dtype.args.items else None
    if not isinstance(code, Const) or not isinstance(code.value, str):
        raise ValueError("dtype has no type code")
    state = dtype.state.items if isinstance(dtype.state, Container) else []
    return code.value, state


def _dtype_has_object(dtype: Value | None, depth: int) -> bool:
    code, state = _dtype_parts(dtype)
    if code.startswith("O"):
        return True
    if depth > 8 or len(state) < 5 or not isinstance(state[4], Container):
        return False
    for _, spec in state[4].pairs():  # structured dtype: {name: (dtype, offset)}
        if (
            isinstance(spec, Container)
            and spec.items
            and _dtype_has_object(spec.items[0], depth + 1)
        ):
            return True
    return False


def _itemsize(dtype: Value | None) -> int:
    code, state = _dtype_parts(dtype)
    size = state[5].value if len(state) > 5 and isinstance(state[5], Const) else None
    if isinstance(size, int) and size > 0:
        return size
    digits = "".join(ch for ch in code if ch.isdigit())
    if not digits:
        raise ValueError(f"cannot size dtype {code!r}")
    width = int(digits[:6])
    return width * 4 if code.startswith("U") else width


def _callable_name(value: Value) -> str | None:
    return value.full if isinstance(value, GlobalRef) else None


# Opcode -> (name, argument kind, unbound handler), built once rather than per pickle.
_HANDLERS: dict[int, tuple[str, str, Callable[[Machine, object], None]]] = {
    code: (name, kind, getattr(Machine, "op_" + name))
    for code, (name, kind) in OPCODES.items()
    if name != "STOP"
}


# --------------------------------------------------------------------------- entry points


def analyse(stream: BinaryIO, start: int, limits: VMLimits) -> Program:
    """Analyse the pickle that starts at `start`; parse errors are kept in `Program.error`."""
    machine = Machine(Reader(stream, start, limits.max_bytes), limits)
    return machine.run()


_SNIFF_OPCODES = 256
_SNIFF_OPCODES_PROTO = 24
_PLAUSIBLE_START = frozenset(b"(}])cNILFSVKJMGTUXPdlt")


def looks_like_pickle(head: bytes) -> bool:
    """True when the bytes start like a pickle program (called on every file's head)."""
    if len(head) < 2:
        return False
    if head[0] == 0x80:
        if not 2 <= head[1] <= HIGHEST_PROTOCOL:
            return False
        # A PROTO header is strong evidence already: a short clean run confirms it.
        return _sniff(head, minimum=2, budget=_SNIFF_OPCODES_PROTO)
    if head[0] not in _PLAUSIBLE_START:
        return False
    return _sniff(head, minimum=8)


def _sniff(head: bytes, minimum: int, budget: int = _SNIFF_OPCODES) -> bool:
    import io

    from garrison.supplychain import pickle_fast

    if pickle_fast.proves_pickle(head, budget):
        return True

    spent = 0

    def spend(n: int) -> None:
        # A few hundred clean opcodes decide it; the full analysis comes after detection.
        nonlocal spent
        spent += n
        if spent > budget:
            raise LimitExceeded("sniffed opcodes", spent, budget)

    limits = VMLimits(len(head), 1000, spend, sniff=True, opcode_batch=1)
    program = analyse(io.BytesIO(head), 0, limits)
    if program.complete or spent > budget:
        return True
    # Imports of identifier names are a pickle even if it breaks later: a payload runs
    # before the malformed point, so such files must reach the pickle scanner.
    if program.globals and program.opcodes >= 2:
        return True
    error = str(program.error)
    truncated = "truncated" in error or "has no end" in error
    return truncated and len(head) >= 4096 and program.opcodes >= minimum
