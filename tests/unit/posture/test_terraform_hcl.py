"""Terraform read as a module with python-hcl2: variables, locals, references, policies, blocks."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.assets import Asset
from garrison.posture import discover
from garrison.posture.analyse import analyse_file
from garrison.posture.buckets import analyse_terraform, terraform_findings
from garrison.posture.observations import Observations

ASSET = Asset(uri="file:///x", path="x")
PUBLIC_BUCKET = "GA-POST-008"


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def findings_of(path: Path) -> list[tuple[int | None, str]]:
    """(line, evidence) of GA-POST-008 in one file, analysed as discovery does."""
    result = analyse_file(str(path), path.stat().st_size, 2 << 20)
    assert result.item is not None and result.item.status == "scanned", result.item
    return sorted(
        (f.location.line, f.evidence)
        for f in result.observations.findings
        if f.rule == PUBLIC_BUCKET
    )


AWS_VARIABLES = """
variable "project" {
  type    = string
  default = "acme"
}
variable "environment" {
  type    = string
  default = "dev"
}
variable "public_site" {
  type    = bool
  default = false
}
"""
AWS_LOCALS = """
locals {
  weights_bucket = "${var.project}-${var.environment}-model-weights"
  common_tags = {
    Team = "ml-platform"
  }
}
"""
AWS_MAIN = """
resource "aws_s3_bucket" "weights" {
  bucket = local.weights_bucket
  tags   = merge(local.common_tags, { Name = local.weights_bucket })
}

