"""Wheel build hook: compile the optional C pickle walker (garrison.supplychain._walk).

A compiler is not required: when the build fails, or GARRISON_PURE_PYTHON is set, the wheel
is pure Python and the scanner runs the Python machine alone, with the same results.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/garrison/supplychain/_walk.c")


def compile_walker(root: Path) -> Path:
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    ldshared = sysconfig.get_config_var("LDSHARED")  # compiler and flags for an extension
    if not suffix or not ldshared:
        raise OSError("no C extension toolchain recorded for this Python")
    out = root / SOURCE.with_name("_walk" + suffix)
    include = sysconfig.get_paths()["include"]
    command = [*shlex.split(ldshared), "-O2", "-fPIC", "-std=c99", "-Wall", f"-I{include}",
               str(root / SOURCE), "-o", str(out)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return out


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or os.environ.get("GARRISON_PURE_PYTHON"):
            return
        try:
            out = compile_walker(Path(self.root))
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            self.app.display_warning(
                f"garrison: C pickle walker not built ({exc} {detail.decode(errors='replace')}); "
                "the pure-Python scanner will be used"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(out)] = f"garrison/supplychain/{out.name}"
