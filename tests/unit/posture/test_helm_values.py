"""Helm charts: values.yaml (and values-*.yaml, override files) read for servers and privilege."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.posture import discover
from garrison.posture.analyse import analyse_file
from garrison.posture.helm import is_values_file

CHART = "apiVersion: v2\nname: ollama\nversion: 1.2.0\nappVersion: 0.5.7\n"
# The shape of the community Ollama chart's values, with the risky settings switched on.
OLLAMA_VALUES = """\
replicaCount: 1
image:
  repository: ollama/ollama
  pullPolicy: IfNotPresent
  tag: ""
ollama:
  gpu:
    enabled: true
    type: nvidia
    number: 1
  models:
    pull:
      - llama3.1:8b
serviceAccount:
  create: true
podSecurityContext: {}
securityContext:
  privileged: true
service:
  type: LoadBalancer
  port: 11434
resources:
  limits:
    nvidia.com/gpu: 1
persistentVolume:
  enabled: true
  size: 30Gi
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "ollama.fullname" . }}
spec:
  template:
    spec:
      {{- with .Values.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default "latest" }}"
"""


def chart(root: Path, values: str, templates: dict[str, str] | None = None) -> Path:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(CHART)
    (root / "values.yaml").write_text(values)
    for name, text in (
        templates if templates is not None else {"deployment.yaml": DEPLOYMENT}
    ).items():
        (root / "templates" / name).write_text(text)
    return root


def findings(path: Path) -> list[tuple[str, int | None, str]]:
    result = analyse_file(str(path), path.stat().st_size, 2 << 20)
    return sorted((f.rule, f.location.line, f.evidence) for f in result.observations.findings)


def test_ollama_chart_values_exposed_privileged_and_root(tmp_path: Path) -> None:
    values = chart(tmp_path / "ollama", OLLAMA_VALUES) / "values.yaml"
    assert findings(values) == [
        ("GA-POST-007", 20, "ollama: ollama exposed by service type LoadBalancer without "
                            "authentication"),
        ("GA-POST-009", 18, "ollama: privileged: true"),
        ("GA-POST-010", 2, "ollama: no runAsNonRoot/runAsUser; ollama/ollama runs as root"),
    ]  # fmt: skip
    result = analyse_file(str(values), values.stat().st_size, 2 << 20)
    assert [(a.category, a.name) for a in result.observations.assets] == [
        ("model-server", "ollama")
    ]


def test_non_root_cluster_ip_chart_is_clean(tmp_path: Path) -> None:
    safe = OLLAMA_VALUES.replace(
        "privileged: true", "runAsNonRoot: true\n  runAsUser: 1000"
    ).replace("type: LoadBalancer", "type: ClusterIP")
    assert findings(chart(tmp_path / "ollama", safe) / "values.yaml") == []


def test_pod_security_context_sets_the_user(tmp_path: Path) -> None:
    values = OLLAMA_VALUES.replace("podSecurityContext: {}", "podSecurityContext:\n  runAsUser: 0")
    values = values.replace("privileged: true", "allowPrivilegeEscalation: false")
    found = findings(chart(tmp_path / "ollama", values) / "values.yaml")
    assert [(rule, line) for rule, line, _ in found] == [("GA-POST-007", 21), ("GA-POST-010", 17)]
    assert found[1][2] == "ollama: runAsUser: 0"


VLLM_VALUES = """\
servingEngineSpec:
  runtimeClassName: nvidia
  containerSecurityContext:
    runAsNonRoot: false
  service:
    type: NodePort
  modelSpec:
    - name: llama3
      repository: vllm/vllm-openai
      tag: v0.6.4
      modelURL: meta-llama/Llama-3.1-8B-Instruct
      requestGPU: 1
      env:
        - name: HF_HOME
          value: /data
    - name: mistral
      repository: vllm/vllm-openai
      tag: v0.6.4
      modelURL: mistralai/Mistral-7B-Instruct-v0.3
      vllmApiKey:
        secretName: vllm-api-key
        secretKey: key
routerSpec:
  image:
    repository: lmcache/lmstack-router
    tag: latest
  service:
    type: LoadBalancer
