"""Analyse one file: read a bounded head, classify it, run the analyser for its kind, find keys."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from garrison.assets import Asset
from garrison.errors import MissingExtraError
from garrison.findings import Location
from garrison.posture import classify as kinds
from garrison.posture import rules
from garrison.posture.observations import DiscoveredAsset, Observations
from garrison.report.model import ScannedItem
from garrison.supplychain.formats import HEAD_BYTES

# A file mentioning none of these cannot hold an AI provider key (find_secrets is the judge).
_KEY_TRIGGER = re.compile(
    r"sk-|hf_|AIza|A(?:KIA|SIA|BIA|CCA|3T)|gsk_|r8_|xai-|pplx-|"
    r"(?i:aws|azure|aoai|cohere|co_|mistral|together)"
)
# Source that names none of these has no AI use the analysers could find.
_CODE_TRIGGER = re.compile(
    r"openai|anthropic|bedrock|vertexai|generative-?ai|genai|azopenai|huggingface|transformers|"
    r"langchain|llama_?index|ollama|cohere|mistral|groq|replicate|ai-sdk|pinecone|chromadb|"
    r"https?://"
)
# Configuration that names none of these starts no model server or ML container.
_CONFIG_TRIGGER = re.compile(
    r"(?i)jupyter|notebook|ray|mlflow|vllm|ollama|gradio|privileged|user|model|serve|torch|"
    r"tensorflow|triton|nvidia|gpu|huggingface|kserve|seldon|sglang|llama|localai|ggml|inference|"
    r"nim/"
)


@dataclass(slots=True)
class FileResult:
    observations: Observations = field(default_factory=Observations)
    item: ScannedItem | None = None


def analyse_file(
    path: str, size: int, max_text_bytes: int, roots: tuple[str, ...] = ()
) -> FileResult:
    """Everything discovery learns from one regular file; never raises for a bad file.

    `roots`: the real paths of the directories discovery was given; Terraform module
    sources are followed only inside them (no limit when empty)."""
    result = FileResult()
    asset = Asset.from_path(Path(path))
    try:
        with open(path, "rb") as stream:
            head = stream.read(HEAD_BYTES)
            name = Path(path).name
            kind = kinds.classify(name, head, path)
            _record_asset(result, kind, name, path, asset)
            if kind.analyser is None:
                return result
            if size > max_text_bytes:
                if kind.analyser in kinds.CODE_KINDS:
                    evidence = f"{size} bytes > max_text_bytes {max_text_bytes}"
                    result.observations.findings.append(
                        rules.TOO_LARGE.finding(asset, Location(path=path), evidence)
                    )
                    result.item = ScannedItem(path, kind.analyser, "skipped", size, "too large")
                return result
            data = head + stream.read(max_text_bytes + 1 - len(head))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        result.observations.findings.append(
            rules.UNREADABLE.finding(asset, Location(path=path), reason)
        )
        result.item = ScannedItem(path, "unknown", "error", size, reason)
        return result
    text = data.decode("utf-8", "replace")
    _analyse_text(result, kind.analyser, text, path, asset, size, max_text_bytes, roots)
    locate = None
    if kind.analyser == kinds.NOTEBOOK and _KEY_TRIGGER.search(text):
        from garrison.posture.notebooks import cell_locator

        locate = cell_locator(text, path)
    _provider_keys(result.observations, text, path, asset, locate)
    return result


def _record_asset(result: FileResult, kind: kinds.Kind, name: str, path: str, asset: Asset) -> None:
    category, fmt = kind.category, kind.format
    store = kinds.vector_store_by_name(name)
    if store is not None:
        category, fmt = "vector-store", store
    if category is None or fmt is None:
        return
    typed = Asset.from_path(Path(path), kind=category, fmt=fmt)
    result.observations.assets.append(DiscoveredAsset(category, fmt, typed, Location(path=path)))
    result.item = ScannedItem(path, fmt, "scanned", None, category)


def _analyse_text(
    result: FileResult,
    analyser: str,
    text: str,
    path: str,
    asset: Asset,
    size: int,
    max_text_bytes: int,
    roots: tuple[str, ...] = (),
) -> None:
    status, detail = "scanned", ""
    out = result.observations
    try:
        if analyser == kinds.PYTHON:
            from garrison.posture.python_ast import TRIGGER, analyse_python

            if TRIGGER.search(text):
                try:
                    out.extend(analyse_python(text, Path(path), asset))
                except (SyntaxError, ValueError, RecursionError) as exc:
                    status, detail = "partial", f"not parsed: {type(exc).__name__}"
                    from garrison.posture.patterns import analyse_urls

                    out.extend(analyse_urls(text, path, asset))
        elif analyser == kinds.NOTEBOOK:
            from garrison.posture.notebooks import analyse_notebook

            out.extend(analyse_notebook(text, Path(path), asset))
        elif analyser in (kinds.JS, kinds.GO, kinds.JVM):
            if _CODE_TRIGGER.search(text):
                from garrison.posture import patterns

                analyse = {
                    kinds.JS: patterns.analyse_js,
                    kinds.GO: patterns.analyse_go,
                    kinds.JVM: patterns.analyse_jvm,
                }[analyser]
                out.extend(analyse(text, path, asset))
        elif analyser == kinds.SHELL:
            from garrison.posture.config_checks import analyse_shell
            from garrison.posture.patterns import analyse_urls

            out.extend(analyse_shell(text, path, asset))
            out.extend(analyse_urls(text, path, asset, bare=True))
        elif analyser == kinds.DOCKERFILE:
            from garrison.posture.config_checks import analyse_dockerfile

            out.extend(analyse_dockerfile(text, path, asset))
        elif analyser == kinds.YAML:
            from garrison.posture.helm import analyse_helm_values, is_values_file

            if is_values_file(path):
                out.extend(analyse_helm_values(text, path, asset))
            elif ("services" in text or "apiVersion" in text) and _CONFIG_TRIGGER.search(text):
                from garrison.posture.config_checks import analyse_yaml

                out.extend(analyse_yaml(text, path, asset))
        elif analyser == kinds.TERRAFORM:
            from garrison.posture.buckets import terraform_findings

            found, why = terraform_findings(text, path, asset, max_text_bytes, roots)
            out.extend(found)
            if why:
                status, detail = "partial", why
        elif analyser == kinds.JSON:
            if '"Statement"' in text or '"bindings"' in text:
                from garrison.posture.buckets import analyse_policy_json

                try:
                    out.extend(analyse_policy_json(json.loads(text), path, asset))
                except (ValueError, RecursionError):
                    status, detail = "partial", "not valid JSON"
        elif analyser == kinds.MANIFEST:
            from garrison.posture.patterns import analyse_manifest

            out.extend(analyse_manifest(Path(path).name, text, path, asset))
        else:
            return  # plain text: only searched for keys, not listed as an item
    except MissingExtraError as exc:
        status, detail = "unscanned", str(exc)
    if result.item is None:
        result.item = ScannedItem(path, analyser, status, size, detail)


def _provider_keys(
    out: Observations,
    text: str,
    path: str,
    asset: Asset,
    locate: Callable[[str, int], Location] | None = None,
) -> None:
    if not _KEY_TRIGGER.search(text):
        return
    from garrison.sensitive.pii import mask
    from garrison.sensitive.secrets import AI_PROVIDER_KINDS, find_secrets

    for match in find_secrets(text):
        # AWS documentation keys (AKIAIOSFODNN7EXAMPLE, wJalr...EXAMPLEKEY) fill tutorials.
        if match.kind not in AI_PROVIDER_KINDS or "EXAMPLE" in match.text:
            continue
        line = text.count("\n", 0, match.start) + 1
        where = locate(match.text, line) if locate else Location(path=path, line=line)
        evidence = f"{match.kind}: {mask(match.text)}"
        out.findings.append(rules.PROVIDER_KEY.finding(asset, where, evidence))
