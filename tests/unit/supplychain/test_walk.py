"""Directory expansion names each file exactly as Asset.from_path would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from garrison.assets import Asset
from garrison.supplychain.walk import expand

NAMES = ["a b.pkl", "ü%#?.bin", "x;y=z", "plain", "sub/inner.pkl"]


@pytest.mark.parametrize("root", ["ABS", ".", "sub", "./sub", "ABS/./sub"])
def test_paths_and_uris_match_pathlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: str
) -> None:
    (tmp_path / "sub").mkdir()
    for name in NAMES:
        (tmp_path / name).write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    start = Path(root.replace("ABS", str(tmp_path)))
    files = [a for a in expand([start], False, 100) if a.kind == "file"]
    assert files
    for asset in files:
        assert asset.path is not None
        expected = Asset.from_path(Path(asset.path))
        assert (asset.uri, asset.path) == (expected.uri, expected.path)
        assert os.path.exists(asset.path)
