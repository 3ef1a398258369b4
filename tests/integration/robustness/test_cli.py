"""`garrison test` and `garrison harden` as a user runs them, on models trained here."""

from __future__ import annotations

import json
import os
import pickle
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from garrison.cli.main import app
from garrison.robustness.data import load_bundled

runner = CliRunner()


def garrison(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args], env={"NO_COLOR": "1"})


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits CNN as safetensors, its train/test split as .npz, a wine model as ONNX."""
    import torch
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    from garrison.robustness.harden_adversarial import save_safetensors
    from garrison.robustness.models import fit, small_cnn

    root = tmp_path_factory.mktemp("robustness")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train, test = load_bundled("digits").split(0.5)
        save_safetensors(fit(small_cnn(), train, epochs=8).module, root / "cnn.safetensors")
    finally:
        torch.set_num_threads(threads)
    np.savez(root / "members.npz", x=train.x[:300], y=train.y[:300])
    np.savez(root / "non_members.npz", x=test.x[:300], y=test.y[:300])
    wine = load_bundled("wine")
    model = LogisticRegression(max_iter=500).fit(wine.x, wine.y)
    (root / "wine.onnx").write_bytes(to_onnx(model, wine.x[:1]).SerializeToString())
    return root


def test_evasion_reports_a_curve_and_fails_under_a_strict_policy(
    work: Path, tmp_path: Path
) -> None:
    args = ("test", "evasion", work / "cnn.safetensors", "--arch", "garrison:small_cnn")
    out = tmp_path / "evasion.json"
    lenient_policy = tmp_path / "lenient.toml"
    lenient_policy.write_text("[robustness]\nmin_adversarial_accuracy = 0.0\n")
    lenient = garrison(
        *args, "--samples", "100", "-f", "json", "-o", out, "--policy", lenient_policy
    )
    assert lenient.exit_code == 0, lenient.output
    report = json.loads(out.read_text())
    curve = report["metrics"]["evasion"]
    assert curve["attack"] == "PGD-Linf" and curve["accuracy"][0] > 0.85
    assert curve["accuracy"][-1] < curve["accuracy"][0] - 0.5
    assert report["artifacts"][0]["media_type"] == "image/png"
    policy = tmp_path / "garrison.toml"
    policy.write_text("[robustness]\nmin_adversarial_accuracy = 0.95\n")
    strict = garrison(*args, "--samples", "100", "--policy", policy)
    assert strict.exit_code == 1
    assert "GA-ROB-001" in strict.output and "accuracy at eps" in strict.output


def test_html_report_embeds_the_robustness_curve(work: Path, tmp_path: Path) -> None:
    out = tmp_path / "evasion.html"
    result = garrison(
        "test",
        "evasion",
        work / "cnn.safetensors",
        "--arch",
        "garrison:small_cnn",
        "--samples",
        "50",
        "-f",
        "html",
        "-o",
        out,
    )
    assert result.exit_code in (0, 1), result.output
    assert 'src="data:image/png;base64,' in out.read_text()


def test_a_hostile_model_is_refused_before_loading(tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo garrison-test",))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"weight": Payload()}, protocol=4))
    result = garrison("test", "evasion", evil, "--arch", "garrison:small_cnn", "-f", "json")
    assert result.exit_code == 1
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert "GA-ROB-005" in rules and len(rules) > 1
    assert "metrics" not in json.loads(result.stdout)


def test_a_pickled_estimator_needs_explicit_consent(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    wine = load_bundled("wine")
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(LogisticRegression(max_iter=300).fit(wine.x, wine.y)))
    refused = garrison("test", "extraction", path, "--data", "sklearn:wine")
    assert refused.exit_code in (1, 2)
    assert "Traceback" not in refused.output


def test_extraction_of_an_onnx_model(work: Path) -> None:
    result = garrison(
        "test",
        "extraction",
        work / "wine.onnx",
        "--data",
        "sklearn:wine",
        "--budgets",
        "10,40,80",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)["metrics"]["extraction"]["points"]
    assert [p["budget"] for p in points] == [10, 40, 80]
    assert points[-1]["fidelity"] > 0.8


class _Predict(BaseHTTPRequestHandler):
    model: Any = None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/v2/models/wine/infer":  # KServe V2: flat data plus a shape
            request = body["inputs"][0]
            x = np.asarray(request["data"], np.float32).reshape(request["shape"])
            probs = self.model.predict_proba(x)
            out = {"name": "probabilities", "shape": list(probs.shape), "datatype": "FP32"}
            answer = json.dumps({"outputs": [{**out, "data": probs.reshape(-1).tolist()}]})
        else:
            answer = json.dumps(
                {"predictions": self.model.predict_proba(body["instances"]).tolist()}
            )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    from sklearn.linear_model import LogisticRegression

    wine = load_bundled("wine")
    _Predict.model = LogisticRegression(max_iter=500).fit(wine.x, wine.y)
    server = HTTPServer(("127.0.0.1", 0), _Predict)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/predict"
    server.shutdown()


def test_extraction_of_a_black_box_endpoint(endpoint: str) -> None:
    result = garrison(
        "test",
        "extraction",
        "--endpoint",
        endpoint,
        "--data",
        "sklearn:wine",
        "--budgets",
        "20,60",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["metrics"]["extraction"]["points"][-1]["fidelity"] > 0.7
    base = endpoint.rsplit("/", 1)[0]
    kserve = garrison(
        "test",
        "extraction",
        "--endpoint",
        base,
        "--protocol",
        "kserve-v2",
        "--endpoint-model",
        "wine",
        "--data",
        "sklearn:wine",
        "--budgets",
        "20,60",
        "-f",
        "json",
    )
    assert kserve.exit_code == 0, kserve.output
    assert json.loads(kserve.stdout)["metrics"]["extraction"]["points"][-1]["fidelity"] > 0.7
    down = garrison(
        "test", "extraction", "--endpoint", "http://127.0.0.1:9/x", "--data", "sklearn:wine"
    )
    assert down.exit_code == 2 and "cannot reach the endpoint" in down.output


def test_privacy_and_inversion_of_the_cnn(work: Path) -> None:
    privacy = garrison(
        "test",
        "privacy",
        work / "cnn.safetensors",
        "--arch",
        "garrison:small_cnn",
        "--members",
        work / "members.npz",
        "--non-members",
        work / "non_members.npz",
        "-f",
        "json",
    )
    assert privacy.exit_code in (0, 1), privacy.output
    audit = json.loads(privacy.stdout)["metrics"]["privacy"]
    assert set(audit["attacks"]) >= {"loss", "confidence"} and 0.3 < audit["best_auc"] <= 1
    inversion = garrison(
        "test",
        "inversion",
        work / "cnn.safetensors",
        "--arch",
        "garrison:small_cnn",
        "--steps",
        "30",
        "-f",
        "json",
    )
    assert inversion.exit_code in (0, 1), inversion.output
    assert json.loads(inversion.stdout)["metrics"]["inversion"]["identifiable"] >= 5
    missing = garrison("test", "privacy", work / "cnn.safetensors", "--arch", "garrison:small_cnn")
    assert missing.exit_code == 2 and "--members" in missing.output


def test_harden_writes_safetensors_that_scan_clean(tmp_path: Path) -> None:
    from garrison.supplychain import scan_path

    dp = tmp_path / "dp.safetensors"
    result = garrison(
        "harden",
        "dp",
        "-o",
        dp,
        "--data",
        "sklearn:wine",
        "--epochs",
        "3",
        "--report",
        tmp_path / "dp.json",
    )
    assert result.exit_code == 0, result.output
    numbers = json.loads((tmp_path / "dp.json").read_text())
    assert numbers["epsilon"] <= 3.0
    assert not scan_path([dp]).findings
    # The architecture it chose is said and kept, since `garrison test --arch` needs it.
    assert numbers["arch"] == "garrison:mlp" and "--arch garrison:mlp" in result.output
    from safetensors import safe_open

    with safe_open(str(dp), "np") as weights:
        assert weights.metadata()["arch"] == "garrison:mlp"
    assert "delta: 0.000" not in result.output
    wrong = garrison("harden", "adversarial", "-o", tmp_path / "x.pt")
    assert wrong.exit_code == 2 and ".safetensors" in wrong.output


def test_a_model_and_data_that_do_not_fit_is_a_usage_error(work: Path) -> None:
    # wine.onnx takes 13 features; the default data is 8x8 digits images.
    result = garrison("test", "evasion", work / "wine.onnx", "--samples", "5")
    assert result.exit_code == 2, result.output
    assert "the model does not accept this data (1x8x8 values a sample)" in result.output
    assert "internal error" not in result.output


def test_members_and_non_members_of_different_kinds_are_refused(work: Path, tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", x=np.zeros((20, 5), np.float32), y=np.zeros(20, np.int64))
    result = garrison(
        "test", "privacy", work / "cnn.safetensors", "--arch", "garrison:small_cnn",
        "--members", work / "members.npz", "--non-members", tmp_path / "other.npz",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "both must be records of the same kind" in result.output


def test_an_unreachable_privacy_budget_is_a_usage_error(tmp_path: Path) -> None:
    result = garrison(
        "harden", "dp", "-o", tmp_path / "w.safetensors", "--target-epsilon", "0.01",
        "--epochs", "1",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "cannot be reached" in result.output
    assert not (tmp_path / "w.safetensors").exists()
