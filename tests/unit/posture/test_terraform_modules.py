"""Local child modules judged with the inputs of their calls, reported once, at the call."""

from __future__ import annotations

import os
from pathlib import Path

from garrison.posture import discover
from garrison.posture.hcl_modules import MAX_CALLS, MAX_DEPTH

from .test_terraform_hcl import PUBLIC_BUCKET, findings_of, write

BUCKET_MODULE = {
    "variables.tf": """
variable "name" {
  type = string
}
variable "public" {
  type    = bool
  default = false
}
variable "tags" {
  type    = map(string)
  default = {}
}
""",
    "main.tf": """
resource "aws_s3_bucket" "this" {
  bucket = var.name
  tags   = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = !var.public
  ignore_public_acls      = !var.public
  block_public_policy     = !var.public
  restrict_public_buckets = !var.public
}

resource "aws_s3_bucket_acl" "this" {
  depends_on = [aws_s3_bucket_ownership_controls.this]
  bucket     = aws_s3_bucket.this.id
  acl        = var.public ? "public-read" : "private"
}
""",
}


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def root_calling(tmp_path: Path, call: str, extra: str = "") -> Path:
    write(tmp_path / "modules" / "bucket", BUCKET_MODULE)
    return write(tmp_path / "live", {"main.tf": extra + call})


WEIGHTS_CALL = """
variable "environment" {
  default = "prod"
}

module "weights" {
  source = "../modules/bucket"
  name   = "acme-llm-weights-${var.environment}"
  public = true
}
"""


def test_a_public_bucket_made_through_a_module_is_reported_at_the_call(tmp_path: Path) -> None:
    root = root_calling(tmp_path, WEIGHTS_CALL)
    assert findings_of(root / "main.tf") == [
        (
            line_of(WEIGHTS_CALL, 'module "weights"'),
            'module.weights -> aws_s3_bucket_acl.this ("acme-llm-weights-prod"): acl = public-read',
        )
    ]
    # The child on its own does not know its name or that it is public: nothing there.
    for name in BUCKET_MODULE:
        assert findings_of(tmp_path / "modules" / "bucket" / name) == []


def test_discover_reports_the_module_call_once(tmp_path: Path) -> None:
    root_calling(tmp_path, WEIGHTS_CALL)
    found = [f for f in discover(tmp_path).report.findings if f.rule == PUBLIC_BUCKET]
    assert [(Path(f.location.path or "").name, f.location.line) for f in found] == [
        ("main.tf", line_of(WEIGHTS_CALL, 'module "weights"'))
    ]


def test_modules_outside_the_scanned_directories_are_not_read(tmp_path: Path) -> None:
    root_calling(tmp_path, WEIGHTS_CALL)
    # Scanning only live/: its call points at ../modules, which the user did not ask to read.
    found = discover(tmp_path / "live").report.findings
    assert [f for f in found if f.rule == PUBLIC_BUCKET] == []


def test_a_call_that_keeps_the_bucket_private_is_not_reported(tmp_path: Path) -> None:
    call = WEIGHTS_CALL.replace("public = true", "public = false")
    assert findings_of(root_calling(tmp_path, call) / "main.tf") == []
    default = WEIGHTS_CALL.replace("  public = true\n", "")
    assert findings_of(root_calling(tmp_path, default) / "main.tf") == []


def test_a_public_bucket_of_website_assets_through_a_module_is_not_reported(
    tmp_path: Path,
) -> None:
    call = WEIGHTS_CALL.replace("acme-llm-weights", "acme-www-assets")
    assert findings_of(root_calling(tmp_path, call) / "main.tf") == []
    tagged = call.replace("public = true", 'public = true\n  tags = { Content = "model weights" }')
    assert len(findings_of(root_calling(tmp_path, tagged) / "main.tf")) == 1


def test_remote_sources_are_never_followed(tmp_path: Path) -> None:
    write(tmp_path / "modules" / "bucket", BUCKET_MODULE)
    for source in (
        "terraform-aws-modules/s3-bucket/aws",
        "git::https://example.com/modules.git//bucket",
        "https://example.com/bucket.zip",
        "github.com/acme/modules//bucket",
        str(tmp_path / "modules" / "bucket"),  # absolute: not a relative source
        "../../../../../" + str(tmp_path / "modules" / "bucket"),  # climbs too far
    ):
        call = WEIGHTS_CALL.replace("../modules/bucket", source)
        assert findings_of(root_calling(tmp_path, call) / "main.tf") == [], source


