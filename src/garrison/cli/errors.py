"""Map exceptions to exit codes: 2 for a user's mistake, 3 for an internal error."""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from garrison.errors import GarrisonError, MissingExtraError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
RERUN_HINT = "Run again with --debug for the traceback, and please report it."

# Optional dependencies and the extra that installs each: a missing one is the user's setup
# to fix, so it gets the one-line install hint rather than an internal error.
OPTIONAL_MODULES = {
    "torch": "robustness",
    "art": "robustness",
    "opacus": "robustness",
    "matplotlib": "robustness",
    "safetensors": "robustness",
    "sklearn": "robustness",
    "scipy": "robustness",
    "onnxruntime": "onnx",
    "pyarrow": "data",
    "cleanlab": "data",
    "datasketch": "data",
    "imagehash": "data",
    "PIL": "data",
    "httpx": "llm",
    "jsonschema": "llm",
    "sigstore": "sigstore",
    "psycopg": "postgres",
    "starlette": "gateway",
    "uvicorn": "gateway",
    "httptools": "gateway",
    "prometheus_client": "gateway",
    "opentelemetry": "gateway",
}


def handle_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        if debug:
            logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):  # the CLI's own ways out, handled by main()
            raise
        except GarrisonError as exc:
            if debug:
                traceback.print_exc()  # the traceback, and still the exit code scripts rely on
            print(f"garrison: error: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            print("garrison: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
        except Exception as exc:
            if debug:
                traceback.print_exc()
            extra = _missing_extra(exc)
            if extra is not None:
                print(f"garrison: error: {extra}", file=sys.stderr)
                raise typer.Exit(EXIT_USAGE) from None
            hint = "Please report it." if debug else RERUN_HINT
            print(f"garrison: internal error: {type(exc).__name__}: {exc}\n{hint}", file=sys.stderr)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def _missing_extra(exc: Exception) -> MissingExtraError | None:
    if not isinstance(exc, ModuleNotFoundError):
        return None
    root = (exc.name or "").split(".")[0]
    extra = OPTIONAL_MODULES.get(root)
    return MissingExtraError(root, extra) if extra else None
