"""Build the labelled corpus (tests/corpus/build.py) in a child process and read its manifest.

Writing the corpus needs torch, keras, sklearn...; doing it in a child keeps those imports and
model objects out of the benchmark process, which must never load a corpus file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_BUILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from tests.corpus.build import build_corpus
from pathlib import Path
entries = build_corpus(Path(sys.argv[2]))
fields = ("id", "path", "malicious", "format", "technique", "source")
json.dump([{k: str(getattr(e, k)) if k == "path" else getattr(e, k) for k in fields}
           for e in entries], sys.stdout)
"""


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    path: Path
    malicious: bool
    format: str
    technique: str
    source: str


def build(python: Path, root: Path, out_dir: Path) -> list[Entry]:
    # The builder writes fresh files and refuses to overwrite a previous run's directories.
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    done = subprocess.run(
        [str(python), "-c", _BUILD, str(root), str(out_dir)],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
        env={**os.environ, "KERAS_BACKEND": "torch"},
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the corpus failed:\n{done.stderr[-3000:]}")
    rows = json.loads(done.stdout)
    return [
        Entry(
            id=str(r["id"]),
            path=Path(r["path"]).resolve(),
            malicious=bool(r["malicious"]),
            format=str(r["format"]),
            technique=str(r["technique"]),
            source=str(r["source"]),
        )
        for r in rows
    ]
