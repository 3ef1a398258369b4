"""Calls of local child modules: a module's resources judged with the inputs a caller gives.

`module "weights" { source = "./modules/bucket"  name = "acme-llm-weights" }` is followed when
its source is a relative path (./ or ../) to a directory: its arguments are evaluated in the
caller's scope and become the child's variables (the child's defaults for the rest), and what
the child's resources then expose is reported at the call, the line a user changes. Registry,
git and http sources are never fetched.

Reported once: an exposure the child module has on its own (with its defaults, as discovery
reports it at the child's file) is left out at the call; only what the inputs cause is
reported there. Depth, module instances, files read and `..` steps are bounded, and a module
that calls itself (directly or not) is not followed again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from garrison.posture.hcl_eval import Evaluator
from garrison.posture.hcl_syntax import Module, Resource
from garrison.posture.hcl_values import known
from garrison.posture.terraform import MAX_HCL_BYTES, declarations, module_files

MAX_DEPTH = 4  # module calls followed in a chain
MAX_CALLS = 32  # module instances followed for one file
MAX_FILES = 256  # .tf files read for them, in all
MAX_CLIMB = 4  # ../ steps a source may take
_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})


@dataclass(frozen=True, slots=True)
class Exposure:
    """One way a bucket is made public: the resource (`module.x -> aws_s3_bucket.y` through
    calls), the bucket's name as far as known, why, and the line to report."""

    address: str
    name: str
    why: str
    line: int

    @property
    def key(self) -> tuple[str, str]:
        return self.address, self.why


Judge = Callable[[Module], list[Exposure]]  # the exposures of a module's own resources


def call_exposures(
    module: Module, ev: Evaluator, path: str, judge: Judge, roots: tuple[str, ...] = ()
) -> list[Exposure]:
    """Exposures caused by the module calls declared in the file at `path`, at the calls;
    with `roots`, only modules inside those directories are followed."""
    if not any(call.own for call in module.calls) or not os.path.isfile(path):
        return []
    directory = os.path.dirname(os.path.abspath(path))
    walk = _Walk(judge, roots)
    return walk.calls(module, ev, directory, (os.path.realpath(directory),), own_only=True)


class _Walk:
    """One file's module calls, followed within shared budgets."""

    def __init__(self, judge: Judge, roots: tuple[str, ...]) -> None:
        self.judge = judge
        self.roots = roots
        self.calls_left = MAX_CALLS
        self.files_left = MAX_FILES
        self.alone: dict[str, set[tuple[str, str]]] = {}

    def calls(
        self, module: Module, ev: Evaluator, directory: str, chain: tuple[str, ...], own_only: bool
    ) -> list[Exposure]:
        out: list[Exposure] = []
        for call in module.calls:
            if own_only and not call.own:
                continue
            child = _child_directory(directory, ev.attribute(call, "source"), self.roots)
            if child is None or child in chain or len(chain) > MAX_DEPTH:
                continue  # not local, outside, a cycle, or too deep
            for instance in ev.instances(call):
                if self.calls_left <= 0:
                    return out
                self.calls_left -= 1
                out.extend(self._instance(instance, ev, child, (*chain, child)))
        return out

    def _instance(
        self, call: Resource, ev: Evaluator, child: str, chain: tuple[str, ...]
    ) -> list[Exposure]:
        inputs = {
            name: ev.attribute(call, name) for name in call.block.attributes if name not in _META
        }
        alone = self._alone(child, chain)
        return [
            Exposure(f"{call.address} -> {e.address}", e.name, e.why, call.block.line)
            for e in self._exposures(child, inputs, chain)
            if e.key not in alone
        ]

    def _alone(self, child: str, chain: tuple[str, ...]) -> set[tuple[str, str]]:
        """What the child exposes with its defaults: reported where it is declared."""
        if child not in self.alone:
            self.alone[child] = set()  # while computing: a cycle sees nothing
            self.alone[child] = {e.key for e in self._exposures(child, None, chain)}
        return self.alone[child]

    def _exposures(
        self, directory: str, inputs: dict[str, object] | None, chain: tuple[str, ...]
    ) -> list[Exposure]:
        module = self._load(directory)
        if module is None:
            return []
        for name, value in (inputs or {}).items():
            module.variables[name] = ("lit", value)
        return [
            *self.judge(module),
            *self.calls(module, Evaluator(module), directory, chain, own_only=False),
        ]

    def _load(self, directory: str) -> Module | None:
        """The child module: every .tf file of its directory, all its own (no tfvars: a child
        module does not read them)."""
        module = Module()
        for name, text in module_files(directory, "", MAX_HCL_BYTES):
            if not name.endswith(".tf"):
                continue
            if self.files_left <= 0:
                return None
            self.files_left -= 1
            blocks = declarations(text)
            if not isinstance(blocks, str):
                module.add(blocks, own=True)
        return module


def _child_directory(directory: str, source: object, roots: tuple[str, ...]) -> str | None:
    """The real path of a local source's directory, when it stays under the directory its
    ../ steps lead to (no link out of it), takes at most MAX_CLIMB of them, and lies inside
    one of `roots` (any, when there are none)."""
    if not (isinstance(source, str) and known(source) and source.startswith(("./", "../"))):
        return None
    relative = os.path.normpath(source)
    parts = relative.split(os.sep)
    climb = next((i for i, part in enumerate(parts) if part != ".."), len(parts))
    if climb > MAX_CLIMB or ".." in parts[climb:]:
        return None
    anchor = os.path.realpath(os.path.join(directory, *[".."] * climb))
    child = os.path.realpath(os.path.join(directory, relative))
    if os.path.commonpath([anchor, child]) != anchor or not os.path.isdir(child):
        return None
    if roots and not any(os.path.commonpath([root, child]) == root for root in roots):
        return None  # outside what the user asked to scan
    return child
