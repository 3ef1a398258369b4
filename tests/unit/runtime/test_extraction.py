"""The extraction monitor flags keys that sweep the input space, not keys with steady traffic."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from garrison.errors import PolicyError
from garrison.gateway.record import BLOCK
from garrison.runtime.alerts import Alert
from garrison.runtime.config import ExtractionConfig
from garrison.runtime.extraction import ExtractionMonitor, budget_from_report, resolve_budget
from tests.unit.runtime.traffic import diverse_prompts, record, repetitive_prompts


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def feed(monitor: ExtractionMonitor, prompts: list[str], key_id: str) -> list[Alert]:
    alerts: list[Alert] = []
    for prompt in prompts:
        alerts.extend(monitor.observe(record(prompt, key_id=key_id)))
    return alerts


def test_a_diverse_sweep_raises_volume_and_diversity_alerts() -> None:
    monitor = ExtractionMonitor(ExtractionConfig(max_queries=400))
    alerts = feed(monitor, diverse_prompts(500), "attacker")
    kinds = [a.kind for a in alerts]
    assert kinds == ["extraction.diversity", "extraction.volume"]
    diversity = alerts[0]
    assert diversity.key_id == "attacker"
    assert diversity.severity == "high"
    assert float(diversity.evidence["diversity"]) >= 0.9
    assert diversity.evidence["queries"] == 200  # half the budget: before the copy is done
    assert alerts[1].evidence == {"queries": 401, "budget": 400, "window_s": 86_400.0}
    state = monitor.state("attacker")
    assert state is not None and state.queries == 500 and state.diversity >= 0.9


def test_repetitive_traffic_of_the_same_volume_is_not_a_sweep() -> None:
    monitor = ExtractionMonitor(ExtractionConfig(max_queries=400))
    kinds = [a.kind for a in feed(monitor, repetitive_prompts(500), "app")]
    assert kinds == ["extraction.volume"]  # over budget, but no sweep
    state = monitor.state("app")
    assert state is not None and state.diversity < 0.2


def test_normal_key_under_budget_raises_nothing_beside_an_attacker() -> None:
    monitor = ExtractionMonitor(ExtractionConfig(max_queries=400))
    attacker, normal = diverse_prompts(500), repetitive_prompts(300)
    alerts: list[Alert] = []
    for index in range(500):
        alerts += monitor.observe(record(attacker[index], key_id="attacker"))
        if index < 300:
            alerts += monitor.observe(record(normal[index], key_id="normal"))
    assert {a.key_id for a in alerts} == {"attacker"}
    assert monitor.keys == 2


def test_numeric_sweeps_count_as_diverse_and_float_noise_does_not() -> None:
    rng = random.Random(1)
    monitor = ExtractionMonitor(ExtractionConfig(max_queries=100))
    sweep = [" ".join(f"{rng.uniform(0, 10):.6f}" for _ in range(8)) for _ in range(120)]
    assert "extraction.diversity" in [a.kind for a in feed(monitor, sweep, "grid")]
    # The same vector with noise below 3 significant digits reads as one input.
    vector = (1.5, 2.25, 3.0)
    noisy = [" ".join(f"{v + rng.uniform(-1e-5, 1e-5):.6f}" for v in vector) for _ in range(120)]
    assert "extraction.diversity" not in [a.kind for a in feed(monitor, noisy, "steady")]


def test_counts_leave_the_window_and_the_alert_rearms() -> None:
    clock = Clock()
    monitor = ExtractionMonitor(ExtractionConfig(max_queries=10, window_s=120.0), clock=clock)
    assert [a.kind for a in feed(monitor, ["same"] * 11, "k")] == ["extraction.volume"]
    assert feed(monitor, ["same"] * 5, "k") == []  # alerted once per crossing
    clock.now += 121.0
    assert feed(monitor, ["same"], "k") == []
    state = monitor.state("k")
    assert state is not None and state.queries == 1
    assert [a.kind for a in feed(monitor, ["same"] * 10, "k")] == ["extraction.volume"]


def test_blocked_requests_and_anonymous_ones_are_not_counted() -> None:
    monitor = ExtractionMonitor(ExtractionConfig(max_queries=5))
    for prompt in diverse_prompts(20):
        assert monitor.observe(record(prompt, decision=BLOCK, status=403)) == ()
        assert monitor.observe(record(prompt, key_id=None)) == ()
        assert monitor.observe(record(prompt, route="models")) == ()
    assert monitor.state("k1") is None


def test_idle_keys_are_forgotten_beyond_max_keys() -> None:
    monitor = ExtractionMonitor(ExtractionConfig(max_keys=3))
    for key in ("a", "b", "c", "a", "d"):
        monitor.observe(record("hi", key_id=key))
    assert monitor.keys == 3
    assert monitor.state("b") is None and monitor.state("a") is not None


def test_huge_prompts_cost_a_bounded_sketch() -> None:
    monitor = ExtractionMonitor(ExtractionConfig(max_tokens=16))
    monitor.observe(record(" ".join(diverse_prompts(2000)), key_id="big"))
    state = monitor.state("big")
    assert state is not None and state.sampled <= 14


def _report(tmp_path: Path, points: list[tuple[int, float]]) -> Path:
    """A report as `garrison test extraction --format json` writes it."""
    from garrison.report.json import render_json
    from garrison.report.model import Report

    report = Report(command="test extraction", targets=["model.onnx"])
    report.metrics["extraction"] = {
        "points": [
            {"budget": q, "queries": q, "fidelity": f, "surrogate_accuracy": f, "surrogate": "x"}
            for q, f in points
        ],
        "fidelity_target": 0.9,
    }
    path = tmp_path / "extraction.json"
    path.write_text(render_json(report), encoding="utf-8")
    return path


def test_the_budget_comes_from_an_extraction_report(tmp_path: Path) -> None:
    path = _report(tmp_path, [(50, 0.4), (500, 0.86), (1000, 0.93), (5000, 0.97)])
    assert budget_from_report(path, 0.9) == 1000
    assert budget_from_report(path, 0.99) is None
    config = ExtractionConfig(report=path, fidelity=0.9, max_queries=10_000)
    assert resolve_budget(config) == 500  # alerts halfway to a copy
    assert ExtractionMonitor(config).budget == 500
    never = ExtractionConfig(report=path, fidelity=0.99, max_queries=7_000)
    assert resolve_budget(never) == 7_000


def test_the_bare_metrics_object_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"points": [{"queries": 200, "fidelity": 0.95}]}))
    assert budget_from_report(path, 0.9) == 200


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"metrics": {"evasion": {}}}', "has no extraction curve"),
        ('{"points": [{"queries": "many", "fidelity": 1}]}', "has no extraction curve"),
    ],
)
def test_an_unusable_report_is_a_policy_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(content)
    with pytest.raises(PolicyError, match=message):
        ExtractionMonitor(ExtractionConfig(report=path))


def test_a_missing_report_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read extraction report"):
        resolve_budget(ExtractionConfig(report=tmp_path / "absent.json"))
