"""`garrison data check`, `fingerprint` and `diff` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from garrison.cli.main import app
from garrison.store import AuditLog, open_store

runner = CliRunner()


def garrison(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args], env={"NO_COLOR": "1"})


def _rules(result: Result) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for finding in json.loads(result.stdout)["findings"]:
        out.setdefault(str(finding["rule"]), []).append(finding["location"])
    return out


@pytest.fixture
def tables(tmp_path: Path) -> tuple[Path, Path, set[int]]:
    """wine as a CSV with a note column; the batch has flipped labels, a duplicate,
    PII, an out-of-range value and a malformed line; the reference is clean."""
    import pandas as pd
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    rng = np.random.default_rng(0)
    frame["note"] = [
        f"sample {i} from lab {rng.integers(1, 5)} on day {rng.integers(1, 30)}, standard run"
        for i in range(len(frame))
    ]
    reference = tmp_path / "reference.csv"
    frame.to_csv(reference, index=False)
    batch = frame.copy()
    flipped = {int(i) for i in rng.choice(len(batch), 12, replace=False)} - {3, 50}
    for i in flipped:
        batch.loc[i, "target"] = (batch.loc[i, "target"] + 1) % 3
    batch.loc[3, "note"] = "call +44 20 7946 0958 or mail jane.doe@example.com"
    batch.loc[50, "alcohol"] = 99.0
    batch = pd.concat([batch, batch.iloc[[10]]], ignore_index=True)
    path = tmp_path / "batch.csv"
    batch.to_csv(path, index=False)
    with path.open("a") as handle:
        handle.write('1.0,"unclosed\n')
    return path, reference, flipped


def test_check_reports_each_planted_issue_by_row(
    tables: tuple[Path, Path, set[int]], tmp_path: Path
) -> None:
    path, reference, flipped = tables
    result = garrison(
        "data",
        "check",
        path,
        "--label",
        "target",
        "--reference",
        reference,
        "-f",
        "json",
        "--no-progress",
    )
    assert result.exit_code == 1, result.output
    rules = _rules(result)
    assert {"GA-DATA-005", "GA-DATA-003", "GA-DATA-030", "GA-DATA-040"} <= set(rules)
    assert any(
        loc.get("row") == 50 and loc.get("column") == "alcohol" for loc in rules["GA-DATA-003"]
    )
    assert [loc["row"] for loc in rules["GA-DATA-030"]] == [178]
    assert any(loc.get("row") == 3 for loc in rules["GA-DATA-040"])
    labelled = {loc["row"] for loc in rules.get("GA-DATA-020", []) + rules.get("GA-DATA-021", [])}
    assert len(labelled & flipped) >= 0.8 * len(flipped)
    report = json.loads(result.stdout)
    assert set(report["metrics"]) >= {"schema", "drift", "duplicates", "pii", "labels", "backdoor"}


def test_check_of_a_missing_label_column_is_a_usage_error(
    tables: tuple[Path, Path, set[int]],
) -> None:
    result = garrison("data", "check", tables[0], "--label", "nope")
    assert result.exit_code == 2
    assert "no column named 'nope'" in result.output


def test_image_folder_backdoor_and_unreadable_image(tmp_path: Path) -> None:
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images * 15).astype(np.uint8)
    rng = np.random.default_rng(1)
    poisoned = rng.choice(len(images), int(0.05 * len(images)), replace=False)
    labels = digits.target.copy()
    images[poisoned, 5:8, 5:8] = 240
    labels[poisoned] = 7
    root = tmp_path / "digits"
    names = []
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        name = folder / f"{i:05d}.png"
        Image.fromarray(image).save(name)
        names.append(name)
    (root / "3" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    result = garrison("data", "check", root, "-f", "json", "--no-progress")
    assert result.exit_code == 1, result.output
    rules = _rules(result)
    assert "GA-DATA-060" in rules
    flagged = {loc["row"] for loc in rules.get("GA-DATA-050", [])}
    # rows are numbered in sorted file order; map the poisoned indices to that order
    order = sorted(range(len(names)), key=lambda i: (str(labels[i]), names[i].name))
    position = {original: row for row, original in enumerate(order)}
    expected = {position[int(i)] for i in poisoned}
    assert len(flagged & expected) >= 0.9 * len(expected)
    assert len(flagged - expected) <= 0.05 * (len(names) - len(expected))
    # Each finding names the image file, not only its row number.
    named = {Path(str(loc["path"])) for loc in rules["GA-DATA-050"]}
    stamped = {names[int(i)] for i in poisoned}
    assert len(named & stamped) >= 0.9 * len(stamped)


def test_fingerprint_diff_and_trace_are_audited(tmp_path: Path, store_url: str) -> None:
    import pandas as pd

    first = pd.DataFrame({"id": range(100), "value": np.arange(100) * 1.5, "label": [0, 1] * 50})
    old = tmp_path / "batch1.csv"
    first.to_csv(old, index=False)
    second = first.copy()
    second.loc[5, "value"] = 999.0
    second = pd.concat(
        [second.drop(index=[7]), pd.DataFrame({"id": [500], "value": [1.0], "label": [1]})]
    )
    new = tmp_path / "batch2.csv"
    second.to_csv(new, index=False)
    for path in (old, new):
        done = garrison("data", "fingerprint", path, "--key", "id", "--db", store_url)
        assert done.exit_code == 0, done.output
        assert "recorded as #" in done.output
    diff = garrison("data", "diff", old, new, "--key", "id", "--json", "--db", store_url)
    assert diff.exit_code == 1, diff.output  # they differ: the text output's exit code too
    data = json.loads(diff.stdout)
    assert data["counts"] == {"added": 1, "removed": 1, "changed": 1, "unchanged": 98}
    text = garrison("data", "diff", old, new, "--key", "id", "--db", store_url)
    assert text.exit_code == 1 and "1 added, 1 removed, 1 changed" in text.output
    store = open_store(store_url)
    try:
        log = AuditLog(store)
        assert log.verify().ok
        actions = [r.action for r in log.records()]
    finally:
        store.close()
    assert actions.count("data.fingerprint") == 2 and actions.count("data.diff") == 2
    same = garrison("data", "diff", old, old, "--key", "id", "--json", "--db", store_url)
    assert same.exit_code == 0, same.output


def test_check_record_writes_the_verdict(
    tables: tuple[Path, Path, set[int]], store_url: str
) -> None:
    result = garrison("data", "check", tables[1], "--record", "--db", store_url, "--no-progress")
    assert result.exit_code in (0, 1), result.output
    store = open_store(store_url)
    try:
        (record,) = AuditLog(store).records()
    finally:
        store.close()
    assert record.action == "data.check"
    assert json.loads(record.details)["sha256"]


def test_user_predictions_and_user_model_are_used(
    tables: tuple[Path, Path, set[int]], tmp_path: Path
) -> None:
    import pandas as pd
    import torch

    from garrison.robustness.harden_adversarial import save_safetensors
    from garrison.robustness.models import mlp

    path, reference, flipped = tables
    frame = pd.read_csv(reference)
    truth = frame["target"].to_numpy()
    probs = np.full((len(truth) + 1, 3), 0.02)  # one more row: the duplicate
    probs[np.arange(len(truth)), truth] = 0.96
    probs[-1] = probs[10]
    np.save(tmp_path / "probs.npy", probs)
    torch.manual_seed(0)
    save_safetensors(mlp(14, 3), tmp_path / "mlp.safetensors")  # 13 features + note frequency
    result = garrison(
        "data",
        "check",
        path,
        "--label",
        "target",
        "--pred-probs",
        tmp_path / "probs.npy",
        "--model",
        tmp_path / "mlp.safetensors",
        "--arch",
        "garrison:mlp",
        "-f",
        "json",
        "--no-progress",
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert set(report["metrics"]["labels"]["issue_rows"]) >= flipped
    assert report["metrics"]["backdoor"]["features_from"] == "Sequential"  # the user's module
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, probs[:5])
    bad = garrison("data", "check", path, "--label", "target", "--pred-probs", wrong)
    assert bad.exit_code == 2 and "--pred-probs has shape" in bad.output


def test_rows_that_are_not_utf8_are_findings_without_stray_tracebacks(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "mixed.csv"
    noise = bytes(range(0x80, 0x100)) * 4  # never valid UTF-8 on its own
    path.write_bytes(b"a,b,c\n1,2,3\n" + noise + b"\n4,5,6\n")
    proc = subprocess.run(
        [sys.executable, "-m", "garrison", "data", "check", str(path), "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    rules = [f["rule"] for f in json.loads(proc.stdout)["findings"]]
    assert "GA-DATA-005" in rules


def test_label_findings_name_classes_as_the_data_spells_them(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    names = np.array(["red", "rose", "white"])
    y = rng.integers(0, 3, 300)
    x = y[:, None] * 6.0 + rng.normal(size=(300, 2))
    given = names[y].copy()
    given[:4] = np.where(y[:4] == 2, "red", "white")  # flipped labels
    lines = ["a,b,target"] + [f"{p:.3f},{q:.3f},{c}" for (p, q), c in zip(x, given, strict=True)]
    path = tmp_path / "wine.csv"
    path.write_text("\n".join(lines) + "\n")
    result = garrison("data", "check", path, "--label", "target", "-f", "json")
    findings = json.loads(result.stdout)["findings"]
    issues = [f for f in findings if f["rule"] == "GA-DATA-020"]
    assert issues
    for finding in issues:
        named = str(finding["evidence"]).rsplit("most likely class ", 1)[1]
        assert named.strip("'") in {"red", "rose", "white"}, finding["evidence"]


def test_a_reference_without_rows_is_a_mistake_not_a_finding_per_cell(tmp_path: Path) -> None:
    (tmp_path / "header.csv").write_text("a,b\n")
    (tmp_path / "batch.csv").write_text("a,b\n1,2\n3,4\n")
    result = garrison(
        "data", "check", tmp_path / "batch.csv", "--reference", tmp_path / "header.csv"
    )
    assert result.exit_code == 2
    assert "has no rows to compare with" in result.output


def test_a_few_random_images_give_no_label_or_backdoor_findings(tmp_path: Path) -> None:
    # Thirty noise images: too few to judge labels, and no class large enough for the
    # feature signals; before, this failed CI with a HIGH backdoor finding.
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(30):
        folder = tmp_path / "noise" / ("cat", "dog", "owl")[i % 3]
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (16, 16), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    result = garrison("data", "check", tmp_path / "noise", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "GA-DATA-02" not in result.output and "GA-DATA-05" not in result.output
    assert "labels: not checked: 30 rows: too few to judge labels" in result.output
