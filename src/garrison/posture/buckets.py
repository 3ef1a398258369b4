"""Publicly readable buckets of model weights, in Terraform and in bucket-policy JSON.

Terraform is read as a module with python-hcl2 (terraform.py): a public ACL or grant, a
policy statement that lets anyone read, an allUsers binding or a public Azure container,
unless the module also blocks it (an S3 public access block that ignores public ACLs or
restricts public policies, ACLs disabled by BucketOwnerEnforced, GCS public access
prevention, an Azure account that forbids public containers). A file hcl2 cannot parse is
read by precise patterns over its resource blocks instead. A bucket counts as holding models
when its name, tags or resource label say so (model, weights, checkpoint, ...); a public
bucket of website assets is not a finding. Each instance of a `for_each` or `count` is judged
on its own, and calls of local child modules with their inputs (hcl_modules.py).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from garrison.assets import Asset
from garrison.findings import Location
from garrison.posture import rules
from garrison.posture.observations import Observations

if TYPE_CHECKING:
    from garrison.posture.hcl_modules import Exposure
    from garrison.posture.terraform import Evaluator, Module, Resource

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


# A file without one of these resources, or without a word that can make one public, has
# nothing to report (its module is still read when another file of it is analysed).
_STORAGE = re.compile(r'resource\s+"(?:aws_s3_|google_storage_|azurerm_storage_container)')
_LOCAL_SOURCE = re.compile(r'source\s*=\s*"\.\.?/')  # a call of a local child module
_PUBLIC_HINT = re.compile(
    r"acl|policy|grant|member|entity|allUsers|allAuthenticatedUsers|access_type"
)
_PUBLIC_CANNED = ("public-read", "public-read-write", "authenticated-read")
_AWS_GROUPS = re.compile(r"acs\.amazonaws\.com/groups/global/(AllUsers|AuthenticatedUsers)\b")
_READ_PERMISSIONS = ("READ", "FULL_CONTROL", "WRITE")
_BUCKETS = ("aws_s3_bucket", "google_storage_bucket", "azurerm_storage_account")
_GUARDS = (
    "aws_s3_bucket_public_access_block",
    "aws_s3_account_public_access_block",
    "aws_s3_bucket_ownership_controls",
)
DEFAULT_MAX_TEXT = 2 << 20


def analyse_terraform(
    text: str, path: str, asset: Asset, max_text_bytes: int = DEFAULT_MAX_TEXT
) -> Observations:
    return terraform_findings(text, path, asset, max_text_bytes)[0]


def terraform_findings(
    text: str,
    path: str,
    asset: Asset,
    max_text_bytes: int = DEFAULT_MAX_TEXT,
    roots: tuple[str, ...] = (),
) -> tuple[Observations, str]:
    """GA-POST-008 of the resources declared in one .tf file, read with its module (and the
    local modules it calls, inside `roots` when given); the second value says why the file
    was read by patterns instead ("" when it was parsed)."""
    if not (_STORAGE.search(text) and _PUBLIC_HINT.search(text)) and not (
        "module" in text and _LOCAL_SOURCE.search(text)
    ):
        return Observations(), ""
    try:
        from garrison.posture.terraform import load_module

        module = load_module(text, path, max_text_bytes)
    except ModuleNotFoundError as exc:  # python-hcl2 (a core dependency) missing
        module = f"{exc.name} is not installed"
    if isinstance(module, str):
        return _terraform_patterns(text, path, asset), f"{module}; read by patterns"
    from garrison.posture.hcl_modules import call_exposures

    judge = _TerraformJudge(module)
    found = judge.exposures_of_own()
    found += call_exposures(
        module, judge.ev, path, lambda m: _TerraformJudge(m).exposures_of_own(), roots
    )
    out = Observations()
    for exposure in found:
        loc = Location(path=path, line=exposure.line or None)
        evidence = f'{exposure.address} ("{exposure.name}"): {exposure.why}'
        out.findings.append(rules.PUBLIC_BUCKET.finding(asset, loc, evidence))
    return out, ""


class _TerraformJudge:
    """Which storage resources of the file make a bucket of models public."""

    def __init__(self, module: Module) -> None:
        from garrison.posture.terraform import Evaluator

        self.module = module
        self.ev: Evaluator = Evaluator(module)
        self.buckets: dict[str, Resource] = {}
        self.guards: dict[str, list[Resource]] = {}  # public access blocks by bucket key
        for resource in self.instances(own_only=False):
            if resource.type in _BUCKETS:
                self.buckets.setdefault(self.ev.bucket_key(resource), resource)
            elif resource.type in _GUARDS:
                key = "*" if "account" in resource.type else self.target(resource, "bucket")
                self.guards.setdefault(key, []).append(resource)

    def instances(self, own_only: bool) -> Iterator[Resource]:
        """Every instance of the resources (none for `count = 0` or an empty `for_each`)."""
        for resource in self.module.all_resources():
            if resource.own or not own_only:
                yield from self.ev.instances(resource)

    def exposures_of_own(self) -> list[Exposure]:
        from garrison.posture.hcl_modules import Exposure

        out: list[Exposure] = []
        for resource in self.instances(own_only=True):
            with self.ev.within(resource):  # grants and rules are nested blocks
                found = list(self.exposures(resource))
            for channel, target, why in found:
                bucket = self.buckets.get(target)
                name = self.display(resource, target, bucket)
                if self.blocked(channel, target, bucket) or not self.holds_models(
                    resource, name, bucket
                ):
                    continue
                out.append(Exposure(resource.address, name, why, resource.block.line))
        return out

    def target(self, resource: Resource, attribute: str) -> str:
        """The key of the bucket (or storage account) an attribute points at."""
        from garrison.posture.terraform import known

        value = self.ev.attribute(resource, attribute)
        if isinstance(value, str):  # an ARN or an Azure resource id: the name in it
            m = re.fullmatch(r"arn:aws:s3:::([^/]+)|.*/storageAccounts/([^/]+)", value)
            value = next(g for g in m.groups() if g) if m else value
        if not (isinstance(value, str) and known(value)):
            return f"{resource.address}.{attribute}:?"  # matches no bucket
        return value

    def exposures(self, resource: Resource) -> Iterator[tuple[str, str, str]]:
        """(channel, bucket key, why) of each way the resource makes a bucket public."""
        kind = resource.type
        if kind == "aws_s3_bucket":  # provider v3 style: acl, policy, grant inline
            target = self.ev.bucket_key(resource)
            yield from self.aws_acl(resource, target, resource.block.children("grant"))
            yield from self.aws_policy(resource, target)
        elif kind == "aws_s3_bucket_acl":
            grants = [
                grant
                for acp in resource.block.children("access_control_policy")
                for grant in acp.children("grant")
            ]
            yield from self.aws_acl(resource, self.target(resource, "bucket"), grants)
        elif kind == "aws_s3_bucket_policy":
            yield from self.aws_policy(resource, self.target(resource, "bucket"))
        elif kind.startswith("google_storage_") and any(
            word in kind for word in ("iam", "acl", "access_control")
        ):
            yield from self.gcs(resource, self.target(resource, "bucket"))
        elif kind == "azurerm_storage_container":
            access = self.ev.attribute(resource, "container_access_type")
            if access in ("blob", "container"):
                account = "storage_account_name"
                if "storage_account_id" in resource.block.attributes:
                    account = "storage_account_id"
                why = f"container_access_type = {access}"
                yield "azure", self.target(resource, account), why

    def aws_acl(
        self, resource: Resource, target: str, grants: list[Any]
    ) -> Iterator[tuple[str, str, str]]:
        acl = self.ev.attribute(resource, "acl")
        if acl in _PUBLIC_CANNED:
            yield "acl", target, f"acl = {acl}"
        for grant in grants:
            grantees = [grant, *grant.children("grantee")]
            uris = [self.ev.value(g.attributes["uri"]) for g in grantees if "uri" in g.attributes]
            group = next((m.group(1) for u in uris if (m := _AWS_GROUPS.search(str(u)))), None)
            permissions = self.ev.value(
                grant.attributes.get("permission")
                or grant.attributes.get("permissions", ("lit", []))
            )
            granted = [p for p in _listed(permissions) if p in _READ_PERMISSIONS]
            if group and granted:
                yield "acl", target, f"grant {granted[0]} to {group}"

    def aws_policy(self, resource: Resource, target: str) -> Iterator[tuple[str, str, str]]:
        from garrison.posture.terraform import parse_json

        document = parse_json(self.ev.attribute(resource, "policy"))
        statements = document.get("Statement") if isinstance(document, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        for statement in statements if isinstance(statements, list) else []:
            if isinstance(statement, dict) and statement_public(statement):
                yield "policy", target, "policy lets any principal read objects"
                return

    def gcs(self, resource: Resource, target: str) -> Iterator[tuple[str, str, str]]:
        from garrison.posture.terraform import strings

        predefined = self.ev.attribute(resource, "predefined_acl")
        if predefined in ("publicRead", "publicReadWrite"):
            yield "gcs", target, f"predefined_acl = {predefined}"
            return
        for name in resource.block.attributes:
            if name in ("bucket", "for_each", "count", "depends_on"):
                continue  # for_each lists every instance's members, not this one's
            for text in strings(self.ev.attribute(resource, name)):
                member = _ALL_USERS.search(text)
                if member:
                    yield "gcs", target, f"granted to {member.group()}"
                    return

    def blocked(self, channel: str, target: str, bucket: Resource | None) -> bool:
        """Whether the module also switches the exposure off, as the cloud would enforce it."""
        if channel in ("acl", "policy"):
            guards = [*self.guards.get(target, []), *self.guards.get("*", [])]
            return any(self.aws_blocks(guard, channel) for guard in guards)
        if bucket is None:
            return False
        if channel == "gcs":
            return bool(self.ev.attribute(bucket, "public_access_prevention") == "enforced")
        return False in (
            self.ev.attribute(bucket, "allow_nested_items_to_be_public"),
            self.ev.attribute(bucket, "allow_blob_public_access"),
        )

    def aws_blocks(self, resource: Resource, channel: str) -> bool:
        """ignore_public_acls voids public ACLs and restrict_public_buckets public policies;
        block_public_acls/_policy only refuse new ones, and whether the ACL or the block is
        applied first is up to Terraform, so they are not taken to cancel anything."""
        flag = "ignore_public_acls" if channel == "acl" else "restrict_public_buckets"
        if resource.type.endswith("_public_access_block"):
            return self.ev.attribute(resource, flag) is True
        if channel == "acl" and resource.type == "aws_s3_bucket_ownership_controls":
            with self.ev.within(resource):
                ownership = [
                    self.ev.value(rule.attributes.get("object_ownership", ("lit", None)))
                    for rule in resource.block.children("rule")
                ]
            return "BucketOwnerEnforced" in ownership  # ACLs are disabled
        return False

    def holds_models(self, resource: Resource, name: str, bucket: Resource | None) -> bool:
        """Whether the bucket's name (as far as known), its tags or a label say models."""
        texts = [name, resource.name]
        if bucket is not None:
            texts += [bucket.name, self.ev.bucket_key(bucket)]
            for tags in ("tags", "labels"):
                value = self.ev.attribute(bucket, tags)
                if isinstance(value, dict):
                    texts += [str(v) for v in value.values()]
        return any(MODEL_WORDS.search(text) for text in texts)

    def display(self, resource: Resource, target: str, bucket: Resource | None) -> str:
        """The bucket's (or Azure container's) name for the evidence, `${?}` where unknown."""
        if resource.type == "azurerm_storage_container":
            name = self.ev.attribute(resource, "name")
            return name if isinstance(name, str) else resource.address
        if bucket is not None:
            return self.ev.display_name(bucket)
        if not target.endswith(":?"):
            return target
        from garrison.posture.terraform import MARK

        name = self.ev.attribute(resource, "bucket")
        return name if isinstance(name, str) else MARK


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


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


def _terraform_patterns(text: str, path: str, asset: Asset) -> Observations:
    """The fallback for a file hcl2 cannot parse: resource blocks read by patterns."""
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
        if isinstance(statement, dict) and statement_public(statement):
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


def statement_public(statement: dict[str, Any]) -> bool:
    """An IAM statement that lets anyone, without condition, read objects."""
    if statement.get("Effect") != "Allow" or "Condition" in statement:
        return False
    principal = statement.get("Principal")
    anyone = principal == "*" or (
        isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))
    )
    # Actions are case-insensitive and may be wildcards (s3:Get*, s3:*Object).
    actions = [a.lower() for a in _as_list(statement.get("Action"))]
    reads = any(fnmatch.fnmatchcase("s3:getobject", a) for a in actions)
    return anyone and reads


def _resources(statement: dict[str, Any]) -> list[str]:
    out = []
    for arn in _as_list(statement.get("Resource")):
        m = re.match(r"arn:aws:s3:::([^/]+)", arn)
        if m:
            out.append(m.group(1))
    return out