"""
VLLM_TEMPLATE = """\
{{- range $modelSpec := .Values.servingEngineSpec.modelSpec }}
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: vllm
          image: "{{ $modelSpec.repository }}:{{ $modelSpec.tag }}"
          {{- with $.Values.servingEngineSpec.containerSecurityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
{{- end }}
"""


def test_vllm_stack_model_specs_are_containers_and_api_keys_are_auth(tmp_path: Path) -> None:
    root = chart(tmp_path / "vllm-stack", VLLM_VALUES, {"engine.yaml": VLLM_TEMPLATE})
    found = findings(root / "values.yaml")
    assert found == [
        (
            "GA-POST-007",
            6,
            "servingEngineSpec.modelSpec[0]: vllm exposed by service type NodePort without "
            "authentication",
        ),
        (
            "GA-POST-010",
            9,
            "servingEngineSpec.modelSpec[0]: no runAsNonRoot/runAsUser; "
            "vllm/vllm-openai:v0.6.4 runs as root",
        ),
        (
            "GA-POST-010",
            17,
            "servingEngineSpec.modelSpec[1]: no runAsNonRoot/runAsUser; "
            "vllm/vllm-openai:v0.6.4 runs as root",
        ),
    ]


def test_vllm_api_key_from_a_secret_in_env_is_auth(tmp_path: Path) -> None:
    values = (
        "image:\n  repository: vllm/vllm-openai\n  tag: v0.6.4\n"
        "args: [--model, org/chat]\n"
        "env:\n  - name: VLLM_API_KEY\n    valueFrom:\n      secretKeyRef: {name: k, key: k}\n"
        "securityContext:\n  runAsUser: 1000\n"
        "service:\n  type: LoadBalancer\n"
    )
    assert findings(chart(tmp_path / "vllm", values) / "values.yaml") == []


JUPYTER_VALUES = """\
image:
  repository: quay.io/jupyter/scipy-notebook
  tag: "2024-10-07"
securityContext:
  runAsUser: 0
service:
  type: ClusterIP
"""


def test_a_security_context_the_templates_never_use_is_not_judged(tmp_path: Path) -> None:
    unused = "kind: Pod\nspec:\n  containers:\n    - image: {{ .Values.image.repository }}\n"
    root = chart(tmp_path / "unused", JUPYTER_VALUES, {"pod.yaml": unused})
    assert findings(root / "values.yaml") == []
    used = chart(tmp_path / "used", JUPYTER_VALUES)
    assert findings(used / "values.yaml") == [
        ("GA-POST-010", 5, "unused: runAsUser: 0".replace("unused", "used"))
    ]


def test_templates_that_set_a_non_root_user_themselves(tmp_path: Path) -> None:
    fixed = DEPLOYMENT.replace(
        "{{- toYaml .Values.securityContext | nindent 12 }}",
        "runAsNonRoot: true\n            runAsUser: 65534",
    )
    values = OLLAMA_VALUES.replace("privileged: true", "readOnlyRootFilesystem: true")
    root = chart(tmp_path / "ollama", values, {"deployment.yaml": fixed})
    assert [rule for rule, _, _ in findings(root / "values.yaml")] == ["GA-POST-007"]


def test_values_overlays_report_what_they_change_at_their_own_lines(tmp_path: Path) -> None:
    root = chart(tmp_path / "ollama", OLLAMA_VALUES.replace("privileged: true", "runAsUser: 1000"))
    (root / "values-prod.yaml").write_text(
        "service:\n  type: ClusterIP\nsecurityContext:\n  runAsUser: 0\n"
    )
    (root / "values-edge.yaml").write_text("replicaCount: 3\n")
    assert [r for r, _, _ in findings(root / "values.yaml")] == ["GA-POST-007"]
    assert findings(root / "values-prod.yaml") == [("GA-POST-010", 4, "ollama: runAsUser: 0")]
    assert findings(root / "values-edge.yaml") == []  # what it inherits is values.yaml's


def test_an_override_file_for_a_remote_chart_is_read_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "deploy" / "ollama-values.yaml"
    path.parent.mkdir()
    path.write_text("image:\n  repository: ollama/ollama\nservice:\n  type: LoadBalancer\n")
    assert [(r, line) for r, line, _ in findings(path)] == [("GA-POST-007", 4), ("GA-POST-010", 1)]


def test_a_manifest_named_like_values_is_read_as_a_manifest(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: nb}\nspec:\n  containers:\n"
        "    - {name: nb, image: vllm/vllm-openai, securityContext: {runAsUser: 0}}\n"
    )
    assert [r for r, _, _ in findings(path)] == ["GA-POST-007", "GA-POST-010"]


def test_non_inference_images_are_not_judged(tmp_path: Path) -> None:
    values = "image:\n  repository: nginx\nsecurityContext:\n  privileged: true\n  runAsUser: 0\n"
    assert findings(chart(tmp_path / "web", values) / "values.yaml") == []


@pytest.mark.parametrize(
    "text",
    [
        "image: {{ .Values.x }}\n",
        ": : :\n\t- [",
        "- a\n- list\n",
        "a0: &a0 {image: {repository: ollama/ollama}, securityContext: {privileged: true}}\n"
        + "".join(f"a{i}: &a{i} {{x: *a{i - 1}, y: *a{i - 1}}}\n" for i in range(1, 30)),
        "a: &a [*a]\n",
        "? [1, 2]\n: unhashable key\n",
    ],
)
def test_broken_templated_or_hostile_values_never_crash(tmp_path: Path, text: str) -> None:
    root = chart(tmp_path / "c", text)
    findings(root / "values.yaml")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("values.yaml", True),
        ("values-prod.yml", True),
        ("ollama-values.yaml", True),
        ("vllm.values.yaml", True),
        ("values.json", False),
        ("valuesets.yaml", False),
        ("docker-compose.yaml", False),
    ],
)
def test_values_files_by_name(name: str, expected: bool) -> None:
    assert is_values_file(f"/repo/deploy/{name}") is expected


def test_discover_reports_chart_findings_at_values_lines(tmp_path: Path) -> None:
    chart(tmp_path / "charts" / "ollama", OLLAMA_VALUES)
    found = discover(tmp_path)
    located = sorted(
        (f.rule, Path(f.location.path or "").name, f.location.line) for f in found.report.findings
    )
    assert located == [
        ("GA-POST-007", "values.yaml", 20),
        ("GA-POST-009", "values.yaml", 18),
        ("GA-POST-010", "values.yaml", 2),
    ]
