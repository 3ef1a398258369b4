"""The user's policy: thresholds, allowlists and limits, from garrison.toml or pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from garrison.errors import PolicyError
from garrison.findings import Severity
from garrison.gateway.config import GatewayConfig
from garrison.posture.config import PosturePolicy

_KB = 1024
_MB = 1024 * _KB
_GB = 1024 * _MB


class Limits(BaseModel):
    """Bounds on everything an attacker controls. Reaching one is reported as a finding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_file_bytes: int = Field(200 * _GB, ge=1, description="largest file opened at all")
    max_header_bytes: int = Field(100 * _MB, ge=1, description="safetensors/GGUF/JSON headers")
    max_pickle_bytes: int = Field(2 * _GB, ge=1, description="bytes of one pickle program analysed")
    max_opcodes: int = Field(10_000_000, ge=1, description="pickle opcodes analysed per file")
    max_stack_depth: int = Field(10_000, ge=1, description="pickle stack/mark depth")
    max_archive_depth: int = Field(5, ge=0, description="nested archives and payloads")
    max_archive_members: int = Field(100_000, ge=1, description="members read from one archive")
    max_decompressed_bytes: int = Field(
        8 * _GB, ge=1, description="bytes inflated per scanned file"
    )
    max_compression_ratio: int = Field(
        1_000, ge=1, description="inflated/compressed ratio for members over 10 MB inflated"
    )
    max_nested_bytes: int = Field(
        256 * _MB, ge=1, description="embedded payload passed to a loader"
    )
    max_json_depth: int = Field(200, ge=1, description="nesting of model configs")
    max_files: int = Field(1_000_000, ge=1, description="files walked under one directory")


class RobustnessPolicy(BaseModel):
    """Thresholds of `garrison test`: crossing one is a finding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epsilon: float = Field(
        0.1, gt=0, description="L-inf budget of evasion attacks, inputs in [0, 1]"
    )
    min_adversarial_accuracy: float = Field(
        0.5, ge=0, le=1, description="accuracy under attack below this is a finding"
    )
    max_membership_auc: float = Field(
        0.6, ge=0.5, le=1, description="membership-inference ROC AUC above this is a finding"
    )
    extraction_fidelity: float = Field(
        0.9, gt=0, le=1, description="surrogate agreement that counts as an extracted model"
    )
    min_extraction_queries: int = Field(
        10_000, ge=1, description="extraction within fewer queries than this is a finding"
    )
    max_inversion_similarity: float = Field(
        0.5,
        ge=-1,
        le=1,
        description="centred cosine similarity of reconstructions to their class means "
        "above this is a finding",
    )


class ColumnSchema(BaseModel):
    """A declared column of a dataset: `[data.schema.columns.NAME]` in garrison.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field("any", description="int, float, bool, string, datetime or any")
    nullable: StrictBool = True
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = Field(None, description="allowed categories")


class DataPolicy(BaseModel):
    """Thresholds of `garrison data check`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, ColumnSchema] = Field(
        default_factory=dict, description="declared schema; empty: inferred from --reference"
    )
    allow_extra_columns: StrictBool = False
    max_null_fraction: float = Field(0.05, ge=0, le=1, description="nulls allowed per column")
    psi_threshold: float = Field(0.2, ge=0, description="population stability index that is drift")
    p_value: float = Field(0.001, gt=0, lt=1, description="KS / chi-squared significance for drift")
    label_shift: float = Field(0.1, ge=0, le=1, description="total-variation distance of labels")
    outlier_fraction: float = Field(0.01, ge=0, le=0.5, description="rows reported as outliers")
    near_duplicate_similarity: float = Field(0.9, gt=0, le=1, description="MinHash Jaccard")
    max_rows_per_finding_kind: int = Field(
        1000, ge=1, description="row findings listed per rule; the rest are counted"
    )
    sample_rows: int = Field(
        2_000_000, ge=1000, description="rows model-based checks (labels, outliers) look at"
    )
    chunk_rows: int = Field(100_000, ge=1000, description="rows read at a time")


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fail_on: Severity = Severity.HIGH
    limits: Limits = Field(default_factory=Limits)
    safe_globals: tuple[str, ...] = Field(
        (), description="extra pickle globals to trust: 'module.name' or 'module.*'"
    )
    unsafe_globals: tuple[str, ...] = Field(
        (), description="extra pickle globals to treat as dangerous"
    )
    disabled_rules: tuple[str, ...] = ()
    severity_overrides: dict[str, Severity] = Field(default_factory=dict)
    unscanned_severity: Severity = Field(
        Severity.LOW, description="severity of a model format that is recognised but not scanned"
    )
    follow_symlinks: StrictBool = False
    require_approved: StrictBool = Field(
        False, description="refuse models whose digests are not approved (`garrison models`)"
    )
    robustness: RobustnessPolicy = Field(default_factory=RobustnessPolicy)
    data: DataPolicy = Field(default_factory=DataPolicy)
    store_url: str | None = Field(
        None, description="database of the store; default: SQLite in the user's data directory"
    )
    gateway: GatewayConfig = Field(
        default_factory=GatewayConfig, description="the inference gateway (`[gateway]`)"
    )
    posture: PosturePolicy = Field(
        default_factory=PosturePolicy, description="`garrison discover` (`[posture]`)"
    )

    @field_validator("fail_on", "unscanned_severity", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("disabled_rules", mode="after")
    @classmethod
    def _known_rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_rule_id(v) for v in value)

    @field_validator("severity_overrides", mode="after")
    @classmethod
    def _known_overrides(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        return {_rule_id(k): v for k, v in value.items()}


def _rule_id(value: str) -> str:
    """A rule id in its canonical case; Garrison's own (GA-) must exist, so a typo is caught.

    Other prefixes belong to checks installed through entry points and are taken as given.
    """
    rule_id = value.strip().upper()
    if not rule_id.startswith("GA-"):
        return value.strip()
    from garrison.rules import all_rules

    if rule_id not in all_rules():
        raise ValueError(f"unknown rule {value!r} (`garrison rules` lists them)")
    return rule_id


def load_policy(path: Path | None = None, search_from: Path | None = None) -> Policy:
    """Read an explicit policy file, or look for one in `search_from` (default: cwd)."""
    if path is not None:
        if not path.is_file():
            raise PolicyError(f"policy file not found: {path}")
        policy: Policy = _parse(path, required=True)
        return policy
    base = search_from or Path.cwd()
    for candidate in (base / "garrison.toml", base / "pyproject.toml"):
        if candidate.is_file():
            found: Policy | None = _parse(candidate, required=False)
            if found is not None:
                return found
    return Policy()


def _parse(path: Path, required: bool) -> Any:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"invalid TOML in {path}: {exc}") from None
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("garrison")
        if section is None:
            if required:
                raise PolicyError(f"{path} has no [tool.garrison] section")
            return None
        data = section
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        # TOML has arrays, not tuples; and the validator's own prefix says nothing to a user.
        msg = first["msg"].removeprefix("Value error, ").replace("valid tuple", "list")
        raise PolicyError(f"invalid policy in {path}: {where}: {msg}") from None