def test_a_link_out_of_the_tree_is_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "bucket", BUCKET_MODULE)
    tree = tmp_path / "tree"
    write(tree / "live", {"main.tf": WEIGHTS_CALL.replace("../modules/bucket", "./bucket")})
    os.symlink(outside, tree / "live" / "bucket")
    assert findings_of(tree / "live" / "main.tf") == []
    # The same module as a real directory inside the tree is followed.
    write(tree / "live" / "real", BUCKET_MODULE)
    call = WEIGHTS_CALL.replace("../modules/bucket", "./real")
    write(tree / "live", {"main.tf": call})
    assert len(findings_of(tree / "live" / "main.tf")) == 1


def test_a_finding_the_child_has_on_its_own_stays_at_the_child(tmp_path: Path) -> None:
    child = write(
        tmp_path / "modules" / "models",
        {
            "main.tf": 'variable "suffix" {\n  default = "eu"\n}\n'
            'resource "aws_s3_bucket" "checkpoints" {\n'
            '  bucket = "acme-checkpoints-${var.suffix}"\n  acl = "public-read"\n}\n'
        },
    )
    call = 'module "models" {\n  source = "../modules/models"\n  suffix = "us"\n}\n'
    root = write(tmp_path / "live", {"main.tf": call})
    assert findings_of(root / "main.tf") == []  # the child reports it, with its default name
    assert findings_of(child / "main.tf") == [
        (4, 'aws_s3_bucket.checkpoints ("acme-checkpoints-eu"): acl = public-read')
    ]


def test_nested_modules_pass_inputs_down(tmp_path: Path) -> None:
    write(tmp_path / "modules" / "bucket", BUCKET_MODULE)
    write(
        tmp_path / "modules" / "ml-platform",
        {
            "main.tf": 'variable "project" {}\nvariable "share_models" {\n  default = false\n}\n'
            'module "artifacts" {\n  source = "../bucket"\n'
            '  name = "${var.project}-model-artifacts"\n  public = var.share_models\n}\n'
        },
    )
    call = (
        'module "platform" {\n  source = "../modules/ml-platform"\n'
        '  project = "acme"\n  share_models = true\n}\n'
    )
    root = write(tmp_path / "live", {"main.tf": call})
    assert findings_of(root / "main.tf") == [
        (
            1,
            "module.platform -> module.artifacts -> aws_s3_bucket_acl.this "
            '("acme-model-artifacts"): acl = public-read',
        )
    ]
    assert findings_of(tmp_path / "modules" / "ml-platform" / "main.tf") == []


def test_a_policy_and_a_gcs_binding_in_modules(tmp_path: Path) -> None:
    write(
        tmp_path / "modules" / "s3-policy",
        {
            "main.tf": 'variable "bucket" {}\nvariable "readers" {\n  default = []\n}\n'
            'data "aws_iam_policy_document" "read" {\n  statement {\n'
            '    actions   = ["s3:GetObject"]\n'
            '    resources = ["arn:aws:s3:::${var.bucket}/*"]\n'
            '    principals {\n      type = "AWS"\n      identifiers = var.readers\n    }\n'
            "  }\n}\n"
            'resource "aws_s3_bucket_policy" "this" {\n  bucket = var.bucket\n'
            "  policy = data.aws_iam_policy_document.read.json\n}\n"
        },
    )
    write(
        tmp_path / "modules" / "gcs",
        {
            "main.tf": 'variable "name" {}\nvariable "members" {\n  type = list(string)\n}\n'
            'resource "google_storage_bucket" "this" {\n  name = var.name\n'
            '  location = "EU"\n}\n'
            'resource "google_storage_bucket_iam_member" "readers" {\n'
            "  for_each = toset(var.members)\n  bucket = google_storage_bucket.this.name\n"
            '  role = "roles/storage.objectViewer"\n  member = each.key\n}\n'
        },
    )
    root_text = (
        'module "public_policy" {\n  source = "../modules/s3-policy"\n'
        '  bucket = "acme-onnx-models"\n  readers = ["*"]\n}\n'
        'module "private_policy" {\n  source = "../modules/s3-policy"\n'
        '  bucket = "acme-onnx-models-internal"\n'
        '  readers = ["arn:aws:iam::123456789012:root"]\n}\n'
        'module "gcs" {\n  source = "../modules/gcs"\n  name = "acme-lora-adapters"\n'
        '  members = ["group:ml@acme.example", "allUsers"]\n}\n'
    )
    root = write(tmp_path / "live", {"main.tf": root_text})
    assert findings_of(root / "main.tf") == [
        (
            1,
            'module.public_policy -> aws_s3_bucket_policy.this ("acme-onnx-models"): '
            "policy lets any principal read objects",
        ),
        (
            line_of(root_text, 'module "gcs"'),
            'module.gcs -> google_storage_bucket_iam_member.readers["allUsers"] '
            '("acme-lora-adapters"): granted to allUsers',
        ),
    ]


