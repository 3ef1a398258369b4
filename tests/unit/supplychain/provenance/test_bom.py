"""The ML-BOM: components, hashes, model-card data, packages, and schema validity."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.errors import UsageError
from garrison.supplychain.provenance.bom import (
    bom_json,
    build_bom,
    requirements_packages,
    validate_bom_json,
)
from garrison.supplychain.provenance.bom_modelcard import (
    MAX_CARD_BYTES,
    parse_front_matter,
    read_model_card,
)
from garrison.supplychain.provenance.manifest import build_manifest

CARD = """---
license: apache-2.0
datasets: [imdb]
pipeline_tag: text-classification
language:
- en
tags:
  - sentiment  # a comment
base_model: "google-bert/bert-base-uncased"
model-index:
- name: bert-imdb
  results:
  - task:
      type: text-classification
---
# bert-imdb

Fine-tuned on IMDB.
"""
REQUIREMENTS = """\
# pinned runtime
numpy==1.26.4
torch[cpu]==2.3.1 --hash=sha256:0123abcd
requests>=2.31 ; python_version > "3.8"
-r other.txt
-e ./local-package
--index-url https://example.invalid/simple
https://example.invalid/pkg-1.0.tar.gz
Flask_SQLAlchemy == 3.1.1
numpy==1.26.4
"""


def hf_model(root: Path) -> Path:
    model = root / "bert-imdb"
    model.mkdir()
    config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "torch_dtype": "float32",
    }
    (model / "config.json").write_text(json.dumps(config))
    (model / "README.md").write_text(CARD)
    (model / "model.safetensors").write_bytes(os.urandom(4096))
    (model / "tokenizer.json").write_text('{"version": "1.0"}')
    return model


def requirements(root: Path) -> Path:
    path = root / "requirements.txt"
    path.write_text(REQUIREMENTS)
    return path


def document(bom_text: str) -> dict[str, Any]:
    return dict(json.loads(bom_text))


def by_name(components: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in components}


def properties(component: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in component.get("properties", []):
        found.setdefault(prop["name"], []).append(prop["value"])
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bom_lists_models_datasets_packages_and_is_valid(tmp_path: Path) -> None:
    model = hf_model(tmp_path)
    weights = tmp_path / "classifier.safetensors"
    weights.write_bytes(os.urandom(10_000))
    verdicts = {model: {"verdict": "fail", "max_severity": "high", "findings": ["a", "b"]}}
    signatures = {model: "verified", weights: "unsigned"}

    text = bom_json(build_bom([model, weights], requirements(tmp_path), verdicts, signatures))

    validate_bom_json(text)
    bom = document(text)
    assert bom["specVersion"] == "1.6"
    components = by_name(bom["components"])
    bert, single = components["bert-imdb"], components["classifier.safetensors"]
    assert bert["type"] == single["type"] == "machine-learning-model"
    assert single["hashes"] == [{"alg": "SHA-256", "content": sha256(weights)}]
    assert bert["hashes"][0]["content"] == build_manifest(model).root_digest
    files = {f["name"]: f for f in bert["components"]}
    assert set(files) == {"README.md", "config.json", "model.safetensors", "tokenizer.json"}
    assert files["model.safetensors"]["type"] == "file"
    assert files["model.safetensors"]["hashes"][0]["content"] == sha256(model / "model.safetensors")
    tools = bom["metadata"]["tools"]["components"]
    assert [t["name"] for t in tools] == ["garrison"]


def test_model_card_fields_become_properties_license_and_a_dataset(tmp_path: Path) -> None:
    model = hf_model(tmp_path)

    bom = document(bom_json(build_bom([model], requirements(tmp_path))))

    bert = bom["metadata"]["component"]
    props = properties(bert)
    assert props["garrison:model:architecture"] == ["BertForSequenceClassification"]
    assert props["garrison:model:architecture_family"] == ["bert"]
    assert props["garrison:model:task"] == ["text-classification"]
    assert props["garrison:model:dataset"] == ["imdb"]
    assert props["garrison:model:base_model"] == ["google-bert/bert-base-uncased"]
    assert props["garrison:model:language"] == ["en"]
    assert props["garrison:model:dtype"] == ["float32"]
    assert "garrison:model:card_problem" not in props
    assert bert["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert bert["tags"] == ["sentiment"]
    imdb = by_name(bom["components"])["imdb"]
    assert imdb["type"] == "data"
    depends = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert imdb["bom-ref"] in depends[bert["bom-ref"]]


def test_scan_verdict_and_signature_are_properties(tmp_path: Path) -> None:
    model = hf_model(tmp_path)
    verdicts = {model: {"verdict": "fail", "max_severity": "high", "findings": ["a", "b"]}}

    bom = document(bom_json(build_bom([model], requirements(tmp_path), verdicts, {model: "ok"})))

    props = properties(bom["metadata"]["component"])
    assert props["garrison:scan:verdict"] == ["fail"]
    assert props["garrison:scan:max_severity"] == ["high"]
    assert props["garrison:scan:findings"] == ["2"]
    assert props["garrison:signature"] == ["ok"]


def test_bom_refs_are_stable_across_runs(tmp_path: Path) -> None:
    model = hf_model(tmp_path)
    reqs = requirements(tmp_path)

    first = document(bom_json(build_bom([model], reqs)))
    second = document(bom_json(build_bom([model], reqs)))

    assert first["metadata"]["component"] == second["metadata"]["component"]
    assert first["components"] == second["components"]
    assert first["dependencies"] == second["dependencies"]


def test_requirements_become_library_components(tmp_path: Path) -> None:
    bom = document(bom_json(build_bom([hf_model(tmp_path)], requirements(tmp_path))))

    libraries = {c["name"]: c for c in bom["components"] if c["type"] == "library"}
    assert set(libraries) == {"numpy", "torch", "requests", "Flask_SQLAlchemy"}
    assert libraries["numpy"]["purl"] == "pkg:pypi/numpy@1.26.4"
    assert libraries["torch"]["version"] == "2.3.1"
    assert libraries["Flask_SQLAlchemy"]["purl"] == "pkg:pypi/flask-sqlalchemy@3.1.1"
    assert "version" not in libraries["requests"]
    assert libraries["requests"]["description"] == "requires >=2.31"


def test_requirements_file_that_cannot_be_read_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        requirements_packages(tmp_path / "missing.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"numpy==1\n\xff\xfe")
    with pytest.raises(UsageError, match="not UTF-8"):
        requirements_packages(binary)


def test_environment_packages_are_listed_by_default(tmp_path: Path) -> None:
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"\x00" * 64)

    text = bom_json(build_bom([weights]))

    validate_bom_json(text)
    purls = {c.get("purl") for c in document(text)["components"]}
    version = importlib.metadata.version("cyclonedx-python-lib")
    assert f"pkg:pypi/cyclonedx-python-lib@{version}" in purls


def test_a_data_file_is_fingerprinted_as_a_data_component(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("text,label\ngood,1\nbad,0\n")
    shards = tmp_path / "reviews"
    shards.mkdir()
    (shards / "part-0.parquet").write_bytes(os.urandom(256))
    (shards / "README.md").write_text("---\nlicense: cc-by-4.0\n---\n")

    text = bom_json(build_bom([data, shards], requirements(tmp_path)))

    validate_bom_json(text)
    components = by_name(document(text)["components"])
    assert components["train.csv"]["type"] == "data"
    assert components["train.csv"]["hashes"][0]["content"] == sha256(data)
    assert components["reviews"]["type"] == "data"
    assert components["reviews"]["licenses"] == [{"license": {"id": "CC-BY-4.0"}}]


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        build_bom([tmp_path / "nope"], requirements(tmp_path))


@pytest.mark.parametrize(
    ("config", "readme", "problem"),
    [
        (os.urandom(2048), os.urandom(2048), "not UTF-8"),
        (b"[" * 200_000 + b"]" * 200_000, b"---\nlicense: mit\n", "JSON"),
        (b'{"architectures": "BertModel", "model_type": 7}', b"x" * (MAX_CARD_BYTES + 1), "larger"),
        (b"[1, 2, 3]", b"---\nlicense: mit\n" + b"a: b\n" * 10_000, "not a JSON object"),
        (b'{"model_type": ', b"---\n: : :\n- - -\n[{\n---\n", "not valid JSON"),
    ],
    ids=["binary", "deep-json", "huge-readme", "unclosed-front-matter", "truncated"],
)
def test_malformed_card_files_still_give_a_valid_bom(
    tmp_path: Path, config: bytes, readme: bytes, problem: str
) -> None:
    model = tmp_path / "broken"
    model.mkdir()
    (model / "config.json").write_bytes(config)
    (model / "README.md").write_bytes(readme)
    (model / "model.safetensors").write_bytes(b"\x00" * 16)

    text = bom_json(build_bom([model], requirements(tmp_path)))

    validate_bom_json(text)
    props = properties(document(text)["metadata"]["component"])
    assert any(problem in p for p in props["garrison:model:card_problem"])
    assert "garrison:model:architecture" not in props


def test_task_falls_back_to_the_architecture_head(tmp_path: Path) -> None:
    model = tmp_path / "gpt"
    model.mkdir()
    (model / "config.json").write_text('{"architectures": ["GPT2LMHeadModel", "LlamaForCausalLM"]}')

    card = read_model_card(model)

    assert card.task == "text-generation"
    assert card.license == ""
    assert card.problems == ()


def test_front_matter_reads_scalars_and_lists_and_skips_nesting() -> None:
    lines = [
        "license: 'mit'",
        "datasets:",
        "  - imdb",
        '  - "glue"',
        "tags: [a, 'b', c]  # three",
        "widget:",
        "- text: I love it",
        "model-index:",
        "  name: x",
        "thumbnail: https://example.invalid/x.png",
        "inference: |",
        "  not read",
        "anchor: &a value",
    ]

    front = parse_front_matter(lines)

    assert front["license"] == ("mit",)
    assert front["datasets"] == ("imdb", "glue")
    assert front["tags"] == ("a", "b", "c")
    assert front["thumbnail"] == ("https://example.invalid/x.png",)
    for nested in ("widget", "model-index", "inference", "anchor"):
        assert nested not in front


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab:-[]{}#'\" \t|&\n"), max_size=40)))
def test_front_matter_reader_never_raises(lines: list[str]) -> None:
    front = parse_front_matter(lines)
    for values in front.values():
        assert all(isinstance(v, str) for v in values)


def test_validation_rejects_a_bad_hash_algorithm(tmp_path: Path) -> None:
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"\x01" * 32)
    bom = document(bom_json(build_bom([weights], requirements(tmp_path))))
    bom["metadata"]["component"]["hashes"][0]["alg"] = "SHA-999"

    with pytest.raises(UsageError, match=r"not a valid CycloneDX 1\.6 document"):
        validate_bom_json(json.dumps(bom))


def test_validation_rejects_a_component_without_a_name(tmp_path: Path) -> None:
    bom = document(bom_json(build_bom([hf_model(tmp_path)], requirements(tmp_path))))
    del bom["components"][0]["name"]

    with pytest.raises(UsageError, match="'name' is a required property"):
        validate_bom_json(json.dumps(bom))


def test_validation_rejects_text_that_is_not_json() -> None:
    with pytest.raises(UsageError, match=r"not a CycloneDX 1\.6 document"):
        validate_bom_json("{not json")


def test_requirements_take_pep_508_forms_and_refuse_a_line_that_is_none(tmp_path: Path) -> None:
    good = tmp_path / "requirements.txt"
    good.write_text(
        "numpy>=1.2,<2\ntorch==2.13.0 ; python_version > '3.8'\nname (>=1.0)\n"
        "-r other.txt\nfoo @ https://example.com/foo.whl\nbaz===1.0\n"
    )
    names = {c.name: c.version for c in requirements_packages(good)}
    assert names == {"numpy": None, "torch": "2.13.0", "name": None, "foo": None, "baz": "1.0"}
    bad = tmp_path / "bad.txt"
    bad.write_text("requests==2.32.3\ngarbage line !!!\n")
    with pytest.raises(UsageError, match=r"bad.txt:2: not a requirement: 'garbage line !!!'"):
        requirements_packages(bad)
