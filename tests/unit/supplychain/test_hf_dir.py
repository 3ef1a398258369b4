"""Hugging Face model directories: custom code, Python beside weights, chat templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from garrison.findings import Finding, Severity
from garrison.policy import Policy
from garrison.supplychain.context import Budget, ScanContext
from garrison.supplychain.hf_dir import RULES, scan_directory
from tests.corpus.chat_templates import LLAMA_3_1, QWEN_2_5, REAL_TEMPLATES

from .helpers import RCE_PAYLOAD


def scan_dir(path: Path, policy: Policy | None = None) -> list[Finding]:
    from garrison.assets import Asset

    policy = policy or Policy.model_validate({})
    ctx = ScanContext(
        policy=policy,
        asset=Asset.from_path(path, kind="directory"),
        path=path,
        budget=Budget(policy.limits),
    )
    scan_directory(path, ctx)
    return ctx.findings


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
    return path


def hf_model(root: Path, template: Any = None, **config: Any) -> Path:
    """A directory laid out as transformers' save_pretrained writes it."""
    write_json(root / "config.json", {"architectures": ["LlamaForCausalLM"],
                                      "model_type": "llama", **config})  # fmt: skip
    write_json(root / "generation_config.json", {"bos_token_id": 1, "eos_token_id": 2})
    tokenizer: dict[str, Any] = {"bos_token": "<s>", "eos_token": "</s>", "model_max_length": 4096}
    if template is not None:
        tokenizer["chat_template"] = template
    write_json(root / "tokenizer_config.json", tokenizer)
    write_json(root / "special_tokens_map.json", {"bos_token": "<s>"})
    (root / "model.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    return root


# -- benign ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_TEMPLATES))
def test_plain_model_directory_with_real_template_is_clean(tmp_path: Path, name: str) -> None:
    assert scan_dir(hf_model(tmp_path, REAL_TEMPLATES[name])) == []


def test_named_template_list_is_clean(tmp_path: Path) -> None:
    templates = [
        {"name": "default", "template": QWEN_2_5},
        {"name": "tool_use", "template": LLAMA_3_1},
    ]
    assert scan_dir(hf_model(tmp_path, templates)) == []


def test_directory_without_model_files_gets_nothing(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print('hi')\n")
    write_json(tmp_path / "package.json", {"auto_map": {"x": "y.Z"}})
    assert scan_dir(tmp_path) == []


def test_real_transformers_save_pretrained_is_clean(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=50, n_positions=16)
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path)
    assert scan_dir(tmp_path) == []
    # and the whole directory, weights included, as `garrison scan` sees it
    from garrison.supplychain import scan_path

    report = scan_path(tmp_path)
    assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == []
    assert {item.format for item in report.items} >= {"safetensors", "json"}


def test_missing_directory_is_ignored(tmp_path: Path) -> None:
    assert scan_dir(tmp_path / "nope") == []


# -- custom code -----------------------------------------------------------------------------


def test_auto_map_is_high_and_python_files_are_linked(tmp_path: Path) -> None:
    auto_map = {"AutoConfig": "configuration_evil.EvilConfig",
                "AutoModelForCausalLM": "modeling_evil.EvilForCausalLM"}  # fmt: skip
    root = hf_model(tmp_path, auto_map=auto_map)
    (root / "modeling_evil.py").write_text("import os\nos.system('echo garrison-test')\n")
    (root / "configuration_evil.py").write_text("")
    findings = scan_dir(root)
    by_rule = {f.rule: f for f in findings}
    assert set(by_rule) == {"GA-HF-001", "GA-HF-002"}
    custom = by_rule["GA-HF-001"]
    assert custom.severity is Severity.HIGH
    assert "config.json" in custom.evidence and "modeling_evil.EvilForCausalLM" in custom.evidence
    assert custom.location.path == str(root / "config.json")
    code = by_rule["GA-HF-002"]
    assert code.severity is Severity.HIGH
    assert "configuration_evil.py, modeling_evil.py" in code.evidence
    assert "loaded through auto_map" in code.evidence


def test_tokenizer_auto_map_list_and_remote_repo_reference(tmp_path: Path) -> None:
    root = hf_model(tmp_path)
    remote = ["other/repo--tokenization_x.XTokenizer", None]
    write_json(root / "tokenizer_config.json", {"auto_map": {"AutoTokenizer": remote}})
    findings = scan_dir(root)
    assert rules(findings) == {"GA-HF-001"}
    assert "code from other repositories: other/repo" in findings[0].evidence


@pytest.mark.parametrize(
    "filename, document, fragment",
    [
        ("config.json", {"custom_pipelines": {"task": {"impl": "pipe.P"}}}, "custom_pipelines"),
        ("config.json", {"trust_remote_code": True}, "trust_remote_code"),
        ("config.json", {"text_config": {"auto_map": {"AutoModel": "m.M"}}}, "auto_map"),
        ("model_index.json", {"_class_name": "StableDiffusionPipeline",
                              "unet": ["my_unet", "MyUNet"], "vae": ["diffusers", "AutoencoderKL"]},
         "my_unet.MyUNet"),
        ("modules.json", [{"idx": 0, "name": "0", "path": "", "type": "custom_st.Encoder"}],
         "custom_st.Encoder"),
        ("processor_config.json", {"auto_map": {"AutoProcessor": "proc.P"}}, "proc.P"),
    ],
)  # fmt: skip
def test_custom_code_keys_are_high(
    tmp_path: Path, filename: str, document: Any, fragment: str
) -> None:
    write_json(tmp_path / filename, document)
    findings = scan_dir(tmp_path)
    assert rules(findings) == {"GA-HF-001"}
    assert fragment in findings[0].evidence


def test_standard_diffusers_and_sentence_transformers_layouts_are_clean(tmp_path: Path) -> None:
    write_json(tmp_path / "model_index.json", {"_class_name": "StableDiffusionPipeline",
               "_diffusers_version": "0.30.0", "safety_checker": [None, None],
               "unet": ["diffusers", "UNet2DConditionModel"],
               "tokenizer": ["transformers", "CLIPTokenizer"]})  # fmt: skip
    module = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
    write_json(tmp_path / "modules.json", [module])
    write_json(tmp_path / "unet" / "config.json", {"_class_name": "UNet2DConditionModel"})
    assert scan_dir(tmp_path) == []


def test_python_beside_bare_weights_is_medium(tmp_path: Path) -> None:
    (tmp_path / "model.pt").write_bytes(b"\x80\x02}q\x00.")
    (tmp_path / "inference.py").write_text("")
    findings = scan_dir(tmp_path)
    assert rules(findings) == {"GA-HF-002"}
    assert findings[0].severity is Severity.MEDIUM


def test_python_in_a_subfolder_is_found(tmp_path: Path) -> None:
    root = hf_model(tmp_path / "repo")
    hf_model(root / "text_encoder")
    (root / "text_encoder" / "hook.py").write_text("")
    findings = scan_dir(root)
    assert rules(findings) == {"GA-HF-002"}
    assert "hook.py" in findings[0].evidence


def test_model_folders_deep_in_a_repository_are_checked(tmp_path: Path) -> None:
    # `garrison scan .` from a project root must judge models/org/bert as if scanned alone.
    repo = tmp_path / "repo"
    hf_model(repo / "models" / "org" / "chat", RCE_PAYLOAD)
    remote = hf_model(repo / "models" / "org" / "bert", auto_map={"AutoModel": "modeling_x.M"})
    (remote / "modeling_x.py").write_text("")
    found = {
        (f.rule, Path(f.location.path or "").relative_to(repo).parts[2]) for f in scan_dir(repo)
    }
    assert {("GA-JINJA-001", "chat"), ("GA-HF-001", "bert"), ("GA-HF-002", "bert")} <= found


def test_code_beside_bare_weights_deep_in_a_project_is_its_own(tmp_path: Path) -> None:
    fixtures = tmp_path / "src" / "tests" / "fixtures"
    fixtures.mkdir(parents=True)
    (fixtures / "model.pkl").write_bytes(b"\x80\x02}q\x00.")
    (fixtures / "test_model.py").write_text("")
    assert scan_dir(tmp_path) == []


# -- chat templates --------------------------------------------------------------------------


def test_malicious_template_in_tokenizer_config_is_critical(tmp_path: Path) -> None:
    findings = scan_dir(hf_model(tmp_path, RCE_PAYLOAD))
    assert rules(findings) >= {"GA-JINJA-001"}
    critical = next(f for f in findings if f.rule == "GA-JINJA-001")
    assert critical.severity is Severity.CRITICAL
    assert critical.evidence.startswith("tokenizer_config.json chat_template: ")
    assert critical.location.path == str(tmp_path / "tokenizer_config.json")


def test_malicious_named_template_is_critical(tmp_path: Path) -> None:
    templates = [
        {"name": "default", "template": QWEN_2_5},
        {"name": "rag", "template": RCE_PAYLOAD},
    ]
    findings = scan_dir(hf_model(tmp_path, templates))
    assert "chat_template 'rag'" in next(f for f in findings if f.rule == "GA-JINJA-001").evidence


@pytest.mark.parametrize(
    "relative", ["chat_template.jinja", "additional_chat_templates/tools.jinja"]
)
def test_template_files_are_analysed(tmp_path: Path, relative: str) -> None:
    root = hf_model(tmp_path)
    target = root / relative
    target.parent.mkdir(exist_ok=True)
    target.write_text("{{ messages }}\n{{ ''|attr('__class__') }}\n")
    findings = scan_dir(root)
    finding = next(f for f in findings if f.rule == "GA-JINJA-001")
    assert finding.location.path == str(target)
    assert finding.location.line == 2


def test_chat_template_json_is_analysed(tmp_path: Path) -> None:
    root = hf_model(tmp_path)
    write_json(root / "chat_template.json", {"chat_template": RCE_PAYLOAD})
    assert "GA-JINJA-001" in rules(scan_dir(root))


# -- failure paths ---------------------------------------------------------------------------


def test_invalid_json_config_is_medium(tmp_path: Path) -> None:
    root = hf_model(tmp_path)
    (root / "config.json").write_text('{"model_type": ')
    findings = scan_dir(root)
    assert rules(findings) == {"GA-HF-003"}
    assert findings[0].severity is Severity.MEDIUM
    assert "config.json" in findings[0].evidence


def test_non_utf8_template_file_is_invalid(tmp_path: Path) -> None:
    root = hf_model(tmp_path)
    (root / "chat_template.jinja").write_bytes(b"{{ x }}\xff\xfe")
    assert rules(scan_dir(root)) == {"GA-HF-003"}


def test_oversized_config_hits_the_limit(tmp_path: Path) -> None:
    root = hf_model(tmp_path)
    write_json(root / "tokenizer_config.json", {"pad": "x" * 5000})
    findings = scan_dir(root, Policy.model_validate({"limits": {"max_header_bytes": 1000}}))
    assert rules(findings) == {"GA-SCAN-001"}


def test_deeply_nested_config_hits_the_limit(tmp_path: Path) -> None:
    root = hf_model(tmp_path)
    (root / "config.json").write_text("[" * 500 + "]" * 500)
    findings = scan_dir(root)
    assert rules(findings) == {"GA-SCAN-001"}


def test_rules_are_exported() -> None:
    ids = {r.id for r in RULES}
    assert {"GA-HF-001", "GA-HF-002", "GA-HF-003", "GA-JINJA-001"} <= ids
