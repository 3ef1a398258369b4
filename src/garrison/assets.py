"""Assets: the things Garrison protects, identified by a URI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Asset:
    uri: str
    kind: str = "file"  # file, directory, dataset, endpoint, repository
    path: str | None = None
    sha256: str | None = None
    format: str | None = None

    @classmethod
    def from_path(cls, path: Path, kind: str = "file", fmt: str | None = None) -> Asset:
        resolved = path.absolute()
        return cls(uri=resolved.as_uri(), kind=kind, path=str(path), format=fmt)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"uri": self.uri, "kind": self.kind}
        for key in ("path", "sha256", "format"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out