resource "aws_s3_bucket_ownership_controls" "weights" {
  bucket = aws_s3_bucket.weights.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "weights" {
  bucket                  = aws_s3_bucket.weights.id
  block_public_acls       = false
  ignore_public_acls      = false
  block_public_policy     = false
  restrict_public_buckets = false
}

resource "aws_s3_bucket_acl" "weights" {
  depends_on = [aws_s3_bucket_ownership_controls.weights]
  bucket     = aws_s3_bucket.weights.id
  acl        = "public-read"
}

resource "aws_s3_bucket" "site" {
  bucket = "${var.project}-website-assets"
}

resource "aws_s3_bucket_acl" "site" {
  bucket = aws_s3_bucket.site.id
  acl    = "public-read"
}

resource "aws_s3_bucket" "datasets" {
  bucket = "${var.project}-${var.environment}-llm-datasets"
}

resource "aws_s3_bucket_acl" "datasets" {
  bucket = aws_s3_bucket.datasets.id
  acl    = "private"
}

resource "aws_s3_bucket_acl" "preview" {
  count  = var.public_site ? 1 : 0
  bucket = aws_s3_bucket.datasets.id
  acl    = "public-read"
}
"""
AWS_POLICY = """
data "aws_iam_policy_document" "public_read" {
  statement {
    sid     = "PublicRead"
    effect  = "Allow"
    actions = ["s3:GetObject"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = ["${aws_s3_bucket.weights.arn}/*"]
  }
}

resource "aws_s3_bucket_policy" "weights" {
  bucket = aws_s3_bucket.weights.id
  policy = data.aws_iam_policy_document.public_read.json
}

resource "aws_s3_bucket_policy" "datasets" {
  bucket = aws_s3_bucket.datasets.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.datasets.arn}/*"
      Condition = { StringEquals = { "aws:SourceVpce" = "vpce-1a2b3c4d" } }
    }]
  })
}
"""


def aws_module(root: Path, **extra: str) -> Path:
    files = {
        "variables.tf": AWS_VARIABLES,
        "locals.tf": AWS_LOCALS,
        "main.tf": AWS_MAIN,
        "policy.tf": AWS_POLICY,
        "terraform.tfvars": 'environment = "prod"\n',
    }
    return write(root, {**files, **extra})


def test_aws_module_resolves_variables_locals_tfvars_and_references(tmp_path: Path) -> None:
    module = aws_module(tmp_path / "aws")
    assert findings_of(module / "main.tf") == [
        (22, 'aws_s3_bucket_acl.weights ("acme-prod-model-weights"): acl = public-read')
    ]
    assert findings_of(module / "policy.tf") == [
        (
            15,
            'aws_s3_bucket_policy.weights ("acme-prod-model-weights"): '
            "policy lets any principal read objects",
        )
    ]
    # The website bucket is public but holds no models; the datasets bucket's policy has a
    # condition; its public ACL has count = 0.
    assert findings_of(module / "variables.tf") == []


def test_the_whole_module_reports_each_exposure_once(tmp_path: Path) -> None:
    module = aws_module(tmp_path / "aws")
    found = discover(module)
    public = sorted(
        (Path(f.location.path or "").name, f.location.line)
        for f in found.report.findings
        if f.rule == PUBLIC_BUCKET
    )
    assert public == [("main.tf", 22), ("policy.tf", 15)]


def test_a_variable_set_only_in_tfvars_names_the_bucket(tmp_path: Path) -> None:
    main = """
variable "bucket_name" {
  type = string
}
resource "aws_s3_bucket" "this" {
  bucket = var.bucket_name
}
resource "aws_s3_bucket_acl" "this" {
  bucket = aws_s3_bucket.this.id
  acl    = "public-read"
}
"""
    module = write(tmp_path / "m", {"main.tf": main})
    assert findings_of(module / "main.tf") == []  # unknown name, neutral labels
    write(module, {"prod.auto.tfvars": 'bucket_name = "acme-llm-checkpoints"\n'})
    assert [e for _, e in findings_of(module / "main.tf")] == [
        'aws_s3_bucket_acl.this ("acme-llm-checkpoints"): acl = public-read'
    ]


@pytest.mark.parametrize(
    ("block", "public"),
    [
        ("ignore_public_acls = true\n  restrict_public_buckets = true", False),
        ("block_public_acls = true\n  block_public_policy = true", True),  # refuses new ones only
        ("ignore_public_acls = true", False),  # the ACL is void; there is no policy
        ("ignore_public_acls = var.lock", False),
        ("ignore_public_acls = false", True),
    ],
)
def test_public_access_block_cancels_acls_as_aws_does(
    tmp_path: Path, block: str, public: bool
) -> None:
    text = """
variable "lock" {
  default = true
}
resource "aws_s3_bucket" "models" {
  bucket = "acme-models"
}
resource "aws_s3_bucket_acl" "models" {
  bucket = aws_s3_bucket.models.id
  acl    = "public-read"
}
"""
    guard = (
        'resource "aws_s3_bucket_public_access_block" "models" {\n'
        f'  bucket = "acme-models"\n  {block}\n}}\n'
    )
    module = write(tmp_path / "m", {"main.tf": text, "guard.tf": guard})
    assert bool(findings_of(module / "main.tf")) is public


def test_restrict_public_buckets_cancels_a_public_policy_and_ignore_acls_does_not(
    tmp_path: Path,
) -> None:
    policy = """
resource "aws_s3_bucket" "models" {
  bucket = "acme-models"
}
resource "aws_s3_bucket_policy" "models" {
  bucket = aws_s3_bucket.models.bucket
  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                     "Action": ["s3:GetObject"], "Resource": "${aws_s3_bucket.models.arn}/*"}]
    }
  EOT
}
"""

    def guard(flag: str) -> str:
        return f'resource "aws_s3_account_public_access_block" "all" {{\n  {flag} = true\n}}\n'

    module = write(tmp_path / "m", {"main.tf": policy, "account.tf": guard("ignore_public_acls")})
    assert [line for line, _ in findings_of(module / "main.tf")] == [5]
    write(module, {"account.tf": guard("restrict_public_buckets")})
    assert findings_of(module / "main.tf") == []


def test_acls_disabled_by_bucket_owner_enforced(tmp_path: Path) -> None:
    text = """
resource "aws_s3_bucket" "ckpt" {
  bucket = "acme-checkpoints"
}
resource "aws_s3_bucket_ownership_controls" "ckpt" {
  bucket = aws_s3_bucket.ckpt.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}
resource "aws_s3_bucket_acl" "ckpt" {
  bucket = aws_s3_bucket.ckpt.id
  acl    = "public-read"
}
"""
    assert findings_of(write(tmp_path / "m", {"main.tf": text}) / "main.tf") == []


def test_grants_and_legacy_inline_acls(tmp_path: Path) -> None:
    text = """
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-onnx-exports"
  acl    = "public-read"
}
resource "aws_s3_bucket" "tagged" {
  bucket = "acme-bucket-7"
  tags   = { Contents = "fine-tuned LoRA adapters" }
}
resource "aws_s3_bucket_acl" "tagged" {
  bucket = aws_s3_bucket.tagged.id
  access_control_policy {
    grant {
      grantee {
        type = "Group"
        uri  = "http://acs.amazonaws.com/groups/global/AllUsers"
      }
      permission = "READ"
    }
    owner {
      id = "abc"
    }
  }
}
"""
    found = [e for _, e in findings_of(write(tmp_path / "m", {"main.tf": text}) / "main.tf")]
    assert found == [
        'aws_s3_bucket.legacy ("acme-onnx-exports"): acl = public-read',
        'aws_s3_bucket_acl.tagged ("acme-bucket-7"): grant READ to AllUsers',
    ]


GCP = """
variable "project_id" {
  default = "acme-ml"
}
locals {
  checkpoints = format("%s-%s", var.project_id, "checkpoints")
}
resource "google_storage_bucket" "checkpoints" {
  name                        = local.checkpoints
  location                    = "US"
  uniform_bucket_level_access = true
}
resource "google_storage_bucket_iam_member" "checkpoints_public" {
  bucket = google_storage_bucket.checkpoints.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
resource "google_storage_bucket" "embeddings" {
  name                     = "${var.project_id}-embeddings"
  location                 = "US"
  public_access_prevention = "enforced"
}
resource "google_storage_bucket_iam_binding" "embeddings" {
  bucket  = google_storage_bucket.embeddings.name
  role    = "roles/storage.objectViewer"
  members = ["allUsers"]
}
resource "google_storage_bucket" "site" {
  name     = "${var.project_id}-static-site"
  location = "US"
}
resource "google_storage_bucket_iam_binding" "site" {
  bucket  = google_storage_bucket.site.name
  role    = "roles/storage.objectViewer"
  members = ["allUsers"]
}
data "google_iam_policy" "reader" {
  binding {
    role    = "roles/storage.objectViewer"
    members = ["allAuthenticatedUsers", "group:ml@acme.dev"]
  }
}
resource "google_storage_bucket" "gguf" {
  name = "${var.project_id}-gguf-mirror"
}
resource "google_storage_bucket_iam_policy" "gguf" {
  bucket      = google_storage_bucket.gguf.name
  policy_data = data.google_iam_policy.reader.policy_data
}
resource "google_storage_bucket_iam_member" "private" {
  bucket = google_storage_bucket.checkpoints.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:serving@acme-ml.iam.gserviceaccount.com"
}
"""


def test_gcp_bindings_policies_and_public_access_prevention(tmp_path: Path) -> None:
    found = [e for _, e in findings_of(write(tmp_path / "gcp", {"main.tf": GCP}) / "main.tf")]
    assert found == [
        'google_storage_bucket_iam_member.checkpoints_public ("acme-ml-checkpoints"): '
        "granted to allUsers",
        'google_storage_bucket_iam_policy.gguf ("acme-ml-gguf-mirror"): '
        "granted to allAuthenticatedUsers",
    ]


AZURE = """
resource "azurerm_storage_account" "ml" {
  name                     = "acmemlartifacts"
  resource_group_name      = azurerm_resource_group.ml.name
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}
resource "azurerm_storage_container" "weights" {
  name                  = "model-weights"
  storage_account_name  = azurerm_storage_account.ml.name
  container_access_type = "blob"
}
resource "azurerm_storage_container" "site" {
  name                  = "static-site"
  storage_account_id    = azurerm_storage_account.ml.id
  container_access_type = "container"
}
resource "azurerm_storage_container" "private_models" {
  name                  = "models"
  storage_account_name  = azurerm_storage_account.ml.name
  container_access_type = "private"
}
resource "azurerm_storage_account" "locked" {
  name                            = "acmelocked"
  resource_group_name             = "rg"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  allow_nested_items_to_be_public = false
}
resource "azurerm_storage_container" "locked_models" {
  name                  = "checkpoints"
  storage_account_id    = azurerm_storage_account.locked.id
  container_access_type = "blob"
}
"""


def test_azure_public_containers_unless_the_account_forbids_them(tmp_path: Path) -> None:
    found = findings_of(write(tmp_path / "az", {"main.tf": AZURE}) / "main.tf")
    assert found == [
        (9, 'azurerm_storage_container.weights ("model-weights"): container_access_type = blob')
    ]


def test_a_file_hcl2_cannot_parse_falls_back_to_patterns(tmp_path: Path) -> None:
    broken = """
resource "aws_s3_bucket" "weights" {
  bucket = "acme-model-weights"
}
resource "aws_s3_bucket_acl" "weights" {
  bucket = aws_s3_bucket.weights.id
  acl    = "public-read"
}
resource "broken" {{{
"""
    path = write(tmp_path / "m", {"main.tf": broken}) / "main.tf"
    result = analyse_file(str(path), path.stat().st_size, 2 << 20)
    assert result.item is not None and result.item.status == "partial"
    assert "read by patterns" in result.item.detail
    assert [f.evidence for f in result.observations.findings] == [
        'aws_s3_bucket_acl.weights ("acme-model-weights"): acl = public-read'
    ]


def test_a_broken_sibling_is_left_out_of_the_module(tmp_path: Path) -> None:
    module = aws_module(tmp_path / "aws", **{"broken.tf": 'locals {\n  x = "\n'})
    assert len(findings_of(module / "main.tf")) == 1


def test_the_same_address_in_two_files_resolves_to_the_file_s_own(tmp_path: Path) -> None:
    # Not a valid module, but what a directory of examples looks like.
    acl = 'resource "aws_s3_bucket_acl" "b" {\n  bucket = aws_s3_bucket.b.id\n'
    acl += '  acl = "public-read"\n}\n'
    models = 'resource "aws_s3_bucket" "b" {\n  bucket = "acme-model-weights"\n}\n' + acl
    site = 'resource "aws_s3_bucket" "b" {\n  bucket = "acme-website"\n}\n' + acl
    module = write(tmp_path / "m", {"a_models.tf": models, "b_site.tf": site})
    assert len(findings_of(module / "a_models.tf")) == 1
    assert findings_of(module / "b_site.tf") == []


def test_text_without_a_file_is_read_on_its_own() -> None:
    text = (
        'variable "name" {\n  default = "llm-weights"\n}\n'
        'resource "aws_s3_bucket_acl" "x" {\n  bucket = "${var.name}-eu"\n'
        '  acl = "public-read-write"\n}\n'
    )
    out, why = terraform_findings(text, "not-on-disk.tf", ASSET)
    assert why == ""
    assert [f.evidence for f in out.findings] == [
        'aws_s3_bucket_acl.x ("llm-weights-eu"): acl = public-read-write'
    ]


@contextmanager
def finishes_within(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise AssertionError(f"ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _public_acl(i: int) -> str:
    return (
        f'resource "aws_s3_bucket_acl" "m{i}" {{\n  bucket = "model-{i}"\n'
        '  acl = "public-read"\n}\n'
    )


@pytest.mark.parametrize(
    "text",
    [
        # cycles between locals, and a bucket named after itself
        'locals {\n  a = local.b\n  b = local.a\n}\nresource "aws_s3_bucket" "x" {\n'
        "  bucket = aws_s3_bucket.x.id\n  acl = local.a\n}\n",
        # strings and lists that double at each step
        'locals {\n  s0 = "xx"\n  l0 = [1, 2]\n'
        + "".join(
            f'  s{i} = "${{local.s{i - 1}}}${{local.s{i - 1}}}"\n'
            f"  l{i} = [local.l{i - 1}, local.l{i - 1}]\n"
            for i in range(1, 60)
        )
        + '}\nresource "aws_s3_bucket_policy" "m" {\n  bucket = local.s59\n'
        "  policy = jsonencode(local.l59)\n}\n",
        # a long chain of references between buckets
        "".join(
            f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = aws_s3_bucket.b{i + 1}.id\n'
            '  acl = "public-read"\n}\n'
            for i in range(2000)
        ),
        'resource "aws_s3_bucket_acl" "m" {\n  acl = '
        + "(" * 20_000
        + '"x"'
        + ")" * 20_000
        + "\n}\n",
        "".join(_public_acl(i) for i in range(1500)),
        # every resource with the most instances judged one by one
        "locals {\n  big = {"
        + ", ".join(f'"k{i}" = "model-{i}"' for i in range(64))
        + "}\n}\n"
        + "".join(
            f'resource "aws_s3_bucket_acl" "m{i}" {{\n  for_each = local.big\n'
            '  bucket = each.value\n  acl = "public-read"\n}\n'
            for i in range(500)
        ),
        # a long chain of for_each over the previous resource, and a for_each over itself
        'resource "aws_s3_bucket" "self" {\n  for_each = aws_s3_bucket.self\n'
        '  bucket = each.key\n  acl = "public-read"\n}\n'
        + "".join(
            f'resource "aws_s3_bucket" "b{i}" {{\n  for_each = aws_s3_bucket.b{i + 1}\n'
            '  bucket = each.value.id\n  acl = "public-read"\n}\n'
            for i in range(2000)
        )
        + 'resource "aws_s3_bucket" "b2000" {\n  count = 64\n'
        + '  bucket = "model-${count.index}"\n}\n',
    ],
    ids=["cycles", "doubling", "chain", "nesting", "many", "instances", "instance-chain"],
)
def test_hostile_modules_finish(text: str) -> None:
    with finishes_within(20):
        out = analyse_terraform(text, "main.tf", ASSET)
    assert all(f.rule == PUBLIC_BUCKET for f in out.findings)


def test_directories_with_too_many_files_are_read_file_by_file(tmp_path: Path) -> None:
    module = write(
        tmp_path / "m",
        {f"f{i:03d}.tf": f'locals {{\n  x{i} = "{i}"\n}}\n' for i in range(70)},
    )
    write(module, {"vars.tf": 'variable "name" {\n  default = "model-weights"\n}\n'})
    main = write(
        module,
        {
            "main.tf": 'resource "aws_s3_bucket_acl" "x" {\n  bucket = var.name\n'
            '  acl = "public-read"\n}\n'
        },
    )
    assert len(os.listdir(main)) > 64
    assert findings_of(main / "main.tf") == []  # var.name not read: the module is too big


def test_tfvars_json_and_a_variable_without_a_value(tmp_path: Path) -> None:
    main = (
        'variable "suffix" {}\nvariable "name" {}\n'
        'resource "google_storage_bucket_iam_member" "m" {\n'
        '  bucket = "${var.name}-${var.suffix}"\n  member = "allUsers"\n  role = "r"\n}\n'
    )
    module = write(tmp_path / "m", {"main.tf": main, "terraform.tfvars.json": '{"name": "ckpt"}'})
    assert [e for _, e in findings_of(module / "main.tf")] == [
        'google_storage_bucket_iam_member.m ("ckpt-${?}"): granted to allUsers'
    ]


HCL_FRAGMENTS = [
    'resource "aws_s3_bucket" "m" {\n', 'resource "aws_s3_bucket_acl" "a" {\n',
    'resource "aws_s3_bucket_policy" "p" {\n', 'resource "azurerm_storage_container" "c" {\n',
    'resource "google_storage_bucket_iam_binding" "g" {\n',
    'data "aws_iam_policy_document" "d" {\n',
    "statement {\n", "principals {\n", "locals {\n", 'variable "v" {\n', "}\n", "bucket = ",
    "acl = ", "policy = ", "members = ", "default = ", "count = ", "for_each = ", "x = ",
    "aws_s3_bucket.m.id", "aws_s3_bucket.m[0].arn", "data.aws_iam_policy_document.d.json",
    "var.v", "local.x", "each.key", '"public-read"', '"model-${var.v}"', '"allUsers"',
    "jsonencode({", "})", "merge(", "format(", '"%s-%d"', "<<EOT\n", "<<-EOT\n", "EOT\n",
    '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*"}]}\n',
    "[", "]", "{", "}", "(", ")", ",", '"', "\n", "${", "}", "%{ if true }", "%{ endif }",
    " ? ", " : ", "!", "-", "==", "&&", "1", "0", "99999999999999999999", "1e400", "true",
    "null", "[*]", ".*", "for x in ", " => ", "...", "# c\n", "// c\n", "/* c */", "\\",
    "\x00", "é", "$${x}", 'module "c" {\n', 'source = "./"\n', 'source = "../"\n',
    "count.index", "each.value", 'aws_s3_bucket.m["k"].arn', "toset([", "length(",
]  # fmt: skip
HCL_TEXT = st.lists(st.sampled_from(HCL_FRAGMENTS), max_size=60).map("".join)


@settings(max_examples=200, deadline=None)
@given(HCL_TEXT)
def test_hcl_like_text_never_raises(text: str) -> None:
    out, why = terraform_findings(text, "untrusted.tf", ASSET)
    assert isinstance(out, Observations) and isinstance(why, str)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("module")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(HCL_TEXT, HCL_TEXT, HCL_TEXT)
def test_hcl_like_modules_never_raise(workdir: Path, main: str, other: str, tfvars: str) -> None:
    files = {"main.tf": main, "other.tf": other, "terraform.tfvars": tfvars}
    path = write(
        workdir, {n: t + '\nresource "aws_s3_bucket_acl" "z" {\n}\n' for n, t in files.items()}
    )
    result = analyse_file(str(path / "main.tf"), (path / "main.tf").stat().st_size, 2 << 20)
    if result.item is not None:  # None: the bytes look like another format, not text
        assert result.item.status in ("scanned", "partial")


def test_for_each_over_a_set_judges_each_bucket_by_its_name() -> None:
    text = (
        'resource "aws_s3_bucket" "m" {\n  for_each = toset(["acme-model-weights", "acme-logs"])\n'
        "  bucket = each.key\n}\n"
        'resource "aws_s3_bucket_acl" "m" {\n  for_each = aws_s3_bucket.m\n'
        '  bucket = each.value.id\n  acl = "public-read"\n}\n'
        'resource "aws_s3_bucket_policy" "weights" {\n'
        '  bucket = aws_s3_bucket.m["acme-model-weights"].id\n'
        '  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*",\n'
        '    Action = "s3:GetObject",\n'
        '    Resource = "${aws_s3_bucket.m["acme-model-weights"].arn}/*" }] })\n}\n'
    )
    assert sorted(f.evidence for f in analyse_terraform(text, "main.tf", ASSET).findings) == [
        'aws_s3_bucket_acl.m["acme-model-weights"] ("acme-model-weights"): acl = public-read',
        'aws_s3_bucket_policy.weights ("acme-model-weights"): '
        "policy lets any principal read objects",
    ]


def test_for_each_over_a_map_reads_each_value(tmp_path: Path) -> None:
    main = (
        'variable "buckets" {\n  type = map(object({ public = bool }))\n}\n'
        'resource "aws_s3_bucket" "b" {\n  for_each = var.buckets\n  bucket = each.key\n}\n'
        'resource "aws_s3_bucket_acl" "b" {\n  for_each = var.buckets\n'
        "  bucket = aws_s3_bucket.b[each.key].id\n"
        '  acl = each.value.public ? "public-read" : "private"\n}\n'
        'resource "aws_s3_bucket_public_access_block" "b" {\n  for_each = var.buckets\n'
        "  bucket = aws_s3_bucket.b[each.key].id\n"
        "  ignore_public_acls = !each.value.public\n}\n"
    )
    tfvars = (
        "buckets = {\n"
        '  "acme-llm-checkpoints" = { public = true }\n'
        '  "acme-llm-eval" = { public = false }\n'
        '  "acme-static-site" = { public = true }\n}\n'
    )
    module = write(tmp_path / "m", {"main.tf": main, "terraform.tfvars": tfvars})
    assert findings_of(module / "main.tf") == [
        (
            8,
            'aws_s3_bucket_acl.b["acme-llm-checkpoints"] ("acme-llm-checkpoints"): '
            "acl = public-read",
        )
    ]


def test_count_instances_are_named_by_count_index() -> None:
    text = (
        'variable "names" {\n  default = ["acme-site", "acme-model-weights"]\n}\n'
        'resource "aws_s3_bucket" "b" {\n  count = 2\n  bucket = var.names[count.index]\n}\n'
        'resource "aws_s3_bucket_acl" "b" {\n  count = length(var.names)\n'
        "  bucket = aws_s3_bucket.b[count.index].id\n"
        '  acl = count.index == 1 ? "public-read" : "private"\n}\n'
        'resource "aws_s3_bucket_acl" "fixed" {\n  count = 2\n'
        "  bucket = aws_s3_bucket.b[1].bucket\n"
        '  acl = "public-read"\n}\n'
    )
    found = sorted(f.evidence for f in analyse_terraform(text, "main.tf", ASSET).findings)
    assert found == [
        'aws_s3_bucket_acl.b[1] ("acme-model-weights"): acl = public-read',
        'aws_s3_bucket_acl.fixed[0] ("acme-model-weights"): acl = public-read',
        'aws_s3_bucket_acl.fixed[1] ("acme-model-weights"): acl = public-read',
    ]


def test_gcs_iam_members_for_each_bucket() -> None:
    text = (
        'variable "buckets" {\n  default = ["acme-gguf-models", "acme-docs"]\n}\n'
        'resource "google_storage_bucket" "b" {\n  for_each = toset(var.buckets)\n'
        '  name = each.value\n  location = "EU"\n}\n'
        'resource "google_storage_bucket_iam_member" "public" {\n'
        "  for_each = google_storage_bucket.b\n  bucket = each.value.name\n"
        '  role = "roles/storage.objectViewer"\n  member = "allUsers"\n}\n'
        'resource "google_storage_bucket_iam_member" "team" {\n'
        '  for_each = toset(["group:ml@acme.example", "allUsers"])\n'
        '  bucket = google_storage_bucket.b["acme-docs"].name\n'
        '  role = "roles/storage.objectViewer"\n  member = each.key\n}\n'
    )
    assert [f.evidence for f in analyse_terraform(text, "main.tf", ASSET).findings] == [
        'google_storage_bucket_iam_member.public["acme-gguf-models"] ("acme-gguf-models"): '
        "granted to allUsers"
    ]


def test_azure_containers_for_each() -> None:
    text = (
        'resource "azurerm_storage_account" "ml" {\n  name = "acmeml"\n}\n'
        'resource "azurerm_storage_container" "c" {\n'
        '  for_each = { "model-weights" = "blob", "public-docs" = "container",'
        ' "datasets" = "private" }\n'
        "  name = each.key\n  storage_account_name = azurerm_storage_account.ml.name\n"
        "  container_access_type = each.value\n}\n"
    )
    assert [f.evidence for f in analyse_terraform(text, "main.tf", ASSET).findings] == [
        'azurerm_storage_container.c["model-weights"] ("model-weights"): '
        "container_access_type = blob"
    ]


def test_too_many_or_unknown_instances_are_judged_as_one_block() -> None:
    names = ", ".join(f'"acme-model-{i}"' for i in range(100))
    many = (
        f'resource "aws_s3_bucket_acl" "weights" {{\n  for_each = toset([{names}])\n'
        '  bucket = each.key\n  acl = "public-read"\n}\n'
    )
    assert [f.evidence for f in analyse_terraform(many, "main.tf", ASSET).findings] == [
        'aws_s3_bucket_acl.weights ("${?}"): acl = public-read'
    ]
    unknown = many.replace(f"toset([{names}])", "var.buckets")
    assert len(analyse_terraform(unknown, "main.tf", ASSET).findings) == 1
    none = many.replace(f"toset([{names}])", "toset([])")
    assert analyse_terraform(none, "main.tf", ASSET).findings == []
    big_count = 'resource "aws_s3_bucket_acl" "weights" {\n  count = 1000\n'
    big_count += '  bucket = "model-${count.index}"\n  acl = "public-read"\n}\n'
    assert [f.evidence for f in analyse_terraform(big_count, "main.tf", ASSET).findings] == [
        'aws_s3_bucket_acl.weights ("model-${?}"): acl = public-read'
    ]
