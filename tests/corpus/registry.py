"""The registry shape shared by the malicious and benign generators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Maker = Callable[[Path], None]


@dataclass(frozen=True, slots=True)
class Sample:
    """One generated file (or directory): how to make it and what it demonstrates."""

    id: str
    format: str
    filename: str
    technique: str
    source: str
    make: Maker


class Registry:
    """An ordered collection of samples with unique ids, filled by a decorator."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self._ids: set[str] = set()

    def add(
        self, id: str, format: str, filename: str, technique: str, source: str, make: Maker
    ) -> None:
        if id in self._ids:
            raise ValueError(f"duplicate corpus id {id!r}")
        self._ids.add(id)
        self.samples.append(Sample(id, format, filename, technique, source, make))

    def register(
        self, id: str, format: str, filename: str, source: str = "garrison"
    ) -> Callable[[Maker], Maker]:
        """Decorator: the function's docstring (first line) is the technique description."""

        def wrap(make: Maker) -> Maker:
            doc = (make.__doc__ or id).strip().splitlines()[0]
            self.add(id, format, filename, doc, source, make)
            return make

        return wrap
