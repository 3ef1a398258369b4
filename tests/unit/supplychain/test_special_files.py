"""Named pipes, sockets and devices are reported as unscanned, never opened."""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path

import pytest

from garrison.policy import Policy
from garrison.report.model import Report
from garrison.supplychain import scan_path


def scan_with_timeout(path: Path | str, seconds: float = 30) -> Report:
    """scan_path in a thread: a scan that blocks on a pipe fails the test instead of hanging."""
    out: list[Report] = []
    worker = threading.Thread(target=lambda: out.append(scan_path(path)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the scan blocked"
    return out[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_in_a_model_folder_is_unscanned_not_read(tmp_path: Path) -> None:
    (tmp_path / "weights.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    os.mkfifo(tmp_path / "pytorch_model.bin")  # opening it would wait for a writer forever
    os.mkfifo(tmp_path / "config.json")  # read by the model-folder checks
    report = scan_with_timeout(tmp_path)
    items = {Path(i.path).name: i for i in report.items}
    assert items["pytorch_model.bin"].status == "unscanned"
    assert "named pipe" in items["pytorch_model.bin"].detail
    assert items["weights.pkl"].status == "scanned"
    unscanned = [f for f in report.findings if f.rule == "GA-SCAN-003"]
    assert len(unscanned) == 2 and all("not a regular file" in f.evidence for f in unscanned)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_unscanned_not_read_forever() -> None:
    report = scan_with_timeout("/dev/zero")
    assert [i.status for i in report.items] == ["unscanned"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_symlinks_not_followed_are_listed_and_those_leading_out_are_reported(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "real.pkl").write_bytes(pickle.dumps({"w": 1}, protocol=4))
    scanned = tmp_path / "model"
    scanned.mkdir()
    (scanned / "weights.pkl").write_bytes(pickle.dumps({"w": 2}, protocol=4))
    os.symlink("weights.pkl", scanned / "alias.pkl")  # covered: its target is scanned
    os.symlink(outside / "real.pkl", scanned / "outside.pkl")
    os.symlink("nowhere", scanned / "dangling.bin")
    report = scan_path(scanned)
    skipped = {Path(i.path).name: i.detail for i in report.items if i.status == "skipped"}
    assert set(skipped) == {"alias.pkl", "outside.pkl", "dangling.bin"}
    assert "not followed" in skipped["alias.pkl"]
    flagged = sorted(Path(f.asset.path or "").name for f in report.findings)
    assert flagged == ["dangling.bin", "outside.pkl"]
    assert all(f.rule == "GA-SCAN-003" for f in report.findings)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_symlink_loop_met_while_following_links_is_unreadable_not_a_crash(
    tmp_path: Path,
) -> None:
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    report = scan_path(tmp_path, Policy(follow_symlinks=True))
    assert sorted(f.rule for f in report.findings) == ["GA-SCAN-005", "GA-SCAN-005"]
