"""The `[posture]` section of the policy: what `garrison discover` reconciles against."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

_MIB = 1024 * 1024

# Directories that hold installed or generated code, not a project's own AI use.
DEFAULT_EXCLUDED_DIRS = (
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "node_modules",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    "dist-packages",
    ".ipynb_checkpoints",
)


class PosturePolicy(BaseModel):
    """Settings of `garrison discover`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway_urls: tuple[str, ...] = Field(
        (),
        description="base URLs of the Garrison gateway; AI calls elsewhere are GA-POST-011 "
        "(empty: the bypass check is off)",
    )
    max_text_bytes: int = Field(
        2 * _MIB, ge=1024, description="largest source, config or notebook file analysed"
    )
    excluded_dirs: tuple[str, ...] = Field(
        DEFAULT_EXCLUDED_DIRS, description="directory names never walked (installed code, caches)"
    )
    approved_models: tuple[str, ...] = Field(
        (),
        description="model names used without a registry approval on purpose "
        "(GA-POST-013 is not raised for them)",
    )

    @field_validator("gateway_urls")
    @classmethod
    def _urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} must be an http(s) URL such as https://gw.internal/v1")
        return tuple(url.rstrip("/") for url in value)
