"""Compose, Kubernetes, Dockerfiles, launch scripts, Terraform and bucket policies."""

from __future__ import annotations

import json

import pytest

from garrison.assets import Asset
from garrison.posture.buckets import analyse_policy_json, analyse_terraform
from garrison.posture.config_checks import analyse_dockerfile, analyse_shell, analyse_yaml

ASSET = Asset(uri="file:///x", path="x")


def rules(out: object) -> list[str]:
    return sorted(f.rule for f in out.findings)  # type: ignore[attr-defined]


COMPOSE_OPEN = """
services:
  lab:
    image: jupyter/base-notebook
    command: start-notebook.sh --NotebookApp.token=''
    ports: ["8888:8888"]
  ollama:
    image: ollama/ollama
    ports: ["11434:11434"]
  llm:
    image: vllm/vllm-openai:latest
    command: ["--model", "org/chat"]
    ports: ["0.0.0.0:8000:8000"]
    privileged: true
    user: root
"""
COMPOSE_SAFE = """
services:
  lab:
    image: jupyter/base-notebook
    ports: ["8888:8888"]
  ollama:
    image: ollama/ollama
    user: "1000"
    ports: ["127.0.0.1:11434:11434"]
  llm:
    image: vllm/vllm-openai:latest
    command: ["--model", "org/chat", "--api-key", "${KEY}"]
    user: "1000"
    ports: ["8000:8000"]
  web:
    image: nginx
    privileged: true
    ports: ["80:80"]
"""


def test_compose_exposed_servers_privilege_and_root() -> None:
    out = analyse_yaml(COMPOSE_OPEN, "docker-compose.yml", ASSET)
    assert rules(out) == [
        "GA-POST-007", "GA-POST-007", "GA-POST-007", "GA-POST-009", "GA-POST-010", "GA-POST-010",
    ]  # fmt: skip
    assert sorted(a.name for a in out.assets) == ["jupyter", "ollama", "vllm"]
    assert [m.name for m in out.models] == ["org/chat"]
    assert all(m.served for m in out.models)


def test_compose_with_auth_localhost_and_users_is_clean() -> None:
    out = analyse_yaml(COMPOSE_SAFE, "docker-compose.yml", ASSET)
    assert rules(out) == []
    assert len(out.assets) == 3


K8S = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: ray}
spec:
  template:
    spec:
      securityContext: {runAsUser: 0}
      containers:
        - name: head
          image: rayproject/ray:2.9.0
          args: ["ray", "start", "--head", "--dashboard-host=0.0.0.0"]
          securityContext: {privileged: true}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: tgi
              image: ghcr.io/huggingface/text-generation-inference:2.0
"""


def test_kubernetes_workloads() -> None:
    out = analyse_yaml(K8S, "k8s.yaml", ASSET)
    assert rules(out) == ["GA-POST-007", "GA-POST-009", "GA-POST-010", "GA-POST-010"]


def test_non_inference_privileged_pod_is_not_a_finding() -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: agent}\nspec:\n  containers:\n"
        "    - {name: a, image: acme/node-agent, securityContext: {privileged: true}}\n"
    )
    assert rules(analyse_yaml(pod, "pod.yaml", ASSET)) == []


@pytest.mark.parametrize(
    "text",
    [
        "services: {{ .Values.services }}\n",  # a Helm template
        ": : :\n\t- [",
        "a: &a [1, 2]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\n"
        "services: {x: {command: *c}}\n",
        "- just\n- a list\n",
    ],
)
def test_broken_templated_or_hostile_yaml_never_crashes(text: str) -> None:
    analyse_yaml(text, "x.yaml", ASSET)


def test_dockerfile_root_and_user() -> None:
    root = 'FROM python:3.11\nRUN pip install vllm\nCMD ["vllm", "serve", "org/m"]\n'
    out = analyse_dockerfile(root, "Dockerfile", ASSET)
    assert rules(out) == ["GA-POST-007", "GA-POST-010"]
    safe = "FROM python:3.11 AS b\nUSER root\nFROM python:3.11\nRUN pip install torch\nUSER 1000\n"
    assert rules(analyse_dockerfile(safe, "Dockerfile", ASSET)) == []
    web = 'FROM node:20\nRUN npm ci\nCMD ["node", "s.js"]\n'
    assert rules(analyse_dockerfile(web, "Dockerfile", ASSET)) == []


def test_launch_scripts() -> None:
    script = (
        "#!/bin/sh\n# jupyter lab --ip=0.0.0.0 --NotebookApp.token=''\n"
        "export OLLAMA_HOST=0.0.0.0:11434\nollama serve &\n"
        "mlflow server \\\n  --host 0.0.0.0 --port 5000\n"
        "mlflow server --host 0.0.0.0 --app-name basic-auth\n"
        "vllm serve org/m --host 127.0.0.1\n"
        "jupyter lab --no-browser\n"
    )
    out = analyse_shell(script, "run.sh", ASSET)
    lines = sorted((f.rule, f.location.line) for f in out.findings)
    assert lines == [("GA-POST-007", 4), ("GA-POST-007", 5)]
    assert [m.name for m in out.models] == ["org/m"]


TF = """
resource "aws_s3_bucket" "weights" {
  bucket = "acme-model-weights"
}
resource "aws_s3_bucket_acl" "weights" {
  bucket = aws_s3_bucket.weights.id
  acl    = "public-read"
}
resource "aws_s3_bucket_acl" "site" {
  bucket = "acme-website"
  acl    = "public-read"
}
resource "google_storage_bucket_iam_member" "ckpt" {
  bucket = "llm-checkpoints"
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
resource "azurerm_storage_container" "models" {
  name                  = "models"
  container_access_type = "blob"
}
resource "aws_s3_bucket_policy" "open" {
  bucket = "acme-ml-models"
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "x" }]
  })
}
resource "aws_s3_bucket_acl" "private_models" {
  bucket = "acme-models-private"
  acl    = "private"
}
"""


def test_terraform_public_model_buckets() -> None:
    out = analyse_terraform(TF, "main.tf", ASSET)
    evidence = sorted(f.evidence.split(" ")[0] for f in out.findings)
    assert evidence == [
        "aws_s3_bucket_acl.weights",
        "aws_s3_bucket_policy.open",
        "azurerm_storage_container.models",
        "google_storage_bucket_iam_member.ckpt",
    ]


def test_bucket_policy_json() -> None:
    def policy(principal: object, bucket: str, condition: bool = False) -> object:
        statement = {
            "Effect": "Allow",
            "Principal": principal,
            "Action": ["s3:GetObject"],
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
        if condition:
            statement["Condition"] = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
        return json.loads(json.dumps({"Statement": [statement]}))

    assert rules(analyse_policy_json(policy("*", "model-weights"), "p.json", ASSET)) == [
        "GA-POST-008"
    ]
    assert rules(analyse_policy_json(policy({"AWS": "*"}, "ckpt-store"), "p.json", ASSET))
    assert not rules(analyse_policy_json(policy("*", "website"), "p.json", ASSET))
    assert not rules(analyse_policy_json(policy("*", "models", True), "p.json", ASSET))
    role = {"AWS": "arn:aws:iam::1:role/x"}
    assert not rules(analyse_policy_json(policy(role, "models"), "p.json", ASSET))
