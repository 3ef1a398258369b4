"""Map exceptions to exit codes: 2 for a user's mistake, 3 for an internal error."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from garrison.errors import GarrisonError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def handle_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        if debug:
            logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except GarrisonError as exc:
            if debug:
                raise
            print(f"garrison: error: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            print("garrison: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
        except Exception as exc:
            if debug:
                raise
            print(
                f"garrison: internal error: {type(exc).__name__}: {exc}\n"
                "Run again with --debug for the traceback, and please report it.",
                file=sys.stderr,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]
