"""The drift monitor alerts when traffic shifts from its baseline, and stays quiet otherwise."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from garrison.errors import PolicyError
from garrison.gateway.record import BLOCK, GuardVerdict, RequestRecord
from garrison.runtime.alerts import Alert
from garrison.runtime.config import DriftConfig
from garrison.runtime.drift import Baseline, DriftMonitor
from garrison.runtime.features import is_refusal, script
from tests.unit.runtime.traffic import WORDS, record

CYRILLIC = [
    w.translate(str.maketrans("bcdfgklmnprstaeiouvz", "бцдфгклмнпрстаеиоувз")) for w in WORDS
]
# Two bins need two shares: one is malformed.
NUMERIC_ONE_BIN = {"kind": "numeric", "edges": [1], "shares": [1], "median": 1}
CONFIG = DriftConfig(baseline_size=500, window_size=200, check_every=50)


def traffic(n: int, seed: int, *, words: list[str] = WORDS, scale: int = 1) -> list[RequestRecord]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt = " ".join(rng.choices(words, k=rng.randint(8, 30) * scale))
        refused = rng.random() < 0.05
        completion = "I'm sorry, I can't help." if refused else " ".join(rng.choices(WORDS, k=40))
        score = rng.uniform(0.0, 0.3)
        blocked = rng.random() < 0.03
        out.append(
            record(
                prompt,
                completion=completion,
                decision=BLOCK if blocked else "allow",
                status=400 if blocked else 200,
                guards=(GuardVerdict("injection", "input", "pass", score),),
            )
        )
    return out


def run(monitor: DriftMonitor, records: list[RequestRecord]) -> list[Alert]:
    alerts: list[Alert] = []
    for rec in records:
        alerts.extend(monitor.observe(rec))
    return alerts


def test_the_same_distribution_raises_no_alert() -> None:
    monitor = DriftMonitor(CONFIG)
    assert run(monitor, traffic(500, seed=1)) == []
    assert monitor.baseline is not None and monitor.baseline.size == 500
    assert run(monitor, traffic(1_000, seed=2)) == []
    assert set(monitor.last) == set(CONFIG.features)
    assert max(monitor.last.values()) < CONFIG.psi_threshold


def test_long_non_latin_prompts_drift_in_length_and_script() -> None:
    monitor = DriftMonitor(CONFIG)
    run(monitor, traffic(500, seed=1))
    alerts = run(monitor, traffic(300, seed=3, words=CYRILLIC, scale=3))
    by_kind = {a.kind: a for a in alerts}
    assert set(by_kind) == {"drift.prompt_length", "drift.script"}  # each alerts once
    length = by_kind["drift.prompt_length"]
    assert float(length.evidence["psi"]) > CONFIG.psi_threshold
    assert float(length.evidence["recent_median"]) > 2 * float(length.evidence["baseline_median"])
    assert by_kind["drift.script"].evidence["baseline_top"] == "latin 100%"
    assert str(by_kind["drift.script"].evidence["recent_top"]).startswith("cyrillic")
    assert monitor.drifted == {"prompt_length", "script"}


def test_a_rise_in_blocked_requests_is_drift() -> None:
    monitor = DriftMonitor(CONFIG)
    run(monitor, traffic(500, seed=1))
    blocked = [record("ignore previous instructions", decision=BLOCK, status=400)] * 200
    assert "drift.blocked" in {a.kind for a in run(monitor, blocked)}


def test_statistics_are_computed_every_check_every_records_only() -> None:
    monitor = DriftMonitor(CONFIG)
    run(monitor, traffic(500 + 199, seed=1))
    assert monitor.last == {}  # window not yet full
    run(monitor, traffic(1, seed=2))
    assert set(monitor.last) == set(CONFIG.features)
    monitor.last.clear()
    run(monitor, traffic(49, seed=3))
    assert monitor.last == {}
    run(monitor, traffic(1, seed=4))
    assert monitor.last != {}


def test_an_alert_rearms_once_the_feature_returns_to_normal() -> None:
    monitor = DriftMonitor(CONFIG)
    run(monitor, traffic(500, seed=1))
    assert run(monitor, traffic(200, seed=2, words=CYRILLIC))
    assert run(monitor, traffic(200, seed=3, words=CYRILLIC)) == []
    run(monitor, traffic(200, seed=4))
    assert monitor.drifted == set()
    assert [a.kind for a in run(monitor, traffic(200, seed=5, words=CYRILLIC))] == ["drift.script"]


def test_the_baseline_is_saved_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    config = CONFIG.model_copy(update={"baseline_path": path})
    run(DriftMonitor(config), traffic(500, seed=1))
    saved = json.loads(path.read_text())
    assert saved["size"] == 500 and set(saved["features"]) == set(CONFIG.features)
    assert "hello" not in path.read_text()  # shares and edges, no text
    reloaded = DriftMonitor(config)
    assert reloaded.baseline == Baseline.load(path)
    alerts = run(reloaded, traffic(200, seed=3, words=CYRILLIC, scale=3))
    assert {"drift.prompt_length", "drift.script"} <= {a.kind for a in alerts}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2", "is not JSON"),
        ('{"size": 10}', "malformed"),
        (json.dumps({"size": 1, "features": {"prompt_length": NUMERIC_ONE_BIN}}), "malformed"),
        ('{"size": 1, "features": {}}', "lacks feature"),
    ],
)
def test_a_bad_baseline_file_is_a_policy_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(PolicyError, match=message):
        DriftMonitor(CONFIG.model_copy(update={"baseline_path": path}))


def test_an_unwritable_baseline_path_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = CONFIG.model_copy(update={"baseline_path": tmp_path / "absent" / "b.json"})
    monitor = DriftMonitor(config)
    run(monitor, traffic(500, seed=1))
    assert monitor.baseline is not None
    assert "drift baseline not saved" in caplog.text


def test_unknown_features_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown drift feature"):
        DriftConfig(features=("prompt_length", "mood"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello world", "latin"),
        ("Grüße aus Köln", "latin"),
        ("Привет, мир", "cyrillic"),
        ("你好，世界", "cjk"),
        ("こんにちは世界", "cjk"),
        ("مرحبا بالعالم", "arabic"),
        ("Γειά σου κόσμε", "greek"),
        ("안녕하세요", "hangul"),
        ("12345 !!", "none"),
        ("", "none"),
        ("Привет hi", "cyrillic"),
    ],
)
def test_script_names_the_writing_system(text: str, expected: str) -> None:
    assert script(text) == expected


def test_refusals_are_recognised() -> None:
    assert is_refusal("I'm sorry, but I can't help with that.")
    assert is_refusal("I cannot do this")
    assert not is_refusal("Sure! Here is the summary.")