def test_an_azure_container_made_public_through_a_module(tmp_path: Path) -> None:
    write(
        tmp_path / "modules" / "storage",
        {
            "main.tf": 'variable "account" {}\nvariable "containers" {\n'
            "  type = map(string)\n}\n"
            'variable "allow_public" {\n  default = false\n}\n'
            'resource "azurerm_storage_account" "this" {\n  name = var.account\n'
            "  allow_nested_items_to_be_public = var.allow_public\n}\n"
            'resource "azurerm_storage_container" "this" {\n  for_each = var.containers\n'
            "  name = each.key\n  storage_account_name = azurerm_storage_account.this.name\n"
            "  container_access_type = each.value\n}\n"
        },
    )
    call = (
        'module "storage" {\n  source = "../modules/storage"\n  account = "acmeml"\n'
        '  allow_public = true\n  containers = {\n    "model-weights" = "blob"\n'
        '    "logs" = "container"\n    "datasets" = "private"\n  }\n}\n'
    )
    root = write(tmp_path / "live", {"main.tf": call})
    assert findings_of(root / "main.tf") == [
        (
            1,
            'module.storage -> azurerm_storage_container.this["model-weights"] '
            '("model-weights"): container_access_type = blob',
        )
    ]
    locked = call.replace("allow_public = true", "allow_public = false")
    write(root, {"main.tf": locked})
    assert findings_of(root / "main.tf") == []


def test_module_for_each_judges_each_instance(tmp_path: Path) -> None:
    call = (
        'module "buckets" {\n  for_each = {\n    "acme-model-weights" = true\n'
        '    "acme-model-eval" = false\n    "acme-web" = true\n  }\n'
        '  source = "../modules/bucket"\n  name = each.key\n  public = each.value\n}\n'
    )
    assert findings_of(root_calling(tmp_path, call) / "main.tf") == [
        (
            1,
            'module.buckets["acme-model-weights"] -> aws_s3_bucket_acl.this '
            '("acme-model-weights"): acl = public-read',
        )
    ]


def test_a_cycle_of_modules_finishes(tmp_path: Path) -> None:
    for here, there in (("a", "b"), ("b", "a")):
        write(
            tmp_path / here,
            {
                "main.tf": 'variable "name" {\n  default = "x"\n}\n'
                f'module "{there}" {{\n  source = "../{there}"\n  name = var.name\n}}\n'
                'resource "aws_s3_bucket_acl" "this" {\n  bucket = var.name\n'
                '  acl = "public-read"\n}\n'
            },
        )
    root = write(
        tmp_path / "live",
        {"main.tf": 'module "a" {\n  source = "../a"\n  name = "acme-model-weights"\n}\n'},
    )
    found = findings_of(root / "main.tf")
    assert found == [
        (1, 'module.a -> aws_s3_bucket_acl.this ("acme-model-weights"): acl = public-read'),
        (
            1,
            'module.a -> module.b -> aws_s3_bucket_acl.this ("acme-model-weights"): '
            "acl = public-read",
        ),
    ]
    itself = write(
        tmp_path / "self",
        {
            "main.tf": 'module "me" {\n  source = "./"\n}\n'
            'resource "aws_s3_bucket_acl" "x" {\n  bucket = "model"\n  acl = "public-read"\n}\n'
        },
    )
    assert len(findings_of(itself / "main.tf")) == 1  # its own resource, once


def test_depth_and_instances_are_bounded(tmp_path: Path) -> None:
    levels = MAX_DEPTH + 3
    for i in range(levels):
        text = 'variable "name" {}\n'
        if i + 1 < levels:
            text += f'module "next" {{\n  source = "../m{i + 1}"\n  name = var.name\n}}\n'
        else:
            text += 'resource "aws_s3_bucket_acl" "x" {\n  bucket = var.name\n'
            text += '  acl = "public-read"\n}\n'
        write(tmp_path / f"m{i}", {"main.tf": text})
    deep = write(
        tmp_path / "live",
        {"main.tf": 'module "top" {\n  source = "../m0"\n  name = "model-weights"\n}\n'},
    )
    assert findings_of(deep / "main.tf") == []  # the bucket is deeper than followed

    many = "".join(
        f'module "w{i}" {{\n  source = "../modules/bucket"\n  name = "model-{i}"\n'
        "  public = true\n}\n"
        for i in range(MAX_CALLS + 10)
    )
    assert len(findings_of(root_calling(tmp_path, many) / "main.tf")) == MAX_CALLS
