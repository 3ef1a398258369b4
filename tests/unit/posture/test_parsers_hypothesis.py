"""Untrusted files through discovery's analysers: findings or a clear skip, never an exception.

Files are analysed the way `garrison discover` does (analyse_file on a file on disk), plus
the analysers directly on hostile structures. The alarm is a blow-up guard (an exponential
or quadratic case hangs instead of failing), not a benchmark.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.assets import Asset
from garrison.posture import rules
from garrison.posture.analyse import FileResult, analyse_file
from garrison.posture.buckets import analyse_policy_json, analyse_terraform
from garrison.posture.config_checks import analyse_dockerfile, analyse_shell, analyse_yaml
from garrison.posture.notebooks import analyse_notebook, notebook_code
from garrison.posture.observations import Observations

NAMES = [
    "app.py", "nb.ipynb", "index.ts", "main.go", "App.java", "run.sh", "Dockerfile",
    "compose.yaml", "main.tf", "policy.json", "requirements.txt", "package.json",
    "pyproject.toml", "go.mod", "notes.txt", "noext",
]  # fmt: skip
STATUSES = {"scanned", "partial", "unscanned", "skipped"}
MAX_TEXT = 2 << 20  # discovery's default max_text_bytes
BIG = 512 << 10  # hostile files: big enough that a quadratic analyser trips the alarm
ASSET = Asset.from_path(Path("untrusted"))
HOSTILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Pieces of every format the analysers read, so random files get past their triggers.
FRAGMENTS = [
    b"services:\n", b"  s:\n", b"    image: vllm/vllm-openai\n", b"    command: ", b"deploy: ",
    b"apiVersion: v1\nkind: Pod\n", b"spec:\n  containers:\n  - ", b"name: ", b"&a ", b"*a",
    b"privileged: true\n", b"user: root\n", b"ports: ", b"[", b"]", b"{", b"}", b'"', b"'",
    b"\\\n", b"\n", b"\r\n", b" ", b":", b"- ", b"\x00", b"\xff\xfe", b"\xc3", "é日".encode(),
    b'resource "aws_s3_bucket" "models" {\n', b'acl = "public-read"\n', b'"Statement"',
    b'"Principal": "*"', b'"Action": "s3:GetObject"', b'"bindings"', b'"allUsers"',
    b'"cells"', b'"cell_type": "code"', b'"source"', b"import openai\n",
    b"from transformers import pipeline\n", b"openai.OpenAI(base_url=",
    b"https://api.openai.com/v1", b"sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7z", b"FROM python\n",
    b"CMD ", b"RUN pip install torch\n", b"USER root\n", b"vllm serve m --host 0.0.0.0\n",
    b"export OPENAI_API_KEY=", b"%%bash\n", b"!pip\n", b"(", b")", b"lambda:", b"\t",
    b"ollama serve\n", b"jupyter notebook --ip 0.0.0.0\n", b"#!/bin/sh\n",
]  # fmt: skip


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("untrusted")


@contextmanager
def finishes_within(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise AssertionError(f"analysis ran past {seconds} s: a blow-up")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def analyse(workdir: Path, name: str, data: bytes, max_text: int = MAX_TEXT) -> FileResult:
    path = workdir / name
    path.write_bytes(data)
    with finishes_within(20):
        result = analyse_file(str(path), len(data), max_text)
    if result.item is not None:
        assert result.item.status in STATUSES, result.item
    return result


@HOSTILE
@given(st.sampled_from(NAMES), st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(workdir: Path, name: str, data: bytes) -> None:
    analyse(workdir, name, data)


@HOSTILE
@given(
    st.sampled_from(NAMES),
    st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=6), max_size=80),
)
def test_format_like_files_never_raise(workdir: Path, name: str, pieces: list[bytes]) -> None:
    analyse(workdir, name, b"".join(pieces))


def billion_laughs(levels: int = 30) -> str:
    """Anchors doubling each level: 2**30 strings once the aliases are expanded."""
    lines = ['  a0: &a0 ["lol", "lol"]']
    lines += [f"  a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, levels)]
    return "bombs:\n" + "\n".join(lines) + "\n"


BOMB = f"*a{29}"
YAML_BOMBS = [
    f"services:\n  s:\n    image: vllm/vllm-openai\n    deploy: {BOMB}\n",
    f"services:\n  s:\n    image: vllm/vllm-openai\n    command: {BOMB}\n    user: {BOMB}\n"
    f"    environment: {BOMB}\n    ports: {BOMB}\n    privileged: {BOMB}\n",
    f"services: {BOMB}\n",
    f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {BOMB}}}\nspec:\n  containers:\n"
    f"  - name: {BOMB}\n    command: {BOMB}\n    env: {BOMB}\n"
    f"    resources: {{limits: {BOMB}}}\n    securityContext: {BOMB}\n",
    f"apiVersion: v1\nkind: Pod\nmetadata: {{name: m}}\nspec:\n  containers:\n  - name: {BOMB}\n",
    f"apiVersion: v1\nkind: List\nitems: {BOMB}\n",
    f"apiVersion: v1\nkind: Deployment\nspec: {{template: {{spec: {{containers: {BOMB}}}}}}}\n",
]


@pytest.mark.parametrize("body", YAML_BOMBS)
def test_yaml_alias_bombs_are_not_expanded(workdir: Path, body: str) -> None:
    result = analyse(workdir, "compose.yaml", (billion_laughs() + body).encode())
    assert result.item is not None and result.item.status == "scanned"


def test_gpu_compose_service_is_checked_through_its_deploy_block() -> None:
    text = (
        "services:\n  train:\n    image: python:3.11\n    privileged: true\n    deploy:\n"
        "      resources:\n        reservations:\n          devices:\n"
        "            - driver: nvidia\n              count: 1\n"
    )
    found = analyse_yaml(text, "compose.yaml", ASSET)
    assert rules.PRIVILEGED.id in {f.rule for f in found.findings}


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("compose.yaml", b"services: " + b"[" * 100_000 + b"]" * 100_000),
        ("compose.yaml", b"services:\n" + b"  " * 50_000 + b"- model: x\n"),
        ("policy.json", b'{"Statement": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("nb.ipynb", b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("app.py", b"import openai\nx = " + b"(" * 100_000 + b")" * 100_000),
        ("app.py", b"import openai\nx = " + b"[" * 150 + b"]" * 150),
        ("app.py", b"import openai\nx = 1" + b" + 1" * 50_000),
        ("app.py", b"import openai\n" + b"x" * (BIG - 20)),
        ("main.tf", b'resource "aws_s3_bucket" "model" {\n' * 12_000),
        ("main.tf", b'resource "aws_s3_bucket" "model" {\n' + b"\n" * (BIG - 50)),
        ("main.tf", b'resource "s" "m" {}\nacl = "public-read"\n' * 10_000),
        ("Dockerfile", b"RUN \\\n" * 80_000),
        ("run.sh", b"vllm serve m \\\n" * 25_000),
        ("run.sh", b"A=" + b"x " * 250_000),
        ("index.ts", b"import OpenAI from 'openai'\n" + b"'" * (BIG - 40)),
        ("main.go", b"// openai\n" + b"\x00" * (BIG - 20)),
        ("requirements.txt", b"openai\n" * 60_000),
        ("package.json", b'{"dependencies": ' * 12_000),
        ("pyproject.toml", b"[project]\ndependencies = [" + b'"openai",' * 50_000),
        ("notes.txt", b"sk-" * 150_000),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_hostile_large_files_finish(workdir: Path, name: str, data: bytes) -> None:
    assert len(data) <= MAX_TEXT
    analyse(workdir, name, data)


def test_files_over_the_limit_are_skipped_not_read(workdir: Path) -> None:
    result = analyse(workdir, "app.py", b"import openai\n" * 200, max_text=1024)
    assert result.item is not None and result.item.status == "skipped"
    assert [f.rule for f in result.observations.findings] == [rules.TOO_LARGE.id]


def test_broken_python_is_partial_not_an_error(workdir: Path) -> None:
    result = analyse(workdir, "app.py", b"import openai\ndef (:\n")
    assert result.item is not None and result.item.status == "partial"


JSON_KEYS = [
    "cells", "cell_type", "source", "Statement", "Effect", "Principal", "AWS", "Action",
    "Resource", "Condition", "bindings", "members", "role", "x",
]  # fmt: skip
_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(JSON_KEYS), inner, max_size=5)
    ),
    max_leaves=40,
)
CELL_TYPES = st.sampled_from(["code", "markdown", "raw", "", None, 1, ["code"], {"code": 1}])
SOURCES = st.one_of(
    st.text(max_size=60),
    st.lists(st.text(max_size=20) | st.integers() | st.none(), max_size=4),
    st.sampled_from(["%%bash\nrm -rf /", "!pip install x\nimport openai", "import openai\n(("]),
    _json,
)


@settings(max_examples=150, deadline=None)
@given(_json)
def test_odd_json_documents_never_raise(data: Any) -> None:
    assert isinstance(analyse_policy_json(data, "models-policy.json", ASSET), Observations)
    code, starts = notebook_code(data)
    assert isinstance(code, str) and all(line >= 1 for line, _ in starts)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({"cell_type": CELL_TYPES, "source": SOURCES}) | _json, max_size=6
    ),
    st.sampled_from([None, 4, "4"]),
)
def test_notebooks_with_odd_cells_never_raise(cells: list[Any], nbformat: Any) -> None:
    text = json.dumps({"cells": cells, "nbformat": nbformat})
    found = analyse_notebook(text, Path("nb.ipynb"), ASSET)
    assert [a.category for a in found.assets][:1] == ["notebook"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([f.decode("utf-8", "replace") for f in FRAGMENTS]), max_size=80))
def test_config_analysers_never_raise_on_format_like_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    for analyser in (analyse_yaml, analyse_dockerfile, analyse_shell, analyse_terraform):
        assert isinstance(analyser(text, "untrusted", ASSET), Observations)


TOML_VALUES = st.sampled_from(
    ['"openai>=1"', "1", "true", "[]", "{}", '["torch", 2, ["x"]]', '{ x = ["openai"] }']
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["project", "tool", "tool.poetry", "project.optional-dependencies"]),
            st.sampled_from(["dependencies", "optional-dependencies", "poetry", "gpu"]),
            TOML_VALUES,
        ),
        max_size=6,
    )
)
def test_pyproject_of_any_shape_never_raises(
    workdir: Path, entries: list[tuple[str, str, str]]
) -> None:
    text = "".join(f"[{table}]\n{key} = {value}\n" for table, key, value in entries)
    analyse(workdir, "pyproject.toml", text.encode())


def test_deeply_nested_pyproject_is_skipped(workdir: Path) -> None:
    text = "[project]\ndependencies = " + "[" * 5_000 + "]" * 5_000 + "\n"
    analyse(workdir, "pyproject.toml", text.encode())
