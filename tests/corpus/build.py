"""Build the corpus: `build_corpus(out_dir)` or `python -m tests.corpus.build OUT_DIR`.

This API is imported by the integration tests and the benchmark; keep it stable.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.corpus.registry import Sample

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    """One corpus file (or model directory) and what it is meant to demonstrate."""

    id: str
    path: Path
    malicious: bool
    format: str
    technique: str
    source: str

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def build_corpus(out_dir: Path) -> list[CorpusEntry]:
    """Write every sample under out_dir/malicious and out_dir/benign; return their entries.

    Nothing written here is ever loaded. Seeds are fixed, so contents are reproducible
    (Keras and zip timestamps aside).
    """
    from tests.corpus import benign, malicious

    entries = _build(malicious.SAMPLES, Path(out_dir) / "malicious", True)
    entries += _build(benign.SAMPLES, Path(out_dir) / "benign", False)
    return entries


def _build(samples: list[Sample], root: Path, is_malicious: bool) -> list[CorpusEntry]:
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for sample in samples:
        path = root / sample.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        sample.make(path)
        entries.append(
            CorpusEntry(
                sample.id, path, is_malicious, sample.format, sample.technique, sample.source
            )
        )
    return entries


def write_manifest(entries: list[CorpusEntry], out_dir: Path) -> Path:
    manifest = Path(out_dir) / "manifest.json"
    manifest.write_text(json.dumps([e.to_dict() for e in entries], indent=2) + "\n")
    return manifest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m tests.corpus.build OUT_DIR\n")
        return 2
    out_dir = Path(argv[0])
    entries = build_corpus(out_dir)
    manifest = write_manifest(entries, out_dir)
    bad = sum(e.malicious for e in entries)
    sys.stdout.write(f"{bad} malicious, {len(entries) - bad} benign; manifest: {manifest}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
