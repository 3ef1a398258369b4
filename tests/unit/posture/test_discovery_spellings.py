"""Whole-file discovery of spellings an independent hold-out set found missing: the file goes
through classification and the cheap triggers as in a real walk, not straight to a checker."""

from __future__ import annotations

import struct
from pathlib import Path

from garrison.posture.analyse import FileResult, analyse_file
from garrison.posture.classify import is_tfrecord, masked_crc32c


def discover(tmp_path: Path, name: str, content: str | bytes) -> FileResult:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return analyse_file(str(path), path.stat().st_size, 1 << 20)


def rules(result: FileResult) -> list[str]:
    return sorted(f.rule for f in result.observations.findings)


def assets(result: FileResult) -> set[tuple[str, str]]:
    return {(a.category, a.name) for a in result.observations.assets}


POD_ROOT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: sentiment}
spec:
  template:
    spec:
      securityContext: {runAsUser: 0}
      containers:
        - name: api
          image: pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime
"""


def test_a_pytorch_pod_running_as_uid_0(tmp_path: Path) -> None:
    assert rules(discover(tmp_path, "k8s/deployment.yaml", POD_ROOT)) == ["GA-POST-010"]


def test_a_bare_pytorch_pod_defaults_to_root(tmp_path: Path) -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    pod += "    - name: t\n      image: pytorch/pytorch:2.4.0-runtime\n"
    assert rules(discover(tmp_path, "pod.yaml", pod)) == ["GA-POST-010"]
    non_root = pod.replace("spec:\n", "spec:\n  securityContext: {runAsNonRoot: true}\n", 1)
    assert rules(discover(tmp_path, "safe.yaml", non_root)) == []


def test_scikit_learn_and_conda_images_are_ml_containers(tmp_path: Path) -> None:
    sklearn = "FROM python:3.12-slim\nRUN pip install scikit-learn xgboost joblib\nUSER 0\n"
    assert rules(discover(tmp_path, "a/Dockerfile", sklearn)) == ["GA-POST-010"]
    conda = "FROM continuumio/miniconda3\nRUN conda install -y -c pytorch pytorch\n"
    assert rules(discover(tmp_path, "b/Dockerfile", conda)) == ["GA-POST-010"]
    web = "FROM python:3.12-slim\nRUN pip install flask pandas\n"
    assert rules(discover(tmp_path, "c/Dockerfile", web)) == []


def test_a_makefile_launching_vllm_on_all_interfaces(tmp_path: Path) -> None:
    make = "MODEL ?= acme/chat\nserve:\n\tvllm serve $(MODEL) --host 0.0.0.0 --port 8000\n"
    assert "GA-POST-007" in rules(discover(tmp_path, "Makefile", make))
    local = make.replace("0.0.0.0", "127.0.0.1")
    assert "GA-POST-007" not in rules(discover(tmp_path, "x/Makefile", local))


def test_bare_api_urls_in_shell_name_the_service(tmp_path: Path) -> None:
    script = "#!/bin/sh\ncurl -s https://api.anthropic.com/v1/messages -H x-api-key:$KEY\n"
    assert ("ai-service", "anthropic") in assets(discover(tmp_path, "ask.sh", script))
    assert assets(discover(tmp_path, "docs.sh", "#!/bin/sh\necho https://example.com/\n")) == set()


def test_requirements_directory_files_are_manifests(tmp_path: Path) -> None:
    found = discover(tmp_path, "requirements/base.txt", "numpy==2.1\nopenai>=1.40\n")
    assert ("ai-dependency", "openai") in assets(found)


def test_fireworks_client_is_an_ai_service(tmp_path: Path) -> None:
    code = "from fireworks.client import Fireworks\nfw = Fireworks()\n"
    assert ("ai-service", "fireworks") in assets(discover(tmp_path, "fw.py", code))


def test_crc32c_matches_the_standard_check_value() -> None:
    # CRC-32C("123456789") = 0xE3069283 (RFC 3720); the mask is TFRecord's.
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_tfrecord_is_a_dataset_by_name_and_content(tmp_path: Path) -> None:
    payload = b"\x0a\x05hello"
    header = struct.pack("<Q", len(payload))
    record = header + struct.pack("<I", masked_crc32c(header)) + payload + b"\0\0\0\0"
    assert is_tfrecord(record)
    assert ("dataset", "tfrecord") in assets(discover(tmp_path, "train.tfrecord", record))
    assert not is_tfrecord(b"\x05" + b"\0" * 7 + b"\x01\x02\x03\x04" + payload)


CHART = "apiVersion: v2\nname: embedder\nversion: 0.1.0\n"
VALUES = "image:\n  repository: vllm/vllm-openai\nsecurityContext:\n  privileged: true\n"


def test_helm_values_the_templates_never_read_are_not_judged(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART)
    pod = "spec:\n  securityContext:\n    {{- toYaml .Values.podSecurityContext | nindent 4 }}\n"
    (chart / "templates" / "deployment.yaml").write_text(pod)
    assert "GA-POST-009" not in rules(discover(chart, "values.yaml", VALUES))
    read = pod + "      securityContext: {{- toYaml .Values.securityContext | nindent 8 }}\n"
    (chart / "templates" / "deployment.yaml").write_text(read)
    assert "GA-POST-009" in rules(discover(chart, "values.yaml", VALUES))
