"""Publicly readable buckets of model weights, in Terraform and in bucket-policy JSON.

Terraform is read by precise patterns over resource blocks (no HCL evaluation): a public
ACL, a policy statement that allows anyone to read, an allUsers binding, or a public
Azure container. A bucket counts as holding models when its name or resource label says
so (model, weights, checkpoint, ...); a public bucket of website assets is not a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from garrison.assets import Asset
from garrison.findings import Location
from garrison.posture import rules
from garrison.posture.observations import Observations

MODEL_WORDS = re.compile(
    r"(?i)model|weight|checkpoint|ckpt|mlflow|llm|gguf|onnx|safetensor|lora|finetun|fine-tun|"
    r"embedding"
)
# [ \t]*, not \s*: \s* after ^ would rescan every following blank line (quadratic).
_RESOURCE = re.compile(r'(?m)^[ \t]*resource\s+"([\w-]+)"\s+"([\w-]+)"\s*\{')
_PUBLIC_ACL = re.compile(r'(?m)^[ \t]*acl\s*=\s*"(public-read(?:-write)?)"')
_ALL_USERS = re.compile(r"\ballUsers\b|\ballAuthenticatedUsers\b")
_AZURE_PUBLIC = re.compile(r'(?m)^[ \t]*container_access_type\s*=\s*"(blob|container)"')
_ANYONE = re.compile(
    r"""(?x)["']?Principal["']?\s*[:=]\s*(?:"\*"|\{\s*["']?AWS["']?\s*[:=]\s*\[?\s*"\*")"""
)
_READ_ACTION = re.compile(r'"(?:s3:GetObject|s3:Get\*|s3:\*|\*)"')
_REF = re.compile(r"^\s*(\w+)\.([\w-]+)\.\w+\s*$")


def _blocks(text: str) -> Iterator[tuple[str, str, str, int]]:
    """(type, label, body, line) of each resource block, braces matched outside strings."""
    end, line, counted = 0, 1, 0
    for m in _RESOURCE.finditer(text):
        if m.start() < end:  # inside the previous block (or its unclosed tail): HCL
            continue  # resources never nest, and rescanning would be quadratic
        depth, i, quoted = 1, m.end(), False
        while i < len(text) and depth:
            ch = text[i]
            if ch == '"' and text[i - 1] != "\\":
                quoted = not quoted
            elif not quoted and ch == "{":
                depth += 1
            elif not quoted and ch == "}":
                depth -= 1
            i += 1
        end = i
        line, counted = line + text.count("\n", counted, m.start()), m.start()
        yield m.group(1), m.group(2), text[m.end() : i], line


def _attribute(body: str, name: str) -> str | None:
    m = re.search(rf'(?m)^[ \t]*{name}\s*=\s*(?:"([^"]*)"|([\w.\[\]-]+))', body)
    if m is None:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2)


def analyse_terraform(text: str, path: str, asset: Asset) -> Observations:
    out = Observations()
    if "resource" not in text:
        return out
    blocks = list(_blocks(text))
    names = {
        (kind, label): _attribute(body, "bucket") or _attribute(body, "name") or label
        for kind, label, body, _ in blocks
    }
    for kind, label, body, line in blocks:
        why = _public(kind, body)
        if why is None:
            continue
        bucket = _bucket_name(kind, label, body, names)
        if not (MODEL_WORDS.search(bucket) or MODEL_WORDS.search(label)):
            continue
        loc = Location(path=path, line=line)
        out.findings.append(
            rules.PUBLIC_BUCKET.finding(asset, loc, f'{kind}.{label} ("{bucket}"): {why}')
        )
    return out


def _public(kind: str, body: str) -> str | None:
    if kind in ("aws_s3_bucket", "aws_s3_bucket_acl"):
        acl = _PUBLIC_ACL.search(body)
        return f"acl = {acl.group(1)}" if acl else None
    if kind == "aws_s3_bucket_policy":
        denies = re.search(r'Effect["\']?\s*[:=]\s*"Deny"', body) and not re.search(
            r'"Allow"', body
        )
        if (
            _ANYONE.search(body)
            and _READ_ACTION.search(body)
            and "Condition" not in body
            and not denies
        ):
            return "policy lets any principal read objects"
        return None
    if kind.startswith("google_storage_") and (
        "iam" in kind or "acl" in kind or "access_control" in kind
    ):
        member = _ALL_USERS.search(body)
        return f"granted to {member.group()}" if member else None
    if kind == "azurerm_storage_container":
        access = _AZURE_PUBLIC.search(body)
        return f"container_access_type = {access.group(1)}" if access else None
    return None


def _bucket_name(kind: str, label: str, body: str, names: dict[tuple[str, str], str]) -> str:
    value = _attribute(body, "bucket") or _attribute(body, "name") or label
    ref = _REF.match(value)
    if ref:  # aws_s3_bucket.models.id -> the bucket resource's own name
        return names.get((ref.group(1), ref.group(2)), ref.group(2))
    return value


def analyse_policy_json(data: Any, path: str, asset: Asset) -> Observations:
    """An S3 bucket policy or a GCS IAM policy document that lets anyone read model weights."""
    out = Observations()
    if not isinstance(data, dict):
        return out
    statements = data.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements if isinstance(statements, list) else []:
        if isinstance(statement, dict) and _statement_public(statement):
            buckets = [b for b in _resources(statement) if MODEL_WORDS.search(b)]
            if buckets:
                actions = _as_list(statement.get("Action"))
                evidence = f"Allow {actions} to Principal * on {', '.join(buckets)}"
                out.findings.append(
                    rules.PUBLIC_BUCKET.finding(asset, Location(path=path), evidence)
                )
    for binding in data.get("bindings", []) if isinstance(data.get("bindings"), list) else []:
        members = binding.get("members") if isinstance(binding, dict) else None
        if (
            isinstance(members, list)
            and {"allUsers", "allAuthenticatedUsers"} & {str(m) for m in members}
            and MODEL_WORDS.search(path.rsplit("/", 1)[-1])
        ):
            evidence = f"{binding.get('role')} granted to allUsers"
            out.findings.append(rules.PUBLIC_BUCKET.finding(asset, Location(path=path), evidence))
    return out


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _statement_public(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Allow" or "Condition" in statement:
        return False
    principal = statement.get("Principal")
    anyone = principal == "*" or (
        isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))
    )
    actions = _as_list(statement.get("Action"))
    reads = any(a in ("*", "s3:*", "s3:GetObject", "s3:Get*") for a in actions)
    return anyone and reads


def _resources(statement: dict[str, Any]) -> list[str]:
    out = []
    for arn in _as_list(statement.get("Resource")):
        m = re.match(r"arn:aws:s3:::([^/]+)", arn)
        if m:
            out.append(m.group(1))
    return out
